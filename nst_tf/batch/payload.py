"""A job as bytes: what the driver reads and sends to a Ray worker, and what comes back.

The driver reads every file a job needs (the content, the texture, the masks of spatial control,
an init image) and sends their bytes; the worker decodes them in memory, runs the transfer and
returns the result encoded in the output's format, with its report record; the driver writes
the file. A worker therefore needs the installed package and nothing at the driver's paths.
A weights file (--weights PATH) travels once through Ray's object store; each worker process
writes it to a private temporary file the first time it needs it and keeps it for its next
jobs. Nothing here imports TensorFlow or Ray at module level.
"""
from __future__ import annotations

import atexit
import dataclasses
import os
import tempfile
from pathlib import Path
from typing import Dict, Optional

import numpy as np

from nst_tf.errors import NSTError
from nst_tf.io.images import read_image_bytes

# `init` values that are not a file (nst_tf.io.inputs.INIT_KINDS).
INIT_KINDS = ("content", "noise")
# `weights` values that are not a file.
WEIGHTS_KINDS = (None, "imagenet", "random")


def decode_image(data: bytes, name: str) -> np.ndarray:
    """An image file's bytes -> float32 RGB (h, w, 3) 0..255: nst_tf.io.images.read_image's
    checks and messages (`name`: the file the bytes came from, for the messages)."""
    return read_image_bytes(data, name)


def encode_image(image: np.ndarray, suffix: str) -> bytes:
    """uint8 (or float 0..255) RGB -> the bytes nst_tf.io.images.write_image would write."""
    import imageio.v3 as iio
    pixels = np.asarray(image)
    if pixels.dtype != np.uint8:
        pixels = np.clip(np.round(pixels), 0, 255).astype(np.uint8)
    return iio.imwrite("<bytes>", pixels, extension=suffix.lower())


def _as_mask(rgb: np.ndarray) -> np.ndarray:
    """A decoded mask as nst_tf.io.masks reads an array: float RGB whose maximum is at most 1 is
    taken as 0..1 there, so such a (nearly black) mask is handed over in that range."""
    return rgb / np.float32(255.0) if rgb.max(initial=0.0) <= 1.0 else rgb


@dataclasses.dataclass(frozen=True)
class JobFiles:
    """The driver's paths of the files one job reads: {role: path}. Roles: content, texture,
    content_mask, texture_mask:K (K: the texture's index), init."""

    paths: Dict[str, str]

    @classmethod
    def of(cls, job) -> "JobFiles":
        config = job.config
        paths = {"content": job.content, "texture": job.texture}
        if config.content_mask:
            paths["content_mask"] = config.content_mask
        for index, mask in enumerate(config.texture_masks):
            if mask and mask.strip().lower() != "none":
                paths[f"texture_mask:{index}"] = mask
        if config.init not in INIT_KINDS and config.init is not None:
            paths["init"] = config.init
        return cls(paths)


def read_bytes(path: str, role: str) -> bytes:
    """The bytes of one of a job's files, read on the driver; NSTError with one line."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise NSTError(f"{path}: no such file ({role})") from None
    except IsADirectoryError:
        raise NSTError(f"{path}: is a directory, not an image ({role})") from None
    except OSError as error:
        raise NSTError(f"{path}: cannot read it ({error.strerror or error})") from None


def _renamed(error: NSTError, generic: str, path: str) -> NSTError:
    """nst_tf.io.masks names an array mask by its role; the driver's path says more."""
    text = str(error)
    return NSTError(path + text[len(generic):]) if text.startswith(generic + ":") else error


def load_payload_inputs(job, data: Dict[str, bytes], weights_path: Optional[str]):
    """nst_tf.io.inputs.load_inputs on the bytes of a job's files (by role, JobFiles), with the
    weights at `weights_path` on this machine: the same checks and messages, no file read but
    the weights."""
    from nst_tf.io.inputs import load_inputs
    paths = JobFiles.of(job).paths
    images = {role: decode_image(data[role], paths[role]) for role in paths}
    config = job.config
    loading = config.replace(init="content") if "init" in images else config
    if config.weights not in WEIGHTS_KINDS:
        loading = loading.replace(weights=weights_path)
    content_mask = _as_mask(images["content_mask"]) if "content_mask" in images else None
    texture_masks = None
    if any(role.startswith("texture_mask:") for role in images):
        texture_masks = [(_as_mask(images[f"texture_mask:{k}"])
                          if f"texture_mask:{k}" in images else None)
                         for k in range(len(config.texture_masks))]
    try:
        inputs = load_inputs(images["content"], images["texture"], loading,
                             content_mask=content_mask, texture_masks=texture_masks)
    except NSTError as error:
        if "content_mask" in paths:
            error = _renamed(error, "content_mask", paths["content_mask"])
        masks = [p for role, p in paths.items() if role.startswith("texture_mask:")]
        if len(masks) == 1:
            error = _renamed(error, "texture_mask", masks[0])
        raise error from None
    if "init" in images:
        init, content = images["init"], inputs.content
        if init.shape != content.shape:
            raise NSTError(f"{paths['init']}: init image is {init.shape[1]}x{init.shape[0]}, the "
                           f"content is {content.shape[1]}x{content.shape[0]}; they must match")
        inputs = dataclasses.replace(inputs, init=init)
    return inputs


# This process's copies of shipped weights files: {key: private temporary path}.
_WEIGHTS_FILES: Dict[str, str] = {}


def _remove_weights_files() -> None:
    for path in _WEIGHTS_FILES.values():
        try:
            os.unlink(path)
        except OSError:
            pass


atexit.register(_remove_weights_files)


def local_weights(key: str, suffix: str, fetch) -> str:
    """The path of this process's private copy of a shipped weights file, written the first time
    (fetch() returns its bytes: ray.get of the driver's object) and reused after."""
    if key not in _WEIGHTS_FILES:
        handle, path = tempfile.mkstemp(prefix="nst_tf-weights-", suffix=suffix)
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(fetch())
        except BaseException:
            os.unlink(path)
            raise
        _WEIGHTS_FILES[key] = path
    return _WEIGHTS_FILES[key]


def weights_key(path: str) -> str:
    """Names a weights file's content on the driver: path, size and modification time."""
    stat = os.stat(path)
    return f"{os.path.abspath(path)}:{stat.st_size}:{stat.st_mtime_ns}"
