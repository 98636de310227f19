"""Shared fixtures: small random-weight VGG19s, tiny images, the shared real weights, the CLI."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
# A real trained VGG19 (Gatys' normalized file, Keras notop layout) and the original's Medium
# example photos, for the tests that need them (docs/developing.md): from these variables, else
# from the shared folder beside the checkout; tests that need them skip when neither exists.
SHARED = ROOT.parent / "shared"
SHARED_WEIGHTS = Path(os.environ.get("NST_TF_REAL_WEIGHTS")
                      or SHARED / "weights" / "vgg19_normalized_notop.h5")
SHARED_EXAMPLES = Path(os.environ.get("NST_TF_MEDIUM_EXAMPLES") or SHARED / "medium_examples")

needs_shared_weights = pytest.mark.skipif(
    not SHARED_WEIGHTS.is_file(), reason=f"real weights not at {SHARED_WEIGHTS} (NST_TF_REAL_WEIGHTS)")


@pytest.fixture(scope="session")
def random_vgg():
    from nst_tf.network.vgg import vgg19
    return vgg19(None, seed=1)


def random_image(shape, seed=0):
    """float32 RGB 0..255 with some smooth structure, so features are not pure noise."""
    rng = np.random.default_rng(seed)
    height, width = shape
    y, x = np.mgrid[0:height, 0:width] / max(shape)
    smooth = np.stack([np.sin(6 * x + c) * np.cos(5 * y - c) for c in range(3)], -1)
    return np.clip(127.5 + 90 * smooth + rng.normal(0, 25, (height, width, 3)), 0, 255).astype(np.float32)


@pytest.fixture
def image_files(tmp_path):
    """A small content and texture on disk."""
    import imageio.v3 as iio
    content = tmp_path / "content.png"
    texture = tmp_path / "texture.png"
    iio.imwrite(content, random_image((72, 96), seed=1).astype(np.uint8))
    iio.imwrite(texture, random_image((50, 60), seed=2).astype(np.uint8))
    return content, texture


def interruptible():
    """Popen preexec_fn: the child takes Ctrl-C (SIGINT) again. A shell starts background jobs
    with SIGINT ignored, children inherit that, and Python then installs no KeyboardInterrupt
    handler: a test that sends SIGINT would wait for nothing (seen under CI run in the
    background with pytest-xdist's workers)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_script(name, *args, timeout=300):
    """Runs scripts/NAME (or NAME relative to the checkout, when it has a folder: the bench
    scripts) with flags; returns the CompletedProcess (text output)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    path = ROOT / name if "/" in name else ROOT / "scripts" / name
    return subprocess.run([sys.executable, str(path), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def legacy_weights_file(path, shapes):
    """A Keras-2-layout notop file with these {layer: kernel shape} (zeros; only shapes matter)."""
    import h5py
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = [name.encode() for name in shapes]
        for name, shape in shapes.items():
            group = handle.create_group(name)
            group.attrs["weight_names"] = [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
            group.create_dataset(f"{name}/kernel:0", shape=shape, dtype="f4")
            group.create_dataset(f"{name}/bias:0", data=np.zeros(shape[-1], "f4"))
