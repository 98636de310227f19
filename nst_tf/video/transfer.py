"""A clip in, the clip with the texture out, steady from frame to frame (Ruder et al. 2016).

Run frame by frame, an optimisation flickers: each frame finds its own texture. Here each frame
after the first starts from the previous result warped onto it by the optical flow, and a
temporal loss (terms.anchored_distance) keeps it near the previous results warped to it (the
last frame's, and frames further back where the nearer ones do not reach) wherever the motion
is reliable. Every frame goes through the engine, as one transfer of the command line would.

Each finished frame is written as it is made (OUTPUT.frames/frame_NNNNN.png, or into the output
folder), with a line in report.jsonl beside the frames (frame, steps, seconds, seconds spent
building; a frame found made without its line, its run killed between the two, gets one from
the re-run, with no steps or times, marked recorded_late); a re-run goes on after the last one
written; an interrupt keeps the finished frames and
the part-made one at its best (partial_NNNNN.png, made again by a re-run). The video file is
encoded from the frames at the end, with the source's audio.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Callable, Optional, Sequence, Tuple

import numpy as np

from nst_tf.config import TransferConfig
from nst_tf.errors import NSTError
from nst_tf.io.images import read_image, to_uint8, write_image
from nst_tf.report.records import REPORT_NAME, JsonLines
from nst_tf.run.request import plan_for
from nst_tf.video.settings import VideoSettings
from nst_tf.video.clip import (FRAME_NAME, Clip, check_output, frame_numbers, frames_folder,
                               open_clip, read_frames, write_video)


@dataclasses.dataclass(frozen=True)
class VideoPlan:
    """A video run, checked before TensorFlow starts: the clip, the frame numbers it takes
    (every `every`-th), the frames' size out (width, height), where the frames go, and how many
    are there already."""

    clip: Clip
    numbers: Tuple[int, ...]
    size: Tuple[int, int]
    folder: Path
    finished: int
    every: int = 1

    @property
    def fps(self) -> float:
        """The clip's frame rate out: every N-th frame keeps the clip's length."""
        return self.clip.fps / self.every


def finished_frames(folder: Path) -> int:
    """How many frames from the first are in `folder` already (frame_00000.png, ...)."""
    count = 0
    while (folder / FRAME_NAME.format(count)).is_file():
        count += 1
    return count


class TooManyFrames(NSTError):
    """A video run of more frames than its max_frames; count and limit for a front end's words."""

    def __init__(self, message: str, count: int, limit: int):
        super().__init__(message)
        self.count, self.limit = count, limit


def plan_video(content, output, config: TransferConfig, video: VideoSettings) -> VideoPlan:
    """Every check of a video run before TensorFlow starts: the clip, its part, the frame size
    out (the plan of one frame), the output; NSTError with one line."""
    return plan_clip(open_clip(content, video.fps), output, config, video)


def plan_clip(clip: Clip, output, config: TransferConfig, video: VideoSettings) -> VideoPlan:
    """plan_video's checks of a clip opened already (the web page opens one when it is sent)."""
    numbers = frame_numbers(clip, video.frames, video.every)
    if len(numbers) > video.max_frames:
        raise TooManyFrames(f"{clip.path}: {len(numbers)} frames to make, more than --max_frames "
                            f"{video.max_frames}; take a part (--frames A:B, --every N) or raise "
                            "--max_frames", len(numbers), video.max_frames)
    width, height = clip.size
    size = plan_for((height, width), config).output
    check_output(output, size)
    folder = frames_folder(output)
    return VideoPlan(clip, tuple(numbers), size, folder,
                     finished_frames(folder) if folder.is_dir() else 0, video.every)


def anchors_for(index: int, content: np.ndarray, contents: dict, results: dict,
                distances: Sequence[int]):
    """The temporal targets of frame `index`: for each distance k, the result of frame
    index - k warped onto this frame, and where the warp holds, with Ruder et al.'s long-term
    weights (a farther frame only where no nearer one reaches): [(RGB, weights (h, w))]."""
    from nst_tf.video.motion import optical_flow, reliability, warp
    anchors, covered = [], np.zeros(content.shape[:2], np.float32)
    for k in sorted(distances):
        if index - k not in results:
            continue
        earlier = contents[index - k]
        backward = optical_flow(content, earlier)
        forward = optical_flow(earlier, content)
        weights = reliability(backward, forward)
        anchors.append((warp(results[index - k], backward, sharp=True),
                        np.maximum(weights - covered, 0.0)))
        covered = np.minimum(covered + weights, 1.0)
    return anchors


def run_video(content, texture, output, config: TransferConfig, video: VideoSettings,
              plan: Optional[VideoPlan] = None, on_frame: Optional[Callable] = None,
              on_step: Optional[Callable] = None, stop=None, engine=None,
              on_start: Optional[Callable] = None, content_mask=None):
    """Makes the clip: every frame through the engine, the video file at the end (a folder
    output keeps the frames only). on_frame(index, count, outcome, seconds) after each frame;
    on_step(StepReport), stop and on_start(TextureTransfer, Prepared) as for one transfer (on
    every frame made). content_mask: one mask for every frame, in place of config.content_mask
    (an array, as the engine's Request takes it). Returns the last frame's Outcome (its status
    says how the run ended: done, stopped or failed; done with the last frame when an earlier
    run made every frame); what fails around the frames (the clip's
    checks, reading, writing) is an Outcome too (the engine's ending()), never raised."""
    from nst_tf.run.engine import default_engine, outcome_of
    began = time.perf_counter()
    try:
        return _frames(content, texture, output, config, video, plan, on_frame, on_step, stop,
                       engine or default_engine(), on_start, content_mask)
    except (KeyboardInterrupt, Exception) as error:
        return outcome_of(error, time.perf_counter() - began)


def _frames(content, texture, output, config, video, plan, on_frame, on_step, stop, engine,
            on_start, content_mask):
    """run_video's work: the frames through the engine, then the video file."""
    from nst_tf.io.images import resize
    from nst_tf.run.engine import DONE
    from nst_tf.run.request import Request
    plan = plan or plan_video(content, output, config, video)
    plan.folder.mkdir(parents=True, exist_ok=True)
    for stale in plan.folder.glob("partial_*.png"):
        stale.unlink()
    # A line per frame made (report/records.py): frame, steps, seconds, seconds before its
    # first step; a re-run adds the frames it makes.
    report = JsonLines(plan.folder / REPORT_NAME)
    recorded = {record.get("frame") for record in report.records}
    width, height = plan.size
    keep = max(video.temporal_frames)
    contents, results = {}, {}
    # A later frame starts from the previous result warped at the frames' size: it is made at
    # that size alone (a full-resolution run's coarser levels would blur what it carries over).
    later = config.replace(iterations=video.later_steps, settle_fraction=0.0,
                           learning_rate=video.later_learning_rate,
                           **({"start_dim": max(plan.size)} if config.coarse_to_fine else {}))
    outcome = None
    for index, (number, frame) in enumerate(read_frames(plan.clip, list(plan.numbers))):
        began = time.perf_counter()
        current = (frame.astype(np.float32) if frame.shape[:2] == (height, width)
                   else resize(frame.astype(np.float32), (height, width), antialias=True))
        contents[index] = current
        path = plan.folder / FRAME_NAME.format(index)
        if index < plan.finished:  # made by an earlier run
            results[index] = read_image(path)
            if index not in recorded:  # which was killed between the file and its line
                report.append({"frame": index, "source_frame": int(number), "steps": None,
                               "seconds": None, "building": None, "recorded_late": True})
        else:
            anchors = anchors_for(index, current, contents, results, video.temporal_frames)
            init = None
            if anchors:  # the previous result where it reaches, the frame itself where it does not
                warped, weights = anchors[0]
                init = weights[..., None] * warped + (1.0 - weights[..., None]) * current
            request = Request(current, texture, later if anchors else config, init=init,
                              anchors=anchors, content_mask=content_mask)
            outcome = engine.run(request, on_step, stop=stop, on_start=on_start)
            if outcome.image is None:
                return outcome
            if outcome.status != DONE:
                write_image(plan.folder / f"partial_{index:05d}.png", outcome.image)
                return outcome
            write_image(path, outcome.image)
            seconds = time.perf_counter() - began
            report.append({"frame": index, "source_frame": int(number), "steps": outcome.steps,
                           "seconds": round(seconds, 3), "building": round(outcome.building, 3)})
            results[index] = outcome.image.astype(np.float32)
            if on_frame is not None:
                on_frame(index, len(plan.numbers), outcome, seconds)
        for old in [k for k in contents if k <= index - keep]:
            contents.pop(old)
            results.pop(old, None)
    if Path(output).suffix:
        write_video(output, plan.folder, len(plan.numbers), plan.fps, plan.clip,
                    plan.numbers[0] / plan.clip.fps)
    if outcome is None:  # every frame made by an earlier run: done, its last frame the picture
        from nst_tf.run.engine import Outcome
        last = plan.folder / FRAME_NAME.format(len(plan.numbers) - 1)
        outcome = Outcome(DONE, to_uint8(read_image(last)), stopped_by="steps")
    return outcome


def video(content, texture, output, config: Optional[TransferConfig] = None,
          callback=None, **settings):
    """nst_tf.video("clip.mp4", "gravel.jpg", "clip_gravel.mp4"): the clip with the texture,
    steady from frame to frame; `settings` are VideoSettings' (frames='0:48', every=2, ...) or
    the transfer's, over `config` (temporal_weight=5, max_dim=256).
    A folder of frames works for the clip and, as a path without a suffix, for the output.
    callback(StepReport) follows each step. Raises NSTError (bad input, before TensorFlow
    starts), NonFiniteLoss, KeyboardInterrupt as transfer() does."""
    config = TransferConfig() if config is None else config
    video_settings, transfer_settings = VideoSettings.split(settings)
    outcome = run_video(content, texture, output, config.replace(**transfer_settings),
                        video_settings, on_step=callback)
    if outcome is not None and outcome.status != "done":
        raise outcome.error
    return Path(output)


def frames_of(folder) -> np.ndarray:
    """A folder's frames (frame_00000.png, ...) as one uint8 array (n, h, w, 3)."""
    folder = Path(folder)
    return np.stack([to_uint8(read_image(folder / FRAME_NAME.format(k)))
                     for k in range(finished_frames(folder))])
