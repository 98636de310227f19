"""L-BFGS-B on the same objective: SciPy's optimiser driving one compiled value-and-gradient.

Why SciPy's L-BFGS-B: the pixels live in a box (the valid range per channel), and L-BFGS-B keeps
them there exactly through its bounds, so no clipping spoils its curvature estimates; it is a
mature Fortran implementation with a line search, and costs nothing next to the VGG19 passes
(float32 <-> float64 copies of the image, once per evaluation).

Why the objective is scaled: SciPy's L-BFGS-B starts from the identity as its curvature estimate,
so its first steps are the raw gradient, which here is tiny (below 0.5 gray levels per pixel: the
losses are means over pixels and positions); and where the objective bends the wrong way along
those steps (the Gram part far from its target is not convex) it skips its curvature updates
and keeps taking them. On peebles_under_water at 2x2 tiles of 128 px that is a stall: 7% lower
after 40 evaluations. Scaling the objective by a constant changes nothing about its minimisers
and nothing once the curvature estimate has formed, but makes those first steps move the
pixels by `lbfgs_first_step` gray levels, as Adam's do: 5.4x lower after 40 evaluations there.
"""
from __future__ import annotations

import time
from typing import Optional

import numpy as np
import scipy.optimize
from nst_tf.tensorflow_quietly import tf  # started without its C++ log lines

from nst_tf.config import TransferConfig
from nst_tf.steps import Callback, make_report, non_finite
from nst_tf.network.vgg import PIXEL_MAX, PIXEL_MIN


class _BudgetSpent(Exception):
    """Raised inside the objective to stop SciPy after exactly `iterations` evaluations."""


class LbfgsOptimization:
    """Minimises the sum over tiles of the total loss with L-BFGS-B, one report per evaluation.

    Each evaluation costs what one Adam step costs (a forward and backward pass); `iterations`
    bounds the evaluations. The image variable ends at the best point evaluated.
    """

    def __init__(self, objective, image: tf.Variable, config: TransferConfig, iterations: int):
        self.objective, self.image, self.config = objective, image, config
        self.iterations = iterations

    def restore_best(self) -> None:
        """Nothing to do: run() always leaves the image at the best point it evaluated."""

    def run(self, callback: Optional[Callback] = None, start: Optional[float] = None) -> int:
        """Runs up to `iterations` evaluations; returns how many were made."""
        start = time.perf_counter() if start is None else start
        shape = tuple(self.image.shape)
        lower = np.broadcast_to(np.asarray(PIXEL_MIN, np.float64), shape).ravel()
        upper = np.broadcast_to(np.asarray(PIXEL_MAX, np.float64), shape).ravel()
        initial = np.clip(self.image.numpy().astype(np.float64).ravel(), lower, upper)
        best = {"total": np.inf, "x": initial}
        evaluations = 0
        scale = None  # fixed by the first gradient; see the module's docstring

        def objective(x):
            nonlocal evaluations, scale
            if evaluations >= self.iterations:
                raise _BudgetSpent
            self.image.assign(x.reshape(shape).astype(np.float32))
            summed, gradient, parts = self.objective.value_and_gradient(self.image)
            parts = {name: float(value) for name, value in parts.items()}
            if not np.isfinite(parts["total"]):
                raise non_finite(evaluations, parts)  # the finally below goes back to the best
            # Best first: a callback that interrupts must not lose the point it was shown.
            if parts["total"] < best["total"]:
                best["total"], best["x"] = parts["total"], x.copy()
            if callback is not None:
                callback(make_report(evaluations, parts, None, start))
            evaluations += 1
            gradient = np.asarray(gradient, np.float64).ravel()
            if scale is None:
                largest = np.abs(gradient).max()
                step = self.config.lbfgs_first_step
                scale = step / largest if step > 0 and largest > 0 else 1.0
            return scale * float(summed), scale * gradient

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
