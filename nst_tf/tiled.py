"""The objective of a whole picture, evaluated tile by tile: exact, in memory bounded by the tile.

The picture's objective (global statistics) is the one TextureTransferGraph computes on a batch of
one picture: one Gram matrix per texture layer over all its positions, and the content, raw and
direct parts averaged over all of them. Evaluating it tile by tile changes nothing because:

- A feature depends only on the pixels of its receptive field. A tile that carries a halo of at
  least that field around its core, and whose origin sits on the layer's stride grid (so the 2x2
  poolings pair the same pixels), has the full picture's features at its core positions. Each
  branch gets its own halo: the gray branch stops at block3_conv1 (10 px, 12 on its 4 px grid), only
  the colour branch reaches block5_conv2 (86 px, 96 on its 16 px grid).
- Every part is a sum over positions divided by a count known in advance, so each core adds its
  own positions' share, and a pixel's gradient is the sum of what each tile's core loss sends it
  (its own core, and the halos of its neighbours).
- The Gram part is not a sum over positions, but its gradient at a position is
  `4 / (c^2 N) (G - G_target) f`: a first pass without gradients accumulates the picture's Gram
  `G` over the tiles; a second pass then differentiates the surrogate
  `2 / (c^2 N) f^T (G - G_target) f`, whose gradient is exactly that, tile by tile.

Memory: the image-sized arrays (image, content, gray texture, gradient, optimiser moments) plus
one tile's activations. Targets are stored only where they are small next to the image (deep
content layers: 512 channels at 1/256 of the positions); the shallow ones (block1_conv1: 64
channels at every position, 2.1 GB at 4K) and the raw texture features are recomputed per tile
from the content and texture tiles, which costs a forward pass of a few shallow layers.
"""
from __future__ import annotations

import math
from typing import Dict, List, Sequence, Tuple

import numpy as np
import tensorflow as tf

from nst_tf.config import TILE_GRID_PX, VGG19_LAYERS
from nst_tf.graph import (LOSS_PARTS, blend_weights, blended, gray, part_weights,
                          total_variation)
from nst_tf.inputs import as_texture_list
from nst_tf.images import gray3
from nst_tf.vgg import FeatureExtractor, preprocess

# A stored target may take at most this many floats per picture pixel (the picture itself: 3).
STORED_TARGET_FLOATS_PER_PIXEL = 4.0


def footprint(layer: str, network_layers: Sequence[str] = VGG19_LAYERS) -> Tuple[int, int, int]:
    """(stride, lo, hi) of a layer of the network whose layers, input to output, are
    `network_layers` (VGG19's by default): position p sees input pixels [p*stride+lo, p*stride+hi].

    'same' 3x3 convolutions widen the field by one position each side; 2x2 poolings double the
    stride and add one position on the right.
    """
    stride, lo, hi = 1, 0, 0
    for name in network_layers:
        if name.endswith("pool"):
            hi += stride
            stride *= 2
        else:
            lo, hi = lo - stride, hi + stride
        if name == layer:
            return stride, lo, hi
    raise ValueError(f"unknown layer {layer!r}")


def halo(layers: Sequence[str], network_layers: Sequence[str] = VGG19_LAYERS) -> int:
    """Pixels of context a tile needs on every side so that `layers` are exact at its core.

    A multiple of the deepest stride, so that a tile's origin (core start minus halo) stays on
    every layer's grid when core starts do.
    """
    need, grid = 0, 1
    for layer in layers:
        stride, lo, hi = footprint(layer, network_layers)
        need = max(need, -lo, hi - (stride - 1))
        grid = max(grid, stride)
    return int(math.ceil(need / grid) * grid)


def core_spans(length: int, tile: int) -> List[Tuple[int, int]]:
    """[start, stop) cores covering 0..length, each at most `tile` long, near-equal, and every
    start on the TILE_GRID_PX grid (the deepest stride), so halos line up with every layer."""
    pieces = max(1, math.ceil(length / tile))
    edges = [0] + [int(round(k * length / pieces / TILE_GRID_PX)) * TILE_GRID_PX
                   for k in range(1, pieces)] + [length]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def _core_bounds(origin, core, stride: int):
    """(top, bottom, left, right) of a tile's core positions at a layer of `stride`, in the tile's
    feature indices: a position p belongs to the core [a, b) when a <= p * stride and
    p < b // stride, so every position of the picture belongs to exactly one core."""
    return ((core[0] - origin[0]) // stride, core[1] // stride - origin[0] // stride,
            (core[2] - origin[1]) // stride, core[3] // stride - origin[1] // stride)


def core_slice(features, origin, core, stride: int):
    """The core positions of a tile's features (1, h, w, c) at a layer of `stride`.

    origin: (top, left) pixel of the tile in the picture; core: (top, bottom, left, right) pixels.
    """
    top, bottom, left, right = _core_bounds(origin, core, stride)
    return features[:, top:bottom, left:right, :]


def core_mask(features, origin, core, stride: int):
    """(1, h, w, 1): 1 at the core positions of a tile's features (those core_slice keeps), 0 on
    the halo. A loss over the core written as a masked sum over the whole tile needs no copy of
    the core going forward and no padding back to the tile's shape coming back: on a 792 px gray
    tile that took the gray step from 3.71 to 2.80 s."""
    top, bottom, left, right = _core_bounds(origin, core, stride)
    shape = tf.shape(features)
    rows, columns = tf.range(shape[1]), tf.range(shape[2])
    in_rows = tf.cast((rows >= top) & (rows < bottom), features.dtype)
    in_columns = tf.cast((columns >= left) & (columns < right), features.dtype)
    return in_rows[None, :, None, None] * in_columns[None, None, :, None]


@tf.custom_gradient
def masked_square_distance(features, target, mask):
    """sum over the positions where mask is 1 of |features - target|^2, with the gradient
    2 mask (features - target) written out (target and mask are constants)."""
    difference = features - target
    value = tf.reduce_sum(tf.reduce_sum(tf.square(difference), -1, keepdims=True) * mask)

    def gradient(upstream):
        return 2.0 * upstream * mask * difference, None, None

    return value, gradient


@tf.custom_gradient
def masked_quadratic_form(features, delta, mask):
    """sum over the positions p where mask is 1 of f_p^T delta f_p, delta (c, c) symmetric, with
    the gradient 2 mask f delta written out (delta and mask are constants)."""
    delta = 0.5 * (delta + tf.transpose(delta))  # G - G_target, symmetric up to rounding
    product = tf.reshape(tf.matmul(tf.reshape(features, [-1, features.shape[-1]]), delta),
                         tf.shape(features))
    value = tf.reduce_sum(tf.reduce_sum(product * features, -1, keepdims=True) * mask)

    def gradient(upstream):
        return 2.0 * upstream * mask * product, None, None

    return value, gradient


class TiledObjective:
    """The global-statistics objective of one picture, evaluated in tiles of `tile_size` px.

    content: (H, W, 3) RGB 0..255, the picture's content. raw_texture: (H, W, 3) RGB, the texture
    aligned with the picture (for the raw part). gram_texture: RGB of any size, whose Gram
    matrices are the target (usually raw_texture; another size under texture_scale). Several
    textures: lists of both, blended by `blend` (TextureTransferGraph). gray_texture: the texture
    branch sees gray images (the texture mode) or colour ones (style, synthesis).
    loss_weights: (direct, content, raw, texture, tv); layer_weights: per texture layer (empty: 1).
    The TV part is a pixel-level sum: computed on the whole picture, which is in memory anyway.
    """

    tiled = True

    def __init__(self, extractor: FeatureExtractor, content, raw_texture, gram_texture,
                 loss_weights: Sequence[float], layer_weights: Sequence[float] = (),
                 tile_size: int = 1024, gray_texture: bool = True, blend: Sequence[float] = ()):
        self.extractor = extractor
        self.gray_texture = gray_texture
        raw_textures = as_texture_list(raw_texture)
        gram_textures = as_texture_list(gram_texture)
        self.blend = blend_weights(blend, len(raw_textures))
        self.loss_weights = part_weights(loss_weights)
        self.texture_layers = extractor.texture_layers
        self.content_layers = extractor.content_layers
        self.layer_weights = tuple(float(w) for w in layer_weights) or (1.0,) * len(
            self.texture_layers)
        self.tile_size = int(tile_size)
        self.size = tuple(np.asarray(content).shape[:2])
        self.content = preprocess(np.asarray(content, np.float32)[None]).numpy()
        # Every texture's view (gray or colour), stacked: the raw target of a tile is the blend
        # of their features there.
        self.texture_views = np.concatenate([self._viewed(t) for t in raw_textures])
        # The network's own layers (VGG19 or VGG16), input to output, set the fields.
        network_layers = tuple(layer.name for layer in extractor.model.layers[1:])
        self.colour_halo = halo(self.content_layers, network_layers)
        self.gray_halo = halo(self.texture_layers, network_layers)
        self.strides = {name: footprint(name, network_layers)[0] for name in self.texture_layers
                        + self.content_layers}
        height, width = self.size
        self.cores = [(top, bottom, left, right)
                      for top, bottom in core_spans(height, self.tile_size)
                      for left, right in core_spans(width, self.tile_size)]
        # Which content targets to keep: small ones; the others are recomputed per tile.
        self.stored_layers = [name for name in self.content_layers
                              if self._floats_per_pixel(name) <= STORED_TARGET_FLOATS_PER_PIXEL]
        self.recomputed_layers = [n for n in self.content_layers if n not in self.stored_layers]
        self.recompute_model = (extractor._outputs(tuple(self.recomputed_layers))
                                if self.recomputed_layers else None)
        self._compile()
        # The colour step computes the direct part too; synthesis has neither.
        self.runs_colour_step = (self.loss_weights["content"] > 0
                                 or self.loss_weights["direct"] > 0)
        self.stored_targets = self._stored_content_targets() if self.runs_colour_step else {}
        self.gram_targets = blended([self._gram_accumulated(self._viewed(t))
                                     for t in gram_textures], self.blend)

    def _viewed(self, rgb):
        """An RGB 0..255 (H, W, 3) texture as the texture branch sees it, preprocessed (1, H, W, 3)."""
        rgb = np.asarray(rgb, np.float32)[None]
        return (preprocess(gray3(rgb)) if self.gray_texture else preprocess(rgb)).numpy()

    def view(self, images):
        """A preprocessed tile as the texture branch sees it (gray, or as it is)."""
        return gray(images) if self.gray_texture else images

    def _channels(self, layer: str) -> int:
        return self.extractor.model.get_layer(layer).output.shape[-1]

    def _floats_per_pixel(self, layer: str) -> float:
        return self._channels(layer) / self.strides[layer] ** 2

    def _count(self, layer: str, channels: int, size=None) -> float:
        """Positions (x channels) of `layer` over a picture of `size`: the divisor of its mean."""
        height, width = size or self.size
        stride = self.strides[layer]
        return float((height // stride) * (width // stride) * channels)

    # --- the tiles -----------------------------------------------------------------------------
    def _tile(self, core, halo_px: int, size=None):
        """(origin, (top, bottom, left, right) of the tile) around `core` with `halo_px`."""
        height, width = size or self.size
        top, left = max(0, core[0] - halo_px), max(0, core[2] - halo_px)
        return (top, left), (top, min(height, core[1] + halo_px),
                             left, min(width, core[3] + halo_px))

    @staticmethod
    def _cut(array, bounds):
        return array[:, bounds[0]:bounds[1], bounds[2]:bounds[3], :]

    # --- compiled pieces, one trace for every tile shape ----------------------------------------
    def _compile(self):
        """Each piece is traced once: tile sizes differ (borders, halos clipped at the edges), so
        the signatures leave height and width open."""
        def picture(channels=3):
            return tf.TensorSpec([1, None, None, channels], tf.float32)

        origin, core = tf.TensorSpec([2], tf.int32), tf.TensorSpec([4], tf.int32)
        self._gram_sums = tf.function(self._gram_sums_of, input_signature=[picture(), origin, core])
        # The image's gray is made per tile (it is per pixel): no picture-sized gray copy.
        self._image_gram_sums = tf.function(
            lambda image_tile, origin, core: self._gram_sums_of(self.view(image_tile), origin,
                                                                core),
            input_signature=[picture(), origin, core])
        self._colour_step = tf.function(self._colour_gradient, input_signature=[
            picture(), picture(), [picture(self._channels(n)) for n in self.stored_layers], origin, core])
        self._gray_step = tf.function(self._gray_gradient, input_signature=[
            picture(), tf.TensorSpec([None, None, None, 3], tf.float32), [tf.TensorSpec([self._channels(n)] * 2, tf.float32)
                                   for n in self.texture_layers], origin, core])

    def _gram_sums_of(self, gray_tile, origin, core):
        """sum over the core positions of f f^T, per texture layer: [(c, c)]."""
        sums = []
        for name, features in zip(self.texture_layers,
                                  self.extractor.texture_features(gray_tile)):
            flat = tf.reshape(core_slice(features, origin, core, self.strides[name]),
                              [-1, features.shape[-1]])
            sums.append(tf.matmul(flat, flat, transpose_a=True))
        return sums

    def _colour_gradient(self, image_tile, content_tile, stored_targets, origin, core):
        """Gradient of the core's direct and content shares w.r.t. the tile, and the shares."""
        recomputed_features = (
            self.extractor._as_list(self.recompute_model(content_tile, training=False))
            if self.recompute_model is not None else [])
        recomputed = dict(zip(self.recomputed_layers, recomputed_features))
        stored = dict(zip(self.stored_layers, stored_targets))
        with tf.GradientTape() as tape:
            tape.watch(image_tile)
            features = self.extractor.content_features(image_tile)
            shares = []
            for name, f in zip(self.content_layers, features):
                stride = self.strides[name]
                if name in recomputed:  # the whole tile's target: a masked sum, no core copies
                    distance = masked_square_distance(f, recomputed[name],
                                                      core_mask(f, origin, core, stride))
                else:  # a stored target covers the core only
                    distance = tf.reduce_sum(tf.square(core_slice(f, origin, core, stride)
                                                       - stored[name]))
                shares.append(distance / self._count(name, f.shape[-1]))
            content = tf.add_n(shares) / len(self.content_layers)
            direct = tf.reduce_sum(tf.square(core_slice(image_tile - content_tile, origin, core, 1))
                                   ) / float(self.size[0] * self.size[1] * 3)
            weighted = (self.loss_weights["direct"] * direct
                        + self.loss_weights["content"] * content)
        return (tape.gradient(weighted, image_tile), self.loss_weights["direct"] * direct,
                self.loss_weights["content"] * content)

    def _gray_gradient(self, image_tile, texture_tile, gram_deltas, origin, core):
        """Gradient of the core's raw share and of the Gram surrogate w.r.t. the tile.
        texture_tile: (k, h, w, 3), the k textures' views there, blended after the network."""
        use_raw = self.loss_weights["raw"] > 0
        use_gram = self.loss_weights["texture"] > 0
        raw_targets = None
        if use_raw:
            blend = tf.constant(self.blend, tf.float32)[:, None, None, None]
            raw_targets = [tf.reduce_sum(blend * f, axis=0, keepdims=True)
                           for f in self.extractor.texture_features(texture_tile)]
        with tf.GradientTape() as tape:
            tape.watch(image_tile)
            features = self.extractor.texture_features(self.view(image_tile))
            raw, surrogate = 0.0, 0.0
            for index, (name, f) in enumerate(zip(self.texture_layers, features)):
                stride, channels = self.strides[name], f.shape[-1]
                mask = core_mask(f, origin, core, stride)
                if use_raw:
                    raw += masked_square_distance(f, raw_targets[index], mask) / self._count(
                        name, channels)
                if use_gram:
                    positions = self._count(name, 1)
                    surrogate += (self.layer_weights[index] * 2.0 / (channels ** 2 * positions)
                                  * masked_quadratic_form(f, gram_deltas[index], mask))
            raw = raw / len(self.texture_layers)
            weighted = (self.loss_weights["raw"] * raw + self.loss_weights["texture"]
                        * surrogate / len(self.texture_layers))
        return tape.gradient(weighted, image_tile), self.loss_weights["raw"] * raw

    # --- targets ------------------------------------------------------------------------------
    def _stored_content_targets(self) -> Dict[str, np.ndarray]:
        """The small content targets of the whole picture, assembled from the cores."""
        targets = {}
        for name in self.stored_layers:
            stride = self.strides[name]
            targets[name] = np.zeros((1, self.size[0] // stride, self.size[1] // stride,
                                      self._channels(name)), np.float32)
        if not targets:
            return targets
        model = self.extractor._outputs(tuple(self.stored_layers))
        for core in self.cores:
            origin, bounds = self._tile(core, self.colour_halo)
            features = self.extractor._as_list(model(self._cut(self.content, bounds),
                                                     training=False))
            for name, f in zip(self.stored_layers, features):
                stride = self.strides[name]
                targets[name][:, core[0] // stride:core[1] // stride,
                              core[2] // stride:core[3] // stride] = core_slice(
                    f, origin, core, stride).numpy()
        return targets

    def _gram_accumulated(self, picture, sums_of=None) -> List[tf.Tensor]:
        """The Gram matrices of a preprocessed picture (1, h, w, 3), tile by tile; sums_of: the
        compiled per-tile sums (default: of a picture that is already gray)."""
        sums_of = sums_of or self._gram_sums
        size = picture.shape[1:3]
        totals = None
        for top, bottom in core_spans(size[0], self.tile_size):
            for left, right in core_spans(size[1], self.tile_size):
                core = (top, bottom, left, right)
                origin, bounds = self._tile(core, self.gray_halo, size)
                sums = sums_of(tf.constant(self._cut(picture, bounds)),
                                       tf.constant(origin, tf.int32), tf.constant(core, tf.int32))
                totals = sums if totals is None else [t + s for t, s in zip(totals, sums)]
        return [total / self._count(name, 1, size)
                for name, total in zip(self.texture_layers, totals)]

    # --- the objective ------------------------------------------------------------------------
    def value_and_gradient(self, image) -> Tuple[float, tf.Tensor, Dict[str, float]]:
        """(total, its gradient (1, H, W, 3), {part: weighted value, 'total'}) at `image`, a
        preprocessed (1, H, W, 3) picture (a tf.Variable or an array)."""
        image = image.numpy() if hasattr(image, "numpy") else np.asarray(image, np.float32)
        parts = dict.fromkeys(LOSS_PARTS, 0.0)
        gradient = np.zeros_like(image)
        if self.loss_weights["texture"] > 0:
            grams = self._gram_accumulated(image, self._image_gram_sums)
            parts["texture"] = self.loss_weights["texture"] * float(np.mean([
                w * tf.reduce_mean(tf.square(g - t)) for w, g, t in
                zip(self.layer_weights, grams, self.gram_targets)]))
            gram_deltas = [g - t for g, t in zip(grams, self.gram_targets)]
        else:
            gram_deltas = [tf.zeros((t.shape[0], t.shape[1])) for t in self.gram_targets]
        if self.loss_weights["tv"] > 0:
            picture = tf.constant(image)
            with tf.GradientTape() as tape:
                tape.watch(picture)
                tv = self.loss_weights["tv"] * total_variation(picture)[0]
            gradient += tape.gradient(tv, picture).numpy()
            parts["tv"] = float(tv)
        for core in self.cores:
            core_t = tf.constant(core, tf.int32)
            origin, bounds = self._tile(core, self.colour_halo)
            if not self.runs_colour_step:  # synthesis: no content at all
                self._texture_tile_step(image, core, core_t, gradient, parts, gram_deltas)
                continue
            stored = [tf.constant(self.stored_targets[name][
                :, core[0] // self.strides[name]:core[1] // self.strides[name],
                core[2] // self.strides[name]:core[3] // self.strides[name]])
                for name in self.stored_layers]
            tile_gradient, direct, content = self._colour_step(
                tf.constant(self._cut(image, bounds)), tf.constant(self._cut(self.content, bounds)),
                stored, tf.constant(origin, tf.int32), core_t)
            gradient[:, bounds[0]:bounds[1], bounds[2]:bounds[3]] += tile_gradient.numpy()
            parts["direct"] += float(direct)
            parts["content"] += float(content)
            self._texture_tile_step(image, core, core_t, gradient, parts, gram_deltas)
        parts["total"] = sum(parts[name] for name in LOSS_PARTS)
        return parts["total"], tf.constant(gradient), parts

    def _texture_tile_step(self, image, core, core_t, gradient, parts, gram_deltas) -> None:
        """Adds the texture branch's gradient over one tile (core and halo) and its raw share."""
        if self.loss_weights["raw"] == 0 and self.loss_weights["texture"] == 0:
            return
        origin, bounds = self._tile(core, self.gray_halo)
        tile_gradient, raw = self._gray_step(
            tf.constant(self._cut(image, bounds)),
            tf.constant(self._cut(self.texture_views, bounds)), gram_deltas,
            tf.constant(origin, tf.int32), core_t)
        gradient[:, bounds[0]:bounds[1], bounds[2]:bounds[3]] += tile_gradient.numpy()
        parts["raw"] += float(raw)
