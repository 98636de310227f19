"""The objective of a batch evaluated at once: the original's tiles (one entry per tile, each its
own loss) or one whole picture. Targets are computed once; each step is one compiled
value-and-gradient.

Shapes: n tiles of h x w pixels. Images enter preprocessed (BGR, mean-subtracted).
"""
from __future__ import annotations

import contextlib
from typing import Dict, Sequence

from nst_tf.tensorflow_quietly import tf  # started without its C++ log lines

from nst_tf.io.inputs import as_texture_list
from nst_tf.network.vgg import FeatureExtractor, preprocess
from nst_tf.objective.compiled import shared_evaluations
from nst_tf.objective.edge_free import extended, with_edge_free
from nst_tf.objective.grid import footprint
from nst_tf.objective.terms import (Weighting, anchored_distance, blended, gram, gram_distance,
                                    guided_gram, layer_directions, layer_mean, pooled,
                                    positions_of, sliced_wasserstein,
                                    sorted_projections, square_distance, total_variation)


def _entry(batch, i: int):
    """Entry i of a batch, (1, ...), or its last when it holds fewer (a mask given once for
    every entry)."""
    return batch[min(i, batch.shape[0] - 1):][:1]


class WholeObjective:
    """The objective of one transfer on a batch held at once (every mode: the parts a mode does
    not use weigh 0).

    content_tiles: (n, h, w, 3) RGB 0..255. texture_tiles: the same shape, or a list of such
    batches (several textures, blended by `blend`: the Gram targets are the weighted sum of each
    texture's, and so are the raw targets). gray_texture: the texture is compared in gray, made
    before preprocessing, so it contributes structure and no colour (the texture mode); else in
    colour (style, synthesis). layer_weights: one per texture layer for the Gram part (empty:
    all 1). gram_texture_tiles: RGB tiles of another size (or a list) whose Gram matrices are the
    target instead (--texture_scale); the raw part keeps texture_tiles, aligned with the content.
    compiled: value_and_gradient is one graph (False: eager, as the 2018 notebooks ran);
    jit_compile: through XLA.

    Spatial control: region_masks, one (n, h, w, 1) mask in [0, 1] per texture, say where each
    texture goes (Gatys et al. 2017): its Gram target is compared with the guided Gram matrix
    of its region (the mask carried to each layer as the network pools), its raw target only
    where the mask is, and the regions' losses add up; the textures are not blended.
    texture_region_masks: per texture, None or a mask of its Gram texture's size saying which
    part of the texture photo its statistics come from.

    anchors: a video frame's temporal targets, [(RGB 0..255 (n, h, w, 3), weights
    (n, h, w, 1))] (terms.anchored_distance), for the temporal part.

    Seamless (an extractor that wraps, FeatureExtractor.wrap): the picture, the content and
    the raw texture (aligned with the picture) go through the wrapping network and the total
    variation wraps; a Gram texture's statistics are taken only at its positions that see no
    edge on the wrapped axes (objective/edge_free.py, _statistics).

    texture_loss: 'gram', or 'sliced_wasserstein' (Heitz et al. 2021): each entry's (or
    region's) features against its texture's, projected on as many random directions as the
    layer has channels (drawn once from `seed`), sorted, compared quantile by quantile; with
    several blended textures, the blend's weighted sum of the distances.
    """

    def __init__(self, extractor: FeatureExtractor, content_tiles, texture_tiles,
                 loss_weights: Sequence[float], layer_weights: Sequence[float] = (),
                 gram_texture_tiles=None, gray_texture: bool = True,
                 blend: Sequence[float] = (), compiled: bool = True, jit_compile: bool = False,
                 region_masks=None, texture_region_masks=None, anchors=(),
                 texture_loss: str = "gram", seed: int = 0):
        self.extractor = extractor
        self.anchors = [(tf.constant(preprocess(target)), tf.constant(weights, tf.float32))
                        for target, weights in anchors or ()]
        textures = as_texture_list(texture_tiles)
        self.weighting = Weighting.of(loss_weights, layer_weights, len(extractor.texture_layers),
                                      gray_texture, blend, len(textures), texture_loss)
        self.seed = int(seed)
        self.directions = []  # per texture layer, with the sliced Wasserstein distance
        self.content = tf.constant(preprocess(content_tiles))
        if region_masks is None:
            self.guidance = None
            self.colour_targets, self.raw_targets, self.gram_targets = self.targets(
                textures, as_texture_list(gram_texture_tiles) or None)
        else:
            self._regions(textures, as_texture_list(gram_texture_tiles) or textures,
                          region_masks, texture_region_masks or [None] * len(textures))
        # Compiled: the graph of this structure kept for the next run (objective/compiled.py).
        self.value_and_gradient = (shared_evaluations().evaluation(self, jit_compile)
                                   if compiled else self._value_and_gradient)

    # What the compiled graph takes as its input besides the image: the run's own tensors.
    STATE = ("content", "colour_targets", "raw_targets", "gram_targets", "guidance", "anchors")

    def state(self) -> dict:
        """The run's tensors (the content, its targets, the masks, the anchors)."""
        return {name: getattr(self, name) for name in self.STATE}

    @contextlib.contextmanager
    def bound(self, state: dict):
        """This objective's attributes are `state` (a trace's symbolic tensors) inside."""
        kept = self.state()
        for name, value in state.items():
            setattr(self, name, value)
        try:
            yield
        finally:
            for name, value in kept.items():
                setattr(self, name, value)

    def compiled_key(self) -> tuple:
        """Everything the compiled graph depends on besides its state: the network and how it
        runs, the weighting, the sliced distance's directions (by seed), and the shapes and
        structure of the image and the state."""
        extractor, weighting = self.extractor, self.weighting
        shapes = tf.nest.map_structure(
            lambda t: None if t is None else (tuple(t.shape), t.dtype.name), self.state())
        return (extractor.model, extractor.texture_layers, extractor.content_layers,
                extractor.precision, extractor.turned_backward, extractor.wrap,
                tuple(sorted(weighting.weights.items())), weighting.layer_weights,
                weighting.gray_texture, weighting.blend, weighting.texture_loss,
                self.seed if weighting.sliced else None, tuple(self.content.shape),
                repr(shapes))

    def targets(self, textures, gram_textures=None):
        """(colour targets, raw targets, Gram targets), each a list over layers; a branch no
        part uses gives []."""
        weighting = self.weighting
        colour = ([tf.constant(f) for f in self.extractor.content_features(self.content)]
                  if weighting.uses_colour else [])
        if not weighting.uses_texture:
            return colour, [], []
        raws = [self.extractor.texture_features(weighting.texture_view_of_rgb(t))
                for t in textures]
        if gram_textures is None and not self.extractor.wraps:
            statistics = [(layers, [None] * len(layers)) for layers in raws]
        else:
            statistics = [self._statistics(t) for t in gram_textures or textures]
        raw_targets = [tf.constant(f) for f in blended(raws, weighting.blend)]
        if weighting.sliced:  # per texture (not blended): [texture][layer][entry]
            return (colour, raw_targets,
                    [self._sorted_targets(layers, weights) for layers, weights in statistics])
        return colour, raw_targets, blended([
            [gram(f) if w is None else guided_gram(f, w) for f, w in zip(layers, weights)]
            for layers, weights in statistics], weighting.blend)

    def _statistics(self, texture_tiles, texture_mask=None):
        """(features, weights) of a Gram texture (n, h, w, 3) RGB whose statistics are its
        targets: its texture-branch features [layer] (n, h/s, w/s, c) through the network as it
        is (no wrapping), and per layer None (every position counts) or the weight of each
        position, (n or 1, h/s, w/s, 1): the texture's mask (texture_mask, (n, h, w, 1), the
        part its statistics come from) carried to the layer, and seamless, 0 at the positions
        that see an edge on a wrapped axis (edge_free.py: neither the zero padding nor mirror
        images, which a picture without edges would spread over all of itself), the texture
        first mirror-extended when too short to leave a few."""
        plain, view = self.extractor.unwrapped, self.weighting.texture_view_of_rgb
        wrap, layers = self.extractor.wrap, plain.texture_layers
        texture_tiles = extended(texture_tiles, wrap, layers, plain.layer_names)
        if texture_mask is not None:
            texture_mask = extended(texture_mask, wrap, layers, plain.layer_names)
        features = plain.texture_features(view(texture_tiles))
        weights = [None if texture_mask is None else pooled(texture_mask, stride)
                   for stride in self._strides()]
        return features, with_edge_free(weights, texture_tiles.shape[1:3], wrap, layers,
                                        plain.layer_names)

    def _sorted_targets(self, features, masks=None):
        """A texture's sorted projections, [layer][entry] (M, c), on the layers' directions
        (drawn here the first time); masks: per layer the pooled mask of the part whose
        statistics count, or None."""
        if not self.directions:
            self.directions = layer_directions([f.shape[-1] for f in features], self.seed)
        masks = masks or [None] * len(features)
        return [[tf.constant(sorted_projections(
            positions_of(f[i:i + 1], None if m is None else _entry(m, i)), d))
                 for i in range(f.shape[0])]
                for f, m, d in zip(features, masks, self.directions)]

    def _sliced(self, layer: int, features, targets, guidance=None):
        """Per entry (n,), the sliced Wasserstein distance of texture layer `layer`'s features
        (where the guidance holds) to the per-entry sorted targets."""
        directions = self.directions[layer]
        return tf.stack([sliced_wasserstein(
            positions_of(features[i:i + 1], None if guidance is None else _entry(guidance, i)),
            targets[min(i, len(targets) - 1)], directions) for i in range(features.shape[0])])

    def _strides(self):
        return [footprint(name, self.extractor.layer_names)[0]
                for name in self.extractor.texture_layers]

    def _regions(self, textures, gram_textures, masks, texture_masks) -> None:
        """Targets and guidance per region: raw_targets[r][layer], gram_targets[r][layer] and
        guidance[r][layer] (the region's mask at the layer)."""
        weighting, strides = self.weighting, self._strides()
        self.colour_targets = ([tf.constant(f) for f in
                                self.extractor.content_features(self.content)]
                               if weighting.uses_colour else [])
        self.guidance = [[tf.constant(pooled(mask, stride)) for stride in strides]
                         for mask in masks]
        self.raw_targets, self.gram_targets = [], []
        if not weighting.uses_texture:
            return
        for texture, gram_texture, texture_mask in zip(textures, gram_textures, texture_masks):
            raw = self.extractor.texture_features(weighting.texture_view_of_rgb(texture))
            self.raw_targets.append([tf.constant(f) for f in raw])
            features, weights = (
                (raw, [None if texture_mask is None else pooled(texture_mask, stride)
                       for stride in strides])
                if gram_texture is texture and not self.extractor.wraps else
                self._statistics(gram_texture, texture_mask))
            if weighting.sliced:
                self.gram_targets.append(self._sorted_targets(features, weights))
                continue
            self.gram_targets.append([gram(f) if w is None else guided_gram(f, w)
                                      for f, w in zip(features, weights)])

    def _region_parts(self, texture_features, zero):
        """(raw, texture) parts summed over the regions, each (n,)."""
        weighting = self.weighting
        raw = texture = zero
        for guidance, raw_targets, gram_targets in zip(
                self.guidance, self.raw_targets or [None] * len(self.guidance),
                self.gram_targets or [None] * len(self.guidance)):
            if weighting.uses_raw:
                raw = raw + layer_mean([square_distance(f, t, mask=g) for f, t, g in
                                        zip(texture_features, raw_targets, guidance)])
            if weighting.uses_gram and weighting.sliced:
                texture = texture + layer_mean([
                    self._sliced(layer, f, t, g) for layer, (f, t, g) in
                    enumerate(zip(texture_features, gram_targets, guidance))],
                    weighting.layer_weights)
            elif weighting.uses_gram:
                # An entry (tile) the region does not reach has no texture loss there.
                texture = texture + layer_mean([
                    tf.where(tf.reduce_sum(g, axis=[1, 2, 3]) > 0,
                             gram_distance(guided_gram(f, g), t), 0.0)
                    for f, t, g in zip(texture_features, gram_targets, guidance)],
                    weighting.layer_weights)
        return raw, texture

    def heads(self, images):
        """(colour features of `images`, texture-branch features of `images`); a branch that
        no part uses gives []."""
        weighting = self.weighting
        return (self.extractor.content_features(images) if weighting.uses_colour else [],
                self.extractor.texture_features(weighting.texture_view(images))
                if weighting.uses_texture else [])

    def _texture_parts(self, texture_features, zero):
        """(raw, texture) parts against the (blended) targets, each (n,)."""
        weighting = self.weighting
        raw = (layer_mean([square_distance(f, t) for t, f in
                           zip(self.raw_targets, texture_features)])
               if weighting.uses_raw else zero)
        if weighting.uses_gram and weighting.sliced:
            texture = tf.add_n([share * layer_mean([
                self._sliced(layer, f, t) for layer, (t, f) in
                enumerate(zip(targets, texture_features))],
                weighting.layer_weights)
                for share, targets in zip(weighting.blend, self.gram_targets)])
        else:
            texture = (layer_mean([gram_distance(gram(f), t) for t, f in
                                   zip(self.gram_targets, texture_features)],
                                  weighting.layer_weights)
                       if weighting.uses_gram else zero)
        return raw, texture

    def loss_parts(self, images) -> Dict[str, tf.Tensor]:
        """Weighted loss parts of a preprocessed batch, each of shape (n,), plus their 'total'."""
        weighting = self.weighting
        colour_features, texture_features = self.heads(images)
        zero = tf.zeros(tf.shape(images)[:1], images.dtype)
        raw, texture = (self._texture_parts(texture_features, zero) if self.guidance is None
                        else self._region_parts(texture_features, zero))
        return weighting.weighted({
            "direct": square_distance(images, self.content),
            "content": (layer_mean([square_distance(f, t) for t, f in
                                    zip(self.colour_targets, colour_features)])
                        if weighting.uses_colour else zero),
            "raw": raw,
            "texture": texture,
            "tv": (total_variation(images, self.extractor.wrap) if weighting.weights["tv"] > 0
                   else zero),
            "temporal": (anchored_distance(images, self.anchors)
                         if weighting.weights["temporal"] > 0 and self.anchors else zero),
        })

    def _value_and_gradient(self, image):
        """(sum over the batch of the total loss, its gradient w.r.t. `image`, {part: mean over
        the batch}). Each tile's loss is its own; their sum gives every tile its own gradient."""
        with tf.GradientTape() as tape:
            tape.watch(image)
            parts = self.loss_parts(image)
            summed = tf.reduce_sum(parts["total"])
        gradient = tape.gradient(summed, image)
        return summed, gradient, {name: tf.reduce_mean(value) for name, value in parts.items()}
