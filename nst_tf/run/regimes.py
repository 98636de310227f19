"""The two ways a run maps the picture to what is optimised, behind one interface.

TileRegime (the original's): the content is cut by `split`, each tile resized so its longer side
is `max_dim` and matched against the same tile of the texture; all tiles are one batch, each with
its own statistics. PictureRegime (global statistics): the picture is one image whose objective
spans all of it, evaluated in tiles of bounded memory when it is large (objective/tiled.py); at
`max_dim 0` it runs coarse-to-fine from the original's working scale up to full resolution.

Each gives: the level plan, the batch of an image at a level, the objective at a level, the
gradient scale Adam uses there, the next level's start, the assembled picture, and which levels
report their steps.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable, List, Optional, Sequence, Tuple

import numpy as np
from nst_tf.tensorflow_quietly import tf  # started without its C++ log lines

from nst_tf.config import TransferConfig
from nst_tf.io.images import mirror_fit, periodic_resize, resize, to_uint8, upsampled_onto
from nst_tf.io.masks import at_size
from nst_tf.io.tiles import from_tile_batch, to_tile_batch
from nst_tf.network.vgg import PIXEL_MAX, PIXEL_MIN, deprocess, preprocess
from nst_tf.objective.edge_free import minimum_length, statistics_crop
from nst_tf.objective.tiled import TiledObjective
from nst_tf.objective.whole import WholeObjective
from nst_tf.run.levels import LevelProgress, RunPlan, Size, gradient_scale


@dataclasses.dataclass(frozen=True)
class Regions:
    """Spatial control: one mask (H, W) per texture at the content's size, and per texture None
    or the mask (at its aligned texture's size) of the part its statistics come from."""

    masks: List[np.ndarray]
    texture_masks: List[Optional[np.ndarray]]


@dataclasses.dataclass(frozen=True)
class TexturePhotos:
    """A seamless synthesis's textures whole (RGB (h, w, 3)) and their masks (None or (h, w)):
    each level's statistics are cut from them (edge_free.statistics_crop): the picture's own
    piece, more of the photo where the piece is too short to leave a few positions that see no
    edge at every layer, the photo itself where it is shorter than that (the objective
    mirror-extends it to the least length, edge_free.extended)."""

    photos: List[np.ndarray]
    masks: List[Optional[np.ndarray]]

    def at(self, size: Size, aligned: Size, extractor, wrap,
           texture_scale: float = 1.0) -> Tuple[List, List]:
        """(textures, masks) at a level of `size`, whose aligned textures are those of size
        `aligned` resized to it: the photos scaled alike, then cut, long enough to leave the
        edge-free positions once the caller scales them by `texture_scale`."""
        minimum = math.ceil(minimum_length(extractor.texture_layers, extractor.layer_names)
                            / texture_scale)
        factor = (size[0] / aligned[0], size[1] / aligned[1])

        def cut(image):
            return statistics_crop(scaled(image, factor), size, wrap, minimum)

        return ([cut(photo) for photo in self.photos],
                [None if mask is None else cut(mask[..., None])[..., 0] for mask in self.masks])


def whole_objective(extractor, content_tiles, texture_tiles: List, config: TransferConfig,
                    gram_tiles: Optional[List] = None, region_masks=None,
                    texture_region_masks=None, anchors=()) -> WholeObjective:
    """The compiled objective of a batch held at once (the default builder of a TileRegime)."""
    return WholeObjective(extractor, content_tiles, texture_tiles, config.loss_weights,
                          config.texture_layer_weights, gram_tiles,
                          gray_texture=config.gray_texture, blend=config.texture_blend,
                          jit_compile=config.jit_compile, region_masks=region_masks,
                          texture_region_masks=texture_region_masks, anchors=anchors,
                          texture_loss=config.texture_loss, seed=config.seed)


def wrap_of(config: TransferConfig, wraps: bool) -> Tuple[bool, bool]:
    """(rows, columns) that wrap for an image of the run: the picture's (config.wrap) when it is
    the picture's (the content, the start, a mask, an anchor), none for a texture's."""
    return config.wrap if wraps else (False, False)


def scaled(image: np.ndarray, scale) -> np.ndarray:
    """`image` (h, w, c) resized by `scale` (texture_scale; or a factor per axis, (rows,
    columns)); itself at 1."""
    rows, columns = scale if isinstance(scale, tuple) else (scale, scale)
    if (rows, columns) == (1.0, 1.0):
        return image
    return resize(image, (max(1, int(round(image.shape[0] * rows))),
                          max(1, int(round(image.shape[1] * columns)))), antialias=True)


ASSEMBLY_ROWS = 256


class TileRegime:
    """The original's per-tile statistics. content: (H, W, 3) RGB; textures: each aligned with
    the content; plan: the run's plan (levels.run_plan). build_objective(extractor,
    content_tiles, texture_tiles, config, gram_tiles): the objective of a level's batch (default
    whole_objective; the benchmark's eager 2018 reference supplies its own). regions: spatial
    control (each tile gets its part of every mask). anchors: a video frame's temporal targets
    at the content's size, [(RGB (H, W, 3), weights (H, W))]; each tile gets its part.
    photos: a seamless synthesis's textures whole, the statistics' source (TexturePhotos)."""

    def __init__(self, config: TransferConfig, content: np.ndarray, textures: Sequence,
                 plan: RunPlan, build_objective: Callable = whole_objective,
                 regions: Optional[Regions] = None, anchors: Sequence = (),
                 photos: Optional[TexturePhotos] = None):
        self.config, self.content, self.textures = config, content, list(textures)
        self.tile_size = plan.tile
        self.build_objective = build_objective
        self.regions = regions
        self.anchors = list(anchors)
        self.plan = plan
        self.photos = photos

    def batch(self, image: np.ndarray, size: Size, wraps: bool = True) -> np.ndarray:
        """`image`'s split tiles at `size`: (n, h, w, 3). wraps: whether `image` is the
        picture's (the content, the start, a mask: it wraps around where the picture does,
        config.wrap) or a texture's (it does not)."""
        return to_tile_batch(image, self.config.split, size, wrap_of(self.config, wraps))

    def _mask_batch(self, mask: np.ndarray, size: Size, scale: float = 1.0,
                    wraps: bool = True) -> np.ndarray:
        """A mask's split tiles at `size` (scaled like the Gram textures): (n, h, w, 1)."""
        tiles = self.batch(mask[..., None], size, wraps)
        return tiles if scale == 1.0 else np.stack([scaled(tile, scale) for tile in tiles])

    def objective(self, extractor, size: Size):
        texture_tiles = [self.batch(t, size, wraps=False) for t in self.textures]
        gram_tiles = statistics_masks = None
        scale = self.config.texture_scale
        if self.photos is not None:  # seamless synthesis: split 1x1, one tile
            photos, statistics_masks = self.photos.at(size, self.content.shape[:2], extractor,
                                                      self.config.wrap, scale)
            gram_tiles = [scaled(t, scale)[None] for t in photos]
            statistics_masks = [None if m is None else scaled(m[..., None], scale)[None]
                                for m in statistics_masks]
        elif scale != 1.0:
            gram_tiles = [np.stack([scaled(tile, scale) for tile in tiles])
                          for tiles in texture_tiles]
        regions = {}
        if self.regions is not None:
            regions = dict(
                region_masks=[self._mask_batch(m, size) for m in self.regions.masks],
                texture_region_masks=statistics_masks or [
                    None if m is None else self._mask_batch(m, size, scale, False)
                    for m in self.regions.texture_masks])
        if self.anchors:  # only then: the eager 2018 reference's builder takes none
            regions["anchors"] = [(self.batch(target, size), self._mask_batch(weights, size))
                                  for target, weights in self.anchors]
        return self.build_objective(extractor, self.batch(self.content, size), texture_tiles,
                                    self.config, gram_tiles, **regions)

    def gradient_scale(self, size: Size) -> float:
        """1: each tile's loss is the original's."""
        return 1.0

    def upsampled(self, image, size: Size):
        """The batch at a larger tile size: bilinear, as before (wrapping around where the
        picture does)."""
        return periodic_resize(image, size, "bilinear", wrap=self.config.wrap)

    def assembled(self, image) -> np.ndarray:
        """The tiles as they stand, at the tile size, put back together: uint8 (H, W, 3)."""
        tiles = deprocess(image)
        if tuple(tiles.shape[1:3]) != self.tile_size:
            tiles = periodic_resize(tiles, self.tile_size, "bilinear", wrap=self.config.wrap)
        return from_tile_batch(to_uint8(tiles.numpy()), self.config.split)

    def reporter(self, level: int, callback):
        """Only the last level reports; the coarse levels' time counts in its `seconds`."""
        return callback if level == len(self.plan) - 1 else None


class PictureRegime:
    """Global statistics: one picture of the split's total size (at max_dim 0, the content's)."""

    def __init__(self, config: TransferConfig, content: np.ndarray, textures: Sequence,
                 plan: RunPlan, regions: Optional[Regions] = None, anchors: Sequence = (),
                 photos: Optional[TexturePhotos] = None):
        self.config, self.content, self.textures = config, content, list(textures)
        self.tile_size = plan.tile
        self.regions = regions
        self.photos = photos  # a seamless synthesis's statistics' source (TexturePhotos)
        self.anchors = list(anchors)
        self.full: Size = (plan.output[1], plan.output[0])
        self.plan = plan
        self.progress = LevelProgress(self.plan)

    def batch(self, image: np.ndarray, size: Size, wraps: bool = True) -> np.ndarray:
        """`image` at `size` as a batch of one: (1, h, w, 3). wraps: whether `image` is the
        picture's (the content, the start, an anchor: it wraps around where the picture does,
        config.wrap) or a texture's (it does not)."""
        if tuple(image.shape[:2]) == tuple(size):
            return image[None]
        return resize(image, size, antialias=True,
                      wrap=wrap_of(self.config, wraps))[None]

    def objective(self, extractor, size: Size):
        """The tiled objective when the full picture is larger than one tile, else the whole
        one."""
        config = self.config
        content = self.batch(self.content, size)[0]
        raw_textures = gram_textures = [self.batch(t, size, wraps=False)[0]
                                        for t in self.textures]
        texture_masks = None if self.regions is None else self.regions.texture_masks
        if self.photos is not None:  # a seamless synthesis's statistics, from the photos
            gram_textures, texture_masks = self.photos.at(size, self.content.shape[:2],
                                                          extractor, config.wrap,
                                                          config.texture_scale)
        if config.texture_scale != 1.0:
            raw_textures = [mirror_fit(scaled(t, config.texture_scale), size)
                            for t in raw_textures]
            gram_textures = [scaled(t, config.texture_scale) for t in gram_textures]
        masks = None
        if self.regions is not None:
            masks = [at_size(m, size, config.wrap) for m in self.regions.masks]
            texture_masks = [None if m is None else at_size(m, t.shape[:2])
                             for m, t in zip(texture_masks, gram_textures)]
        anchors = [(self.batch(target, size)[0], at_size(weights, size, config.wrap))
                   for target, weights in self.anchors]
        if self.plan.tiled:  # the plan's (levels.run_plan): then every level is tiled
            return TiledObjective(extractor, content, raw_textures, gram_textures,
                                  config.loss_weights, config.texture_layer_weights,
                                  config.tile_size, gray_texture=config.gray_texture,
                                  blend=config.texture_blend, region_masks=masks,
                                  texture_region_masks=texture_masks, anchors=anchors,
                                  texture_loss=config.texture_loss, seed=config.seed)
        return whole_objective(
            extractor, content[None], [t[None] for t in raw_textures], config,
            None if gram_textures is raw_textures else [t[None] for t in gram_textures],
            region_masks=None if masks is None else [m[None, ..., None] for m in masks],
            texture_region_masks=None if masks is None else [
                None if m is None else m[None, ..., None] for m in texture_masks],
            anchors=[(target[None], weights[None, ..., None]) for target, weights in anchors])

    def gradient_scale(self, size: Size) -> float:
        """The picture's size in original tiles (levels.gradient_scale)."""
        return gradient_scale(size, self.full, self.tile_size, self.config.max_dim)

    def upsampled(self, image, size: Size):
        """The content at `size` plus the upsampled change the run has made so far, so the
        content's own fine detail comes back at each level instead of a blur; back-projected
        (images.upsampled_onto) so that the new picture downscaled is the current one again: the
        look made below is kept, only detail finer than the level below is new."""
        current = tuple(image.shape[1:3])
        return upsampled_onto(image, preprocess(self.batch(self.content, current)),
                              preprocess(self.batch(self.content, size)), wrap=self.config.wrap)

    def assembled(self, image) -> np.ndarray:
        """The picture at full size (mid-run at a coarser level: the content plus the change so
        far, upsampled): uint8 (H, W, 3)."""
        if tuple(image.shape[1:3]) != tuple(self.full):
            image = tf.clip_by_value(self.upsampled(image, self.full), PIXEL_MIN, PIXEL_MAX)
        # A band of rows at a time: whole, each step would be a picture-sized float copy (95 MiB
        # at 3840x2160), at the end of a run when everything else is still held.
        result = np.empty(tuple(image.shape[1:]), np.uint8)
        for top in range(0, result.shape[0], ASSEMBLY_ROWS):
            result[top:top + ASSEMBLY_ROWS] = to_uint8(
                deprocess(image[:, top:top + ASSEMBLY_ROWS])[0].numpy())
        return result

    def reporter(self, level: int, callback):
        """Every level reports, with its level and an estimate of the seconds left."""
        return None if callback is None else self.progress.reporter(level, callback)
