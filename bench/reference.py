"""The 2018 notebooks' way of computing the same objective, kept as the yardstick for speed.

Both halves of every batch, [content, gray texture] and [X, gray(X)], run together through one
extractor to the deepest layer anyone needs, and the objective runs eagerly. The numbers are those
of nst_tf's WholeObjective; only the work differs.
"""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from bench.transfer_parts import built
from nst_tf import NSTError, TransferConfig
from nst_tf.io.images import gray3
from nst_tf.network.vgg import FeatureExtractor, preprocess
from nst_tf.objective.terms import Weighting, gram, gray
from nst_tf.objective.whole import WholeObjective


class ReferenceObjective(WholeObjective):
    """Same interface and numbers as WholeObjective, computed as the notebooks did (eagerly)."""

    def __init__(self, extractor: FeatureExtractor, content_tiles, texture_tiles,
                 loss_weights: Sequence[float], layer_weights: Sequence[float] = ()):
        self.extractor = extractor
        # The texture mode only: one gray texture, every branch run.
        self.weighting = Weighting.of(loss_weights, layer_weights,
                                      len(extractor.texture_layers), True, (), 1)
        self.content = preprocess(content_tiles)
        self.guidance = None  # no spatial control on the reference path
        self.anchors = []  # nor a video frame's temporal targets
        constant = tf.concat([self.content, preprocess(gray3(texture_tiles))], axis=0)
        self.colour_targets, self.raw_targets = self._split_heads(constant)
        self.gram_targets = [gram(f) for f in self.raw_targets]
        self.value_and_gradient = self._value_and_gradient

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


def _reference_objective(extractor, content_tiles, texture_tiles, config, gram_tiles=None,
                         **regions):
    return ReferenceObjective(extractor, content_tiles, texture_tiles[0], config.loss_weights,
                              config.texture_layer_weights)


def reference_transfer(content, texture, config: TransferConfig, **options) :
    """A TextureTransfer whose objective is computed the 2018 notebooks' way (the original Adam
    loop of the texture mode, one gray texture, no TV, on tiles): the same numbers, slower."""
    if (config.optimizer != "adam" or config.coarse_levels or config.global_statistics
            or config.mode != "texture" or config.tv_weight or not config.gray_texture
            or config.texture_scale != 1.0 or config.content_mask or config.texture_masks
            or isinstance(texture, (list, tuple)) and len(texture) > 1):
        raise NSTError("the reference path runs the original Adam loop of the texture mode "
                       "(one texture, gray, no TV) on tiles only")
    return built(content, texture, config, build_objective=_reference_objective, download=True,
                 **options)
