"""Locating, downloading, verifying and caching VGG19 weight files.

Downloads are atomic: the file appears at its final path only once its hash has been checked, so
a failed or interrupted download never leaves a file that a later run would trust.
"""
from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from nst_tf.errors import NSTError
from nst_tf.files import atomic_output


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

# Seconds a connection may stay silent before a download gives up.
DOWNLOAD_TIMEOUT_S = 20
CHUNK_BYTES = 1 << 20


def file_hash(path, algorithm: str = "md5") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_algorithm(expected: str) -> str:
    """md5 and sha256 digests are told apart by their length."""
    return {32: "md5", 64: "sha256"}.get(len(expected), "md5")


def verified(path, expected_hash: Optional[str]) -> bool:
    """True when `path` is a file whose hash is `expected_hash` (any file, if no hash is given)."""
    path = Path(path)
    if not path.is_file():
        return False
    return expected_hash is None or file_hash(path, _hash_algorithm(expected_hash)) == expected_hash.lower()


def download(url: str, dest, expected_hash: Optional[str] = None,
             timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetches `url` to `dest`, checking an md5 or sha256; a no-op when `dest` already verifies.

    Returns dest. Raises NSTError with one line when the network fails or the hash differs; in
    every failure (an interrupt included) nothing is left at `dest`.
    """
    dest = Path(dest)
    if verified(dest, expected_hash):
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NSTError(f"cannot write to {dest.parent} ({error.strerror or error})") from None
    algorithm = _hash_algorithm(expected_hash or "")
    digest = hashlib.new(algorithm)
    try:
        with atomic_output(dest) as temporary, open(temporary, "wb") as out, \
                urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            if expected_hash is not None and digest.hexdigest() != expected_hash.lower():
                raise NSTError(f"{url}: {algorithm} is {digest.hexdigest()}, expected "
                               f"{expected_hash}; the download is corrupt or the file changed")
    except NSTError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
        raise NSTError(f"cannot download {url} ({reason}); fetch it on a machine with internet "
                       f"access and place it at {dest}") from None
    return dest


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
