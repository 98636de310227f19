"""Stopping when the look is made: a rule that watches the picture, not the loss.

The loss keeps falling long after the picture has stopped changing in any way the eye (or the
look measure) sees: the original's plateau schedule ended its runs at 645-1000 steps, while
each run had the original's look from step 400-900 (docs/measurements/2026-11-medium-examples.md).
What the rule watches is what a user sees: every `every` steps, the mean absolute change per
pixel, in levels of 0..255, since the last check. Once that has been at least `change` and then
falls below it, the picture is settled and the run ends. The first condition is there because
Adam's momentum (beta_1 0.99) starts slowly: the first readings are small before the picture
moves at all. It costs one subtraction over the image every `every` steps.
"""
from __future__ import annotations

import tensorflow as tf


class PictureSettled:
    """Says when the picture has settled: its mean absolute change per pixel over the last
    `every` steps (levels) is below `change`, after an earlier reading at or above it. image:
    the optimised variable (pixels in levels, whatever their offset: only differences count)."""

    def __init__(self, image: tf.Variable, change: float, every: int):
        self.image, self.change, self.every = image, float(change), int(every)
        self.last = tf.Variable(image, trainable=False)
        self.changes = []  # each check's mean change, for the record
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
        return settled(self.changes, self.change)


def settled(changes, change: float) -> bool:
    """Whether readings `changes` (oldest first) say settled: the last below `change`, after one
    at or above it."""
    return len(changes) > 1 and changes[-1] < change <= max(changes[:-1])
