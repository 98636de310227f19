"""When things go wrong: unusual and broken inputs, bad weights files, outputs that would overwrite
inputs, a loss that stops being finite, signals, determinism. One test (or table row) per row of
the README's "When things go wrong"."""
import http.server
import json
import re
import signal
import subprocess
import sys
import threading

import imageio.v3 as iio
import numpy as np
import pytest

import nst_tf
from PIL import Image

from nst_tf.io import download as fetch
from nst_tf.config import TransferConfig
from nst_tf.errors import NSTError
from nst_tf.io.files import check_apart
from nst_tf.io.images import read_image, upright_size, write_image
from nst_tf.report.steplog import read_metrics
from nst_tf.network.weights import check_vgg19_file, vgg19_kernel_shapes
from conftest import built, ROOT, interruptible, legacy_weights_file, run_script
from unusual_inputs import CASES, decompression_bomb_png, phone_portrait_jpeg

QUICK = ["--max_dim=64", "--iterations=2", "--weights=random", "--log_every=0"]


@pytest.mark.parametrize("make,expected", CASES, ids=[make.__name__ for make, _ in CASES])
def test_unusual_and_broken_images(tmp_path, make, expected):
    path = make(tmp_path)
    if isinstance(expected, str):
        with pytest.raises(NSTError) as failure:
            read_image(path)
        message = str(failure.value)
        assert "\n" not in message and message.startswith(str(path))
        assert re.search(expected, message), message
        return
    image = read_image(path)
    assert image.shape == expected + (3,) and image.dtype == np.float32
    # The size a batch plans each job with, from the header alone, is the size read.
    assert upright_size(path) == expected
    assert image.std() > 0 or make.__name__ in ("transparent_png", "animated_gif")


def test_what_the_unusual_images_read_as(tmp_path):
    # EXIF orientation 6: the stored image turned 90 degrees clockwise, pixel for pixel.
    portrait = phone_portrait_jpeg(tmp_path)
    stored = np.asarray(Image.open(portrait).convert("RGB"), np.float32)
    np.testing.assert_array_equal(read_image(portrait), np.rot90(stored, k=-1))
    # CMYK comes back as the RGB it was made from, within JPEG's loss on this noisy picture
    # (about 8 levels; inverted or misread channels would be off by about 100).
    from unusual_inputs import _rgb, animated_gif, cmyk_jpeg, sixteen_bit_png, transparent_png
    assert np.abs(read_image(cmyk_jpeg(tmp_path)) - _rgb()).mean() < 10
    # Fully transparent: white. Animated: the first frame (40), not the second (200).
    assert read_image(transparent_png(tmp_path)).min() == 255
    assert np.unique(read_image(animated_gif(tmp_path))).tolist() == [40]
    # 16-bit: all 16 bits kept (the stored value / 257), not cut to 8.
    from conftest import random_image
    expected = (random_image((80, 120))[..., 0] * 257).astype(np.uint16) / np.float32(257)
    np.testing.assert_allclose(read_image(sixteen_bit_png(tmp_path))[..., 1], expected, atol=0.01)


@pytest.mark.parametrize("make", [make for make, expected in CASES if isinstance(expected, str)],
                         ids=[make.__name__ for make, e in CASES if isinstance(e, str)])
def test_broken_images_on_the_command_line(tmp_path, image_files, make):
    content, texture = image_files
    broken = make(tmp_path)
    output = tmp_path / "out.png"
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run_script("transfer.py", f"--content={content}", f"--texture={broken}",
                      f"--output={output}", f"--metrics={tmp_path / 'm.jsonl'}", *QUICK)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {broken}: "), done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_portrait_phone_photo_runs_upright(tmp_path, image_files):
    _, texture = image_files
    output = tmp_path / "out.png"
    done = run_script("transfer.py", f"--content={phone_portrait_jpeg(tmp_path)}",
                      f"--texture={texture}", f"--output={output}", *QUICK)
    assert done.returncode == 0, done.stderr
    assert iio.imread(output).shape == (64, 43, 3)  # 80 wide, 120 high, longer side 64


def test_inputs_are_checked_before_the_network_is_built(tmp_path, image_files, monkeypatch):
    import nst_tf.network.cache
    monkeypatch.setattr(nst_tf.network.cache.NetworkCache, "network",
                        lambda *a, **k: pytest.fail("network built"))
    content, texture = image_files
    truncated = tmp_path / "truncated.h5"
    legacy_weights_file(truncated, vgg19_kernel_shapes())
    truncated.write_bytes(truncated.read_bytes()[:1000])
    for bad, message in [
            ({"texture": decompression_bomb_png(tmp_path)}, "decompression bomb"),
            ({"config": TransferConfig(weights=str(truncated))}, "truncated or corrupt"),
            ({"config": TransferConfig(init=str(texture))}, "init image is 60x50"),
            ({"config": TransferConfig(split=(9, 9), max_dim=64, weights="random")},
             "leaves tiles of")]:
        args = {"content": content, "texture": texture, **bad}
        with pytest.raises(NSTError, match=message):
            nst_tf.transfer(**args)


def test_weights_files_truncated_corrupt_or_of_another_network(tmp_path):
    shapes = vgg19_kernel_shapes()
    good = tmp_path / "good.h5"
    legacy_weights_file(good, shapes)
    check_vgg19_file(good)
    advice = "get Keras' VGG19 file with: python scripts/download_weights.py"

    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[:2000])
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(b"PK\x03\x04" + bytes(5000))
    vgg16 = tmp_path / "vgg16.h5"  # VGG16 has three convolutions in blocks 3 to 5
    legacy_weights_file(vgg16, {k: v for k, v in shapes.items() if not k.endswith("conv4")})
    narrow = tmp_path / "narrow.h5"
    legacy_weights_file(narrow, {**shapes, "block1_conv1": (3, 3, 3, 32)})
    for path, reason in [
            (truncated, r"truncated or corrupt: .*"), (corrupt, r"truncated or corrupt: .*"),
            (vgg16, r"no block3_conv4 in it: another network's weights\?"),
            (narrow, r"block1_conv1's kernel is 3x3x3x32, VGG19's is 3x3x3x64")]:
        with pytest.raises(NSTError) as failure:
            check_vgg19_file(path)
        message = str(failure.value)
        assert re.fullmatch(rf"{re.escape(str(path))}: not a VGG19 notop weights file \({reason}\); "
                            + re.escape(advice), message), message


def test_keras3_weights_layout_is_accepted_by_its_shapes(tmp_path):
    import keras
    from nst_tf.network.vgg import vgg19
    path = tmp_path / "vgg19.weights.h5"
    keras.applications.VGG19(include_top=False, weights=None).save_weights(path)
    check_vgg19_file(path)
    assert vgg19(str(path)).get_layer("block5_conv4").get_weights()[0].shape == (3, 3, 512, 512)
    other = tmp_path / "vgg16.weights.h5"
    keras.applications.VGG16(include_top=False, weights=None).save_weights(other)
    with pytest.raises(NSTError, match=r"its 13 convolution kernels are not VGG19's 16"):
        check_vgg19_file(other)


def test_a_broken_weights_file_on_the_command_line(tmp_path, image_files):
    content, texture = image_files
    broken = tmp_path / "vgg19.h5"
    broken.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(300))
    done = run_script("transfer.py", f"--content={content}", f"--texture={texture}",
                      f"--output={tmp_path / 'out.png'}", f"--weights={broken}", "--max_dim=64")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith(f"error: {broken}: not a VGG19 notop weights file (truncated")
    assert done.stderr.strip().endswith("python scripts/download_weights.py")
    assert not (tmp_path / "out.png").exists()


def test_an_output_that_is_an_input_is_refused(tmp_path, image_files):
    content, texture = image_files
    link = tmp_path / "hard_link.png"
    link.hardlink_to(content)
    for outputs, message in [
            ({"output": content}, rf"{content}: --output would overwrite --content"),
            ({"output": tmp_path / "." / "texture.png"}, "--output would overwrite --texture"),
            ({"output": link}, "--output would overwrite --content"),
            ({"output": tmp_path / "o.png", "metrics": tmp_path / "o.png"},
             "--metrics would overwrite --output"),
            ({"output": tmp_path / "o.png", "metrics": tmp_path / "w.h5"},
             "--metrics would overwrite --weights")]:
        with pytest.raises(NSTError, match=message):
            check_apart(outputs, {"content": content, "texture": texture,
                                  "weights": tmp_path / "w.h5", "init": None})
    check_apart({"output": tmp_path / "o.png", "metrics": None}, {"content": content})
    stamp = content.read_bytes()
    done = run_script("transfer.py", f"--content={content}", f"--texture={texture}",
                      f"--output={content}", *QUICK)
    assert done.returncode == 2 and "--output would overwrite --content" in done.stderr
    assert content.read_bytes() == stamp


@pytest.mark.parametrize("optimizer,step", [("adam", 3), ("lbfgs", 1)])
def test_a_loss_that_stops_being_finite_stops_the_run_and_keeps_the_image(
        tmp_path, image_files, optimizer, step):
    content, texture = image_files
    output, metrics = tmp_path / "out.png", tmp_path / "m.jsonl"
    # Weight 1e38: the pixel loss overflows float32 once the image leaves the content.
    done = run_script("transfer.py", f"--content={content}", f"--texture={texture}",
                      f"--output={output}", f"--metrics={metrics}", "--direct_weight=1e38",
                      f"--optimizer={optimizer}", "--max_dim=64", "--iterations=20",
                      "--weights=random", "--log_every=0")
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert re.fullmatch(rf"error: the direct loss became (inf|nan) at step {step}; wrote the best "
                        rf"image before it to {output} and the metrics to {metrics} \(lower the "
                        r"loss weights or the learning rate\)", lines[0]), lines[0]
    records = read_metrics(metrics)
    assert [r["step"] for r in records] == list(range(step))
    assert all(np.isfinite(r["total"]) for r in records)
    assert iio.imread(output).shape == (48, 64, 3)
    if step == 1:  # the only finite step was the start: the image written is the start image
        start = built(content, texture, TransferConfig(
            max_dim=64, iterations=1, weights="random")).result()  # before any step
        np.testing.assert_array_equal(iio.imread(output), start)


@pytest.mark.parametrize("sent,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_keep_the_best_image_and_the_metrics(tmp_path, image_files, sent, code):
    content, texture = image_files
    output, metrics = tmp_path / "out.png", tmp_path / "run.jsonl"
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "transfer.py"), f"--content={content}",
         f"--texture={texture}", f"--output={output}", f"--metrics={metrics}", "--max_dim=64",
         "--iterations=100000", "--weights=random", "--log_every=1"],
        stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    try:
        for line in process.stderr:
            if "step 4/" in line:  # the 4th step reported (its step field is 3)
                process.send_signal(sent)
                break
        rest = process.stderr.read()
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.returncode == code
    assert rest.strip().splitlines()[-1] == (f"interrupted: wrote the best image so far to "
                                             f"{output} and the metrics to {metrics}")
    assert iio.imread(output).shape == (48, 64, 3)
    records = read_metrics(metrics)
    assert len(records) >= 4 and [r["step"] for r in records] == list(range(len(records)))
    assert json.loads(metrics.read_text().splitlines()[-1])["step"] == len(records) - 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_an_interrupt_keeps_the_best_image_not_the_last(image_files):
    content, texture = image_files
    # A heavy pixel loss and a large rate: the steps climb away from the start, the best image.
    request = nst_tf.Request(content, texture, TransferConfig(
        max_dim=48, weights="random", iterations=6, learning_rate=50.0, direct_weight=1e3))
    jobs, evaluated, totals = [], [], []

    def started(job, prepared):
        jobs.append(job)
        evaluated.append(job.image.numpy().copy())

    def record(report):
        totals.append(report.total)
        evaluated.append(jobs[0].image.numpy().copy())  # after update k: what step k+1 scores
        if report.step == 4:
            raise KeyboardInterrupt
    outcome = nst_tf.Engine().run(request, on_step=record, on_start=started)
    assert (outcome.status, outcome.stopped_by, outcome.steps) == ("stopped", "interrupt", 5)
    assert isinstance(outcome.error, KeyboardInterrupt)
    best = int(np.argmin(totals))
    assert best < len(totals) - 1, totals
    assert not np.array_equal(evaluated[-1], evaluated[best])
    # The engine put the best image back: the outcome's picture is made from it.
    np.testing.assert_array_equal(jobs[0].image.numpy(), evaluated[best])
    np.testing.assert_array_equal(outcome.image, jobs[0].result())


@pytest.mark.parametrize("overrides", [
    {"optimizer": "adam"}, {"optimizer": "lbfgs"}, {"optimizer": "adam", "init": "noise"},
    {"optimizer": "lbfgs", "init": "noise", "split": (2, 1)}])
def test_same_inputs_and_seed_give_the_same_bytes(tmp_path, image_files, overrides):
    content, texture = image_files
    config = TransferConfig(max_dim=96, weights="random", iterations=4, seed=5, **overrides)
    for run in (1, 2):
        write_image(tmp_path / f"run{run}.png", nst_tf.transfer(content, texture, config))
    assert (tmp_path / "run1.png").read_bytes() == (tmp_path / "run2.png").read_bytes()


class _FlakyServer(http.server.BaseHTTPRequestHandler):
    """Answers 503 `failures` times, then the payload."""
    failures, payload, seen = 2, b"", []

    def do_GET(self):
        type(self).seen.append(self.path)
        if "missing" in self.path:
            self.send_error(404, "not here")
            return
        if len(self.seen) <= self.failures:
            self.send_error(503, "busy")
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.payload)))
        self.end_headers()
        self.wfile.write(self.payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_server():
    import hashlib
    _FlakyServer.payload, _FlakyServer.seen, _FlakyServer.failures = b"weights" * 1000, [], 2
    server = http.server.HTTPServer(("127.0.0.1", 0), _FlakyServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", hashlib.md5(_FlakyServer.payload).hexdigest()
    server.shutdown()


def test_download_retries_transient_failures_with_backoff(tmp_path, flaky_server):
    url, md5 = flaky_server
    waits = []
    path = fetch.download(f"{url}/vgg.h5", tmp_path, md5, sleep=waits.append)
    assert path == tmp_path / "vgg.h5" and path.read_bytes() == _FlakyServer.payload
    assert waits == [1.0, 2.0] and len(_FlakyServer.seen) == 3


def test_download_gives_up_on_a_permanent_answer_at_once(tmp_path, flaky_server):
    url, md5 = flaky_server
    waits = []
    with pytest.raises(NSTError, match=r"cannot download .*/missing\.h5 \(HTTP 404 not here\)"):
        fetch.download(f"{url}/missing.h5", tmp_path / "w.h5", md5, sleep=waits.append)
    assert waits == [] and list(tmp_path.iterdir()) == []


def test_download_with_no_network_fails_within_30_s(tmp_path):
    import time
    start = time.monotonic()
    with pytest.raises(NSTError, match=r"cannot download http://127\.0\.0\.1:9/w\.h5 \(.*; 4 "
                                       r"attempts in \d+ s\); fetch it on a machine with internet"):
        fetch.download("http://127.0.0.1:9/w.h5", tmp_path / "w.h5", "0" * 32)
    assert time.monotonic() - start < fetch.DOWNLOAD_DEADLINE_S
    assert list(tmp_path.iterdir()) == []


def test_download_script_takes_a_folder_or_a_file(tmp_path, flaky_server):
    url, md5 = flaky_server
    _FlakyServer.failures = 0
    folder = tmp_path / "weights"
    folder.mkdir()
    done = run_script("download_weights.py", f"--url={url}/vgg.h5", f"--md5={md5}", f"--dest={folder}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"{folder / 'vgg.h5'} verified",
                                        f"{folder / 'vgg.h5'}: not a VGG19 notop .h5 file; "
                                        "nothing derived"]
    named = tmp_path / "new" / "mine.h5"
    done = run_script("download_weights.py", f"--url={url}/vgg.h5", f"--md5={md5}", f"--dest={named}")
    assert done.returncode == 0 and named.read_bytes() == _FlakyServer.payload
    done = run_script("download_weights.py", f"--url={url}/missing.h5", f"--md5={md5}",
                      f"--dest={folder}")
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: cannot download {url}/missing.h5 (HTTP 404 not here)"


@pytest.mark.parametrize("interrupt,code", [("KeyboardInterrupt", 130), ("Terminated", 143)])
def test_an_interrupt_before_the_run_writes_nothing_and_says_so(capsys, interrupt, code):
    sys.path.insert(0, str(ROOT / "scripts"))
    import cli_common
    raised = KeyboardInterrupt if interrupt == "KeyboardInterrupt" else cli_common.Terminated

    def main(argv):
        raise raised()  # as Ctrl-C or SIGTERM during the start-up or the network build would
    previous = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as stop:
            cli_common.guarded(main)(["transfer.py"])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stop.value.code == code
    assert capsys.readouterr().err == "error: interrupted before any result; nothing written\n"
