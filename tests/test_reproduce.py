"""scripts/reproduce_examples.py on the three shared examples, and its download path."""
import hashlib
import json

import imageio.v3 as iio
import numpy as np
import pytest

from nst_tf.errors import NSTError
from nst_tf.examples import LOSS_SCALES, Example, fetch, load_manifest, scaled_weighting, select
from nst_tf.reproduce import side_by_side_parts
from conftest import SHARED_EXAMPLES, run_script

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


@needs_shared_examples
def test_three_shared_examples_offline_quick(tmp_path):
    out = tmp_path / "results"
    done = run_script("reproduce_examples.py", f"--examples_dir={SHARED_EXAMPLES}",
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
            assert set(row[side]) == {"total", "direct", "content", "raw", "texture", "tv"}
            assert row[side]["total"] > 0
        assert -1 <= row["ssim_ours"] <= 1 and -1 <= row["ssim_original"] <= 1
        for look in ("look_ours", "look_original", "look_content"):
            assert row[look] >= 0
        for layout in ("layout_ours", "layout_original"):
            assert -1 <= row[layout] <= 1
        assert "ours_no_worse" not in row
        assert row["steps"] == 3
    assert rows[0]["loss_weights"] == [5.0, 1.0, 0.0, 5e-5, 0.0]  # the last: tv
    assert rows[1]["loss_weights"] == [8.0, 3.0, 0.3, 2e-5, 0.0]
    assert rows[2]["split"] == [2, 2] and rows[2]["size"] == [128, 80]
    # CrocoLeaf's and sand_block's published results copy the texture's layout: raw loss on.
    assert rows[2]["loss_weights"] == rows[3]["loss_weights"] == [8.0, 3.0, 0.3, 2e-5, 0.0]
    assert "| CatCrack |" in done.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["comparison.json"] + [f"{n}_{k}.png" for n in expected for k in ("result", "sheet")])


def test_loss_scales_carry_keras_weights_to_the_normalized_file():
    assert scaled_weighting((8.0, 3.0, 0.3, 2e-5), LOSS_SCALES["keras"]) == (8.0, 3.0, 0.3, 2e-5)
    assert scaled_weighting((8.0, 3.0, 0.3, 2e-5), LOSS_SCALES["normalized"]) == pytest.approx(
        (8.0, 3.0, 3000.0, 1000.0))
