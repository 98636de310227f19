"""Scoring a finished image: the objective of docs/design.md on given tiles, SSIM, and the
look measure (how much of the texture's large-scale character a picture has)."""
from __future__ import annotations

from typing import Dict, Sequence, Tuple

import keras
import numpy as np
import scipy.ndimage
import tensorflow as tf

from nst_tf.objective.whole import WholeObjective
from nst_tf.objective.terms import gram
from nst_tf.io.images import LUMA_WEIGHTS, gray3, resize
from nst_tf.io.tiles import to_tile_batch
from nst_tf.network.vgg import preprocess

# Deeper than the texture layers (block3_conv1 sees 24 px): these see about 100 px
# (block4_conv1) and 200 px (block5_conv1), the scale of pebbles and crack networks in a
# 512 px tile, which the objective cannot see and the original's dynamics nevertheless made.
LOOK_LAYERS = ("block4_conv1", "block5_conv1")
# Fine structure for layout_correlation: what a Gaussian blur of this sigma (pixels) removes.
DETAIL_SIGMA_PX = 4.0


def objective(graph: WholeObjective, image: np.ndarray, split: Tuple[int, int],
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


class LookMeasure:
    """How far a picture's gray texture statistics are from the texture's, at deep layers.

    look(image) = mean over LOOK_LAYERS of |G(image) - G(texture)|^2 / |G(texture)|^2, where G is
    the Gram matrix of the gray picture's features over all its positions (one matrix for the
    whole picture, not per tile) and the texture is resized to the picture's size first, so both
    are seen at the same scale. 0 is the texture's own statistics; about 1 or more is none of
    them (a photo unrelated to the texture, or a flat image). Lower = more of the texture's
    large-scale look.

    model: a VGG19 (keras.applications layout); texture: RGB (h, w, 3) 0..255, any size.
    """

    def __init__(self, model: keras.Model, texture: np.ndarray,
                 layers: Sequence[str] = LOOK_LAYERS):
        self.layers = tuple(layers)
        self.texture = np.asarray(texture, np.float32)
        self.extractor = keras.Model(model.input, [model.get_layer(n).output for n in self.layers])
        self._targets = {}

    def grams(self, image: np.ndarray):
        """Gram matrices (float64, one per layer) of the gray version of an RGB image."""
        features = self.extractor(preprocess(gray3(np.asarray(image, np.float32)))[None],
                                  training=False)
        features = features if isinstance(features, (list, tuple)) else [features]
        return [gram(f)[0].numpy().astype(np.float64) for f in features]

    def texture_grams(self, size: Tuple[int, int]):
        if size not in self._targets:  # a run scores many pictures of one size
            self._targets[size] = self.grams(resize(self.texture, size, antialias=True))
        return self._targets[size]

    def __call__(self, image: np.ndarray) -> float:
        targets = self.texture_grams(tuple(np.asarray(image).shape[:2]))
        return float(np.mean([np.sum((g - t) ** 2) / np.sum(t ** 2)
                              for g, t in zip(self.grams(image), targets)]))


def luma(image: np.ndarray) -> np.ndarray:
    """The gray (luma) of an RGB picture, (h, w) float64."""
    return np.asarray(image, np.float64) @ np.array(LUMA_WEIGHTS)


def fine_detail(image: np.ndarray) -> np.ndarray:
    """Gray (luma) minus its Gaussian blur: the picture's fine structure, (h, w) float64."""
    gray_image = luma(image)
    return gray_image - scipy.ndimage.gaussian_filter(gray_image, DETAIL_SIGMA_PX)


def mean_laplacian(image: np.ndarray) -> float:
    """Mean absolute Laplacian of the luma: how much fine detail a picture carries."""
    return float(np.mean(np.abs(scipy.ndimage.laplace(luma(image)))))


def layout_correlation(image: np.ndarray, texture: np.ndarray) -> float:
    """Pearson correlation of the fine structure of `image` and of `texture` resized to it.

    A Gram loss matches statistics and puts the texture's structures anywhere: about 0. The raw
    (un-Grammed) loss copies the texture's structures where they sit in the texture photo:
    clearly above 0. The original's published peebles_under_water scores 0.57, CrocoLeaf 0.36,
    sand_block 0.31, CatCrack 0.00; so the first three were made with the raw loss on.
    """
    texture = resize(np.asarray(texture, np.float32), np.asarray(image).shape[:2], antialias=True)
    a, b = fine_detail(image).ravel(), fine_detail(texture).ravel()
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def seam_ratio(image: np.ndarray, split: Tuple[int, int]) -> float:
    """How much tile borders show: the mean luminance step between neighbouring pixels across
    the borders of a `split` (columns, rows) tiling, over the same mean everywhere else.

    About 1: the borders are like any other place (no seams); clearly above 1: seams.
    """
    from nst_tf.io.tiles import tile_bounds
    gray_image = luma(image)
    steps, across = [], []
    for axis, pieces in ((1, split[0]), (0, split[1])):
        step = np.abs(np.diff(gray_image, axis=axis))  # step k: between pixels k and k + 1
        borders = np.zeros(step.shape[axis], bool)
        borders[[start - 1 for start, _ in tile_bounds(gray_image.shape[axis], pieces)[1:]]] = True
        step = np.moveaxis(step, axis, 0)
        steps.append(step[~borders].ravel())
        across.append(step[borders].ravel())
    elsewhere, border = np.concatenate(steps), np.concatenate(across)
    if border.size == 0 or elsewhere.mean() == 0:
        return 1.0
    return float(border.mean() / elsewhere.mean())
