"""Locating, downloading and caching VGG19 weight files."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Optional

from nst_tf.config import VGG19_LAYERS
from nst_tf.download import ByteProgress, download, verified
from nst_tf.errors import NSTError

# What to run when a weights file is missing or broken.
DOWNLOAD_ADVICE = "get Keras' VGG19 file with: python scripts/download_weights.py"


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    """A downloadable weights file: its name, where it comes from, and its md5."""

    filename: str
    url: str
    md5: str


KERAS_VGG19_NOTOP = WeightsFile(
    filename="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
    url=("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
         "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    md5="253f8cb515780f3b799900260a226db6",
)

# The project's weights/ folder; NST_TF_WEIGHTS_DIR moves it (e.g. to a shared cache).
WEIGHTS_DIR = Path(os.environ.get("NST_TF_WEIGHTS_DIR",
                                  Path(__file__).resolve().parent.parent / "weights"))

def keras_cache_dir() -> Path:
    """Where keras.utils.get_file keeps downloaded models ($KERAS_HOME/models, ~/.keras/models)."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def resolve_weights(spec: Optional[str], weights_dir=None, allow_download: bool = True) -> Optional[str]:
    """Turns the `weights` setting into a file path, or None for random weights.

    'imagenet': Keras' VGG19 notop file, from weights_dir or the Keras cache when a verified copy
    is there, else downloaded into weights_dir. 'random' or None: untrained. Anything else: a path.
    """
    if spec is None or spec == "random":
        return None
    if spec == "imagenet":
        weights_dir = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
        for folder in (weights_dir, keras_cache_dir()):
            candidate = folder / KERAS_VGG19_NOTOP.filename
            if verified(candidate, KERAS_VGG19_NOTOP.md5):
                return str(candidate)
        if not allow_download:
            raise NSTError(f"Keras' VGG19 weights are not in {weights_dir}; "
                           "run python scripts/download_weights.py")
        # 80 MB on a first run: the user sees it coming in.
        return str(download(KERAS_VGG19_NOTOP.url, weights_dir / KERAS_VGG19_NOTOP.filename,
                            KERAS_VGG19_NOTOP.md5, progress=ByteProgress()))
    path = Path(spec)
    if not path.is_file():
        raise NSTError(f"{spec}: no such weights file (use 'imagenet', 'random' or a path to a "
                       "VGG19 notop .h5)")
    check_vgg19_file(path)
    return str(path)


def vgg19_kernel_shapes() -> dict:
    """{conv layer name: its kernel's shape} for VGG19 without its classifier."""
    widths = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
    shapes, channels = {}, 3
    for name in VGG19_LAYERS:
        if "_conv" in name:
            width = widths[int(name[len("block")])]
            shapes[name] = (3, 3, channels, width)
            channels = width
    return shapes


def check_vgg19_file(path) -> None:
    """Fails with one line, and the fix, unless `path` is a readable Keras VGG19 notop .h5 whose
    conv kernels have VGG19's shapes. Reads only the file's index, not the 80 MB of weights, so
    it runs before the network is built."""
    import h5py  # Keras' own dependency for .h5 files

    named, kernels = {}, []
    try:
        with h5py.File(path, "r") as handle:
            legacy = "layer_names" in handle.attrs  # Keras 2's layout, Keras' download's

            def note(name, item):
                if isinstance(item, h5py.Dataset) and len(item.shape) == 4:
                    kernels.append(tuple(item.shape))
                    named.setdefault(name.split("/", 1)[0], tuple(item.shape))
            handle.visititems(note)
    except (OSError, ValueError, KeyError) as error:
        reason = str(error).splitlines()[0][:100] if str(error) else type(error).__name__
        raise NSTError(f"{path}: not a VGG19 notop weights file (truncated or corrupt: {reason}); "
                       f"{DOWNLOAD_ADVICE}") from None
    expected_shapes = vgg19_kernel_shapes()
    if not legacy:
        # Keras 3's .weights.h5 names layers by class (conv2d_3), not by VGG19's names: compare
        # the kernels' shapes as a whole.
        if sorted(kernels) != sorted(expected_shapes.values()):
            raise NSTError(f"{path}: not a VGG19 notop weights file (its {len(kernels)} "
                           f"convolution kernels are not VGG19's 16); {DOWNLOAD_ADVICE}")
        return
    for layer, expected in expected_shapes.items():
        found = named.get(layer)
        if found is None:
            raise NSTError(f"{path}: not a VGG19 notop weights file (no {layer} in it: another "
                           f"network's weights?); {DOWNLOAD_ADVICE}")
        if found != expected:
            raise NSTError(f"{path}: not a VGG19 notop weights file ({layer}'s kernel is "
                           f"{'x'.join(map(str, found))}, VGG19's is "
                           f"{'x'.join(map(str, expected))}); {DOWNLOAD_ADVICE}")
