"""nst_tf: Neural Texture Transfer in TensorFlow/Keras.

    import nst_tf
    result = nst_tf.transfer("cat.jpg", "cracks.jpg", nst_tf.TransferConfig(iterations=200))

`result` is a uint8 RGB array. TextureTransfer gives step-by-step control (callbacks, the image
so far after an interrupt).
"""
from __future__ import annotations

from typing import Optional, Union

import numpy as np
import tensorflow as tf

from nst_tf.config import TransferConfig, parse_split
from nst_tf.errors import NSTError
from nst_tf.graph import TextureTransferGraph
from nst_tf.images import (from_tile_batch, read_image, resize, tile_size, to_rgb,
                           to_tile_batch)
from nst_tf.optimize import AdamOptimization, Callback, StepReport
from nst_tf.vgg import FeatureExtractor, deprocess, preprocess, vgg19
from nst_tf.weights import resolve_weights

__all__ = ["TransferConfig", "TextureTransfer", "StepReport", "NSTError", "transfer",
           "parse_split"]

ImageLike = Union[str, "os.PathLike", np.ndarray]


def as_image(image: ImageLike, name: str = "image") -> np.ndarray:
    """A path or an array -> float32 RGB (h, w, 3) 0..255."""
    if isinstance(image, np.ndarray):
        return to_rgb(image, name)
    return read_image(image)


class TextureTransfer:
    """One transfer, set up and ready to run: tiles, network, targets, the image variable.

    content, texture: paths or arrays (any size; the texture is resized to the content's size).
    """

    def __init__(self, content: ImageLike, texture: ImageLike,
                 config: Optional[TransferConfig] = None):
        self.config = config = config or TransferConfig()
        content = as_image(content, "content")
        texture = as_image(texture, "texture")
        self.tile_size = tile_size(content.shape[:2], config.split, config.max_dim)
        texture = resize(texture, content.shape[:2], antialias=True)
        content_tiles = to_tile_batch(content, config.split, self.tile_size)
        texture_tiles = to_tile_batch(texture, config.split, self.tile_size)
        initial_tiles = self._initial_tiles(content, content_tiles)

        extractor = FeatureExtractor(vgg19(resolve_weights(config.weights), config.seed),
                                     config.texture_layers, config.content_layers)
        self.graph = TextureTransferGraph(extractor, content_tiles, texture_tiles,
                                          config.loss_weights)
        self.image = tf.Variable(preprocess(initial_tiles), name="image")
        self.optimization = AdamOptimization(self.graph, self.image, config)

    def _initial_tiles(self, content: np.ndarray, content_tiles: np.ndarray) -> np.ndarray:
        init = self.config.init
        if init == "content":
            return content_tiles
        if init == "noise":
            rng = np.random.default_rng(self.config.seed)
            return rng.uniform(0.0, 255.0, content_tiles.shape).astype(np.float32)
        start = read_image(init)
        if start.shape != content.shape:
            raise NSTError(f"{init}: init image is {start.shape[1]}x{start.shape[0]}, "
                           f"the content is {content.shape[1]}x{content.shape[0]}; they must match")
        return to_tile_batch(start, self.config.split, self.tile_size)

    def run(self, callback: Optional[Callback] = None) -> np.ndarray:
        """Optimises (callback(StepReport) after each step); returns the result as uint8 RGB."""
        self.optimization.run(callback)
        return self.result()

    def result(self) -> np.ndarray:
        """The image as it stands now, tiles put back together: uint8 (H, W, 3)."""
        tiles = np.round(deprocess(self.image).numpy()).astype(np.uint8)
        return from_tile_batch(tiles, self.config.split)


def transfer(content: ImageLike, texture: ImageLike, config: Optional[TransferConfig] = None,
             callback: Optional[Callback] = None) -> np.ndarray:
    """Puts the texture of `texture` into `content`; returns uint8 RGB of size
    (rows * tile_height, columns * tile_width, 3)."""
    return TextureTransfer(content, texture, config).run(callback)
