"""One transfer, as a short pipeline: inputs, a plan of levels, and for each level the objective
and the optimiser, then the next level's start, and the assembled result.

How the picture maps to what is optimised (the original's tiles, or one picture with global
statistics) is the regime's business (run/regimes.py); the run only walks the levels.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

import numpy as np
from nst_tf.tensorflow_quietly import tf  # started without its C++ log lines

from nst_tf.io.images import mirror_fit, resize
from nst_tf.network.cache import shared_networks
from nst_tf.network.vgg import PIXEL_MAX, PIXEL_MIN, preprocess
from nst_tf.optimize.adam import AdamOptimization
from nst_tf.optimize.lbfgs import LbfgsOptimization
from nst_tf.io.masks import at_size
from nst_tf.run.colours import matched_colours, original_colors
from nst_tf.run.request import Prepared
from nst_tf.run.regimes import (PictureRegime, Regions, TexturePhotos, TileRegime,
                                whole_objective)
from nst_tf.steps import Callback


class TextureTransfer:
    """One transfer, set up and ready to run: images, network, and the resolution levels. The
    engine's (run/engine.py), which runs it with its checks, stop and outcome; every front end
    and the Python calls go through the engine, and this is built only from what prepare() made
    (run/request.py: the inputs read and checked, the plan), so it neither checks nor plans.

    network: a VGG already built from the same weights (and seed, for random weights), to reuse
    across transfers; None takes the process's (network/cache.py). build_objective: per-tile
    statistics only, the objective of a level's batch (regimes.whole_objective; the benchmark's
    eager 2018 reference supplies its own). The request's anchors are a video frame's temporal
    targets at the content's size, [(RGB (H, W, 3), weights (H, W) in [0, 1])]
    (terms.anchored_distance), weighed by config.temporal_weight.
    """

    def __init__(self, prepared: Prepared, network=None,
                 build_objective: Optional[Callable] = None):
        self.config = config = prepared.request.config
        inputs, plan, anchors = prepared.inputs, prepared.plan, prepared.request.anchors
        self.inputs = inputs
        self.content = inputs.content
        textures = inputs.textures
        if config.color_transfer == "histogram":
            textures = [matched_colours(t, self.content) for t in textures]
        size = self.content.shape[:2]
        # Each texture aligned with the content: resized to it (the original), or for synthesis
        # cropped or mirror-extended to the output, so its features keep their own size; its
        # mask, if any, alike.
        photos = None
        if config.mode == "synthesize":
            self.textures = [mirror_fit(t, size) for t in textures]
            texture_masks = [None if m is None else mirror_fit(m[..., None], size)[..., 0]
                             for m in inputs.texture_masks or []]
            if any(config.wrap):  # the statistics from the photos beyond that piece
                photos = TexturePhotos(list(textures), list(inputs.texture_masks
                                                            or [None] * len(textures)))
        else:
            # A texture already at the content's size is kept as it is, not copied.
            self.textures = [t if t.shape[:2] == size else resize(t, size, antialias=True)
                             for t in textures]
            texture_masks = [None if m is None else at_size(m, size)
                             for m in inputs.texture_masks or []]
        regions = (None if inputs.region_masks is None else
                   Regions([at_size(m, size, config.wrap) for m in inputs.region_masks],
                           texture_masks or [None] * len(inputs.region_masks)))
        self.texture = self.textures[0]
        self.plan = plan
        self.tile_size = self.plan.tile
        if config.global_statistics:
            self.regime = PictureRegime(config, self.content, self.textures, self.plan, regions,
                                        anchors, photos)
        else:
            self.regime = TileRegime(config, self.content, self.textures, self.plan,
                                     build_objective or whole_objective, regions, anchors,
                                     photos)
        if network is None:  # the process's networks, kept for the next run
            network = shared_networks().network(config, inputs.weights_path)
        self.precision = config.compute_precision
        self.extractor = shared_networks().extractor(network, config.texture_layers,
                                                     config.content_layers, self.precision)
        self.level = 0
        # Seamless: the network's windows wrap around the picture's edges (config.seamless).
        self.extractor = self.extractor.wrapped(config.wrap)
        self.image = tf.Variable(preprocess(self.regime.batch(self._initial_image(),
                                                              self.plan.sizes[0])), name="image")
        self.objective = self.regime.objective(self.extractor, self.plan.sizes[0])
        self.optimization = None

    def _initial_image(self) -> np.ndarray:
        if self.inputs.init is not None:  # a start image (config.init's file, or the caller's)
            return self.inputs.init
        init = self.config.init
        if init == "content":
            return self.content
        if init == "noise":
            rng = np.random.default_rng(self.config.seed)
            return rng.uniform(0.0, 255.0, self.content.shape).astype(np.float32)
        return self.inputs.init

    def _optimization(self, previous=None):
        """The optimiser for this level; Adam continues the previous level's state."""
        steps = self.plan.steps[self.level]
        if self.config.optimizer == "lbfgs":
            return LbfgsOptimization(self.objective, self.image, self.config, steps)
        return AdamOptimization(self.objective, self.image, self.config, steps, previous=previous,
                                gradient_scale=self.regime.gradient_scale(
                                    self.plan.sizes[self.level]))

    def _next_level(self) -> None:
        """Carries the image up to the next level's size and builds that level's objective."""
        self.level += 1
        size = self.plan.sizes[self.level]
        upsampled = self.regime.upsampled(self.image, size)
        # Frees the previous level's targets before the next one's are made (the finished
        # optimiser is kept only for its state, which the next level's takes over).
        self.objective = self.optimization.objective = None
        self.image = tf.Variable(tf.clip_by_value(upsampled, PIXEL_MIN, PIXEL_MAX), name="image")
        self.objective = self.regime.objective(self.extractor, size)

    def run(self, callback: Optional[Callback] = None) -> np.ndarray:
        """Optimises and returns the result as uint8 RGB.

        Tiles: callback(StepReport) follows each full-resolution step; coarse levels report
        nothing, but their time counts in each report's `seconds`. Global statistics: every level
        reports, with its `level`, the number of `levels` and an estimate of the seconds left.
        """
        start = time.perf_counter()
        previous = None
        while True:
            self.optimization = self._optimization(previous)
            # The new level has taken the previous one's optimiser state: that level's image,
            # moments and objective go now, not at the end of this level.
            previous = None
            self.optimization.run(self.regime.reporter(self.level, callback), start)
            if self.level == len(self.plan) - 1:
                break
            previous = self.optimization
            self._next_level()
        return self.result()

    def keep_best(self) -> None:
        """After an interrupt: the current level's image goes back to the best it has seen (the
        lowest total); result() then gives that picture."""
        if self.optimization is not None and self.optimization.image is self.image:
            self.optimization.restore_best()

    def result(self) -> np.ndarray:
        """The image as it stands now, at full resolution: uint8 (H, W, 3)."""
        image = self.regime.assembled(self.image)
        if self.config.color_transfer != "luminance":
            return image
        return original_colors(image, resize(self.content, image.shape[:2], antialias=True))
