"""The 2018 notebooks' way of computing the same objective, kept as the yardstick for speed.

Both halves of every batch, [content, gray texture] and [X, gray(X)], run together through one
extractor to the deepest layer anyone needs, and the loop runs eagerly. The numbers are those of
TextureTransferGraph; only the work differs.
"""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from nst_tf.graph import TextureTransferGraph, gram, gray, part_weights
from nst_tf.images import gray3
from nst_tf.vgg import FeatureExtractor, preprocess


class ReferenceGraph(TextureTransferGraph):
    """Same interface and numbers as TextureTransferGraph, computed as the notebooks did."""

    def __init__(self, extractor: FeatureExtractor, content_tiles, texture_tiles,
                 loss_weights: Sequence[float], layer_weights: Sequence[float] = ()):
        self.extractor = extractor
        self.loss_weights = tuple(float(w) for w in loss_weights)
        self.weights = part_weights(self.loss_weights)
        self.uses_colour = self.uses_texture = self.gray_texture = True  # the texture mode only
        self.layer_weights = tuple(float(w) for w in layer_weights)
        self.content = preprocess(content_tiles)
        constant = tf.concat([self.content, preprocess(gray3(texture_tiles))], axis=0)
        self.colour_targets, self.raw_targets = self._split_heads(constant)
        self.gram_targets = [gram(f) for f in self.raw_targets]

    def _split_heads(self, batch):
        """(colour features of the first half, raw texture features of the second half)."""
        tiles = batch.shape[0] // 2
        features = self.extractor.all_features(batch)
        count = len(self.extractor.texture_layers)
        colour = [f[:tiles] for f in features[count:]]
        raw = [f[tiles:] for f in features[:count]]
        return colour, raw

    def heads(self, images):
        """[X, gray(X)] together through the whole extractor, then split."""
        return self._split_heads(tf.concat([images, gray(images)], axis=0))
