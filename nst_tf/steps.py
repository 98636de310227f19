"""One optimisation step as reported to a callback, the loss parts' names, and the reports made
from an evaluation. No TensorFlow here: progress lines, the step log and the plot use these.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Dict, Optional

import numpy as np

from nst_tf.errors import NonFiniteLoss

# The weighted parts of the objective, in the order of TransferConfig.loss_weights; temporal:
# a video frame's distance to the previous frames' results, warped (0 for a still picture).
LOSS_PARTS = ("direct", "content", "raw", "texture", "tv", "temporal")


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
    temporal: float
    lr: Optional[float]
    seconds: float
    level: int = 0
    levels: int = 1
    remaining_s: Optional[float] = None

    def as_dict(self) -> Dict[str, float]:
        return dataclasses.asdict(self)


Callback = Callable[[StepReport], None]


def non_finite(step: int, parts: Dict[str, float]) -> NonFiniteLoss:
    """The error for a step whose total is not finite, naming the first part that is not."""
    part = next((name for name in LOSS_PARTS if not np.isfinite(parts[name])), "total")
    return NonFiniteLoss(step, part, parts[part])


def make_report(step: int, parts: Dict[str, float], learning_rate, start: float) -> StepReport:
    """A StepReport from the mean (over tiles) weighted parts of one evaluation."""
    return StepReport(step=step, lr=learning_rate, seconds=time.perf_counter() - start,
                      **{name: parts[name] for name in ("total",) + LOSS_PARTS})
