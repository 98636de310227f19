"""A clip with the texture, steady from frame to frame.

    nst-tf video --content clip.mp4 --texture gravel.jpg --output clip_gravel.mp4
    nst-tf video --content frames/ --texture gravel.jpg --output out_frames --frames 0:48

(python scripts/video.py ... from a checkout.) The frames are written as they are made
(OUTPUT.frames/); a re-run goes on after the last one; Ctrl-C keeps them.
"""
import dataclasses
import sys
import time

from absl import app, flags

from nst_tf.cli import common
from nst_tf.video.settings import VideoSettings  # no TensorFlow, no OpenCV

USAGE = "--content CLIP --texture PHOTO --output CLIP [flags]"
DESCRIPTION = """\
Puts the texture of --texture into every frame of --content (a video file, or a folder of
frames), each frame after the first starting from the previous result carried along the
optical flow and held near it by a temporal loss, so the texture stays put from frame to frame.
The frame rate is kept and the audio copied. Every finished frame is written at once into
OUTPUT.frames/ (or the output folder); running the same command again goes on after the last
one. The transfer flags apply to every frame; the first frame takes --iterations, the later
ones --later_steps. Needs the video extra: pip install 'nst-tf[video]' (in a checkout:
pip install '.[video]')."""

flags.DEFINE_string("content", None, "The clip: a video file (mp4, mov, mkv, webm, avi, m4v, "
                    "gif) or a folder of frames.")
flags.DEFINE_string("texture", None, "The texture photo.")
flags.DEFINE_string("output", None, "The clip out: .mp4, .mov, .mkv or .webm, or a folder (a "
                    "path without a suffix) for the frames alone.")
common.define_table_flags(VideoSettings)  # --frames, --every, ... from the table
flags.DEFINE_boolean("progress", True, "A line per frame on stderr: frames done, seconds a "
                     "frame, time left.")
common.define_transfer_flags(aliases=True)
flags.mark_flag_as_required("content")
flags.mark_flag_as_required("texture")
flags.mark_flag_as_required("output")
FLAGS = flags.FLAGS

GROUPS = [("video", ("content", "texture", "output", "temporal_weight")
             + tuple(field.name for field in dataclasses.fields(VideoSettings))
             + ("progress",))] + \
    common.transfer_groups(first=("mode", "max_dim", "iterations", "weights", "faithful",
                                  "preset"), title="transfer settings of every frame",
                           skip=("content", "texture", "output", "temporal_weight"),
                           prefix="transfer: ", output_files=False)


def video_settings():
    """The VideoSettings the flags ask for (a flag not given: its default)."""
    return common.table_from_flags(VideoSettings)


@common.guarded
def run(argv):
    from nst_tf.io.files import check_apart
    from nst_tf.run.request import Request, prepare
    from nst_tf.video.transfer import plan_video, run_video

    began = time.perf_counter()
    # Every flag, the clip, the texture and the output are checked before TensorFlow starts.
    config = common.config_from_flags()
    settings = video_settings()
    check_apart({"output": FLAGS.output}, {"content": FLAGS.content, "texture": FLAGS.texture,
                                           **config.named_files()})
    plan = plan_video(FLAGS.content, FLAGS.output, config, settings)
    first = plan.clip.files[plan.numbers[0]] if plan.clip.is_folder else None
    from nst_tf.io.images import read_image
    probe = read_image(first) if first is not None else None
    # The texture and the settings, checked as one frame's transfer would check them.
    prepare(Request(probe if probe is not None else _blank(plan), FLAGS.texture, config),
            download=True)
    if config.network_choice.warning:
        common.say(config.network_choice.warning)
    common.import_tensorflow_quietly()
    count = len(plan.numbers)
    if FLAGS.progress:
        again = f", {plan.finished} made already" if plan.finished else ""
        common.say(f"video: {count} frames of {plan.clip.path.name} ({plan.clip.size[0]}x"
                   f"{plan.clip.size[1]}, {plan.clip.fps:g} fps) -> {plan.size[0]}x{plan.size[1]}"
                   f"{again}, {config.network_choice.summary}, {config.compute_precision}, on "
                   f"{common.device_name()}")
    times = []

    def on_frame(index, total, outcome, seconds) -> None:
        times.append(seconds)
        if FLAGS.progress:
            if len(times) > 1:
                pace = sum(times[1:]) / len(times[1:])
            elif index == 0:  # the later frames make later_steps steps of the first's
                pace = seconds * settings.later_steps / max(1, outcome.steps)
            else:  # a resumed run: this is a later frame already
                pace = seconds
            left = pace * (total - index - 1)
            common.say(f"frame {index + 1}/{total}: {outcome.steps} steps in {seconds:.1f} s; "
                       f"~{common.duration(left)} left")

    outcome = run_video(FLAGS.content, FLAGS.texture, FLAGS.output, config, settings, plan,
                        on_frame=on_frame)
    kept = "the finished frames and the part-made one are" if (
        outcome is not None and outcome.image is not None) else "the finished frames are"
    common.end_run(outcome, f"{kept} in {plan.folder}; run the same command again to go on",
                   f"{outcome and outcome.message}; the finished frames are in {plan.folder}")
    if FLAGS.progress:
        common.say(f"wrote {FLAGS.output} ({count} frames, {plan.size[0]}x{plan.size[1]}) in "
                   f"{common.duration(time.perf_counter() - began)}")


def _blank(plan):
    import numpy as np
    return np.zeros((plan.clip.size[1], plan.clip.size[0], 3), np.float32)


def main(argv=None):
    """The `nst-tf video` command (argv: the program name, then the flags)."""
    app.run(run, argv, flags_parser=common.flags_parser(
        "video", USAGE, DESCRIPTION, GROUPS, short_output=True, metavars={"content": "CLIP"},
        short_help={"content": "The clip: a video file (mp4, mov, mkv, webm, avi, m4v, gif) or "
                               "a folder of frames.",
                    "output": "The clip out: .mp4, .mov, .mkv, .webm, or a folder of frames.",
                    "temporal_weight": "Weight of the temporal loss on the later frames.",
                    "progress": "A line per frame: frames done, seconds a frame, time left."}))


if __name__ == "__main__":
    main()
