"""Everything a transfer reads, read and checked before TensorFlow starts.

The command line calls load_inputs() before importing TensorFlow (about 5 s) and building the
network, so a wrong path, a broken photo, an impossible split or a bad weights file is answered
at once; TextureTransfer calls it too, so the library checks the same things in the same order.
Nothing here imports TensorFlow.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Optional, Union

import numpy as np

from nst_tf.config import TransferConfig
from nst_tf.errors import NSTError
from nst_tf.images import read_image, tile_size, to_rgb
from nst_tf.weights import resolve_weights

ImageLike = Union[str, os.PathLike, np.ndarray]

# `init` values that are not a path to an image.
INIT_KINDS = ("content", "noise")


def as_image(image: ImageLike, name: str = "image") -> np.ndarray:
    """A path or an array -> float32 RGB (h, w, 3) 0..255."""
    if isinstance(image, np.ndarray):
        return to_rgb(image, name)
    return read_image(image)


@dataclasses.dataclass(frozen=True)
class Inputs:
    """A transfer's inputs, read and checked: content and texture as float32 RGB (the texture at
    its own size), the start image when `init` is a path, and the weights file (None: random)."""

    content: np.ndarray
    texture: np.ndarray
    init: Optional[np.ndarray]
    weights_path: Optional[str]


def load_inputs(content: ImageLike, texture: ImageLike, config: TransferConfig) -> Inputs:
    """Reads and checks every input of a transfer; raises NSTError with one line on the first
    problem. The weights file's index is checked (or Keras' file found or downloaded)."""
    content = as_image(content, "content")
    texture = as_image(texture, "texture")
    tile_size(content.shape[:2], config.split, config.max_dim)  # a split that cannot work
    init = None
    if config.init not in INIT_KINDS:
        init = read_image(config.init)
        if init.shape != content.shape:
            raise NSTError(f"{config.init}: init image is {init.shape[1]}x{init.shape[0]}, the "
                           f"content is {content.shape[1]}x{content.shape[0]}; they must match")
    return Inputs(content, texture, init, resolve_weights(config.weights))
