"""One texture transfer, set up and run: images, network, resolution levels, optimiser.

Two kinds of run share this class. Tile statistics (the original's): the content is cut by
`split`, each tile resized to `max_dim` and matched against its own texture tile, all tiles one
batch. Global statistics: the picture is one image whose objective spans all of it
(`tiled.TiledObjective` evaluates it in tiles of bounded memory when it is large), and at
`max_dim 0` it runs coarse-to-fine from the original's working scale up to full resolution.
"""
from __future__ import annotations

import dataclasses
import time
from typing import List, Optional, Tuple

import numpy as np
import tensorflow as tf

from nst_tf.config import MIN_TILE_PX, ORIGINAL_TILE_PX, TransferConfig
from nst_tf.errors import NSTError
from nst_tf.graph import TextureTransferGraph
from nst_tf.images import (from_tile_batch, mirror_fit, resize, tile_size, to_tile_batch,
                           upsampled_onto)
from nst_tf.inputs import ImageLike, Inputs, load_inputs
from nst_tf.lbfgs import LbfgsOptimization
from nst_tf.optimize import AdamOptimization, Callback, StepReport
from nst_tf.reference import ReferenceGraph
from nst_tf.tiled import TiledObjective
from nst_tf.vgg import FeatureExtractor, PIXEL_MAX, PIXEL_MIN, deprocess, preprocess, vgg


class TextureTransfer:
    """One transfer, set up and ready to run: images, network, and the resolution levels.

    content, texture: paths or arrays (any size; the texture is resized to the content's size).
    reference=True computes the objective the 2018 notebooks' way (eager steps, both halves of
    each batch through the whole network): the same numbers, slower; for benchmarks (Adam only).
    network: a VGG19 already built from the same weights (and seed, for random weights), to
    reuse across transfers (the batch runner); None builds one.
    inputs: what load_inputs(content, texture, config) returned, when the caller has already
    checked them (the command line does so before TensorFlow starts); None reads them here.
    """

    def __init__(self, content: ImageLike, texture: ImageLike,
                 config: Optional[TransferConfig] = None, reference: bool = False,
                 network=None, inputs: Optional[Inputs] = None):
        self.config = config = config or TransferConfig()
        if reference and (config.optimizer != "adam" or config.coarse_levels
                          or config.global_statistics or config.mode != "texture"
                          or config.tv_weight or not config.gray_texture
                          or isinstance(texture, (list, tuple)) and len(texture) > 1):
            raise NSTError("the reference path runs the original Adam loop of the texture mode "
                           "(one texture, gray, no TV) on tiles only")
        self.reference = reference
        # Every input is read and checked before the network is built.
        self.inputs = inputs = inputs or load_inputs(content, texture, config)
        self.content = inputs.content
        # Each texture aligned with the content: resized to it (the original), or for synthesis
        # cropped or mirror-extended to the output, so its features keep their own size.
        self.textures = [mirror_fit(t, self.content.shape[:2]) if config.mode == "synthesize"
                         else resize(t, self.content.shape[:2], antialias=True)
                         for t in inputs.textures]
        self.texture = self.textures[0]
        self.tile_size = tile_size(self.content.shape[:2], config.split, config.max_dim)
        self.global_statistics = config.global_statistics
        if self.global_statistics:
            columns, rows = config.split
            self.picture_size = (rows * self.tile_size[0], columns * self.tile_size[1])
            self.levels, self.level_steps = self._picture_levels()
        else:
            self.levels = self._level_sizes()
            self.level_steps = ([config.coarse_iterations] * (len(self.levels) - 1)
                                + [config.steps])
        initial = self._initial_image()
        if network is None:
            network = vgg(config.network, inputs.weights_path, config.seed)
        self.extractor = FeatureExtractor(network,
                                          config.texture_layers, config.content_layers)
        self.image = tf.Variable(preprocess(self._batch(initial, self.levels[0])), name="image")
        self.level = 0
        self.graph = self._graph(self.levels[0])

    # --- levels --------------------------------------------------------------------------------
    def _coarser(self, size: Tuple[int, int], levels: int) -> List[Tuple[int, int]]:
        """`size` halved `levels` times down to 1 time, coarsest first; under 32 px left out."""
        sizes = []
        for level in range(levels, 0, -1):
            smaller = (int(round(size[0] / 2 ** level)), int(round(size[1] / 2 ** level)))
            if min(smaller) >= MIN_TILE_PX:
                sizes.append(smaller)
        return sizes

    def _level_sizes(self) -> List[Tuple[int, int]]:
        """Tile sizes from coarsest to full; coarse levels with tiles under 32 px are left out."""
        return self._coarser(self.tile_size, self.config.coarse_levels) + [self.tile_size]

    def _picture_levels(self) -> Tuple[List[Tuple[int, int]], List[int]]:
        """Global statistics: (picture sizes coarsest first, steps at each).

        At max_dim 0 the look is made at the original's working scale (`start_dim`, with the full
        step count) and refined at doublings of it up to full size with `refine_iterations`
        each; coarse_levels adds halvings below the first level, as on tiles.
        """
        config, full = self.config, self.picture_size
        first = full
        if config.max_dim == 0 and max(full) > config.start_dim:
            scale = config.start_dim / max(full)
            first = (max(1, int(round(full[0] * scale))), max(1, int(round(full[1] * scale))))
        if min(first) < MIN_TILE_PX:
            raise NSTError(f"start_dim {config.start_dim} makes a first level of "
                           f"{first[1]}x{first[0]} px; it needs at least {MIN_TILE_PX} px a side")
        above = []
        factor = 2
        while max(first) * factor < max(full):
            above.append((int(round(first[0] * factor)), int(round(first[1] * factor))))
            factor *= 2
        if first != full:
            above.append(full)
        coarse = self._coarser(first, config.coarse_levels)
        sizes = coarse + [first] + above
        steps = ([config.coarse_iterations] * len(coarse) + [config.steps]
                 + [config.refine_iterations] * len(above))
        return sizes, steps

    def _initial_image(self) -> np.ndarray:
        init = self.config.init
        if init == "content":
            return self.content
        if init == "noise":
            rng = np.random.default_rng(self.config.seed)
            return rng.uniform(0.0, 255.0, self.content.shape).astype(np.float32)
        return self.inputs.init

    def _batch(self, image: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
        """The run's batch of `image` at a level: its split tiles, or the whole picture."""
        if self.global_statistics:
            if tuple(image.shape[:2]) == tuple(size):
                return image[None]
            return resize(image, size, antialias=True)[None]
        return to_tile_batch(image, self.config.split, size)

    def _scaled(self, image: np.ndarray) -> np.ndarray:
        """`image` (h, w, 3) resized by texture_scale."""
        scale = self.config.texture_scale
        return resize(image, (max(1, int(round(image.shape[0] * scale))),
                              max(1, int(round(image.shape[1] * scale)))), antialias=True)

    def _graph(self, size: Tuple[int, int]):
        config = self.config
        texture_options = dict(gray_texture=config.gray_texture, blend=config.texture_blend)
        scaled = config.texture_scale != 1.0
        if not self.global_statistics:
            texture_tiles = [self._batch(t, size) for t in self.textures]
            if self.reference:
                return ReferenceGraph(self.extractor, self._batch(self.content, size),
                                      texture_tiles[0], config.loss_weights,
                                      config.texture_layer_weights)
            gram_tiles = ([np.stack([self._scaled(tile) for tile in tiles])
                           for tiles in texture_tiles] if scaled else None)
            return TextureTransferGraph(self.extractor, self._batch(self.content, size),
                                        texture_tiles, config.loss_weights,
                                        config.texture_layer_weights, gram_tiles,
                                        **texture_options)
        content = self._batch(self.content, size)[0]
        gram_textures = [self._batch(t, size)[0] for t in self.textures]
        if scaled:
            gram_textures = [self._scaled(t) for t in gram_textures]
            raw_textures = [mirror_fit(t, size) for t in gram_textures]
        else:
            raw_textures = gram_textures
        if config.tile_size and max(size) > config.tile_size:
            return TiledObjective(self.extractor, content, raw_textures, gram_textures,
                                  config.loss_weights, config.texture_layer_weights,
                                  config.tile_size, **texture_options)
        return TextureTransferGraph(
            self.extractor, content[None], [t[None] for t in raw_textures], config.loss_weights,
            config.texture_layer_weights,
            [t[None] for t in gram_textures] if scaled else None, **texture_options)

    def gradient_scale(self, size: Tuple[int, int]) -> float:
        """What Adam multiplies the gradient by at a level of `size` (1 on tiles).

        Every loss is a mean over positions, so a pixel's gradient shrinks with the pixel count.
        The original's Adam (epsilon 0.1, which its gradients are not far above) took its steps
        on tiles of `max_dim` (512 px), summing their losses; a global picture covers several
        such tiles, and with a bare mean its steps would be several times too short (at 1024x576
        the first step moved pixels by a thousandth of a level). So the picture is optimised as
        the sum over the tiles it covers: the gradient times pixels / (one tile's pixels), which
        keeps a pixel's gradient, and so Adam's steps, the original's at every level.
        """
        if not self.global_statistics:
            return 1.0
        if self.config.max_dim:
            tile_pixels = self.tile_size[0] * self.tile_size[1]
        else:
            full = self.picture_size
            tile_pixels = full[0] * full[1] * (ORIGINAL_TILE_PX / max(full)) ** 2
        return size[0] * size[1] / tile_pixels

    def _optimization(self, iterations: int, previous=None):
        """The optimiser for this level; Adam continues the previous level's state."""
        if self.config.optimizer == "lbfgs":
            return LbfgsOptimization(self.graph, self.image, self.config, iterations)
        return AdamOptimization(self.graph, self.image, self.config, iterations,
                                compiled=not self.reference, previous=previous,
                                gradient_scale=self.gradient_scale(self.levels[self.level]))

    def _upsampled(self, size: Tuple[int, int]):
        """The image at a larger `size`.

        Tiles: bilinear, as before. Global statistics: the content at that size plus the
        upsampled change the run has made so far, so the content's own fine detail comes back at
        each level instead of a blur; then back-projected (UPSAMPLE_ROUNDS): each round adds the
        upsampled difference between the current picture and the new one downscaled, so that
        the new picture downscaled is the current one again. The look made below is kept; only
        detail finer than the level below is new (images.upsampled_onto).
        """
        if not self.global_statistics:
            return tf.image.resize(self.image, size, method="bilinear")
        current = tuple(self.image.shape[1:3])
        return upsampled_onto(self.image, preprocess(self._batch(self.content, current)),
                              preprocess(self._batch(self.content, size)))

    def _next_level(self) -> None:
        """Upsamples the image to the next level's size and builds that level's graph."""
        self.level += 1
        size = self.levels[self.level]
        upsampled = self._upsampled(size)
        self.graph = None  # frees the previous level's targets before the next one's are made
        self.image = tf.Variable(tf.clip_by_value(upsampled, PIXEL_MIN, PIXEL_MAX), name="image")
        self.graph = self._graph(size)

    def run(self, callback: Optional[Callback] = None) -> np.ndarray:
        """Optimises and returns the result as uint8 RGB.

        Tiles: callback(StepReport) follows each full-resolution step; coarse levels report
        nothing, but their time counts in each report's `seconds`. Global statistics: every level
        reports, with its `level`, the number of `levels` and an estimate of the seconds left.
        """
        start = time.perf_counter()
        previous = None
        progress = _Progress(self.levels, self.level_steps)
        while True:
            steps = self.level_steps[self.level]
            last = self.level == len(self.levels) - 1
            level_callback = callback if last else None
            if self.global_statistics and callback is not None:
                level_callback = progress.reporter(self.level, callback)
            self.optimization = self._optimization(steps, previous)
            self.optimization.run(level_callback, start)
            if last:
                break
            previous = self.optimization
            self._next_level()
        return self.result()

    def keep_best(self) -> None:
        """After an interrupt: the current level's image goes back to the best it has seen (the
        lowest total); result() then gives that picture."""
        optimization = getattr(self, "optimization", None)
        if optimization is not None and optimization.image is self.image:
            optimization.restore_best()

    def result(self) -> np.ndarray:
        """The image as it stands now, at full resolution, tiles put back together: uint8 (H, W, 3).

        Mid-run at a coarser level of a global run, the full-size picture is the content plus
        the change so far, upsampled (see _upsampled).
        """
        if self.global_statistics:
            full = self.picture_size
            image = self.image
            if tuple(image.shape[1:3]) != tuple(full):
                image = tf.clip_by_value(self._upsampled(full), PIXEL_MIN, PIXEL_MAX)
            return self._coloured(np.round(deprocess(image)[0].numpy()).astype(np.uint8))
        tiles = deprocess(self.image)
        if tuple(tiles.shape[1:3]) != self.tile_size:
            tiles = tf.image.resize(tiles, self.tile_size, method="bilinear")
        pixels = np.round(np.clip(tiles.numpy(), 0, 255)).astype(np.uint8)
        return self._coloured(from_tile_batch(pixels, self.config.split))

    def _coloured(self, image: np.ndarray) -> np.ndarray:
        """original_colors: the result's luminance with the content's chroma (YIQ), else as is."""
        if not self.config.original_colors:
            return image
        content = resize(self.content, image.shape[:2], antialias=True)
        return original_colors(image, content)


def original_colors(result: np.ndarray, content: np.ndarray) -> np.ndarray:
    """uint8 RGB (h, w, 3): Y (luminance) of `result`, I and Q (chroma) of `content` (same size,
    RGB 0..255); the luminance-only transfer of Gatys et al., "Preserving Color in Neural
    Artistic Style Transfer" (2016)."""
    result_yiq = tf.image.rgb_to_yiq(np.asarray(result, np.float32) / 255.0)
    content_yiq = tf.image.rgb_to_yiq(np.asarray(content, np.float32) / 255.0)
    mixed = tf.concat([result_yiq[..., :1], content_yiq[..., 1:]], axis=-1)
    rgb = tf.image.yiq_to_rgb(mixed).numpy() * 255.0
    return np.round(np.clip(rgb, 0, 255)).astype(np.uint8)


class _Progress:
    """Adds level, levels and an estimate of the seconds left to each report of a global run.

    The estimate: seconds per step per pixel, measured on the current level once it has made a
    step (before that, the last level's), times the pixels and steps still to come. None until
    one step has been timed.
    """

    def __init__(self, levels, level_steps):
        self.pixels = [h * w for h, w in levels]
        self.level_steps = level_steps
        self.seconds_per_pixel_step = None

    def reporter(self, level: int, callback: Callback) -> Callback:
        begun = {"at": None}

        def report(step_report: StepReport) -> None:
            if begun["at"] is None:
                begun["at"] = step_report.seconds
            elif step_report.step:
                self.seconds_per_pixel_step = ((step_report.seconds - begun["at"])
                                               / step_report.step / self.pixels[level])
            remaining = None
            if self.seconds_per_pixel_step is not None:
                left = [(self.level_steps[level] - step_report.step - 1, self.pixels[level])] + list(
                    zip(self.level_steps[level + 1:], self.pixels[level + 1:]))
                remaining = self.seconds_per_pixel_step * sum(steps * pixels
                                                              for steps, pixels in left)
            callback(dataclasses.replace(step_report, level=level, levels=len(self.pixels),
                                         remaining_s=remaining))
        return report
