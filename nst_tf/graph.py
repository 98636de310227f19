"""The texture-transfer graph: targets computed once, and the four loss parts of an image batch.

Shapes: n tiles of h x w pixels. Images enter preprocessed (BGR, mean-subtracted).
"""
from __future__ import annotations

from typing import Dict, Sequence

import tensorflow as tf

from nst_tf.images import gray3
from nst_tf.vgg import FeatureExtractor, deprocess, preprocess

LOSS_PARTS = ("direct", "content", "raw", "texture")


def gram(features):
    """(n, h, w, c) -> (n, c, c): channel correlations averaged over the h*w positions."""
    shape = tf.shape(features)
    flat = tf.reshape(features, [shape[0], shape[1] * shape[2], shape[3]])
    return tf.matmul(flat, flat, transpose_a=True) / tf.cast(shape[1] * shape[2], features.dtype)


def get_loss(a, b):
    """Mean squared difference over every axis but the batch axis: one value per tile."""
    return tf.reduce_mean(tf.square(a - b), axis=tf.range(1, tf.rank(a)))


def gray(images):
    """Gray version of a preprocessed batch, still preprocessed; differentiable."""
    return preprocess(gray3(deprocess(images)))


def mean_loss(targets: Sequence, features: Sequence, layer_weights: Sequence[float] = ()):
    """get_loss averaged over layers, each times its weight (1 when none are given): (n,)."""
    layer_weights = tuple(layer_weights) or (1.0,) * len(targets)
    return tf.add_n([w * get_loss(t, f) for w, t, f in zip(layer_weights, targets, features)]
                    ) / float(len(targets))


def weighted_parts(unweighted: Dict[str, tf.Tensor], loss_weights: Sequence[float]):
    """{part: weight * value} for the four parts, plus their sum as 'total'."""
    parts = {name: weight * unweighted[name] for name, weight in zip(LOSS_PARTS, loss_weights)}
    parts["total"] = tf.add_n([parts[name] for name in LOSS_PARTS])
    return parts


class TextureTransferGraph:
    """The objective of one transfer.

    content_tiles, texture_tiles: (n, h, w, 3) RGB 0..255. The texture is made gray here, before
    preprocessing, so that it contributes structure and no colour. layer_weights: one per
    texture layer for the Gram part (empty: all 1). gram_texture_tiles: RGB tiles of another size
    whose Gram matrices are the target instead (--texture_scale); the raw part keeps
    texture_tiles, which are aligned with the content.
    """

    def __init__(self, extractor: FeatureExtractor, content_tiles, texture_tiles,
                 loss_weights: Sequence[float], layer_weights: Sequence[float] = (),
                 gram_texture_tiles=None):
        self.extractor = extractor
        self.loss_weights = tuple(float(w) for w in loss_weights)
        self.layer_weights = tuple(float(w) for w in layer_weights)
        self.content = tf.constant(preprocess(content_tiles))
        gray_texture = preprocess(gray3(texture_tiles))
        # The constant batch [content, gray texture] runs once; each half needs only its branch.
        self.colour_targets = [tf.constant(f) for f in extractor.content_features(self.content)]
        self.raw_targets = [tf.constant(f) for f in extractor.texture_features(gray_texture)]
        if gram_texture_tiles is None:
            self.gram_targets = [gram(f) for f in self.raw_targets]
        else:
            self.gram_targets = [gram(f) for f in extractor.texture_features(
                preprocess(gray3(gram_texture_tiles)))]

    def heads(self, images):
        """(colour features of `images`, raw texture features of gray(`images`))."""
        return (self.extractor.content_features(images),
                self.extractor.texture_features(gray(images)))

    def loss_parts(self, images) -> Dict[str, tf.Tensor]:
        """Weighted loss parts of a preprocessed batch, each of shape (n,), plus their 'total'."""
        colour_features, gray_features = self.heads(images)
        return weighted_parts({
            "direct": get_loss(images, self.content),
            "content": mean_loss(self.colour_targets, colour_features),
            "raw": mean_loss(self.raw_targets, gray_features),
            "texture": mean_loss(self.gram_targets, [gram(f) for f in gray_features],
                                 self.layer_weights),
        }, self.loss_weights)
