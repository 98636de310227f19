"""Stopping when the look is made: a rule that watches the picture, not the loss.

The loss keeps falling long after the picture has stopped changing in any way the eye (or the
look measure) sees: the original's plateau schedule ended its runs at 645-1000 steps, while
each run had the original's look from step 400-900 (docs/measurements/2026-11-medium-examples.md).
What the rule watches is what a user sees: every `every` steps, the mean absolute change per
pixel since the last check. The picture is settled, and the run ends, once that change falls
below `fraction` of the largest one the run has made. Relative, because the pace differs from
one picture to the next (CatCrack moves at most 3 levels per pixel over 20 steps, CrocoLeaf
5.5) and a ratio needs no unit; and so that Adam's slow start (beta_1 0.99: the first readings
are small before the picture moves at all) cannot end a run. It costs one subtraction over the
image every `every` steps, and one image-sized copy.
"""
from __future__ import annotations

from typing import Sequence

import tensorflow as tf


def settled(changes: Sequence[float], fraction: float) -> bool:
    """Whether readings `changes` (oldest first) say settled: the last below `fraction` of the
    largest before it."""
    return len(changes) > 1 and changes[-1] < fraction * max(changes[:-1])


class PictureSettled:
    """Says when the picture has settled: its mean absolute change per pixel over the last
    `every` steps is below `fraction` of the largest such change before. image: the optimised
    variable (pixels in levels, whatever their offset: only differences count)."""

    def __init__(self, image: tf.Variable, fraction: float, every: int):
        self.image, self.fraction, self.every = image, float(fraction), int(every)
        self.last = tf.Variable(image, trainable=False)
        self.changes = []  # each check's mean change (levels per pixel), for the record
        self._measure = tf.function(self._changed)

    def _changed(self):
        change = tf.reduce_mean(tf.abs(self.image - self.last))
        self.last.assign(self.image)
        return change

    def update(self, updates: int) -> bool:
        """After `updates` updates: True once the picture has settled (checked every `every`)."""
        if updates % self.every:
            return False
        self.changes.append(float(self._measure()))
        return settled(self.changes, self.fraction)
