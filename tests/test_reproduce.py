"""bench/scripts/reproduce_examples.py on the three shared examples, and its download path."""
import hashlib
import json

import imageio.v3 as iio
import numpy as np
import pytest

from nst_tf.errors import NSTError
from bench.manifest import (LOSS_SCALES, Example, check_tile, example_config, fetch,
                             load_manifest, loss_scales_for, scaled_weighting, select)
from bench.reproduce import one_tile, side_by_side_parts
from conftest import SHARED_EXAMPLES, needs_shared_weights, run_script

needs_shared_examples = pytest.mark.skipif(
    not (SHARED_EXAMPLES / "CatCrack_in.jpg").is_file(), reason="shared examples not present")


def test_manifest_lists_the_five_with_their_geometry():
    base_url, examples = load_manifest()
    assert base_url == "https://raw.githubusercontent.com/jibynd/Neural-Texture-Transfer/master/Examples/"
    assert [e.name for e in examples] == ["CatCrack", "CrocoLeaf", "cracked_stains",
                                          "peebles_under_water", "sand_block"]
    by_name = {e.name: e for e in examples}
    assert by_name["CatCrack"].original_size == (1024, 339) and len(by_name["CatCrack"].weightings) == 2
    assert by_name["CrocoLeaf"].split == (2, 2)
    # Both cracked_stains results copy the texture's layout: the raw loss is on in both.
    assert [w[2] for w in by_name["cracked_stains"].weightings] == [0.3, 0.3]
    assert "layout" in by_name["cracked_stains"].notes
    assert [e.name for e in select(examples, ["catcrack", "SAND_BLOCK"])] == ["CatCrack", "sand_block"]
    with pytest.raises(NSTError, match="unknown example dog; choose from CatCrack"):
        select(examples, ["dog"])


@needs_shared_examples
def test_shared_images_match_the_manifest_hashes():
    _, examples = load_manifest()
    for example in examples:
        path = SHARED_EXAMPLES / example.input
        if path.exists():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == example.input_sha256


def test_fetch_downloads_verifies_and_refuses_a_mismatch(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    (source / "a_in.jpg").write_bytes(b"input bytes")
    (source / "a_out.jpg").write_bytes(b"output bytes")
    sha = lambda b: hashlib.sha256(b).hexdigest()  # noqa: E731
    example = Example("a", "a_in.jpg", sha(b"input bytes"), "a_out.jpg", sha(b"output bytes"),
                      (64, 64), (1, 1), 64, ((5.0, 1.0, 0.0, 5e-5),))
    folder = tmp_path / "cache"
    paths = fetch(example, source.as_uri() + "/", folder)
    assert [p.read_bytes() for p in paths] == [b"input bytes", b"output bytes"]
    wrong = Example("a", "a_in.jpg", "0" * 64, "a_out.jpg", None, (64, 64), (1, 1), 64, ())
    with pytest.raises(NSTError, match=r"a_in.jpg: sha256 is [0-9a-f]{64}, expected 0{64}"):
        fetch(wrong, source.as_uri() + "/", tmp_path / "other")
    assert not (tmp_path / "other" / "a_in.jpg").exists()
    with pytest.raises(NSTError, match="cannot download"):
        fetch(example, "http://127.0.0.1:9/", tmp_path / "offline")
    with pytest.raises(NSTError, match="sha256 differs from the manifest's"):
        fetch(wrong, None, None, examples_dir=source)


def test_side_by_side_parts():
    image = np.arange(2 * 10).reshape(2, 10)
    left, right = side_by_side_parts(image, 2)
    assert left.shape == right.shape == (2, 5) and right[0, 0] == 5


def test_one_tile_cuts_content_texture_and_originals_alike():
    content = np.arange(10 * 20 * 3, dtype=np.float32).reshape(10, 20, 3)
    texture = np.ones((5, 10, 3), np.float32)  # resized to the content before it is cut
    original = np.arange(20 * 40 * 3, dtype=np.float32).reshape(20, 40, 3)
    piece, texture_piece, (original_piece,) = one_tile((2, 2), 3, content, texture, [original])
    np.testing.assert_array_equal(piece, content[5:, 10:])
    assert texture_piece.shape == (5, 10, 3) and np.allclose(texture_piece, 1.0)
    np.testing.assert_array_equal(original_piece, original[10:, 20:])


def test_check_tile_names_the_valid_range():
    _, examples = load_manifest()
    croco = select(examples, ["crocoleaf"])[0]
    check_tile(croco, None)
    check_tile(croco, 3)
    with pytest.raises(NSTError, match=r"^tile 4: CrocoLeaf has 4 tile\(s\) \(2x2\), numbered 0 to 3$"):
        check_tile(croco, 4)
    with pytest.raises(NSTError, match="numbered 0 to 3"):
        check_tile(croco, -1)


@needs_shared_examples
@needs_shared_weights
def test_one_tile_of_an_example_offline_makes_the_texture_show_with_keras_file(
        tmp_path, keras_stand_in):
    """A new user's run: Keras' file (its stand-in) and no other flag but the tile and its size.
    The weightings are carried to the calibrated loop, and the texture shows: the picture
    departs from the content (SSIM well under the content's own 1) and its look is nearer the
    texture than the content's. 128 px, 30 steps, tile 0: 0.44 and 0.14 against the content's
    0.78 on one machine; with the weightings as they are (--loss_scales keras) the look was
    0.99, the texture nowhere."""
    out = tmp_path / "results"
    done = run_script("bench/scripts/reproduce_examples.py", f"--examples_dir={SHARED_EXAMPLES}",
                      f"--output_dir={out}", f"--weights={keras_stand_in}", "--max_dim=128",
                      "--iterations=30", "--only=CrocoLeaf", "--tile=0", "--every=15",
                      f"--keep_checks={tmp_path / 'checks'}", timeout=600)
    assert done.returncode == 0, done.stderr
    said = [line for line in done.stderr.splitlines() if line.startswith("reproduce: ")]
    assert said == ["reproduce: the calibrated loop (Gatys' normalized VGG19, derived from "
                    "keras_stand_in.h5); the manifest's weightings (direct, content, raw, "
                    "texture) times 1, 1, 10000, 5e+07 (loss scales normalized)"]
    # The published result is 1024x640; its top-left quarter is 512x320.
    assert iio.imread(out / "CrocoLeaf_tile0_result.png").shape == (320, 512, 3)
    assert sorted(p.name for p in out.iterdir()) == [
        "CrocoLeaf_tile0_result.png", "CrocoLeaf_tile0_sheet.png", "comparison.json"]
    (row,) = json.loads((out / "comparison.json").read_text())
    assert row["tile"] == 0 and row["split"] == [1, 1] and row["size"] == [128, 80]
    assert row["loss_weights"] == pytest.approx([8.0, 3.0, 3000.0, 1000.0, 0.0, 3.0])
    assert "| CrocoLeaf tile 0 |" in done.stdout
    # A check every 15 steps: the look against the original's, SSIM and the picture.
    assert [c["step"] for c in row["checks"]] == [15, 30]
    assert row["steps_run"] == 30 and row["stopped_by"] is None and row["changes"] is None
    assert all(c["ratio"] > 0 and -1 <= c["ssim"] <= 1 for c in row["checks"])
    assert sorted(p.name for p in (tmp_path / "checks").iterdir()) == [
        f"CrocoLeaf_tile0_weighting0_step{k}.png" for k in (15, 30)]
    assert row["ssim_ours"] < 0.8, row["ssim_ours"]
    assert row["look_ours"] < 0.5 * row["look_content"], (row["look_ours"], row["look_content"])
    bad = run_script("bench/scripts/reproduce_examples.py", f"--examples_dir={SHARED_EXAMPLES}",
                     f"--output_dir={tmp_path / 'bad'}", "--only=CrocoLeaf", "--tile=4")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines()[-1].endswith("numbered 0 to 3")
    assert not (tmp_path / "bad").exists()


@pytest.mark.slow  # the one-tile test runs the script in the default run
@needs_shared_examples
def test_three_shared_examples_offline_quick(tmp_path):
    out = tmp_path / "results"
    done = run_script("bench/scripts/reproduce_examples.py", f"--examples_dir={SHARED_EXAMPLES}",
                      f"--output_dir={out}", "--max_dim=64", "--iterations=3", "--weights=random",
                      "--only=catcrack,CrocoLeaf,sand_block", timeout=600)
    assert done.returncode == 0, done.stderr
    expected = {"CatCrack": (339, 1024), "CrocoLeaf": (640, 1024), "sand_block": (640, 1024)}
    for name, size in expected.items():
        assert iio.imread(out / f"{name}_result.png").shape == size + (3,)
        sheet = iio.imread(out / f"{name}_sheet.png")
        assert sheet.shape[0] == 320 + 28 + 16 and sheet.shape[1] > 4 * 100
    rows = json.loads((out / "comparison.json").read_text())
    assert [r["example"] for r in rows] == ["CatCrack", "CatCrack", "CrocoLeaf", "sand_block"]
    for row in rows:
        for side in ("ours", "original"):
            parts = row[side]
            assert set(parts) == {"total", "direct", "content", "raw", "texture", "tv",
                                  "temporal"}
            assert parts["total"] == pytest.approx(sum(parts[name] for name in (
                "direct", "content", "raw", "texture", "tv")), rel=1e-5)
        # The original's picture is not the content: it scores below 1 against it, and its
        # look differs from the content's and from ours.
        assert row["ssim_original"] < 0.99 and row["original"]["direct"] > 0
        assert len({row["look_ours"], row["look_original"], row["look_content"]}) == 3
        assert "ours_no_worse" not in row and row["tile"] is None
        assert row["steps"] == 3
    assert rows[0]["loss_weights"] == [5.0, 1.0, 0.0, 5e-5, 0.0, 3.0]  # then tv, temporal
    assert rows[1]["loss_weights"] == [8.0, 3.0, 0.0, 2e-5, 0.0, 3.0]  # layout not copied
    assert rows[2]["split"] == [2, 2] and rows[2]["size"] == [128, 80]
    # CrocoLeaf's and sand_block's published results copy the texture's layout: raw loss on.
    assert rows[2]["loss_weights"] == rows[3]["loss_weights"] == [8.0, 3.0, 0.3, 2e-5, 0.0, 3.0]
    assert "| CatCrack |" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["comparison.json"] + [f"{n}_{k}.png" for n in expected for k in ("result", "sheet")])


def test_loss_scales_carry_keras_weights_to_the_normalized_file():
    assert scaled_weighting((8.0, 3.0, 0.3, 2e-5), LOSS_SCALES["keras"]) == (8.0, 3.0, 0.3, 2e-5)
    assert scaled_weighting((8.0, 3.0, 0.3, 2e-5), LOSS_SCALES["normalized"]) == pytest.approx(
        (8.0, 3.0, 3000.0, 1000.0))


def test_stopping_table_cuts_a_recorded_run_where_the_rule_would():
    import importlib.util
    from conftest import ROOT
    spec = importlib.util.spec_from_file_location(
        "stopping_table", ROOT / "bench" / "scripts" / "stopping_table.py")
    table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(table)
    # Readings every 20 steps: the largest is 4.0; half of it first falls under at step 160,
    # but the rule waits to step 200 (two spans of Adam's momentum at beta_1 0.99).
    changes = [1.0, 4.0, 3.0, 2.5, 2.2, 2.1, 2.0, 1.9, 1.8, 1.2, 1.0, 0.9]
    row = {"checks": [{"step": 20 * (k + 1), "seconds": 10.0 * (k + 1), "ratio": 1.0,
                       "ssim": 0.5} for k in range(12)],
           "changes": changes, "stopped_by": None}
    assert table.stopped_at(row, 0.5) == (row["checks"][9], True)    # step 200: 1.2 < 2.0
    assert table.stopped_at(row, 0.3) == (row["checks"][10], True)   # step 220: 1.0 < 1.2
    assert table.stopped_at(row, 0.2) == (row["checks"][11], False)  # never: the last check


def test_the_weightings_follow_the_network_that_runs():
    """auto: the calibrated loop gets the normalized scales (the 14-run table's commands passed
    them as --loss_scales normalized, so its configs, and numbers, are unchanged); --faithful
    and a file run as it is get the manifest's weightings as they are."""
    from nst_tf.config import TransferConfig
    calibrated = TransferConfig(weights="random", preset="normalized")
    faithful = TransferConfig(weights="random", faithful=True)
    assert loss_scales_for(calibrated.preset) == "normalized"
    assert loss_scales_for(faithful.preset) == loss_scales_for("imagenet") == "keras"
    assert loss_scales_for(faithful.preset, "normalized") == "normalized"
    with pytest.raises(NSTError, match="^loss scales must be auto or one of keras, normalized"):
        loss_scales_for("normalized", "other")
    _, examples = load_manifest()
    runs = 0
    for example in examples:
        for weighting in example.weightings:
            ours = example_config(example, weighting, calibrated)
            assert ours == example_config(example, weighting, calibrated, "normalized")
            direct, content, raw, texture = weighting
            assert ours.loss_weights[:4] == pytest.approx(
                (direct, content, raw * 1e4, texture * 5e7))
            assert (ours.split, ours.max_dim) == (example.split, example.max_dim)
            as_is = example_config(example, weighting, faithful)
            assert as_is.loss_weights[:4] == tuple(weighting) and as_is.faithful
            if example.name != "cracked_stains":  # not among the shared photos
                runs += example.split[0] * example.split[1]
    # CatCrack's two weightings on its one tile, three examples' one on four tiles: the 14 runs.
    assert runs == 14
    # A weight the command line gives wins over the manifest's.
    given = example_config(examples[0], examples[0].weightings[0],
                           calibrated.replace(texture_weight=7.0), given=["texture_weight"])
    assert given.texture_weight == 7.0 and given.direct_weight == 5.0
