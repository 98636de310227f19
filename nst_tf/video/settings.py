"""What a video run adds to a transfer's settings: one table, from which the video command's
flags, the web page's clip fields and nst_tf.video()'s keywords are made, as TransferConfig's
are (its temporal_weight, the temporal loss's weight, is a transfer setting: it weighs a frame's
objective). No TensorFlow, no OpenCV here.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Tuple

from nst_tf.errors import NSTError
from nst_tf.fields import coerced, field_kind, knob
from nst_tf.presets import (VIDEO_LATER_LEARNING_RATE, VIDEO_LATER_STEPS, VIDEO_MAX_FRAMES,
                            VIDEO_TEMPORAL_FRAMES)


@dataclasses.dataclass(frozen=True)
class VideoSettings:
    """Every setting of a video run besides the transfer's, with its default; values may be
    written as on the command line ('0:48', '1,2,4') or as Python values."""

    frames: Optional[str] = knob(
        None, "A part of the clip: A:B, frames A to B-1 from 0 (10:, :50, 5:-5).")
    every: int = knob(1, "Take every N-th frame (the clip keeps its length).")
    temporal_frames: Tuple[int, ...] = knob(
        VIDEO_TEMPORAL_FRAMES, "How far back the temporal targets look, in frames (1: the "
        "previous one; 2, 4: further back where nearer ones do not reach).")
    later_steps: int = knob(VIDEO_LATER_STEPS, "Steps of every frame after the first.")
    later_learning_rate: float = knob(
        VIDEO_LATER_LEARNING_RATE, "Adam's learning rate on every frame after the first.")
    max_frames: int = knob(VIDEO_MAX_FRAMES, "Refuse a run of more frames than this.")
    fps: float = knob(25.0, "The frame rate of a folder of frames.")

    def __post_init__(self):
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "frames" and isinstance(value, str) and not value.strip():
                value = None  # an empty box: the whole clip
            object.__setattr__(self, field.name, coerced(field.name, field_kind(field), value))
        if self.every < 1:
            raise NSTError(f"every must be at least 1, got {self.every}")
        if not self.temporal_frames or min(self.temporal_frames) < 1:
            raise NSTError(f"temporal_frames must be frame distances of at least 1, got "
                           f"{list(self.temporal_frames)}")
        if self.later_steps < 1:
            raise NSTError(f"later_steps must be at least 1, got {self.later_steps}")
        if not self.later_learning_rate > 0:
            raise NSTError(f"later_learning_rate must be > 0, got {self.later_learning_rate}")
        if self.max_frames < 1:
            raise NSTError(f"max_frames must be at least 1, got {self.max_frames}")
        if not self.fps > 0:
            raise NSTError(f"fps must be > 0, got {self.fps}")

    @classmethod
    def split(cls, settings: dict):
        """(the VideoSettings of `settings`' video keys, the rest: a transfer's settings)."""
        names = {field.name for field in dataclasses.fields(cls)}
        return (cls(**{k: v for k, v in settings.items() if k in names}),
                {k: v for k, v in settings.items() if k not in names})
