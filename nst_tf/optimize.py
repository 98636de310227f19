"""Optimising the image: the compiled Adam step, clipping, the plateau schedule, progress reports."""
from __future__ import annotations

import collections
import dataclasses
import time
from typing import Callable, Dict, Optional

import numpy as np
import tensorflow as tf

from nst_tf.config import TransferConfig
from nst_tf.errors import NonFiniteLoss
from nst_tf.graph import LOSS_PARTS
from nst_tf.vgg import PIXEL_MAX, PIXEL_MIN


@dataclasses.dataclass(frozen=True)
class StepReport:
    """One optimisation step, as recorded in the metrics file.

    Each loss is the mean over tiles of a weighted part, evaluated before update `step` (step 0 is
    the initial image); `lr` is the learning rate that update used (None for L-BFGS, whose steps
    are evaluations); `seconds` is the wall time since the first step began. Coarse-to-fine runs
    that report every level say which (`level` of `levels`, from 0, coarsest first) and estimate
    the seconds left (`remaining_s`, at most: a plateau can end a level early).
    """

    step: int
    total: float
    direct: float
    content: float
    raw: float
    texture: float
    tv: float
    lr: Optional[float]
    seconds: float
    level: int = 0
    levels: int = 1
    remaining_s: Optional[float] = None

    def as_dict(self) -> Dict[str, float]:
        return dataclasses.asdict(self)


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

    def carry_from(self, previous: "Adam", gradient_ratio: Optional[float] = None) -> None:
        """Continues `previous` (the same run one coarse-to-fine level down) on this larger image.

        The moments are upsampled bilinearly and scaled as the gradient scales: every loss is a
        mean over positions, so a pixel's gradient shrinks with the pixel count (m by the ratio,
        v by its square; gradient_ratio, when given, is the ratio of a pixel's gradient here to
        there instead). The step count (bias correction) and learning rate go on unchanged.
        """
        size = tuple(self.variable.shape[1:3])
        ratio = gradient_ratio if gradient_ratio is not None else (
            previous.variable.shape[1] * previous.variable.shape[2]) / (size[0] * size[1])
        self.m.assign(tf.image.resize(previous.m, size, method="bilinear") * ratio)
        self.v.assign(tf.maximum(tf.image.resize(previous.v, size, method="bilinear"), 0.0)
                      * ratio ** 2)
        self.iterations.assign(previous.iterations)
        self.learning_rate.assign(previous.learning_rate)

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

    def carry_from(self, previous: "GradientDescent", gradient_ratio: Optional[float] = None) -> None:
        """No state but the rate, which goes on unchanged."""
        self.learning_rate.assign(previous.learning_rate)

    def apply(self, gradient) -> None:
        self.variable.assign_sub(self.learning_rate * gradient)


class ExponentialDecay:
    """Keras' ExponentialDecay as a schedule between steps: rate0 * decay_rate ** (step /
    decay_steps); never stops a run early."""

    def __init__(self, learning_rate: float, decay_steps: int, decay_rate: float):
        self.initial, self.decay_steps, self.decay_rate = learning_rate, decay_steps, decay_rate
        self.learning_rate = learning_rate

    def update(self, step: int, loss: float) -> float:
        self.learning_rate = self.initial * self.decay_rate ** ((step + 1) / self.decay_steps)
        return self.learning_rate

    stopped = False


class PlateauSchedule:
    """Decays the learning rate while the loss has stopped moving; says when to stop.

    After step `after`, whenever the mean absolute relative change between consecutive values of
    the last `window` losses is below `tolerance`, the rate is multiplied by `decay` (every such
    step, as the original did); the run stops once the rate is below `min_rate`.
    """

    def __init__(self, learning_rate: float, window: int, after: int, tolerance: float,
                 decay: float, min_rate: float):
        self.learning_rate = learning_rate
        self.after, self.tolerance, self.decay, self.min_rate = after, tolerance, decay, min_rate
        self.losses = collections.deque(maxlen=window)

    def update(self, step: int, loss: float) -> float:
        """Records the loss evaluated at `step`; returns the learning rate for the next step."""
        self.losses.append(float(loss))
        if step > self.after and len(self.losses) == self.losses.maxlen:
            history = np.array(self.losses)
            change = np.mean(np.abs(np.diff(history) / history[:-1]))
            if change < self.tolerance:
                self.learning_rate *= self.decay
        return self.learning_rate

    @property
    def stopped(self) -> bool:
        return self.learning_rate < self.min_rate

    @classmethod
    def from_config(cls, config: TransferConfig) -> "PlateauSchedule":
        return cls(config.learning_rate, config.plateau_window, config.plateau_after,
                   config.plateau_tolerance, config.plateau_decay, config.min_learning_rate)


Callback = Callable[[StepReport], None]


def loss_and_gradient(graph, image: tf.Variable):
    """(sum over tiles of the total loss, its gradient w.r.t. the image, {part: mean over tiles}).

    Each tile's loss is its own; their sum gives every tile its own gradient.
    """
    with tf.GradientTape() as tape:
        parts = graph.loss_parts(image)
        summed = tf.reduce_sum(parts["total"])
    gradient = tape.gradient(summed, image)
    return summed, gradient, {name: tf.reduce_mean(value) for name, value in parts.items()}


class AdamOptimization:
    """The faithful optimiser: Adam steps on the pixels, clipped to the valid range, with the
    plateau schedule applied to the optimiser between steps (optimizer 'sgd': plain gradient
    steps with exponential decay instead, the same loop).

    compiled=True makes each step one graph, traced once per run; compiled=False runs eagerly,
    as the 2018 notebooks did (kept for the benchmark's reference). previous: the Adam run of the
    coarser level before this one (coarse-to-fine), whose moments and rate this one continues.
    gradient_scale: the gradient is multiplied by this before the update (global statistics:
    the picture's size in original tiles, see run.TextureTransfer.gradient_scale).
    """

    def __init__(self, graph, image: tf.Variable, config: TransferConfig, iterations: int,
                 compiled: bool = True, previous: Optional["AdamOptimization"] = None,
                 gradient_scale: float = 1.0):
        self.graph, self.image, self.config, self.iterations = graph, image, config, iterations
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
                                 / previous.gradient_scale)
            # The losses of another size are not comparable: the plateau history starts anew.
            self.schedule.learning_rate = previous.schedule.learning_rate
        self._pixel_min = tf.constant(PIXEL_MIN)
        self._pixel_max = tf.constant(PIXEL_MAX)
        # The image with the lowest total seen, kept on the device: an interrupted run writes it,
        # and a run whose loss stops being finite goes back to it.
        self.best = tf.Variable(image, trainable=False)
        self.best_total = tf.Variable(np.inf, dtype=tf.float32, trainable=False)
        if getattr(graph, "tiled", False):
            # A tiled objective runs its tiles from Python; only the update is one graph.
            self._apply = tf.function(self._update)
            self.step = self._tiled_step
        else:
            self.step = (tf.function(self._step, jit_compile=config.jit_compile) if compiled
                         else self._step)

    def _update(self, gradient):
        self.adam.apply(gradient * self.gradient_scale)
        self.image.assign(tf.clip_by_value(self.image, self._pixel_min, self._pixel_max))

    def _keep_if_best(self, summed) -> None:
        """Copies the image (before its update) into `best` when its total is the lowest yet;
        a NaN total never is."""
        improved = summed < self.best_total
        self.best.assign(tf.where(improved, self.image, self.best))
        self.best_total.assign(tf.where(improved, summed, self.best_total))

    def restore_best(self) -> None:
        """Puts the best image seen back into the image variable."""
        self.image.assign(self.best)

    def _tiled_step(self):
        summed, gradient, parts = self.graph.value_and_gradient(self.image)
        self._keep_if_best(tf.constant(summed, tf.float32))
        self._apply(gradient)
        return parts

    def _step(self):
        summed, gradient, parts = loss_and_gradient(self.graph, self.image)
        self._keep_if_best(summed)
        self.adam.apply(gradient * self.gradient_scale if self.gradient_scale != 1.0 else gradient)
        self.image.assign(tf.clip_by_value(self.image, self._pixel_min, self._pixel_max))
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
            if not np.isfinite(parts["total"]):
                self.restore_best()
                raise non_finite(step, parts)
            if callback is not None:
                callback(make_report(step, parts, learning_rate, start))
            next_rate = self.schedule.update(step, parts["total"])
            if next_rate != learning_rate:
                self.adam.learning_rate.assign(next_rate)
            if self.schedule.stopped:
                break
        return updates


def non_finite(step: int, parts: Dict[str, float]) -> NonFiniteLoss:
    """The error for a step whose total is not finite, naming the first part that is not."""
    part = next((name for name in LOSS_PARTS if not np.isfinite(parts[name])), "total")
    return NonFiniteLoss(step, part, parts[part])


def make_report(step: int, parts: Dict[str, float], learning_rate, start: float) -> StepReport:
    """A StepReport from the mean (over tiles) weighted parts of one evaluation."""
    return StepReport(step=step, lr=learning_rate, seconds=time.perf_counter() - start,
                      **{name: parts[name] for name in ("total",) + LOSS_PARTS})
