"""Locating, downloading and caching VGG19 weight files."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Optional

from nst_tf.download import download, verified
from nst_tf.errors import NSTError


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
        return str(download(KERAS_VGG19_NOTOP.url, weights_dir / KERAS_VGG19_NOTOP.filename,
                            KERAS_VGG19_NOTOP.md5))
    path = Path(spec)
    if not path.is_file():
        raise NSTError(f"{spec}: no such weights file (use 'imagenet', 'random' or a path to a "
                       "VGG19 notop .h5)")
    return str(path)
