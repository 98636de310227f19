"""scripts/transfer.py end to end: two-step runs, the metrics file, and every bad input."""

import imageio.v3 as iio
import numpy as np
import pytest

from nst_tf.report.steplog import read_metrics
from conftest import random_image, run_script

QUICK = ["--max_dim=64", "--iterations=2", "--weights=random", "--log_every=1"]
METRIC_KEYS = ["step", "total", "direct", "content", "raw", "texture", "tv", "lr", "seconds",
               "level", "levels", "remaining_s"]


@pytest.mark.parametrize("optimizer,lr", [("lbfgs", None), ("adam", 10.0)])
def test_two_step_run_writes_image_metrics_and_snapshots(tmp_path, image_files, optimizer, lr):
    content, texture = image_files
    output, metrics = tmp_path / "out.png", tmp_path / "run.jsonl"
    sheet = tmp_path / "sheet.jpg"
    done = run_script("transfer.py", f"--content={content}", f"--texture={texture}",
                      f"--output={output}", f"--metrics={metrics}", "--save_every=1",
                      f"--optimizer={optimizer}", f"--sheet={sheet}", *QUICK)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Logging error" not in done.stderr
    assert "step 1/2  total" in done.stderr
    assert iio.imread(output).shape == (48, 64, 3)  # 96x72 content, longer side 64
    records = read_metrics(metrics)
    assert [r["step"] for r in records] == [0, 1]
    for record in records:
        assert list(record) == METRIC_KEYS
        assert record["total"] == pytest.approx(
            record["direct"] + record["content"] + record["raw"] + record["texture"]
            + record["tv"], rel=1e-5)
        assert record["lr"] == lr
    assert records[0]["direct"] == 0.0 and records[1]["seconds"] >= records[0]["seconds"] > 0
    for updates in (1, 2):
        assert iio.imread(tmp_path / f"out_{updates:05d}.png").shape == (48, 64, 3)
    # The sheet: three panels 320 px high under a caption row (sheet.py), content 96x72 -> 427
    # wide, texture 60x50 -> 384, result 64x48 -> 427, with 8 px gaps.
    assert iio.imread(sheet).shape == (320 + 28 + 16, 427 + 384 + 427 + 4 * 8, 3)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_split_grayscale_rgba_and_16bit_inputs(tmp_path):
    content, texture = tmp_path / "gray16.png", tmp_path / "rgba.png"
    iio.imwrite(content, (random_image((70, 130), 3)[..., 0] * 257).astype(np.uint16))
    iio.imwrite(texture, np.dstack([random_image((40, 40), 4), np.full((40, 40), 128.0)])
                .astype(np.uint8))
    output = tmp_path / "out.jpg"
    done = run_script("transfer.py", f"--content={content}", f"--texture={texture}",
                      f"--output={output}", "--split=2x1", "--init=noise", *QUICK)
    assert done.returncode == 0, done.stderr
    # Tiles of 65x70 -> 59x64 each; two side by side.
    assert iio.imread(output).shape == (64, 118, 3)


def bad_weights(tmp_path):
    path = tmp_path / "weights.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"junk" * 100)
    return path


@pytest.mark.parametrize("change,message", [
    (lambda p, c, t: {"content": p / "missing.png"}, r"missing\.png: no such file"),
    (lambda p, c, t: {"texture": p / "notes.png"}, r"notes\.png: not an image, or a format this tool cannot read"),
    (lambda p, c, t: {"split": "4x4"}, r"split 4x4 of a 96x72 image leaves tiles of 24x18 px"),
    (lambda p, c, t: {"split": "2by2"}, r"split must look like WxH"),
    (lambda p, c, t: {"texture_layers": "block1_conv1,block9_conv1"}, r"unknown VGG19 layer 'block9_conv1'"),
    (lambda p, c, t: {"weights": bad_weights(p)}, r"weights\.h5: not a VGG19 notop weights file"),
    (lambda p, c, t: {"output": p / "no_such_dir" / "out.png"}, r"out\.png: cannot write there"),
    (lambda p, c, t: {"output": p / "out.gif2"}, r"unsupported output format '\.gif2'"),
    (lambda p, c, t: {"init": t}, r"init image is 60x50, the content is 96x72"),
    (lambda p, c, t: {"max_dim": "16"}, r"max_dim must be 0 \(full resolution\) or at least 32 px"),
    (lambda p, c, t: {"texture_layer_weights": "1,2"},
     r"texture_layer_weights needs one weight >= 0 per texture layer \(3\), got \[1\.0, 2\.0\]"),
    (lambda p, c, t: {"texture_layer_weights": "1,x,2"},
     r"--texture_layer_weights takes comma-separated numbers, got '1,x,2'"),
])
def test_bad_input_is_one_line_and_no_output(tmp_path, image_files, change, message):
    content, texture = image_files
    (tmp_path / "notes.png").write_text("not an image")
    args = {"content": content, "texture": texture, "output": tmp_path / "out.png", "metrics":
            tmp_path / "m.jsonl", "max_dim": "64", "iterations": "2", "weights": "random"}
    args.update(change(tmp_path, content, texture))
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run_script("transfer.py", *[f"--{k}={v}" for k, v in args.items()])
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    import re
    assert re.search(message, lines[0]), lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_help_lists_every_config_flag():
    done = run_script("transfer.py", "--helpfull")
    from nst_tf.config import TransferConfig
    import dataclasses
    for field in dataclasses.fields(TransferConfig):
        flag = f"--[no]{field.name}" if field.type == "bool" else f"--{field.name}"
        assert flag in done.stdout, field.name
    assert "(default: '1x1')" in done.stdout and "(default: '0.0001')" in done.stdout
