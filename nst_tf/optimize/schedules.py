"""Learning-rate schedules between steps: the original's plateau schedule, Keras' exponential
decay."""
from __future__ import annotations

import collections

import numpy as np

from nst_tf.config import TransferConfig


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
