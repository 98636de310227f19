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

from nst_tf.config import names_file
from nst_tf.errors import NSTError
from nst_tf.io.images import read_image_bytes


def decode_image(data: bytes, name: str) -> np.ndarray:
    """An image file's bytes -> float32 RGB (h, w, 3) 0..255: nst_tf.io.images.read_image's
    checks and messages (`name`: the file the bytes came from, for the messages)."""
    return read_image_bytes(data, name)


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
        paths = {"content": job.content, "texture": job.texture}
        for name, path in job.config.named_files().items():
            if name.startswith("texture_masks["):
                paths[f"texture_mask:{name[len('texture_masks['):-1]}"] = path
            elif name != "weights":  # the weights travel apart (ray_runner)
                paths[name] = path
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


def load_payload_request(job, data: Dict[str, bytes], weights_path: Optional[str]):
    """The engine's prepared request (nst_tf.run.engine.prepare) from the bytes of a job's files
    (by role, JobFiles), with the weights at `weights_path` on this machine: the same checks and
    messages as from the files themselves, naming them by the driver's paths."""
    from nst_tf.run.request import Request, prepare
    paths = JobFiles.of(job).paths
    images = {role: decode_image(data[role], paths[role]) for role in paths}
    config = job.config
    if names_file("weights", config.weights):
        config = config.replace(weights=weights_path)
    content_mask = _as_mask(images["content_mask"]) if "content_mask" in images else None
    texture_masks = None
    if any(role.startswith("texture_mask:") for role in images):
        texture_masks = [(_as_mask(images[f"texture_mask:{k}"])
                          if f"texture_mask:{k}" in images else None)
                         for k in range(len(config.texture_masks))]
    try:
        return prepare(Request(images["content"], images["texture"], config, content_mask,
                               texture_masks, images.get("init")))
    except NSTError as error:
        for role in ("content_mask", "init"):
            if role in paths:
                error = _renamed(error, role, paths[role])
        masks = [p for role, p in paths.items() if role.startswith("texture_mask:")]
        if len(masks) == 1:
            error = _renamed(error, "texture_mask", masks[0])
        raise error from None


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
