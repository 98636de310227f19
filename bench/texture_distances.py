"""How far a picture's texture is from a texture photo, by measures no run optimises: for
comparing texture losses (Gram against sliced Wasserstein) without letting either grade itself.

- `sliced`: the sliced Wasserstein distance at block1_conv1 to block4_conv1 (one layer deeper
  than the runs' texture layers), on HELD_OUT_DIRECTIONS x the layer's channels random
  directions drawn from HELD_OUT_SEED (a run draws as many as the channels, from its --seed),
  each layer's distance over the texture's own spread along those directions, averaged.
- `gram`: |G - G_texture|^2 / |G_texture|^2 at the same layers, averaged (LookMeasure's form).
- `histogram`: the colours' distance: per RGB channel, the root mean squared difference of the
  two pictures' sorted pixel values (the 1-D Wasserstein-2 distance of the channel's
  histograms), averaged, in gray levels (0..255).

The texture is resized to the picture's size first, so both are seen at one scale; features
are taken in colour. 0 is the texture itself (its own resized copy) on every measure.
"""
from __future__ import annotations

from typing import Dict, Sequence

import keras
import numpy as np
import tensorflow as tf

from nst_tf.io.images import resize
from nst_tf.network.vgg import preprocess
from nst_tf.objective.terms import gram, projection_directions, sorted_projections

DISTANCE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")
# A seed no run uses by default (runs draw from --seed, 0 unless given), and four times the
# directions a run draws: the measure sees the distribution along directions the run never saw.
HELD_OUT_SEED = 20210607
HELD_OUT_DIRECTIONS = 4


class TextureDistances:
    """distances(image) -> {'sliced', 'gram', 'histogram'} against one texture photo.

    model: a VGG19 (keras.applications layout); texture: RGB (h, w, 3) 0..255, any size."""

    def __init__(self, model: keras.Model, texture: np.ndarray,
                 layers: Sequence[str] = DISTANCE_LAYERS):
        self.layers = tuple(layers)
        self.texture = np.asarray(texture, np.float32)
        self.extractor = keras.Model(model.input, [model.get_layer(n).output for n in self.layers])
        channels = [model.get_layer(n).output.shape[-1] for n in self.layers]
        self.directions = [
            tf.concat([projection_directions(c, (HELD_OUT_SEED, index * 16 + k))
                       for k in range(HELD_OUT_DIRECTIONS)], axis=1)
            for index, c in enumerate(channels)]
        self._targets = {}

    def features(self, image: np.ndarray):
        found = self.extractor(preprocess(np.asarray(image, np.float32))[None], training=False)
        found = found if isinstance(found, (list, tuple)) else [found]
        return [tf.reshape(f, [-1, f.shape[-1]]) for f in found]

    def _target(self, size):
        if size not in self._targets:  # a comparison scores many pictures of one size
            texture = resize(self.texture, size, antialias=True)
            features = self.features(texture)
            self._targets[size] = (
                texture, [sorted_projections(f, d).numpy().astype(np.float64)
                          for f, d in zip(features, self.directions)],
                [gram(tf.reshape(f, [1, -1, 1, f.shape[-1]]))[0].numpy().astype(np.float64)
                 for f in features])
        return self._targets[size]

    def __call__(self, image: np.ndarray) -> Dict[str, float]:
        image = np.asarray(image, np.float32)
        texture, sorted_targets, grams = self._target(tuple(image.shape[:2]))
        features = self.features(image)
        sliced, gram_distance = [], []
        for f, d, target, target_gram in zip(features, self.directions, sorted_targets, grams):
            ours = sorted_projections(f, d).numpy().astype(np.float64)
            spread = np.mean(np.square(target - target.mean(axis=0)))
            sliced.append(np.mean(np.square(ours - target)) / spread)
            ours_gram = gram(tf.reshape(f, [1, -1, 1, f.shape[-1]]))[0].numpy().astype(
                np.float64)
            gram_distance.append(np.sum((ours_gram - target_gram) ** 2)
                                 / np.sum(target_gram ** 2))
        return {"sliced": float(np.mean(sliced)), "gram": float(np.mean(gram_distance)),
                "histogram": histogram_distance(image, texture)}


def histogram_distance(image: np.ndarray, texture: np.ndarray) -> float:
    """Per RGB channel, the root mean squared difference of the sorted pixel values (the
    pictures of one size), averaged: gray levels."""
    ours = np.sort(np.asarray(image, np.float64).reshape(-1, 3), axis=0)
    theirs = np.sort(np.asarray(texture, np.float64).reshape(-1, 3), axis=0)
    return float(np.mean(np.sqrt(np.mean(np.square(ours - theirs), axis=0))))
