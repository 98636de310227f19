"""Stopping when the look is made: a rule that watches the picture, not the loss.

The loss keeps falling long after the picture has stopped changing in any way the eye (or the
look measure) sees: the original's plateau schedule ended its runs at 645-1000 steps, while
each run had the original's look from step 400-900 (docs/measurements/2026-11-medium-examples.md).
What the rule watches is what a user sees: every `every` steps, the mean absolute change per
pixel since the last check. The picture is settled, and the run ends, once that change falls
below `fraction` of the largest one the run has made, and not before step `after`. Relative,
because the pace differs from one picture to the next (CatCrack moves at most 3 levels per pixel
over 20 steps, CrocoLeaf 5.5) and a ratio needs no unit. Not before `after`, because Adam's
momentum (beta_1 0.99) remembers about 1 / (1 - beta_1) = 100 steps: over the first two of those
spans the picture's pace is the momentum building up and turning, not the look being made
(CatCrack's left weighting slows to under half its largest pace by step 120 and has the
original's look only from step 200). It costs one subtraction over the image every `every`
steps, and one image-sized copy.
"""
from __future__ import annotations

from typing import Sequence

from nst_tf.tensorflow_quietly import tf  # started without its C++ log lines

# The rule may stop a run only after this many spans of Adam's momentum, 1 / (1 - beta_1) steps.
MOMENTUM_SPANS = 2


def earliest_stop(beta_1: float) -> int:
    """The first step at which the rule may stop an Adam run with this beta_1 (0: no momentum)."""
    return int(round(MOMENTUM_SPANS / (1.0 - beta_1))) if beta_1 > 0 else 0


def settled(changes: Sequence[float], fraction: float) -> bool:
    """Whether readings `changes` (oldest first) say settled: the last below `fraction` of the
    largest before it."""
    return len(changes) > 1 and changes[-1] < fraction * max(changes[:-1])


class PictureSettled:
    """Says when the picture has settled: its mean absolute change per pixel over the last
    `every` steps is below `fraction` of the largest such change before, at step `after` or
    later. image: the optimised variable (pixels in levels, whatever their offset: only
    differences count)."""

    def __init__(self, image: tf.Variable, fraction: float, every: int, after: int = 0):
        self.image, self.fraction, self.every = image, float(fraction), int(every)
        self.after = int(after)
        self.last = tf.Variable(image, trainable=False)
        self.changes = []  # each check's mean change (levels per pixel), for the record
        self._measure = tf.function(self._changed, autograph=False)  # straight-line code

    def _changed(self):
        change = tf.reduce_mean(tf.abs(self.image - self.last))
        self.last.assign(self.image)
        return change

    def update(self, updates: int) -> bool:
        """After `updates` updates: True once the picture has settled (checked every `every`)."""
        if updates % self.every:
            return False
        self.changes.append(float(self._measure()))
        return updates >= self.after and settled(self.changes, self.fraction)
