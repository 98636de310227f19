import hashlib
import os
import time

import h5py
import numpy as np
import pytest

from nst_tf.io import download as fetch
from nst_tf.network import weights
from nst_tf.errors import NSTError
from nst_tf.network.vgg import vgg19
from conftest import built, needs_shared_weights, run_script


@pytest.fixture
def source(tmp_path):
    payload = os.urandom(3 * fetch.CHUNK_BYTES + 123)
    path = tmp_path / "source.h5"
    path.write_bytes(payload)
    return path, hashlib.md5(payload).hexdigest(), hashlib.sha256(payload).hexdigest()


def test_download_verifies_and_is_a_noop_when_present(tmp_path, source):
    path, md5, sha256 = source
    dest = tmp_path / "cache" / "w.h5"
    assert fetch.download(path.as_uri(), dest, md5) == dest
    assert dest.read_bytes() == path.read_bytes()
    assert oct(dest.stat().st_mode & 0o777) != oct(0o600)
    stamp = dest.stat().st_mtime_ns
    time.sleep(0.01)
    fetch.download("file:///nonexistent/anything", dest, md5)  # verified copy: no fetch at all
    assert dest.stat().st_mtime_ns == stamp
    other = tmp_path / "cache" / "sha.h5"
    fetch.download(path.as_uri(), other, sha256)
    assert fetch.verified(other, sha256)


def test_hash_mismatch_leaves_no_file(tmp_path, source):
    path, md5, _ = source
    dest = tmp_path / "cache" / "w.h5"
    with pytest.raises(NSTError, match=rf"md5 is {md5}, expected 0{{32}}; the download is corrupt"):
        fetch.download(path.as_uri(), dest, "0" * 32)
    assert not (tmp_path / "cache").exists()  # nor the folder made for it


def test_resolve_imagenet_downloads_once_into_the_weights_dir(tmp_path, source, monkeypatch):
    path, md5, _ = source
    monkeypatch.setattr(weights, "KERAS_VGG19_NOTOP",
                        weights.WeightsFile("vgg19_notop.h5", path.as_uri(), md5))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    folder = tmp_path / "weights"
    with pytest.raises(NSTError, match="run python scripts/download_weights.py"):
        weights.resolve_weights("imagenet", folder, allow_download=False)
    resolved = weights.resolve_weights("imagenet", folder)
    assert resolved == str(folder / "vgg19_notop.h5")
    path.unlink()  # a second resolve must not need the source
    assert weights.resolve_weights("imagenet", folder) == resolved


def test_resolve_finds_the_keras_cache(tmp_path, source, monkeypatch):
    path, md5, _ = source
    monkeypatch.setattr(weights, "KERAS_VGG19_NOTOP",
                        weights.WeightsFile("vgg19_notop.h5", "file:///nowhere", md5))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    cached = tmp_path / "keras_home" / "models" / "vgg19_notop.h5"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(path.read_bytes())
    assert weights.resolve_weights("imagenet", tmp_path / "empty") == str(cached)


def test_resolve_other_specs(tmp_path):
    assert weights.resolve_weights("random") is None
    assert weights.resolve_weights(None) is None
    with pytest.raises(NSTError, match="nope.h5: no such weights file"):
        weights.resolve_weights(str(tmp_path / "nope.h5"))


def test_a_file_that_is_not_vgg19_notop_is_refused(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as handle:
        handle.attrs["layer_names"] = [b"dense"]
        handle.create_group("dense").attrs["weight_names"] = [b"dense/kernel:0"]
        handle["dense"].create_dataset("dense/kernel:0", data=np.zeros((3, 3)))
    with pytest.raises(NSTError, match=r"other\.h5: not a VGG19 notop weights file"):
        vgg19(str(other))
    text = tmp_path / "notes.h5"
    text.write_text("hello")
    with pytest.raises(NSTError, match=r"notes\.h5: not a VGG19 notop weights file"):
        vgg19(str(text))


@needs_shared_weights
def test_shared_real_weights_load(real_vgg):
    kernel = real_vgg.get_layer("block1_conv1").get_weights()[0]
    assert kernel.shape == (3, 3, 3, 64) and float(np.abs(kernel).mean()) > 0


def test_download_script(tmp_path, source):
    path, md5, _ = source
    dest = tmp_path / "out" / "w.h5"
    done = run_script("download_weights.py", f"--url={path.as_uri()}", f"--md5={md5}", f"--dest={dest}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == f"{dest} verified"
    # Progress without a terminal: a line at each further tenth, the last one at 100%.
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("3.1/3.1 MB  100%") and len(lines) == 4  # 4 chunks of 1 MiB
    bad = run_script("download_weights.py", f"--url={path.as_uri()}", "--md5=" + "1" * 32,
                     f"--dest={tmp_path / 'bad.h5'}", "--noprogress")
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and bad.stderr.startswith("error: ")
    assert not (tmp_path / "bad.h5").exists()


def test_byte_progress_lines_and_terminal_form():
    import io
    ticks = iter(range(100))
    stream = io.StringIO()
    progress = fetch.ByteProgress(stream, terminal=False, clock=lambda: float(next(ticks)))
    for done in (5_000_000, 8_000_000, 9_000_000, 20_000_000, 40_000_000):
        progress(done, 40_000_000)
    assert stream.getvalue().splitlines() == [
        "5.0/40.0 MB  12%  5.0 MB/s  ~7 s left",
        "8.0/40.0 MB  20%  4.0 MB/s  ~8 s left",
        "20.0/40.0 MB  50%  5.0 MB/s  ~4 s left",
        "40.0/40.0 MB  100%  8.0 MB/s  ~0 s left"]
    terminal = io.StringIO()
    ticks = iter(range(100))
    progress = fetch.ByteProgress(terminal, terminal=True, clock=lambda: float(next(ticks)))
    progress(1_000_000, None)
    assert terminal.getvalue() == "\r1.0 MB  1.0 MB/s\x1b[K"


# --- VGG16 ------------------------------------------------------------------------------------
def test_vgg16_files_are_told_from_vgg19_ones(tmp_path):
    from conftest import legacy_weights_file
    vgg16_file, vgg19_file = tmp_path / "vgg16.h5", tmp_path / "vgg19.h5"
    legacy_weights_file(vgg16_file, weights.kernel_shapes("vgg16"))
    legacy_weights_file(vgg19_file, weights.kernel_shapes("vgg19"))
    assert len(weights.kernel_shapes("vgg16")) == 13 and len(weights.kernel_shapes("vgg19")) == 16
    weights.check_weights_file(vgg16_file, "vgg16")
    assert weights.resolve_weights(str(vgg16_file), network="vgg16") == str(vgg16_file)
    with pytest.raises(NSTError, match=r"not a VGG19 notop weights file \(no block3_conv4 in it"):
        weights.check_weights_file(vgg16_file, "vgg19")
    with pytest.raises(NSTError, match=r"not a VGG16 notop weights file \(it has block3_conv4, "
                                       r"which VGG16 has not.*--network vgg16$"):
        weights.check_weights_file(vgg19_file, "vgg16")


def test_imagenet_vgg16_is_keras_file_and_downloads_on_its_own(tmp_path, source, monkeypatch):
    assert weights.keras_file("vgg16").md5 == "6d6bbae143d832006294945121d1f1fc"
    assert weights.keras_file("vgg16").url.endswith(
        "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")
    path, md5, _ = source
    monkeypatch.setattr(weights, "KERAS_VGG16_NOTOP",
                        weights.WeightsFile("vgg16.h5", path.as_uri(), md5))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras-cache"))
    with pytest.raises(NSTError, match="run python scripts/download_weights.py --network vgg16"):
        weights.resolve_weights("imagenet", tmp_path / "w", allow_download=False, network="vgg16")
    assert weights.resolve_weights("imagenet", tmp_path / "w", network="vgg16") == str(
        tmp_path / "w" / "vgg16.h5")


def test_a_random_vgg16_runs_a_mode_and_checks_its_layer_names():
    from nst_tf.config import TransferConfig
    from conftest import random_image
    with pytest.raises(NSTError, match="unknown VGG16 layer 'relu3_4'; choose from block1_conv1"):
        TransferConfig(network="vgg16", texture_layers=("relu3_4",))
    config = TransferConfig(mode="style", network="vgg16", weights="random", iterations=2,
                            max_dim=48)
    job = built(random_image((36, 48), 1), random_image((30, 30), 2), config)
    assert len(job.extractor.model.layers) == 19  # input, 13 convolutions, 5 poolings
    reports = []
    assert job.run(reports.append).shape == (36, 48, 3) and len(reports) == 2


# --- Installing a copy of Keras' file one has (download-weights --from FILE) -------------------
def test_install_checks_keras_md5_and_copies_where_the_download_puts_it(tmp_path, source,
                                                                         monkeypatch):
    path, md5, _ = source
    monkeypatch.setattr(weights, "KERAS_VGG19_NOTOP",
                        weights.WeightsFile("vgg19_notop.h5", "file:///nowhere", md5))
    monkeypatch.setattr(weights, "WEIGHTS_DIR", tmp_path / "weights")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    wrong = tmp_path / "wrong.h5"
    wrong.write_bytes(path.read_bytes()[:-1])  # one byte short: a truncated copy
    with pytest.raises(NSTError) as refused:
        weights.install_weights(wrong)
    assert str(refused.value) == (
        f"{wrong}: not Keras' VGG19 notop file (its md5 is {fetch.file_hash(wrong)}, Keras' is "
        f"{md5}); nothing installed (another VGG19 notop file runs as it is with --weights FILE)")
    assert not (tmp_path / "weights").exists()  # nothing written, no folder made
    installed = weights.install_weights(path)
    assert installed == tmp_path / "weights" / "vgg19_notop.h5"
    assert installed.read_bytes() == path.read_bytes()
    assert sorted(p.name for p in installed.parent.iterdir()) == ["vgg19_notop.h5"]
    # Where the tool looks: 'imagenet' finds it with no download.
    assert weights.resolve_weights("imagenet", allow_download=False) == str(installed)
    stamp = installed.stat().st_mtime_ns
    time.sleep(0.01)
    assert weights.install_weights(path) == installed  # a verified copy there: left as it is
    assert installed.stat().st_mtime_ns == stamp
    with pytest.raises(NSTError, match=r"nope\.h5: no such file$"):
        weights.install_weights(tmp_path / "nope.h5")
    # --dest: a file, or a folder to put it in under Keras' name.
    assert weights.install_weights(path, dest=tmp_path / "elsewhere" / "w.h5") == \
        tmp_path / "elsewhere" / "w.h5"
    assert weights.install_weights(path, dest=f"{tmp_path / 'other'}/") == \
        tmp_path / "other" / "vgg19_notop.h5"


def test_offline_messages_name_the_install_from_a_file(tmp_path, monkeypatch):
    monkeypatch.setattr(weights, "KERAS_VGG19_NOTOP", weights.WeightsFile(
        "vgg19_notop.h5", (tmp_path / "nowhere.h5").as_uri(), "0" * 32))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    folder = tmp_path / "weights"
    with pytest.raises(NSTError) as raised:
        weights.resolve_weights("imagenet", folder)
    assert str(raised.value).endswith(
        "): install a copy you have with python scripts/download_weights.py --from FILE, give "
        "--weights FILE (a VGG19 notop .h5), or run python scripts/download_weights.py where "
        "there is internet")
    with pytest.raises(NSTError) as raised:
        weights.resolve_weights("imagenet", folder, allow_download=False)
    assert str(raised.value) == (
        f"Keras' VGG19 weights are not in {folder}; run python scripts/download_weights.py (with "
        "--from FILE: a copy you have), or give --weights FILE")


@pytest.fixture
def as_if_keras():
    """run(md5, *flags, weights_dir): `nst-tf download-weights FLAGS` in a fresh Python whose
    Keras VGG19 file is vgg19_notop.h5 with this md5 (its download unreachable), with
    NST_TF_WEIGHTS_DIR=weights_dir."""
    import subprocess
    import sys
    from conftest import ROOT
    code = ("import sys\n"
            "from nst_tf.network import weights\n"
            "weights.KERAS_VGG19_NOTOP = weights.WeightsFile('vgg19_notop.h5', 'file:///nowhere', "
            "sys.argv[1])\n"
            "from nst_tf.cli.main import main\n"
            "main(['nst-tf', 'download-weights', *sys.argv[2:]])\n")

    def run(md5, *flags, weights_dir):
        env = dict(os.environ, PYTHONPATH=str(ROOT), NST_TF_WEIGHTS_DIR=str(weights_dir))
        return subprocess.run([sys.executable, "-c", code, md5, *map(str, flags)],
                              capture_output=True, text=True, timeout=300, env=env)
    return run


@pytest.fixture
def with_keras_md5():
    """run(args, weights_dir): python ARGS from the checkout, Keras' own md5 expected, with
    NST_TF_WEIGHTS_DIR=weights_dir."""
    import subprocess
    import sys
    from conftest import ROOT

    def run(args, weights_dir):
        env = dict(os.environ, PYTHONPATH=str(ROOT), NST_TF_WEIGHTS_DIR=str(weights_dir))
        return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                              timeout=300, env=env, cwd=ROOT)
    return run


def test_download_weights_from_a_file_installs_it_or_refuses_it_in_one_line(tmp_path, source,
                                                                             as_if_keras,
                                                                             with_keras_md5):
    path, md5, _ = source
    folder = tmp_path / "weights"
    done = as_if_keras(md5, f"--from={path}", weights_dir=folder)
    assert done.returncode == 0, done.stderr
    installed = folder / "vgg19_notop.h5"
    assert done.stdout.splitlines() == [
        f"{installed} verified (Keras' VGG19 notop file, from {path})",
        f"{installed}: not a VGG19 notop .h5 file; nothing derived"]  # random bytes, not h5
    assert installed.read_bytes() == path.read_bytes()
    # A wrong file, by the script and by the console command: one line, exit 2, nothing written.
    other = tmp_path / "other"
    for command in (["scripts/download_weights.py"], ["-m", "nst_tf.cli", "download-weights"]):
        done = with_keras_md5([*command, f"--from={path}"], weights_dir=other)
        assert done.returncode == 2, done.stderr
        assert done.stderr == (
            f"error: {path}: not Keras' VGG19 notop file (its md5 is {md5}, Keras' is "
            f"{weights.KERAS_VGG19_NOTOP.md5}); nothing installed (another VGG19 notop file runs "
            "as it is with --weights FILE)\n")
        assert done.stdout == "" and not other.exists()
    done = with_keras_md5(["scripts/download_weights.py", f"--from={path}", f"--md5={md5}"],
                          weights_dir=other)
    assert done.returncode == 2 and done.stderr == (
        "error: --from takes no --md5: it installs a file you have, checked against Keras' md5 "
        "(--url and --md5 are for a download)\n")


@needs_shared_weights
def test_download_weights_from_keras_file_writes_the_normalized_network_beside_it(tmp_path,
                                                                                 as_if_keras):
    from conftest import SHARED_WEIGHTS
    from nst_tf.network import calibration
    # Keras' file's stand-in: the normalized network with each channel of two layers rescaled
    # (and the next layer compensated), what Keras' file is to the normalized one.
    rng = np.random.default_rng(3)
    layers, previous = [], np.ones(3)
    for name, kernel, bias in calibration.read_layers(SHARED_WEIGHTS):
        scale = (10 ** rng.uniform(-1, 2, kernel.shape[-1]) if name in ("block1_conv1",
                                                                       "block4_conv2")
                 else np.ones(kernel.shape[-1]))
        kernel = kernel.astype(np.float64) * scale / previous[None, None, :, None]
        layers.append((name, kernel.astype(np.float32), (bias * scale).astype(np.float32)))
        previous = scale
    stand_in = tmp_path / "downloaded" / "keras_vgg19.h5"
    stand_in.parent.mkdir()
    calibration.write_layers(stand_in, layers)
    folder = tmp_path / "weights"
    done = as_if_keras(fetch.file_hash(stand_in), f"--from={stand_in}", weights_dir=folder)
    assert done.returncode == 0, done.stderr
    installed, derived = folder / "vgg19_notop.h5", folder / "vgg19_normalized_notop.h5"
    assert done.stdout.splitlines() == [
        f"{installed} verified (Keras' VGG19 notop file, from {stand_in})",
        f"{derived}: Gatys' normalized VGG19, derived from it"]
    assert calibration.identify(installed) == ("rescaled", "")
    assert calibration.identify(derived) == ("normalized", "")
