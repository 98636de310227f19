"""The objective of a whole picture, evaluated tile by tile: exact, in memory bounded by the tile.

The picture's objective (global statistics) is the one WholeObjective computes on a batch of
one picture: one Gram matrix per texture layer over all its positions, and the content, raw and
direct parts averaged over all of them. Evaluating it tile by tile changes nothing because:

- A feature depends only on the pixels of its receptive field. A tile that carries a halo of at
  least that field around its core, and whose origin sits on the layer's stride grid (so the 2x2
  poolings pair the same pixels), has the full picture's features at its core positions. Each
  branch gets its own halo: the gray branch stops at block3_conv1 (10 px, 12 on its 4 px grid), only
  the colour branch reaches block5_conv2 (86 px, 96 on its 16 px grid).
- Every part is a sum over positions divided by a count known in advance (objective/terms.py,
  the same functions the whole evaluation uses), so each core adds its own positions'
  share, and a pixel's gradient is the sum of what each tile's core loss sends it (its own core,
  and the halos of its neighbours).
- The Gram part is not a sum over positions, but its gradient at a position is
  `4 / (c^2 N) (G - G_target) f`: a first pass without gradients accumulates the picture's Gram
  `G` over the tiles; a second pass then differentiates the surrogate
  `2 / (c^2 N) f^T (G - G_target) f`, whose gradient is exactly that, tile by tile.

Seamless (extractor.wrap): the picture is one period of a picture repeated without end. Its
tiles' halos are cut from that repetition (grid.tiling), across the picture's edges, and run
through the network without wrapping: a core's features are then the wrapped picture's, and a
halo's gradient lands on the pixels it was cut from, on the other side. A texture's statistics
are taken, as the whole evaluation takes them, only at its positions that see no edge on the
wrapped axes (objective/edge_free.py): a weight per position, as a region's guidance is.

Memory: the image-sized arrays (image, content, gray texture, gradient, optimiser moments) plus
one tile's activations. Targets are stored only where they are small next to the image (deep
content layers: 512 channels at 1/256 of the positions); the shallow ones (block1_conv1: 64
channels at every position, 2.1 GB at 4K) and the raw texture features are recomputed per tile
from the content and texture tiles, which costs a forward pass of a few shallow layers.
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Sequence, Tuple

import numpy as np
from nst_tf.tensorflow_quietly import tf  # started without its C++ log lines

from nst_tf.limits import SORTED_PROJECTIONS_IN_MEMORY_BYTES, SORTING_THREADS, TILE_GRID_PX
from nst_tf.io.inputs import as_texture_list
from nst_tf.network.vgg import FeatureExtractor, preprocess
from nst_tf.objective.compiled import releasing_function
from nst_tf.objective.edge_free import extended, with_edge_free
from nst_tf.objective.grid import (BALANCED_TILE_HALOS, core_mask, core_slice, footprint, halo,
                                   stride_grid, tiling, wrapped_runs)
from nst_tf.objective.sorted_projections import SortedProjections
from nst_tf.objective.terms import (Weighting, anchored_distance, assign_by_rank, blended,
                                    gram_distance, gram_sums, gram_surrogate, layer_directions,
                                    layer_mean, pooled, square_distance, total_variation)
from nst_tf.steps import LOSS_PARTS

# A stored target may take at most this many floats per picture pixel (the picture itself: 3).
STORED_TARGET_FLOATS_PER_PIXEL = 4.0


def _squared_sum(found, assigned) -> float:
    """The sum of squared differences of two float32 vectors, summed in float64 (the vectors
    are picture-sized: no float64 copy of them is made)."""
    return float(np.sum(np.square(found - assigned), dtype=np.float64))


def _window(array, rows, columns):
    """array[:, rows[0]:rows[1], columns[0]:columns[1]] of a batch (n, H, W, ...) repeated
    without end along H and W: a slice (no copy) inside the picture, else gathered from its
    repetition (a seamless tile's halo). A NumPy array, a tensor or a tf.Variable."""
    height, width = array.shape[1], array.shape[2]
    if 0 <= rows[0] and rows[1] <= height and 0 <= columns[0] and columns[1] <= width:
        return array[:, rows[0]:rows[1], columns[0]:columns[1]]
    row_index = np.arange(rows[0], rows[1]) % height
    column_index = np.arange(columns[0], columns[1]) % width
    if isinstance(array, np.ndarray):
        return array[:, row_index][:, :, column_index]
    return tf.gather(tf.gather(array, row_index, axis=1), column_index, axis=2)


def _add_window(total: np.ndarray, bounds, values: np.ndarray) -> None:
    """total[:, bounds] += values, the window folded back modulo the picture's size where it
    reaches past the edges (a seamless tile's halo adds to the pixels it was cut from)."""
    height, width = total.shape[1], total.shape[2]
    for row_offset, top, rows in wrapped_runs(bounds[0], bounds[1], height):
        for column_offset, left, columns in wrapped_runs(bounds[2], bounds[3], width):
            total[:, top:top + rows, left:left + columns] += values[
                :, row_offset:row_offset + rows, column_offset:column_offset + columns]


class TiledObjective:
    """The global-statistics objective of one picture, evaluated in tiles of `tile_size` px.

    content: (H, W, 3) RGB 0..255, the picture's content. raw_texture: (H, W, 3) RGB, the texture
    aligned with the picture (for the raw part). gram_texture: RGB of any size, whose Gram
    matrices are the target (usually raw_texture; another size under texture_scale). Several
    textures: lists of both, blended by `blend` (WholeObjective). gray_texture: the texture
    branch sees gray images (the texture mode) or colour ones (style, synthesis).
    loss_weights: (direct, content, raw, texture, tv); layer_weights: per texture layer (empty: 1).
    The TV and temporal parts are pixel-level sums: computed on the whole picture, which is in
    memory anyway; anchors: the temporal targets, [(RGB (H, W, 3), weights (H, W))].
    region_masks, texture_region_masks: spatial control as in WholeObjective, at the picture's
    (and each Gram texture's) size, (H, W) each. The guided Gram matrices are sums over the
    region's weighted positions over the region's weight, accumulated over the tiles like the
    plain ones, so they stay exact.

    texture_loss 'sliced_wasserstein' (WholeObjective): a first pass projects every core's
    features on the layers' directions into picture-sized maps, the projections are sorted over
    the whole picture and each is given its target (the texture's quantile of its rank), and the
    second pass differentiates, tile by tile, the weighted squared distance of the projections
    to those targets, whose gradient is the distance's. Memory: one map per texture layer of
    the picture's positions x channels, overwritten by the targets (112 floats a pixel at
    block1-3_conv1), and the texture's sorted projections as large, which past
    SORTED_PROJECTIONS_IN_MEMORY_BYTES wait in a temporary file (objective/sorted_projections.py;
    docs/measurements/2026-12-texture-losses.md).

    Seamless: an extractor that wraps (FeatureExtractor.wrap) makes the picture's tiles wrap
    (module docstring); the tiles run on the same network without wrapping.
    """

    def __init__(self, extractor: FeatureExtractor, content, raw_texture, gram_texture,
                 loss_weights: Sequence[float], layer_weights: Sequence[float] = (),
                 tile_size: int = 1024, gray_texture: bool = True, blend: Sequence[float] = (),
                 region_masks=None, texture_region_masks=None, anchors=(),
                 texture_loss: str = "gram", seed: int = 0):
        # Seamless: the axes that wrap; every tile runs on the network as it is, its halo cut
        # across the edges instead (module docstring).
        self.wrap = extractor.wrap
        self.extractor = extractor.unwrapped
        self.anchors = [(preprocess(np.asarray(target, np.float32)[None]).numpy(),
                         np.asarray(weights, np.float32).reshape((1,) + tuple(
                             np.asarray(weights).shape[:2]) + (1,)))
                        for target, weights in anchors or ()]
        raw_textures = as_texture_list(raw_texture)
        gram_textures = as_texture_list(gram_texture)
        self.texture_layers = extractor.texture_layers
        self.content_layers = extractor.content_layers
        self.weighting = Weighting.of(loss_weights, layer_weights, len(self.texture_layers),
                                      gray_texture, blend, len(raw_textures), texture_loss)
        self.directions = (layer_directions([extractor.model.get_layer(name).output.shape[-1]
                                             for name in self.texture_layers], seed)
                           if self.weighting.sliced else [])
        self.tile_size = int(tile_size)
        self.size = tuple(np.asarray(content).shape[:2])
        # The content and the raw textures are kept as given (RGB, no copy) and preprocessed
        # tile by tile: at 3840x2160 each picture-sized copy would be 95 MiB more.
        self.content_rgb = np.asarray(content, np.float32)[None]
        self.raw_textures = [np.asarray(t, np.float32)[None] for t in raw_textures]
        # The network's own layers (VGG19 or VGG16), input to output, set the fields.
        self.layer_names = network_layers = extractor.layer_names
        self.colour_halo = halo(self.content_layers, network_layers)
        self.gray_halo = halo(self.texture_layers, network_layers)
        self.colour_grid = stride_grid(self.content_layers, network_layers)
        self.gray_grid = stride_grid(self.texture_layers, network_layers)
        self.strides = {name: footprint(name, network_layers)[0] for name in self.texture_layers
                        + self.content_layers}
        # Each branch its own tiles, balanced for its halo so that they share one shape: every
        # part is a sum over cores, so the two branches need not cut the picture alike.
        # The texture branch's tiles are half as long: its step (the picture's and, with the raw
        # loss, the texture's features to block3_conv1, both differentiated or kept) held the
        # process's peak at full-size tiles, and its 12 px halo makes smaller tiles cheap.
        # (Not under BALANCED_TILE_HALOS halos, where smaller tiles would only add calls.)
        half = self.tile_size // 2 // TILE_GRID_PX * TILE_GRID_PX
        self.gray_tile_size = min(self.tile_size, max(half, BALANCED_TILE_HALOS * self.gray_halo))
        self.colour_tiles = tiling(self.size, self.tile_size, self.colour_halo, self.colour_grid,
                                   self.wrap)
        self.gray_tiles = tiling(self.size, self.gray_tile_size, self.gray_halo, self.gray_grid,
                                 self.wrap)
        # Which content targets to keep: small ones; the others are recomputed per tile.
        self.stored_layers = [name for name in self.content_layers
                              if self._floats_per_pixel(name) <= STORED_TARGET_FLOATS_PER_PIXEL]
        self.recomputed_layers = [n for n in self.content_layers if n not in self.stored_layers]
        # Spatial control: each region's mask at each texture layer, (regions, H/s, W/s, 1).
        self.guidance = (None if region_masks is None else
                         self._guidance(np.stack([np.asarray(m, np.float32).reshape(self.size)
                                                  for m in region_masks])))
        # Each region's weight at each layer: the divisor of its guided Gram matrix.
        self.region_weights = ([layer.sum(axis=(1, 2, 3)) for layer in self.guidance]
                               if self.guidance is not None else None)
        self._compile()
        weights = self.weighting.weights
        # The colour step computes the direct part too; synthesis has neither.
        self.runs_colour_step = weights["content"] > 0 or weights["direct"] > 0
        self.stored_targets = self._stored_content_targets() if self.runs_colour_step else {}
        # Per Gram texture: its view, and the weight of each of its positions (None: all 1).
        statistics = [self._statistics(t, mask) for t, mask in zip(
            gram_textures, texture_region_masks or [None] * len(gram_textures))]
        if self.weighting.sliced:
            self.gram_targets = []
            # Per texture (or region): each layer's sorted projections, (M, c); past
            # SORTED_PROJECTIONS_IN_MEMORY_BYTES in a temporary file, the memory left to the
            # picture's own projection maps (only one direction is read at a time).
            in_file = sum(self._projection_bytes(viewed.shape[1:3]) for viewed, _ in statistics
                          ) > SORTED_PROJECTIONS_IN_MEMORY_BYTES
            self.sorted_targets = [self._sorted_picture(viewed, guidance, in_file)
                                   for viewed, guidance in statistics]
        elif self.guidance is None:
            self.gram_targets = blended([self._texture_grams(*found) for found in statistics],
                                        self.weighting.blend)
        else:  # one target per region, (regions, c, c) at each layer
            targets = [self._texture_grams(*found) for found in statistics]
            self.gram_targets = [tf.concat([tf.reshape(region[layer], (1,) + tuple(
                region[layer].shape[-2:])) for region in targets], 0)
                for layer in range(len(self.texture_layers))]

    def _statistics(self, texture, texture_mask=None):
        """(view, guidance) of a Gram texture (h, w, 3) RGB: preprocessed as the texture branch
        sees it, (1, h, w, 3); and None (every position counts) or per layer the weight of each
        position, (1, h/s, w/s, 1): its mask (h, w) carried to the layer, and seamless, 0 at
        the positions that see an edge on a wrapped axis, the texture first mirror-extended when
        too short to leave a few (WholeObjective._statistics)."""
        layers, names = self.texture_layers, self.layer_names
        texture = extended(np.asarray(texture, np.float32), self.wrap, layers, names)
        guidance = None
        if texture_mask is not None:
            mask = extended(np.asarray(texture_mask, np.float32)[..., None], self.wrap, layers,
                            names)
            guidance = self._guidance(mask[None, ..., 0])
        return self._viewed(texture), with_edge_free(guidance, texture.shape[:2], self.wrap,
                                                     layers, names)

    def _texture_grams(self, viewed, guidance=None) -> List[tf.Tensor]:
        """A texture's Gram matrices from its view (_statistics), [(c, c)]: over every
        position, or guided by its positions' weights."""
        if guidance is None:
            return self._gram_accumulated(viewed, texture=True)
        return [g[0] for g in self._gram_accumulated(viewed, self._guided_gram_sums, guidance,
                                                     texture=True)]

    def _guidance(self, masks: np.ndarray) -> List[np.ndarray]:
        """Masks (regions, H, W) carried to each texture layer as the network pools."""
        return [pooled(masks[..., None], self.strides[name]).numpy()
                for name in self.texture_layers]

    def _guidance_tile(self, guidance, origin, bounds):
        """The tile's part of each layer's guidance: [(regions, h/s, w/s, 1)]."""
        tiles = []
        for name, layer in zip(self.texture_layers, guidance):
            stride = self.strides[name]
            top, left = origin[0] // stride, origin[1] // stride
            tiles.append(tf.constant(_window(layer, (top, top + (bounds[1] - bounds[0]) // stride),
                                             (left, left + (bounds[3] - bounds[2]) // stride))))
        return tiles

    def _content_tile(self, bounds):
        """The content over a tile, preprocessed: (1, h, w, 3)."""
        return preprocess(self._cut(self.content_rgb, bounds))

    def _texture_views_tile(self, bounds):
        """Every raw texture over a tile as the texture branch sees it (gray or colour), stacked
        (textures, h, w, 3): the raw target of a tile is the blend of their features there."""
        return self.weighting.texture_view_of_rgb(
            np.concatenate([self._cut(t, bounds) for t in self.raw_textures]))

    def _viewed(self, rgb):
        """An RGB 0..255 (H, W, 3) texture as the texture branch sees it, preprocessed (1, H, W, 3)."""
        return self.weighting.texture_view_of_rgb(np.asarray(rgb, np.float32)[None]).numpy()

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
    @staticmethod
    def _cut(array, bounds):
        """A tile of a picture-sized batch: its bounds may reach past the edges (seamless:
        the picture repeated)."""
        return _window(array, bounds[:2], bounds[2:])

    def _gray_tiles_over(self, size, texture: bool = False):
        """The texture branch's tiles over the picture, or over a texture of `size` (which
        never wraps: its tiles are clipped at its edges)."""
        if not texture or (size == self.size and not any(self.wrap)):
            return self.gray_tiles
        return tiling(size, self.gray_tile_size, self.gray_halo, self.gray_grid)

    # --- compiled pieces, one trace for every tile shape ----------------------------------------
    def _compile(self):
        """Each piece is traced once: tile sizes differ (borders, halos clipped at the edges), so
        the signatures leave height and width open. Made per objective, so each releases the
        custom gradients its traces registered when the objective goes (releasing_function):
        TensorFlow's registry would otherwise keep every run's graphs."""
        def picture(channels=3):
            return tf.TensorSpec([1, None, None, channels], tf.float32)

        origin, core = tf.TensorSpec([2], tf.int32), tf.TensorSpec([4], tf.int32)
        self._gram_sums = releasing_function(self._gram_sums_of,
                                             input_signature=[picture(), origin, core])
        # The image's gray is made per tile (it is per pixel): no picture-sized gray copy.
        self._image_gram_sums = releasing_function(
            lambda image_tile, origin, core: self._gram_sums_of(
                self.weighting.texture_view(image_tile), origin, core),
            input_signature=[picture(), origin, core])
        self._colour_step = releasing_function(self._colour_gradient, input_signature=[
            picture(), picture(), [picture(self._channels(n)) for n in self.stored_layers],
            origin, core])
        textures = tf.TensorSpec([None, None, None, 3], tf.float32)
        if self.weighting.sliced:  # the texture part's targets: per layer a map and its weight
            self._projections = releasing_function(
                lambda image_tile, origin, core: self._projections_of(
                    self.weighting.texture_view(image_tile), origin, core),
                input_signature=[picture(), origin, core])
            self._texture_projections = releasing_function(
                self._projections_of, input_signature=[picture(), origin, core])
            deltas = [[picture(self._channels(n)) for n in self.texture_layers],
                      [picture(1) for _ in self.texture_layers]]
        elif self.guidance is None:
            deltas = [tf.TensorSpec([self._channels(n)] * 2, tf.float32)
                      for n in self.texture_layers]
        else:
            deltas = [tf.TensorSpec([None] + [self._channels(n)] * 2, tf.float32)
                      for n in self.texture_layers]
        guidance = [tf.TensorSpec([None, None, None, 1], tf.float32) for _ in self.texture_layers]
        # A texture's guided sums: its regions', or seamless its edge-free positions'.
        self._guided_gram_sums = releasing_function(self._gram_sums_of, input_signature=[
            picture(), origin, core, guidance])
        if self.guidance is None:
            self._gray_step = releasing_function(
                lambda image_tile, texture_tile, gram_deltas, origin, core: self._gray_gradient(
                    image_tile, texture_tile, gram_deltas, origin, core),
                input_signature=[picture(), textures, deltas, origin, core])
            return
        self._image_guided_gram_sums = releasing_function(
            lambda image_tile, origin, core, guidance: self._gram_sums_of(
                self.weighting.texture_view(image_tile), origin, core, guidance),
            input_signature=[picture(), origin, core, guidance])
        self._gray_step = releasing_function(self._gray_gradient, input_signature=[
            picture(), textures, deltas, origin, core, guidance])

    def _gram_sums_of(self, viewed_tile, origin, core, guidance=None):
        """sum over the core positions of f f^T, per texture layer: [(c, c)]; with guidance
        (per layer, the tile's (regions, h, w, 1)), each region's weighted sum: [(regions, c,
        c)]."""
        features = self.extractor.texture_features(viewed_tile)
        if guidance is None:
            return [gram_sums(core_slice(f, origin, core, self.strides[name]))[0]
                    for name, f in zip(self.texture_layers, features)]
        return [gram_sums(f, core_mask(f, origin, core, self.strides[name]) * g)
                for name, f, g in zip(self.texture_layers, features, guidance)]

    def _projected(self, features, layer: int):
        """(1, h, w, c) features -> their projections on texture layer `layer`'s directions."""
        channels = features.shape[-1]
        return tf.reshape(tf.matmul(tf.reshape(features, [-1, channels]),
                                    self.directions[layer]), tf.shape(features))

    def _projections_of(self, viewed_tile, origin, core):
        """The core's projections at each texture layer: [(1, hc, wc, c)]."""
        features = self.extractor.texture_features(viewed_tile)
        return [self._projected(core_slice(f, origin, core, self.strides[name]), layer)
                for layer, (name, f) in enumerate(zip(self.texture_layers, features))]

    def _projection_maps(self, picture, projections_of,
                         texture: bool = False) -> List[np.ndarray]:
        """A preprocessed picture's projections at each texture layer, assembled from the cores
        of its tiles: [(H/s, W/s, c)]; texture: a texture's (whose tiles never wrap)."""
        size = tuple(picture.shape[1:3])
        tiles = self._gray_tiles_over(size, texture)
        maps = [np.zeros((size[0] // self.strides[name], size[1] // self.strides[name],
                          self._channels(name)), np.float32) for name in self.texture_layers]
        for core, origin, bounds in tiles:
            found = projections_of(tf.constant(self._cut(picture, bounds)),
                                   tf.constant(origin, tf.int32), tf.constant(core, tf.int32))
            for name, layer_map, values in zip(self.texture_layers, maps, found):
                stride = self.strides[name]
                layer_map[core[0] // stride:core[1] // stride,
                          core[2] // stride:core[3] // stride] = values[0].numpy()
        return maps

    def _projection_bytes(self, size) -> int:
        """The bytes of a picture's projections over every texture layer (float32)."""
        return sum(4 * int(self._count(name, self._channels(name), size))
                   for name in self.texture_layers)

    def _sorted_picture(self, viewed, guidance=None,
                        in_file: bool = False) -> List[SortedProjections]:
        """A texture's sorted projections at each layer (M positions x c directions): over
        every position, or those where its mask (guidance, per layer (1, h, w, 1)) is at least
        one half; in a temporary file when `in_file`."""
        maps = self._projection_maps(viewed, self._texture_projections, texture=True)
        found = []
        while maps:  # a layer at a time, each map given back once its projections are sorted
            layer_map = maps.pop(0)
            values = (layer_map.reshape(-1, layer_map.shape[-1]) if guidance is None else
                      layer_map[guidance[len(found)][0, ..., 0] >= 0.5])
            del layer_map
            found.append(SortedProjections(values, in_file))
            del values
        return found

    def _sliced_targets(self, image):
        """The sliced Wasserstein part's value (unweighted) and, per texture layer, the map of
        each position's target and of its weight: the pass over the whole picture that the
        tiles' gradients need. Blended textures: their targets' weighted sum (the gradient of
        the weighted sum of distances, the shares summing to 1); regions: each position its
        region's target, weighted 1 / (the region's positions). A direction at a time, each
        map overwritten by its targets: the picture's projections are held once."""
        maps = self._projection_maps(image, self._projections)
        values, weights = [], []
        for layer, layer_map in enumerate(maps):
            if self.guidance is None:
                places = [(np.ones(layer_map.shape[:2], bool), share, sorted_target[layer])
                          for share, sorted_target in zip(self.weighting.blend,
                                                          self.sorted_targets)]
            else:
                places = [(self.guidance[layer][r, ..., 0] >= 0.5, 1.0, sorted_target[layer])
                          for r, sorted_target in enumerate(self.sorted_targets)]
            places = [(where, share, sorted_target, int(where.sum()))
                      for where, share, sorted_target in places if where.any()]
            weight = np.zeros(layer_map.shape[:2], np.float32)
            for where, share, _, count in places:
                weight[where] += share / count
            channels = layer_map.shape[-1]
            # The same for every direction of the layer: found once, not in each.
            covered, divisor = weight > 0, np.maximum(weight, 1e-30)
            outside = (~places[0][0] if len(places) == 1 and not places[0][0].all() else None)

            def one_direction(column, layer_map=layer_map, places=places, covered=covered,
                              divisor=divisor, outside=outside):
                """Writes the direction's targets over its projections; its share of the value."""
                projections, value = layer_map[..., column], 0.0
                if len(places) == 1:  # one texture (or region): a position's target is its own
                    where, share, sorted_target, count = places[0]
                    found = projections[where]
                    assigned = assign_by_rank(found, sorted_target.column(column))
                    if outside is not None:
                        projections[outside] = 0.0
                    projections[where] = assigned
                    return share * _squared_sum(found, assigned) / (count * channels)
                target = np.zeros(layer_map.shape[:2], np.float64)
                for where, share, sorted_target, count in places:
                    found = projections[where]
                    assigned = assign_by_rank(found, sorted_target.column(column))
                    value += share * _squared_sum(found, assigned) / (count * channels)
                    target[where] += share / count * assigned
                layer_map[..., column] = np.where(covered, target / divisor, 0.0)
                return value

            # The directions are independent and NumPy sorts without the interpreter's lock:
            # a few at once use the cores TensorFlow leaves idle here. Summed in their order.
            with ThreadPoolExecutor(min(SORTING_THREADS, os.cpu_count() or 1)) as pool:
                value = sum(pool.map(one_direction, range(channels)))
            weights.append(weight[..., None])
            values.append(value)
        return layer_mean(values, self.weighting.layer_weights), maps, weights

    def _map_tile(self, maps, origin, bounds):
        """The tile's part of picture-sized maps at each texture layer: [(1, h/s, w/s, k)]."""
        tiles = []
        for name, layer_map in zip(self.texture_layers, maps):
            stride = self.strides[name]
            top, left = origin[0] // stride, origin[1] // stride
            tiles.append(tf.constant(_window(
                layer_map[None], (top, top + (bounds[1] - bounds[0]) // stride),
                (left, left + (bounds[3] - bounds[2]) // stride))))
        return tiles

    def _colour_gradient(self, image_tile, content_tile, stored_targets, origin, core):
        """Gradient of the core's direct and content shares w.r.t. the tile, and the weighted
        shares."""
        recomputed_features = (self.extractor.outputs(content_tile, self.recomputed_layers)
                               if self.recomputed_layers else [])
        recomputed = dict(zip(self.recomputed_layers, recomputed_features))
        stored = dict(zip(self.stored_layers, stored_targets))
        with tf.GradientTape() as tape:
            tape.watch(image_tile)
            features = self.extractor.content_features(image_tile)
            shares = []
            for name, f in zip(self.content_layers, features):
                stride, count = self.strides[name], self._count(name, f.shape[-1])
                if name in recomputed:  # the whole tile's target: a masked sum, no core copies
                    shares.append(square_distance(f, recomputed[name], count,
                                                  core_mask(f, origin, core, stride)))
                else:  # a stored target covers the core only
                    shares.append(square_distance(core_slice(f, origin, core, stride),
                                                  stored[name], count))
            parts = self.weighting.weighted({
                "direct": square_distance(core_slice(image_tile, origin, core, 1),
                                          core_slice(content_tile, origin, core, 1),
                                          float(self.size[0] * self.size[1] * 3)),
                "content": layer_mean(shares)})
        return tape.gradient(parts["total"], image_tile), parts["direct"], parts["content"]

    def _gray_gradient(self, image_tile, texture_tile, gram_deltas, origin, core,
                       guidance=None):
        """Gradient of the core's raw share and of the Gram surrogate w.r.t. the tile, and the
        weighted raw share. texture_tile: (k, h, w, 3), the k textures' views there, blended
        after the network (with guidance, one per region, not blended)."""
        weighting = self.weighting
        regions = 1 if guidance is None else len(weighting.blend)
        raw_targets = None
        if weighting.uses_raw:
            features = self.extractor.texture_features(texture_tile)
            per_texture = [[f[k:k + 1] for f in features] for k in range(len(weighting.blend))]
            raw_targets = ([blended(per_texture, weighting.blend)] if guidance is None
                           else per_texture)
        with tf.GradientTape() as tape:
            tape.watch(image_tile)
            features = self.extractor.texture_features(weighting.texture_view(image_tile))
            masks = [core_mask(f, origin, core, self.strides[name])
                     for name, f in zip(self.texture_layers, features)]
            # Per region: its mask at each layer, its Gram deltas and its weight (the plain
            # objective is one region covering every position).
            if guidance is None:
                region_masks, deltas = [masks], [gram_deltas]
                weights = [[self._count(name, 1) for name in self.texture_layers]]
            else:
                region_masks = [[m * g[r:r + 1] for m, g in zip(masks, guidance)]
                                for r in range(regions)]
                deltas = [[d[r] for d in gram_deltas] for r in range(regions)]
                weights = [[max(float(w[r]), 1e-12) for w in self.region_weights]
                           for r in range(regions)]
            unweighted = {}
            if weighting.uses_raw:
                unweighted["raw"] = tf.add_n([layer_mean([
                    square_distance(f, target, self._count(name, f.shape[-1]), mask)
                    for name, f, target, mask in zip(self.texture_layers, features,
                                                     raw_targets[r], region_masks[r])])
                    for r in range(regions)])
            if weighting.uses_gram and weighting.sliced:
                # The weighted squared distance of the projections to their targets, whose
                # gradient is the sliced Wasserstein distance's (the targets held fixed).
                targets, target_weights = gram_deltas
                unweighted["texture"] = layer_mean([
                    square_distance(self._projected(f, layer), target, float(f.shape[-1]),
                                    mask * weight)
                    for layer, (f, target, weight, mask) in enumerate(zip(
                        features, targets, target_weights, masks))], weighting.layer_weights)
            elif weighting.uses_gram:
                unweighted["texture"] = tf.add_n([layer_mean([
                    gram_surrogate(f, delta, weight, mask)
                    for f, delta, weight, mask in zip(features, deltas[r], weights[r],
                                                      region_masks[r])],
                    weighting.layer_weights) for r in range(regions)])
            parts = weighting.weighted(unweighted)
        return tape.gradient(parts["total"], image_tile), parts["raw"]

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
        for core, origin, bounds in self.colour_tiles:
            features = self.extractor.outputs(self._content_tile(bounds), self.stored_layers)
            for name, f in zip(self.stored_layers, features):
                stride = self.strides[name]
                targets[name][:, core[0] // stride:core[1] // stride,
                              core[2] // stride:core[3] // stride] = core_slice(
                    f, origin, core, stride).numpy()
        return targets

    def _gram_accumulated(self, picture, sums_of=None, guidance=None,
                          texture: bool = True) -> List[tf.Tensor]:
        """The Gram matrices of a preprocessed picture (1, h, w, 3), tile by tile; sums_of: the
        compiled per-tile sums (default: of a picture already in the texture branch's view).
        With guidance (per layer, (regions, h/s, w/s, 1) of this picture), each region's guided
        Gram matrix: [(regions, c, c)]. texture: a texture's (whose tiles never wrap), not
        the picture's."""
        sums_of = sums_of or self._gram_sums
        size = tuple(picture.shape[1:3])
        totals = None
        tiles = self._gray_tiles_over(size, texture)
        for core, origin, bounds in tiles:
            arguments = [tf.constant(self._cut(picture, bounds)),
                         tf.constant(origin, tf.int32), tf.constant(core, tf.int32)]
            if guidance is not None:
                arguments.append(self._guidance_tile(guidance, origin, bounds))
            sums = sums_of(*arguments)
            totals = sums if totals is None else [t + s for t, s in zip(totals, sums)]
        if guidance is None:
            return [total / self._count(name, 1, size)
                    for name, total in zip(self.texture_layers, totals)]
        return [total / np.maximum(layer.sum(axis=(1, 2, 3)), 1e-12)[:, None, None]
                for total, layer in zip(totals, guidance)]

    # --- the objective ------------------------------------------------------------------------
    def value_and_gradient(self, image) -> Tuple[float, tf.Tensor, Dict[str, float]]:
        """(total, its gradient (1, H, W, 3), {part: weighted value, 'total'}) at `image`, a
        preprocessed (1, H, W, 3) picture (a tf.Variable or an array)."""
        if not isinstance(image, tf.Variable):  # a variable is cut tile by tile, not copied whole
            image = np.asarray(image, np.float32)
        weighting = self.weighting
        parts = dict.fromkeys(LOSS_PARTS, 0.0)
        gradient = np.zeros(tuple(image.shape), np.float32)
        if weighting.uses_gram and weighting.sliced:
            texture, targets, target_weights = self._sliced_targets(image)
            parts["texture"] = float(weighting.weighted({"texture": texture})["texture"])
            gram_deltas = (targets, target_weights)
        elif weighting.sliced:
            gram_deltas = ([np.zeros((1, 1, self._channels(n)), np.float32)
                            for n in self.texture_layers],
                           [np.zeros((1, 1, 1), np.float32) for _ in self.texture_layers])
        elif weighting.uses_gram:
            if self.guidance is None:
                grams = self._gram_accumulated(image, self._image_gram_sums, texture=False)
                texture = layer_mean([gram_distance(g, t) for g, t in
                                      zip(grams, self.gram_targets)], weighting.layer_weights)
            else:  # each region's loss, summed; a region no layer position reaches adds 0
                grams = self._gram_accumulated(image, self._image_guided_gram_sums,
                                               self.guidance, texture=False)
                texture = tf.reduce_sum(layer_mean([
                    tf.where(w > 0, gram_distance(g, t), 0.0) for g, t, w in
                    zip(grams, self.gram_targets, self.region_weights)],
                    weighting.layer_weights))
            parts["texture"] = float(weighting.weighted({"texture": texture})["texture"])
            gram_deltas = [g - t for g, t in zip(grams, self.gram_targets)]
        else:
            gram_deltas = [tf.zeros(t.shape) for t in self.gram_targets]
        pixel_parts = {}
        if weighting.weights["tv"] > 0:
            pixel_parts["tv"] = lambda picture: total_variation(picture, self.wrap)
        if weighting.weights["temporal"] > 0 and self.anchors:
            pixel_parts["temporal"] = lambda picture: anchored_distance(picture, self.anchors)
        for name, term in pixel_parts.items():
            picture = tf.convert_to_tensor(image)
            with tf.GradientTape() as tape:
                tape.watch(picture)
                value = weighting.weighted({name: term(picture)})[name][0]
            gradient += tape.gradient(value, picture).numpy()
            parts[name] = float(value)
        for core, origin, bounds in self.colour_tiles if self.runs_colour_step else ():
            stored = [tf.constant(self.stored_targets[name][
                :, core[0] // self.strides[name]:core[1] // self.strides[name],
                core[2] // self.strides[name]:core[3] // self.strides[name]])
                for name in self.stored_layers]
            tile_gradient, direct, content = self._colour_step(
                tf.constant(self._cut(image, bounds)), self._content_tile(bounds),
                stored, tf.constant(origin, tf.int32), tf.constant(core, tf.int32))
            _add_window(gradient, bounds, tile_gradient.numpy())
            parts["direct"] += float(direct[0])
            parts["content"] += float(content[0])
        for core, origin, bounds in self.gray_tiles if self.weighting.uses_texture else ():
            self._texture_tile_step(image, core, origin, bounds, gradient, parts, gram_deltas)
        parts["total"] = sum(parts[name] for name in LOSS_PARTS)
        return parts["total"], tf.constant(gradient), parts

    def _texture_tile_step(self, image, core, origin, bounds, gradient, parts,
                           gram_deltas) -> None:
        """Adds the texture branch's gradient over one tile (core and halo) and its raw share."""
        if self.weighting.sliced:  # the picture's target maps: the tile's part of each
            gram_deltas = [self._map_tile(maps, origin, bounds) for maps in gram_deltas]
        arguments = [tf.constant(self._cut(image, bounds)),
                     self._texture_views_tile(bounds), gram_deltas,
                     tf.constant(origin, tf.int32), tf.constant(core, tf.int32)]
        if self.guidance is not None:
            arguments.append(self._guidance_tile(self.guidance, origin, bounds))
        tile_gradient, raw = self._gray_step(*arguments)
        _add_window(gradient, bounds, tile_gradient.numpy())
        parts["raw"] += float(tf.reshape(raw, [-1])[0])
