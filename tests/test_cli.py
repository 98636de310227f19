"""The commands (scripts/transfer.py, batch.py, download_weights.py; nst-tf): two-step runs, the
metrics file, every bad input, the help, one-line flag errors, the aliases, the checks made
before TensorFlow starts, and the preset read from the weights file."""

import os
import re
import subprocess
import sys

import imageio.v3 as iio
import numpy as np
import pytest

from nst_tf.report.steplog import read_metrics
from conftest import (ROOT, SHARED_WEIGHTS, needs_shared_weights,
                      random_image, run_script)

QUICK = ["--max_dim=64", "--iterations=2", "--weights=random", "--log_every=1"]
METRIC_KEYS = ["step", "total", "direct", "content", "raw", "texture", "tv", "temporal", "lr",
               "seconds", "level", "levels", "remaining_s"]


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
    lines = done.stderr.strip().splitlines()
    what = "2 adam steps" if optimizer == "adam" else "2 lbfgs evaluations"
    assert re.fullmatch(rf"transfer: texture mode, 96x72 -> 64x48, {what}, untrained weights, "
                        r"preset imagenet, float32, on "
                        r"(CPU|GPU|\d+ GPUs)", lines[0]), lines[0]
    assert re.fullmatch(rf"wrote {re.escape(str(output))} \(64x48\) in \d+\.\d s", lines[-1])
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


# --- The command-line conventions -----------------------------------------------------------

COMMANDS = ("transfer.py", "batch.py", "download_weights.py")


def in_subprocess(command, *args, cwd=None):
    """Runs nst_tf.cli's `command` (transfer, batch, download_weights) in a fresh Python with
    these flags, and reports on stdout, after what the command printed there, its exit code and
    whether TensorFlow was imported: the last line is 'EXIT <code> TF <True|False>'."""
    code = ("import sys\n"
            f"from nst_tf.cli.{command} import main\n"
            "try:\n"
            f"    main([{command + '.py'!r}, *sys.argv[1:]])\n"
            "    code = 0\n"
            "except SystemExit as stop:\n"
            "    code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)\n"
            "print('EXIT', code, 'TF', 'tensorflow' in sys.modules)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, timeout=120, env=env, cwd=cwd)


@pytest.mark.parametrize("script", COMMANDS)
@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help_exits_0_with_the_grouped_flags(script, flag):
    done = run_script(script, flag)
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"usage: python scripts/{script} ")
    # absl's alphabetical dump of transfer.py was 207 lines; grouped, with the spatial and
    # colour control flags and the precision, transfer.py has about 145 lines.
    assert len(lines) < 150
    flag_lines = [line.split()[0] for line in lines if line.startswith("  --")]
    if script == "transfer.py":
        # The common flags first, in this order, each with its default.
        assert flag_lines[:9] == ["--content=PHOTO", "--texture=PHOTO", "--output=FILE",
                                  "--mode=texture|style|synthesize|reconstruct", "--max_dim=N",
                                  "--iterations=N", "--weights=FILE", "--[no]faithful",
                                  "--preset=imagenet|normalized"]
        assert lines[lines.index("common:") + 1].startswith("  --content=PHOTO")
        for title in ("what is made:", "inputs and control:", "loss:", "optimisation:",
                      "resolution:", "output files and progress:"):
            assert title in lines
        assert any(re.match(r"  --output=FILE \(-o\) +The result file.*\[output\.png\]$", line)
                   for line in lines)
        assert any(line.startswith("  --texture_weight=X (--style_weight)") for line in lines)
        assert ("[by mode: texture 2500, style 30, synthesize 1000, reconstruct 0; --faithful: "
                "5e-05]") in done.stdout.replace("\n" + " " * 30, " ")
    if script == "batch.py":
        # The transfer flags it passes on to every job, after its own.
        assert flag_lines[:4] == ["--jobs=FILE.csv", "--content_dir=FOLDER", "--texture=PHOTO",
                                  "--output_dir=FOLDER"]
        assert "transfer settings of every job:" in lines
        for name in ("--max_dim=N", "--iterations=N", "--texture_weight=X", "--split=WxH"):
            assert name in flag_lines
        assert "--content=PHOTO" not in flag_lines
    if script == "download_weights.py":
        assert flag_lines == ["--network=vgg19|vgg16", "--from=FILE", "--url=URL", "--md5=HEX",
                              "--dest=PATH", "--[no]progress"]


@pytest.mark.parametrize("script,args,message", [
    ("transfer.py", ["--iteratons", "5"], "unknown flag --iteratons; did you mean --iterations?"),
    ("transfer.py", ["--max_dimm=64"], "unknown flag --max_dimm; did you mean --max_dim?"),
    ("transfer.py", ["--weight_texture=3"],
     "unknown flag --weight_texture; did you mean --texture_weight?"),
    ("transfer.py", ["--noprogres"], "unknown flag --noprogres; did you mean --noprogress?"),
    ("transfer.py", ["--frobnicate=1"], "unknown flag --frobnicate"),
    ("transfer.py", ["--iterations", "abc"], "--iterations takes a whole number, got 'abc'"),
    ("transfer.py", ["--texture_weight=lots"], "--texture_weight takes a number, got 'lots'"),
    ("transfer.py", ["--mode=textur"], "--mode takes one of texture, style, synthesize, "
                                       "reconstruct, got 'textur'; did you mean texture?"),
    ("transfer.py", ["--progress=maybe"],
     "--progress takes true or false (or --progress / --noprogress), got 'maybe'"),
    ("transfer.py", ["--iterations"], "--iterations needs a value"),
    ("transfer.py", ["--content", "--texture", "t.png"], "--content needs a value"),
    ("transfer.py", ["-o"], "-o needs a value: -o FILE"),
    ("transfer.py", ["stray"], "unexpected arguments: stray (flags are written --name=value)"),
    ("batch.py", ["--jobs=j.csv"], "--output_dir is required"),
    ("batch.py", ["--output_dirr=o"], "unknown flag --output_dirr; did you mean --output_dir?"),
    ("batch.py", ["--cpus_per_job=two", "--output_dir=o"],
     "--cpus_per_job takes a number, got 'two'"),
    ("download_weights.py", ["--network=vgg11"],
     "--network takes one of vgg19, vgg16, got 'vgg11'; did you mean vgg19?"),
    ("download_weights.py", ["--dets=x"], "unknown flag --dets; did you mean --dest?"),
])
def test_a_flag_error_is_one_line_and_exit_2(script, args, message):
    done = run_script(script, *args)
    assert done.returncode == 2
    assert done.stderr == f"error: {message}\n"
    assert done.stdout == ""


def test_aliases_are_the_flags_they_name(tmp_path, image_files):
    """neural-style's names: each alias's value reaches its flag (seen in the flag's own check,
    before anything is read), and -o is --output."""
    folder = tmp_path / "adir"
    folder.mkdir()
    out = f"--output={tmp_path / 'o.png'}"
    for args, message in [
            (["--style_weight=-1", out], "texture_weight must be >= 0, got -1.0"),
            (["--style_layers=block1_conv1,block9_conv1", out],
             "unknown VGG19 layer 'block9_conv1'"),
            (["--image_size=16", out], "max_dim must be 0 (full resolution) or at least 32 px, "
                                       "got 16"),
            (["--style_scale=0", out], "texture_scale must be > 0, got 0.0"),
            (["-o", str(folder)], f"--output {folder} is a folder; give a file name such as "
                                  f"{folder / 'result.png'}"),
            ([f"-o={folder}"], f"--output {folder} is a folder"),
            (["--content_layers=relu9_9", out], "unknown VGG19 layer 'relu9_9'"),
            ([f"--content={image_files[0]}", "--style=missing.png", out],
             "missing.png: no such file")]:
        done = run_script("transfer.py", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith(f"error: {message}") and done.stderr.count("\n") == 1, (
            args, done.stderr)


def _checked_before_tensorflow(done, message):
    assert done.stdout.splitlines()[-1] == "EXIT 2 TF False", (done.stdout, done.stderr)
    assert done.stderr == f"error: {message}\n"


def test_the_newcomers_cases_are_one_line_before_tensorflow(tmp_path, image_files):
    content, texture = image_files
    photos = [f"--content={content}", f"--texture={texture}", "--weights=random",
              f"--output={tmp_path / 'out.png'}"]
    for flags, message in [
            (["--iterations=0"], "iterations must be at least 1, got 0 (the start image is not "
                                 "a result)"),
            (["--save_every=-1"], "--save_every must be 0 (never) or more, got -1"),
            (["--optimizer=lbfgs", "--beta_1=0.9"], "--beta_1 is for --optimizer adam; "
                                                    "--optimizer lbfgs does not use it"),
            (["--lbfgs_memory=5"], "--lbfgs_memory is for --optimizer lbfgs; --optimizer adam "
                                   "does not use it")]:
        _checked_before_tensorflow(in_subprocess("transfer", *photos, *flags), message)
    wide = tmp_path / "wide_mask.png"
    iio.imwrite(wide, np.repeat([[0] * 40 + [255] * 40], 20, axis=0).astype(np.uint8))
    _checked_before_tensorflow(  # the content is 96x72
        in_subprocess("transfer", *photos, f"--content_mask={wide}"),
        f"{wide} is 80x20 and the content 96x72: another shape (aspect 4.00 against 1.33); a "
        "mask is stretched to its photo, so draw it at the photo's shape")


def test_the_batch_checks_its_photos_before_tensorflow(tmp_path, image_files):
    content, texture = image_files
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "cat.png").write_bytes(content.read_bytes())
    (photos / "notes.jpg").write_text("not a photo")
    _checked_before_tensorflow(
        in_subprocess("batch", f"--content_dir={photos}", f"--texture={texture}",
                      f"--output_dir={tmp_path / 'out'}", "--weights=random"),
        f"{photos / 'notes.jpg'}: not an image, or a format this tool cannot read")
    assert not (tmp_path / "out").exists()


def test_a_url_of_ones_own_needs_its_md5_and_a_failed_download_leaves_no_folder(tmp_path):
    _checked_before_tensorflow(
        in_subprocess("download_weights", "--url=http://127.0.0.1:9/vgg.h5",
                      f"--dest={tmp_path / 'a' / 'b' / 'w.h5'}"),
        "--url needs --md5 HEX, the file's md5 (or sha256), to check what comes; --md5= "
        "downloads it unchecked")
    done = in_subprocess("download_weights", f"--url={(tmp_path / 'missing.h5').as_uri()}",
                         "--md5=", f"--dest={tmp_path / 'a' / 'b' / 'w.h5'}")
    assert done.stdout.splitlines()[-1] == "EXIT 2 TF False"
    assert list(tmp_path.iterdir()) == []  # neither a/ nor a/b/ stayed behind


def test_transfer_output_paths_are_checked_before_tensorflow(tmp_path, image_files):
    content, texture = image_files
    photos = [f"--content={content}", f"--texture={texture}", "--weights=random"]
    (tmp_path / "adir").mkdir()
    done = in_subprocess("transfer", *photos, "--output=adir", cwd=tmp_path)
    _checked_before_tensorflow(done, "--output adir is a folder; give a file name such as "
                                     "adir/result.png")
    for flag, name in (("metrics", "m.jsonl"), ("plot", "p.png"), ("sheet", "s.png")):
        path = tmp_path / "no_folder" / name
        done = in_subprocess("transfer", *photos, f"--output={tmp_path / 'o.png'}",
                             f"--{flag}={path}")
        _checked_before_tensorflow(done, f"--{flag} {path}: the folder {path.parent} does not "
                                         "exist")
    done = in_subprocess("transfer", *photos, f"--output={tmp_path / 'o.png'}",
                         f"--metrics={tmp_path / 'adir'}")
    _checked_before_tensorflow(done, f"--metrics {tmp_path / 'adir'} is a folder; give a file "
                                     f"name such as {tmp_path / 'adir' / 'metrics.jsonl'}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "content.png", "texture.png"]


def test_batch_setup_is_checked_once_before_tensorflow(tmp_path, image_files):
    content, texture = image_files
    jobs = tmp_path / "jobs.csv"
    jobs.write_text(f"content,texture\n{content},{texture}\n")
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(300))
    out = f"--output_dir={tmp_path / 'out'}"
    done = in_subprocess("batch", f"--jobs={jobs}", out, f"--weights={tmp_path / 'nope.h5'}")
    _checked_before_tensorflow(done, f"{tmp_path / 'nope.h5'}: no such weights file (use "
                                     "'imagenet', 'random' or a path to a VGG19 notop .h5)")
    done = in_subprocess("batch", f"--jobs={jobs}", out, f"--weights={junk}")
    assert done.stdout.splitlines()[-1] == "EXIT 2 TF False"
    assert done.stderr.startswith(f"error: {junk}: not a VGG19 notop weights file (truncated")
    assert done.stderr.count("\n") == 1
    done = in_subprocess("batch", f"--jobs={jobs}", f"--output_dir={a_file}", "--weights=random")
    _checked_before_tensorflow(done, f"--output_dir {a_file}: {a_file} is a file, not a folder")
    done = in_subprocess("batch", f"--jobs={jobs}", f"--output_dir={a_file / 'sub'}",
                         "--weights=random")
    _checked_before_tensorflow(done, f"--output_dir {a_file / 'sub'}: {a_file} is a file, not a "
                                     "folder")
    header_only = tmp_path / "header.csv"
    header_only.write_text("content,texture,iterations\n")
    done = in_subprocess("batch", f"--jobs={header_only}", out, "--weights=random")
    _checked_before_tensorflow(done, f"{header_only}: no jobs, only the header row; add a row per "
                                     "photo (content,texture,...)")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("md5", ["xyz", "253f8cb515780f3b799900260a226db", "g" * 32])
def test_download_checks_the_md5_before_any_download(tmp_path, md5):
    # Port 9 (discard) on this machine: a download attempt would fail with another message.
    done = in_subprocess("download_weights", "--url=http://127.0.0.1:9/vgg.h5", f"--md5={md5}",
                         f"--dest={tmp_path}")
    _checked_before_tensorflow(done, f"--md5 takes 32 hex digits (an md5; 64 for a sha256), got "
                                     f"{md5!r}")
    assert list(tmp_path.iterdir()) == []


def test_download_weights_from_a_file_is_checked_before_tensorflow(tmp_path):
    copy = tmp_path / "vgg19.h5"
    copy.write_bytes(b"not Keras' file")
    folder = f"--dest={tmp_path / 'weights'}/"
    _checked_before_tensorflow(
        in_subprocess("download_weights", f"--from={copy}", "--url=http://127.0.0.1:9/v.h5",
                      folder),
        "--from takes no --url: it installs a file you have, checked against Keras' md5 (--url "
        "and --md5 are for a download)")
    _checked_before_tensorflow(in_subprocess("download_weights", f"--from={tmp_path / 'no.h5'}",
                                             folder), f"{tmp_path / 'no.h5'}: no such file")
    done = in_subprocess("download_weights", f"--from={copy}", folder)
    assert done.stdout.splitlines()[-1] == "EXIT 2 TF False"
    assert done.stderr.startswith(f"error: {copy}: not Keras' VGG19 notop file (its md5 is ")
    assert done.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vgg19.h5"]  # nothing written


# --- The network and preset follow the weights ---------------------------------------------

@needs_shared_weights
def test_the_start_line_says_which_loop_runs(tmp_path, image_files):
    content, texture = image_files
    args = [f"--content={content}", f"--texture={texture}", "--max_dim=48", "--iterations=1",
            f"--weights={SHARED_WEIGHTS}"]
    done = run_script("transfer.py", *args, f"--output={tmp_path / 'a.png'}")
    assert done.returncode == 0, done.stderr
    assert re.match(r"transfer: texture mode, 96x72 -> 48x36, 1 adam step, the calibrated loop "
                    r"\(Gatys' normalized VGG19\), float32, on ", done.stderr), done.stderr
    # The other loops' start lines, from the same function, without a run each.
    from nst_tf.cli.transfer import start_line
    from nst_tf.config import TransferConfig
    from nst_tf.run.request import Request, prepare
    lines = {}
    for name, settings in (("faithful", {"faithful": True}), ("imagenet", {"preset": "imagenet"})):
        config = TransferConfig(weights=str(SHARED_WEIGHTS), max_dim=48, iterations=1,
                                **settings)
        lines[name] = (config.network_choice.warning,
                       start_line(config, prepare(Request(content, texture, config)), "CPU"))
    assert lines["faithful"][0] is None
    assert re.match(r"transfer: .*, the 2018 loop \(faithful: vgg19_normalized_notop.h5 as it "
                    r"is, the notebooks' settings\), float32, on CPU$", lines["faithful"][1])
    assert lines["imagenet"][0] == (
        "warning: preset imagenet is tuned for Keras' file, but vgg19_normalized_notop.h5 is "
        "Gatys' normalized VGG19; without the preset the calibrated loop would run")
    assert re.match(r"transfer: .*, preset imagenet \(vgg19_normalized_notop.h5 as it is\), "
                    r"float32, on CPU$", lines["imagenet"][1])
    done = run_script("transfer.py", *args, "--faithful", "--preset=normalized",
                      f"--output={tmp_path / 'd.png'}")
    assert (done.returncode, done.stderr) == (2, "error: faithful runs the 2018 computation "
                                                 "(preset imagenet); it cannot go with preset "
                                                 "normalized\n")


def test_the_bench_scripts_still_find_the_shared_code():
    """bench/scripts put scripts/ on sys.path and import cli_common: it is nst_tf.cli.common."""
    done = run_script("bench/scripts/benchmark.py", "--helpfull")
    assert "--steps" in done.stdout and "--texture_weight" in done.stdout, done.stderr
    assert "Traceback" not in done.stderr
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import cli_common
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    import nst_tf.cli.common
    assert cli_common is nst_tf.cli.common


def test_the_video_help_names_the_content_a_clip_and_the_extra():
    lines = run_script("video.py", "--help").stdout.splitlines()
    content = next(i for i, line in enumerate(lines) if line.startswith("  --content="))
    shown = re.sub(r"\s+", " ", " ".join(lines[content:content + 2])).strip()
    assert shown == ("--content=CLIP The clip: a video file (mp4, mov, mkv, webm, avi, m4v, gif) "
                     "or a folder of frames. [none]")
    text = " ".join(lines)
    assert "pip install 'nst-tf[video]' (in a checkout: pip install '.[video]')" in text
    # The other commands' --content is still a photo.
    assert "  --content=PHOTO " in run_script("transfer.py", "--help").stdout
