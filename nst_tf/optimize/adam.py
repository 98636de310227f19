"""The original's optimiser: Adam steps on the pixels, clipped to the valid range, with its
plateau schedule (or plain gradient steps with exponential decay, the same loop).

An objective is anything with `value_and_gradient(image) -> (summed total, gradient, {part:
value})`: the whole-batch evaluation (one compiled call) or the tiled one (tiles run from
Python); the optimiser does not know which.
"""
from __future__ import annotations

import contextlib
import time
from typing import Optional, Tuple

import numpy as np
from nst_tf.tensorflow_quietly import tf  # started without its C++ log lines

from nst_tf.config import TransferConfig
from nst_tf.io.images import periodic_resize
from nst_tf.network.vgg import PIXEL_MAX, PIXEL_MIN
from nst_tf.optimize.schedules import ExponentialDecay, PlateauSchedule
from nst_tf.optimize.stopping import PictureSettled, earliest_stop
from nst_tf.objective.compiled import shared_evaluations
from nst_tf.steps import Callback, make_report, non_finite


class Adam:
    """Adam on one variable, with its learning rate in a tf.Variable so a schedule can change it
    between steps of a compiled graph without retracing (the formula of Keras' and TF1's Adam)."""

    def __init__(self, variable: tf.Variable, learning_rate: float, beta_1: float,
                 beta_2: float, epsilon: float):
        self.variable = variable
        self.learning_rate = tf.Variable(learning_rate, dtype=tf.float32, trainable=False)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.iterations = tf.Variable(0.0, dtype=tf.float32, trainable=False)
        self.m = tf.Variable(tf.zeros_like(variable), trainable=False)
        self.v = tf.Variable(tf.zeros_like(variable), trainable=False)

    def carry_from(self, previous: "Adam", gradient_ratio: Optional[float] = None,
                   wrap: Tuple[bool, bool] = (False, False)) -> None:
        """Continues `previous` (the same run one coarse-to-fine level down) on this larger image.

        The moments are upsampled bilinearly (wrapping around on the picture's wrapped axes,
        seamless) and scaled as the gradient scales: every loss is a mean over positions, so a
        pixel's gradient shrinks with the pixel count (m by the ratio, v by its square;
        gradient_ratio, when given, is the ratio of a pixel's gradient here to there instead).
        The step count (bias correction) and learning rate go on unchanged.
        """
        size = tuple(self.variable.shape[1:3])
        ratio = gradient_ratio if gradient_ratio is not None else (
            previous.variable.shape[1] * previous.variable.shape[2]) / (size[0] * size[1])
        self.m.assign(periodic_resize(previous.m, size, "bilinear", wrap=wrap) * ratio)
        self.v.assign(tf.maximum(periodic_resize(previous.v, size, "bilinear", wrap=wrap), 0.0)
                      * ratio ** 2)
        self.iterations.assign(previous.iterations)
        self.learning_rate.assign(previous.learning_rate)

    # The variables of its own a compiled update takes as its input (objective/compiled.py);
    # the variable it steps is the image, passed once.
    STATE = ("learning_rate", "iterations", "m", "v")

    def structure(self) -> tuple:
        """What an update's graph depends on besides its variables."""
        return ("adam", self.beta_1, self.beta_2, self.epsilon)

    def apply(self, gradient) -> None:
        t = self.iterations.assign_add(1.0)
        alpha = (self.learning_rate * tf.sqrt(1.0 - tf.pow(self.beta_2, t))
                 / (1.0 - tf.pow(self.beta_1, t)))
        self.m.assign_add((gradient - self.m) * (1.0 - self.beta_1))
        self.v.assign_add((tf.square(gradient) - self.v) * (1.0 - self.beta_2))
        self.variable.assign_sub(alpha * self.m / (tf.sqrt(self.v) + self.epsilon))


class GradientDescent:
    """Plain gradient steps (Keras' style example's SGD): variable -= learning_rate * gradient.
    The same interface as Adam: a learning-rate variable, carry_from, apply."""

    def __init__(self, variable: tf.Variable, learning_rate: float):
        self.variable = variable
        self.learning_rate = tf.Variable(learning_rate, dtype=tf.float32, trainable=False)

    def carry_from(self, previous: "GradientDescent", gradient_ratio: Optional[float] = None,
                   wrap: Tuple[bool, bool] = (False, False)) -> None:
        """No state but the rate, which goes on unchanged."""
        self.learning_rate.assign(previous.learning_rate)

    STATE = ("learning_rate",)

    def structure(self) -> tuple:
        return ("sgd",)

    def apply(self, gradient) -> None:
        self.variable.assign_sub(self.learning_rate * gradient)


class AdamOptimization:
    """The faithful optimiser: Adam steps on the pixels, clipped to the valid range, with the
    plateau schedule applied to the optimiser between steps (optimizer 'sgd': plain gradient
    steps with exponential decay instead, the same loop).

    objective: gives value_and_gradient(image) (one compiled graph, eager for the 2018
    notebooks' reference, or tile by tile); the update is one more compiled graph. previous: the
    Adam run of the coarser level before this one (coarse-to-fine), whose moments and rate this
    one continues. gradient_scale: the gradient is multiplied by this before the update (global
    statistics: the picture's size in original tiles, see run.levels.gradient_scale).
    """

    def __init__(self, objective, image: tf.Variable, config: TransferConfig, iterations: int,
                 previous: Optional["AdamOptimization"] = None, gradient_scale: float = 1.0):
        self.objective, self.image, self.config = objective, image, config
        self.iterations = iterations
        self.gradient_scale = float(gradient_scale)
        if config.optimizer == "sgd":
            self.adam = GradientDescent(image, config.learning_rate)
            self.schedule = ExponentialDecay(config.learning_rate, config.decay_steps,
                                             config.decay_rate)
        else:
            self.adam = Adam(image, config.learning_rate, config.beta_1, config.beta_2,
                             config.epsilon)
            self.schedule = PlateauSchedule.from_config(config)
        if previous is not None:
            pixels = image.shape[1] * image.shape[2]
            previous_pixels = previous.image.shape[1] * previous.image.shape[2]
            self.adam.carry_from(previous.adam, previous_pixels / pixels * self.gradient_scale
                                 / previous.gradient_scale, config.wrap)
            # The losses of another size are not comparable: the plateau history starts anew.
            self.schedule.learning_rate = previous.schedule.learning_rate
        self._pixel_min = tf.constant(PIXEL_MIN)
        self._pixel_max = tf.constant(PIXEL_MAX)
        # The image with the lowest total seen, kept on the device: an interrupted run writes it,
        # and a run whose loss stops being finite goes back to it.
        self.best = tf.Variable(image, trainable=False)
        self.best_total = tf.Variable(np.inf, dtype=tf.float32, trainable=False)
        # One compiled update per structure, kept for the next run (objective/compiled.py).
        self._update = shared_evaluations().bound_method(self, "_keep_and_update")
        # The rule keeps a copy of the image, so it is made only where it can stop the run: a
        # level with more steps than the rule's earliest stop (not full resolution's short
        # refinement levels, where the copy would be the largest).
        earliest = max(earliest_stop(config.beta_1 if config.optimizer == "adam" else 0.0),
                       2 * config.settle_every)
        self.settled = (PictureSettled(image, config.settle_fraction, config.settle_every,
                                       earliest)
                        if config.settle_fraction > 0 and iterations > earliest else None)
        self.stopped_by = None  # why the run ended before its steps: 'plateau' or 'settled'
        self.updates = 0  # updates applied so far

    def state(self) -> dict:
        """The variables an update reads and writes: the image, the best image and its total,
        the optimiser's."""
        return {"image": self.image, "best": self.best, "best_total": self.best_total,
                "optimizer": {name: getattr(self.adam, name) for name in self.adam.STATE}}

    @contextlib.contextmanager
    def bound(self, state: dict):
        """The update's variables are `state`'s inside (a trace's symbolic inputs)."""
        kept = self.state()
        self._set(state)
        try:
            yield
        finally:
            self._set(kept)

    def _set(self, state: dict) -> None:
        self.image, self.best, self.best_total = (state["image"], state["best"],
                                                  state["best_total"])
        self.adam.variable = self.image  # one handle of the image in a graph, not two
        for name, value in state["optimizer"].items():
            setattr(self.adam, name, value)

    def compiled_key(self) -> tuple:
        """What the update's graph depends on besides its variables: the optimiser's constants,
        the gradient's scale, the image's shape."""
        return (self.adam.structure(), self.gradient_scale, tuple(self.image.shape))

    def _keep_and_update(self, summed, gradient):
        """Keeps the image if it is the best yet, then one update, clipped to the valid range."""
        improved = summed < self.best_total  # a NaN total never is
        self.best.assign(tf.where(improved, self.image, self.best))
        self.best_total.assign(tf.where(improved, summed, self.best_total))
        self.adam.apply(gradient * self.gradient_scale if self.gradient_scale != 1.0 else gradient)
        self.image.assign(tf.clip_by_value(self.image, self._pixel_min, self._pixel_max))

    def restore_best(self) -> None:
        """Puts the best image seen back into the image variable."""
        self.image.assign(self.best)

    def step(self):
        """One evaluation and one update; returns the parts at the image before the update."""
        summed, gradient, parts = self.objective.value_and_gradient(self.image)
        # A Python float (the tiled total) as a tensor: one trace, not one per value.
        self._update(tf.convert_to_tensor(summed, tf.float32), gradient)
        return parts

    def run(self, callback: Optional[Callback] = None, start: Optional[float] = None) -> int:
        """Runs up to `iterations` steps; returns the number of updates applied.

        start: the perf_counter() time that reports count seconds from (default: now).
        """
        start = time.perf_counter() if start is None else start
        updates = 0
        for updates, step in enumerate(range(self.iterations), start=1):
            learning_rate = self.schedule.learning_rate
            parts = {name: float(value) for name, value in self.step().items()}
            self.updates = updates
            if not np.isfinite(parts["total"]):
                self.restore_best()
                raise non_finite(step, parts)
            if callback is not None:
                callback(make_report(step, parts, learning_rate, start))
            next_rate = self.schedule.update(step, parts["total"])
            if next_rate != learning_rate:
                self.adam.learning_rate.assign(next_rate)
            if self.schedule.stopped:
                self.stopped_by = "plateau"
                break
            if self.settled is not None and self.settled.update(updates):
                self.stopped_by = "settled"
                break
        return updates
