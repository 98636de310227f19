"""The texture-transfer graph: targets computed once, and the four loss parts of an image batch.

Shapes: n tiles of h x w pixels. Images enter preprocessed (BGR, mean-subtracted).
"""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import tensorflow as tf

from nst_tf.errors import NSTError
from nst_tf.images import gray3
from nst_tf.inputs import as_texture_list
from nst_tf.vgg import FeatureExtractor, deprocess, preprocess

LOSS_PARTS = ("direct", "content", "raw", "texture", "tv")


def gram(features):
    """(n, h, w, c) -> (n, c, c): channel correlations averaged over the h*w positions."""
    shape = tf.shape(features)
    flat = tf.reshape(features, [shape[0], shape[1] * shape[2], shape[3]])
    return tf.matmul(flat, flat, transpose_a=True) / tf.cast(shape[1] * shape[2], features.dtype)


def get_loss(a, b):
    """Mean squared difference over every axis but the batch axis: one value per tile."""
    return tf.reduce_mean(tf.square(a - b), axis=tf.range(1, tf.rank(a)))


def total_variation(images):
    """Mean squared difference of vertically, plus of horizontally, neighbouring pixels: (n,)."""
    down = images[:, 1:, :, :] - images[:, :-1, :, :]
    right = images[:, :, 1:, :] - images[:, :, :-1, :]
    return (tf.reduce_mean(tf.square(down), axis=[1, 2, 3])
            + tf.reduce_mean(tf.square(right), axis=[1, 2, 3]))


def blend_weights(blend: Sequence[float], count: int) -> Tuple[float, ...]:
    """`count` weights summing to 1: `blend` normalised (empty: equal)."""
    blend = tuple(float(w) for w in blend) or (1.0,) * count
    if len(blend) != count:
        raise NSTError(f"texture_blend has {len(blend)} weights for {count} textures")
    return tuple(w / sum(blend) for w in blend)


def blended(per_texture: Sequence[Sequence], weights: Sequence[float]) -> List:
    """Layer by layer, the weighted sum over textures: per_texture[k][layer] -> [layer]."""
    return [tf.add_n([w * term for w, term in zip(weights, layer)]) if len(weights) > 1
            else weights[0] * layer[0] for layer in zip(*per_texture)]


def gray(images):
    """Gray version of a preprocessed batch, still preprocessed; differentiable."""
    return preprocess(gray3(deprocess(images)))


def mean_loss(targets: Sequence, features: Sequence, layer_weights: Sequence[float] = ()):
    """get_loss averaged over layers, each times its weight (1 when none are given): (n,)."""
    layer_weights = tuple(layer_weights) or (1.0,) * len(targets)
    return tf.add_n([w * get_loss(t, f) for w, t, f in zip(layer_weights, targets, features)]
                    ) / float(len(targets))


def part_weights(loss_weights: Sequence[float]) -> Dict[str, float]:
    """{part: weight} from weights in LOSS_PARTS' order; parts left off (tv, for the original's
    four weights) weigh 0."""
    weights = tuple(float(w) for w in loss_weights)
    return dict(zip(LOSS_PARTS, weights + (0.0,) * (len(LOSS_PARTS) - len(weights))))


def weighted_parts(unweighted: Dict[str, tf.Tensor], loss_weights: Sequence[float]):
    """{part: weight * value} for every part, plus their sum as 'total'."""
    parts = {name: weight * unweighted[name]
             for name, weight in part_weights(loss_weights).items()}
    parts["total"] = tf.add_n([parts[name] for name in LOSS_PARTS])
    return parts


class TextureTransferGraph:
    """The objective of one transfer (every mode: the parts a mode does not use weigh 0).

    content_tiles: (n, h, w, 3) RGB 0..255. texture_tiles: the same shape, or a list of such
    batches (several textures, blended by `blend`: the Gram targets are the weighted sum of each
    texture's, and so are the raw targets, which for weights summing to 1 gives the gradient of
    the weighted sum of the raw losses). gray_texture: the texture is compared in gray, made
    before preprocessing, so it contributes structure and no colour (the texture mode); else in
    colour (style, synthesis). layer_weights: one per texture layer for the Gram part (empty:
    all 1). gram_texture_tiles: RGB tiles of another size (or a list) whose Gram matrices are the
    target instead (--texture_scale); the raw part keeps texture_tiles, aligned with the content.
    A branch whose parts all weigh 0 is never run.
    """

    def __init__(self, extractor: FeatureExtractor, content_tiles, texture_tiles,
                 loss_weights: Sequence[float], layer_weights: Sequence[float] = (),
                 gram_texture_tiles=None, gray_texture: bool = True,
                 blend: Sequence[float] = ()):
        self.extractor = extractor
        self.loss_weights = tuple(float(w) for w in loss_weights)
        self.weights = part_weights(self.loss_weights)
        self.layer_weights = tuple(float(w) for w in layer_weights)
        self.gray_texture = gray_texture
        self.content = tf.constant(preprocess(content_tiles))
        self.uses_colour = self.weights["content"] > 0
        self.uses_texture = self.weights["raw"] > 0 or self.weights["texture"] > 0
        textures = as_texture_list(texture_tiles)
        weights = blend_weights(blend, len(textures))
        self.colour_targets = ([tf.constant(f) for f in extractor.content_features(self.content)]
                               if self.uses_colour else [])
        self.raw_targets, self.gram_targets = [], []
        if self.uses_texture:
            raws = [extractor.texture_features(self.texture_view_of_rgb(t)) for t in textures]
            grams = raws if gram_texture_tiles is None else [
                extractor.texture_features(self.texture_view_of_rgb(t))
                for t in as_texture_list(gram_texture_tiles)]
            self.raw_targets = [tf.constant(f) for f in blended(raws, weights)]
            self.gram_targets = blended([[gram(f) for f in layers] for layers in grams], weights)

    def texture_view_of_rgb(self, rgb_tiles):
        """RGB 0..255 texture tiles as the texture branch sees them: preprocessed, gray or not."""
        return preprocess(gray3(rgb_tiles) if self.gray_texture else rgb_tiles)

    def texture_view(self, images):
        """A preprocessed batch as the texture branch sees it (gray, or as it is)."""
        return gray(images) if self.gray_texture else images

    def heads(self, images):
        """(colour features of `images`, texture-branch features of `images`); a branch that
        no part uses gives []."""
        return (self.extractor.content_features(images) if self.uses_colour else [],
                self.extractor.texture_features(self.texture_view(images))
                if self.uses_texture else [])

    def loss_parts(self, images) -> Dict[str, tf.Tensor]:
        """Weighted loss parts of a preprocessed batch, each of shape (n,), plus their 'total'."""
        colour_features, texture_features = self.heads(images)
        zero = tf.zeros(tf.shape(images)[:1], images.dtype)
        texture_used = self.uses_texture and self.weights["texture"] > 0
        return weighted_parts({
            "direct": get_loss(images, self.content),
            "content": (mean_loss(self.colour_targets, colour_features)
                        if self.uses_colour else zero),
            "raw": (mean_loss(self.raw_targets, texture_features)
                    if self.uses_texture and self.weights["raw"] > 0 else zero),
            "texture": (mean_loss(self.gram_targets, [gram(f) for f in texture_features],
                                  self.layer_weights) if texture_used else zero),
            "tv": total_variation(images) if self.weights["tv"] > 0 else zero,
        }, self.loss_weights)
