"""Progress of a run on stderr: a bar on a terminal, a plain line every N steps elsewhere.

The bar is Keras' `keras.utils.Progbar`: Keras is already installed for the network, it shows
step, values, time per step and the time left, and scripts/batch.py uses it too, so one look for
both tools and no new dependency (tqdm would do the same at the cost of a package).
"""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Optional, Sequence

from nst_tf.steps import LOSS_PARTS


def format_report(report, steps: int) -> str:
    """One plain progress line for a StepReport in a run of `steps` steps at its level: where,
    the loss and its parts, the learning rate, steps per second and the time left."""
    if report.levels > 1:
        where = f"level {report.level + 1}/{report.levels}  step {report.step + 1}/{steps}"
    else:
        where = f"step {report.step + 1}/{steps}"
    # The temporal part only where it is (a video's later frames): a still picture has none.
    parts = " ".join(f"{name} {getattr(report, name):.4g}" for name in LOSS_PARTS
                     if name != "temporal" or report.temporal)
    rate = "" if report.lr is None else f"  lr {report.lr:.3g}"
    # seconds count from the run's start: a rate only on the first level, which began there
    speed = (report.step + 1) / report.seconds if report.seconds > 0 and not report.level else None
    left = report.remaining_s
    if left is None and speed and report.levels == 1:
        left = (steps - report.step - 1) / speed  # at most: a plateau may stop it sooner
    pace = "" if speed is None else f"  {speed:.2f} steps/s"
    remaining = "" if left is None else f"  ~{format_seconds(left)} left"
    return (f"{where}  total {report.total:.4g} ({parts}){rate}{pace}  "
            f"{report.seconds:.1f} s{remaining}")


def format_seconds(seconds: float) -> str:
    """'42 s', '7.5 min', '1.2 h'."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


class StepProgress:
    """A callback for StepReports that shows progress.

    level_steps: the steps of each level (one entry for a run without levels). every: a plain
    line each `every` steps (and each step of the levels above the first, which are few and
    slow) when `bar` is off; bar: None chooses a bar when `stream` is a terminal. enabled=False
    shows nothing (--noprogress).
    """

    def __init__(self, level_steps: Sequence[int], every: int = 50, stream=None,
                 bar: Optional[bool] = None, enabled: bool = True,
                 write: Optional[Callable[[str], None]] = None):
        self.level_steps = list(level_steps)
        self.every = every
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.bar = self.stream.isatty() if bar is None else bar
        self.write = write or (lambda line: print(line, file=self.stream, flush=True))
        self._progbar, self._level, self._full = None, None, False

    def __call__(self, report) -> None:
        if not self.enabled:
            return
        steps = self.level_steps[min(report.level, len(self.level_steps) - 1)]
        if self.bar:
            self._update_bar(report, steps)
        elif self.every > 0 and ((report.step + 1) % self.every == 0 or report.level > 0
                                 or report.step + 1 == steps or report.step == 1):
            # Step 2 too: the first pace and time left a user sees, without waiting `every`
            # steps (step 1's time includes building the graph).
            self.write(format_report(report, steps))

    def _update_bar(self, report, steps: int) -> None:
        # Progbar writes to sys.stdout (and asks it whether it is a terminal); the bar belongs
        # on stderr with the rest of the progress, leaving stdout to the program's output.
        with contextlib.redirect_stdout(self.stream):
            self._draw(report, steps)

    def _draw(self, report, steps: int) -> None:
        import keras
        if self._level != report.level:
            if self._progbar is not None and not self._full:
                self.stream.write("\n")
            self._level = report.level
            if report.levels > 1:
                self.stream.write(f"level {report.level + 1}/{report.levels}\n")
            self._progbar = keras.utils.Progbar(steps, stateful_metrics=("total",) + LOSS_PARTS)
        values = [("total", report.total)] + [(name, getattr(report, name)) for name in LOSS_PARTS
                                              if getattr(report, name)]
        self._progbar.update(report.step + 1, values=values)
        self._full = report.step + 1 >= steps  # Progbar has ended its line

    def close(self) -> None:
        """Ends the bar's line (a plateau may stop a run before the bar is full)."""
        if self.enabled and self.bar and self._progbar is not None and not self._full:
            self.stream.write("\n")
            self.stream.flush()
