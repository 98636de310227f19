"""nst_tf: Neural Texture Transfer in TensorFlow/Keras.

    import nst_tf
    result = nst_tf.transfer("cat.jpg", "cracks.jpg", nst_tf.TransferConfig(iterations=200))

`result` is a uint8 RGB array. TextureTransfer gives step-by-step control (callbacks, the image
so far after an interrupt).
"""
from __future__ import annotations

import os
import time
from typing import List, Optional, Tuple, Union

import numpy as np
import tensorflow as tf

from nst_tf.config import MIN_TILE_PX, TransferConfig, parse_split
from nst_tf.errors import NSTError
from nst_tf.graph import TextureTransferGraph
from nst_tf.images import (from_tile_batch, read_image, resize, tile_size, to_rgb,
                           to_tile_batch)
from nst_tf.lbfgs import LbfgsOptimization
from nst_tf.optimize import AdamOptimization, Callback, StepReport
from nst_tf.reference import ReferenceGraph
from nst_tf.vgg import FeatureExtractor, PIXEL_MAX, PIXEL_MIN, deprocess, preprocess, vgg19
from nst_tf.weights import resolve_weights

__all__ = ["TransferConfig", "TextureTransfer", "StepReport", "NSTError", "transfer",
           "parse_split"]

ImageLike = Union[str, os.PathLike, np.ndarray]


def as_image(image: ImageLike, name: str = "image") -> np.ndarray:
    """A path or an array -> float32 RGB (h, w, 3) 0..255."""
    if isinstance(image, np.ndarray):
        return to_rgb(image, name)
    return read_image(image)


class TextureTransfer:
    """One transfer, set up and ready to run: images, network, and the resolution levels.

    content, texture: paths or arrays (any size; the texture is resized to the content's size).
    reference=True computes the objective the 2018 notebooks' way (eager steps, both halves of
    each batch through the whole network): the same numbers, slower; for benchmarks (Adam only).
    """

    def __init__(self, content: ImageLike, texture: ImageLike,
                 config: Optional[TransferConfig] = None, reference: bool = False):
        self.config = config = config or TransferConfig()
        if reference and (config.optimizer != "adam" or config.coarse_levels):
            raise NSTError("the reference path runs the original Adam loop only")
        self.reference = reference
        self.content = as_image(content, "content")
        self.texture = resize(as_image(texture, "texture"), self.content.shape[:2], antialias=True)
        self.tile_size = tile_size(self.content.shape[:2], config.split, config.max_dim)
        self.levels = self._level_sizes()
        initial = self._initial_image()
        self.extractor = FeatureExtractor(vgg19(resolve_weights(config.weights), config.seed),
                                          config.texture_layers, config.content_layers)
        self.image = tf.Variable(preprocess(to_tile_batch(initial, config.split, self.levels[0])),
                                 name="image")
        self.level = 0
        self.graph = self._graph(self.levels[0])

    def _level_sizes(self) -> List[Tuple[int, int]]:
        """Tile sizes from coarsest to full; coarse levels with tiles under 32 px are left out."""
        sizes = []
        for level in range(self.config.coarse_levels, 0, -1):
            height, width = self.tile_size
            size = (int(round(height / 2 ** level)), int(round(width / 2 ** level)))
            if min(size) >= MIN_TILE_PX:
                sizes.append(size)
        return sizes + [self.tile_size]

    def _initial_image(self) -> np.ndarray:
        init = self.config.init
        if init == "content":
            return self.content
        if init == "noise":
            rng = np.random.default_rng(self.config.seed)
            return rng.uniform(0.0, 255.0, self.content.shape).astype(np.float32)
        start = read_image(init)
        if start.shape != self.content.shape:
            raise NSTError(f"{init}: init image is {start.shape[1]}x{start.shape[0]}, the content "
                           f"is {self.content.shape[1]}x{self.content.shape[0]}; they must match")
        return start

    def _graph(self, size: Tuple[int, int]):
        graph_class = ReferenceGraph if self.reference else TextureTransferGraph
        return graph_class(self.extractor, to_tile_batch(self.content, self.config.split, size),
                           to_tile_batch(self.texture, self.config.split, size),
                           self.config.loss_weights, self.config.texture_layer_weights)

    def _optimization(self, iterations: int, previous=None):
        """The optimiser for this level; Adam continues the previous level's state."""
        if self.config.optimizer == "lbfgs":
            return LbfgsOptimization(self.graph, self.image, self.config, iterations)
        return AdamOptimization(self.graph, self.image, self.config, iterations,
                                compiled=not self.reference, previous=previous)

    def _next_level(self) -> None:
        """Upsamples the image to the next level's tile size and builds that level's graph."""
        self.level += 1
        size = self.levels[self.level]
        upsampled = tf.image.resize(self.image, size, method="bilinear")
        self.image = tf.Variable(tf.clip_by_value(upsampled, PIXEL_MIN, PIXEL_MAX), name="image")
        self.graph = self._graph(size)

    def run(self, callback: Optional[Callback] = None) -> np.ndarray:
        """Optimises and returns the result as uint8 RGB.

        callback(StepReport) follows each full-resolution step; coarse levels report nothing, but
        their time counts in each report's `seconds`.
        """
        start = time.perf_counter()
        previous = None
        while self.level < len(self.levels) - 1:
            previous = self._optimization(self.config.coarse_iterations, previous)
            previous.run(None, start)
            self._next_level()
        self.optimization = self._optimization(self.config.steps, previous)
        self.optimization.run(callback, start)
        return self.result()

    def result(self) -> np.ndarray:
        """The image as it stands now, at full resolution, tiles put back together: uint8 (H, W, 3)."""
        tiles = deprocess(self.image)
        if tuple(tiles.shape[1:3]) != self.tile_size:
            tiles = tf.image.resize(tiles, self.tile_size, method="bilinear")
        pixels = np.round(np.clip(tiles.numpy(), 0, 255)).astype(np.uint8)
        return from_tile_batch(pixels, self.config.split)


def transfer(content: ImageLike, texture: ImageLike, config: Optional[TransferConfig] = None,
             callback: Optional[Callback] = None) -> np.ndarray:
    """Puts the texture of `texture` into `content`; returns uint8 RGB of size
    (rows * tile_height, columns * tile_width, 3)."""
    return TextureTransfer(content, texture, config).run(callback)
