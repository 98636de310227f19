"""Scoring a finished image: the objective of docs/algorithm.md on given tiles, and SSIM."""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import tensorflow as tf

from nst_tf.graph import TextureTransferGraph
from nst_tf.images import resize, to_tile_batch
from nst_tf.vgg import preprocess


def objective(graph: TextureTransferGraph, image: np.ndarray, split: Tuple[int, int],
              tile_size: Tuple[int, int]) -> Dict[str, float]:
    """The weighted loss parts (mean over tiles) of an RGB image, on `graph`'s tiles.

    The image is first resized to the tiled output's size (columns * tile width, rows * tile
    height) when it differs, then cut into the same tiles.
    """
    height, width = tile_size[0] * split[1], tile_size[1] * split[0]
    pixels = np.asarray(image, np.float32)
    if pixels.shape[:2] != (height, width):
        pixels = resize(pixels, (height, width))
    tiles = to_tile_batch(pixels, split, tile_size)
    parts = graph.loss_parts(preprocess(tiles))
    return {name: float(tf.reduce_mean(value)) for name, value in parts.items()}


def ssim(image: np.ndarray, reference: np.ndarray) -> float:
    """SSIM of two RGB images (0..255), after resizing `image` to the reference's size."""
    image = np.asarray(image, np.float32)
    reference = np.asarray(reference, np.float32)
    if image.shape[:2] != reference.shape[:2]:
        image = resize(image, reference.shape[:2], antialias=True)
    return float(tf.image.ssim(tf.constant(image), tf.constant(reference), max_val=255.0))
