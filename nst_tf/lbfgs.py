"""L-BFGS-B on the same objective: SciPy's optimiser driving one compiled value-and-gradient.

Why SciPy's L-BFGS-B: the pixels live in a box (the valid range per channel), and L-BFGS-B keeps
them there exactly through its bounds, so no clipping spoils its curvature estimates; it is a
mature Fortran implementation with a line search, and costs nothing next to the VGG19 passes
(float32 <-> float64 copies of the image, once per evaluation).
"""
from __future__ import annotations

import time
from typing import Optional

import numpy as np
import scipy.optimize
import tensorflow as tf

from nst_tf.config import TransferConfig
from nst_tf.optimize import Callback, loss_and_gradient, make_report
from nst_tf.vgg import PIXEL_MAX, PIXEL_MIN


class _BudgetSpent(Exception):
    """Raised inside the objective to stop SciPy after exactly `iterations` evaluations."""


class LbfgsOptimization:
    """Minimises the sum over tiles of the total loss with L-BFGS-B, one report per evaluation.

    Each evaluation costs what one Adam step costs (a forward and backward pass); `iterations`
    bounds the evaluations. The image variable ends at the best point evaluated.
    """

    def __init__(self, graph, image: tf.Variable, config: TransferConfig, iterations: int):
        self.graph, self.image, self.config, self.iterations = graph, image, config, iterations
        self.value_and_gradient = tf.function(lambda: loss_and_gradient(graph, image),
                                              jit_compile=config.jit_compile)

    def run(self, callback: Optional[Callback] = None, start: Optional[float] = None) -> int:
        """Runs up to `iterations` evaluations; returns how many were made."""
        start = time.perf_counter() if start is None else start
        shape = tuple(self.image.shape)
        lower = np.broadcast_to(np.asarray(PIXEL_MIN, np.float64), shape).ravel()
        upper = np.broadcast_to(np.asarray(PIXEL_MAX, np.float64), shape).ravel()
        initial = np.clip(self.image.numpy().astype(np.float64).ravel(), lower, upper)
        best = {"total": np.inf, "x": initial}
        evaluations = 0

        def objective(x):
            nonlocal evaluations
            if evaluations >= self.iterations:
                raise _BudgetSpent
            self.image.assign(x.reshape(shape).astype(np.float32))
            summed, gradient, parts = self.value_and_gradient()
            parts = {name: float(value) for name, value in parts.items()}
            # Best first: a callback that interrupts must not lose the point it was shown.
            if parts["total"] < best["total"]:
                best["total"], best["x"] = parts["total"], x.copy()
            if callback is not None:
                callback(make_report(evaluations, parts, None, start))
            evaluations += 1
            return float(summed), gradient.numpy().astype(np.float64).ravel()

        try:
            if self.iterations > 0:
                scipy.optimize.minimize(
                    objective, initial, jac=True, method="L-BFGS-B",
                    bounds=scipy.optimize.Bounds(lower, upper),
                    options={"maxfun": self.iterations + 1, "maxiter": self.iterations,
                             "maxcor": self.config.lbfgs_memory, "ftol": 0.0, "gtol": 0.0})
        except _BudgetSpent:
            pass
        finally:  # an interrupt too leaves the best image seen, not a trial point
            self.image.assign(best["x"].reshape(shape).astype(np.float32))
        return evaluations
