"""Neural Texture Transfer from the command line, and its sibling recipes (--mode).

    nst-tf transfer --content cat.jpg --texture cracks.jpg --output cat_cracked.png
    nst-tf transfer --mode style --content cat.jpg --style painting.jpg
    nst-tf transfer --mode synthesize --texture gravel.jpg --size 512x512
    nst-tf transfer --mode reconstruct --content cat.jpg --content_layers relu4_2

(python scripts/transfer.py ... from a checkout.)
"""
import sys
import time
from pathlib import Path

from absl import app, flags

from nst_tf.cli import common

USAGE = "--content PHOTO --texture PHOTO [--output FILE] [flags]"
DESCRIPTION = """\
Puts the texture of --texture into --content, keeping the content's layout and colours (or,
with --mode, makes a style transfer, a texture synthesis or a feature reconstruction). It runs
the calibrated loop: Gatys' normalized VGG19, derived from Keras' VGG19 file (or the --weights
file), with settings tuned for it; --faithful runs the original's 2018 loop instead. The loss
weights, layers and optimiser default by --mode and by which of the two runs. Flags are written
--name=value or --name value."""

flags.DEFINE_string("content", None, "Content image: the photo whose layout and colours are kept "
                    "(not needed by --mode synthesize).")
flags.DEFINE_string("texture", None, "Texture image (--mode style: the style image): the photo "
                    "whose texture is wanted; several comma-separated, blended by --texture_blend "
                    "(not needed by --mode reconstruct).")
flags.DEFINE_string("output", "output.png", "Where the result is written (png, jpg, ...).")
flags.DEFINE_integer("save_every", 0, "Also write the image every N steps beside the output "
                     "(NAME_00050.png = after 50 updates); 0 never.")
flags.DEFINE_string("metrics", None, "Write one JSON object per step to this file (JSON Lines).")
flags.DEFINE_string("sheet", None, "Also write a labelled contact sheet here: content | texture "
                    "| result, side by side (with --seamless, then the result repeated 2x2).")
flags.DEFINE_string("plot", None, "Also draw the loss parts over the steps into this PNG (log "
                    "scale).")
flags.DEFINE_boolean("progress", True, "Show progress on stderr: a bar on a terminal, else a "
                     "line every --log_every steps; --noprogress: nothing.")
flags.DEFINE_integer("log_every", 50, "Without a terminal: a progress line every N steps; 0 never.")
common.define_transfer_flags(aliases=True)
flags.DEFINE_alias("style", "texture")
flags.adopt_module_key_flags(common)  # --helpfull lists the transfer's settings too
FLAGS = flags.FLAGS

GROUPS = common.transfer_groups()


def intermediate_path(output: Path, updates: int, level: int = 0, levels: int = 1) -> Path:
    """NAME_00050.png after 50 updates; NAME_level2_00005.png in a run of several levels."""
    stage = f"_level{level + 1}" if levels > 1 else ""
    return output.with_name(f"{output.stem}{stage}_{updates:05d}{output.suffix}")


def check_outputs(output, metrics=None, sheet=None, plot=None) -> None:
    """Every output path's check, before anything is read or TensorFlow starts: NSTError with
    one line for a folder given as a file, a folder that does not exist, a format that cannot
    be written, a --plot that is not a PNG."""
    for flag, path in (("output", output), ("metrics", metrics), ("sheet", sheet),
                       ("plot", plot)):
        if path:
            common.check_output_path(flag, path)
    if plot and Path(plot).suffix.lower() != ".png":
        raise common.NSTError(f"{plot}: --plot writes a PNG; give a name ending in .png")


def start_line(config, prepared, device: str) -> str:
    """What will run, in one line: mode, picture size in and out (the run's plan), steps and
    optimiser, which loop on which network (config.network_choice), the convolutions'
    precision, device; with --seamless, which edges wrap."""
    height, width = prepared.inputs.content.shape[:2]
    out_width, out_height = prepared.plan.output
    steps = sum(prepared.plan.steps)
    what = "step" if config.optimizer != "lbfgs" else "evaluation"
    levels = f" over {len(prepared.plan.steps)} levels" if len(prepared.plan.steps) > 1 else ""
    source = "" if config.mode != "synthesize" else " (synthesized)"
    seamless = "" if config.seamless == "off" else f" seamless {config.seamless}"
    return (f"transfer: {config.mode} mode, {width}x{height}{source} -> {out_width}x{out_height}"
            f"{seamless}, "
            f"{steps} {config.optimizer} {what}{'s' if steps != 1 else ''}{levels}, "
            f"{config.network_choice.summary}, {config.compute_precision}, on {device}")


def quiet() -> bool:
    """Whether the progress display shows nothing (--noprogress, or --log_every 0 without a
    terminal); then the start and end lines are left out too."""
    return not FLAGS.progress or (FLAGS.log_every <= 0 and not sys.stderr.isatty())


@common.guarded
def run(argv):
    from nst_tf.io.files import check_apart
    from nst_tf.io.images import write_image
    from nst_tf.run.engine import default_engine
    from nst_tf.run.request import Request, prepare

    began = time.perf_counter()
    # Every flag and input is checked before TensorFlow starts and the network is built.
    check_outputs(FLAGS.output, FLAGS.metrics, FLAGS.sheet, FLAGS.plot)
    for name in ("save_every", "log_every"):
        if FLAGS[name].value < 0:
            raise common.NSTError(f"--{name} must be 0 (never) or more, got {FLAGS[name].value}")
    config = common.config_from_flags()
    output = Path(FLAGS.output)
    textures = [t.strip() for t in FLAGS.texture.split(",") if t.strip()] if FLAGS.texture else []
    # A mode that does not use a photo does not read it (synthesize still takes its size).
    content = FLAGS.content if config.mode != "synthesize" or config.size == (0, 0) else None
    textures = textures if config.mode != "reconstruct" else []
    check_apart({"output": output, "metrics": FLAGS.metrics, "sheet": FLAGS.sheet,
                 "plot": FLAGS.plot},
                {"content": content, **{"texture" + (f" #{i + 1}" if len(textures) > 1 else ""): t
                                       for i, t in enumerate(textures)},
                 **config.named_files()})
    prepared = prepare(Request(content, textures or None, config), download=True)
    if config.network_choice.warning:
        common.say(config.network_choice.warning)
    common.import_tensorflow_quietly()
    from nst_tf.report.steplog import MetricsLog
    from nst_tf.report.progress import StepProgress

    metrics = MetricsLog(FLAGS.metrics) if FLAGS.metrics else None
    progress = StepProgress(prepared.plan.steps, FLAGS.log_every, enabled=FLAGS.progress)
    records, running = [], {}

    def on_start(job, prepared) -> None:
        running["job"] = job
        if not quiet():
            common.say(start_line(config, prepared, common.device_name()))

    def on_step(report) -> None:
        records.append(report.as_dict())
        if metrics is not None:
            metrics(report)
        updates = report.step + 1
        if FLAGS.save_every > 0 and updates % FLAGS.save_every == 0:
            write_image(intermediate_path(output, updates, report.level, report.levels),
                        running["job"].result())
        progress(report)

    try:
        outcome = default_engine().run(prepared, on_step, on_start=on_start)
    finally:
        progress.close()
    # The outcome's image (the result, the best so far, or the best before a failure) is
    # written whatever the ending (nst_tf.run.engine's policies).
    where = ""
    if outcome.image is not None:
        write_image(output, outcome.image)
        where = f"{output}"
        if metrics is not None:
            metrics.close()
            where += f" and the metrics to {metrics.path}"
    elif metrics is not None:
        metrics.discard()
    common.end_run(outcome,
                   f"wrote the best image so far to {where}" if outcome.image is not None
                   else None,
                   f"{outcome.error}; wrote the best image before it to {where} (lower the loss "
                   "weights or the learning rate)")
    image = outcome.image
    if FLAGS.sheet:
        from nst_tf.report.sheet import contact_sheet, photo_panels, seamless_panels
        inputs = prepared.inputs
        write_image(FLAGS.sheet, contact_sheet(
            photo_panels(config.mode, inputs.content, inputs.textures) + [("result", image)]
            + seamless_panels(config.seamless, image)))
    if FLAGS.plot:
        from nst_tf.report.plot import plot_losses
        plot_losses(records, FLAGS.plot)
    if not quiet():
        ended = {"settled": "the picture had settled", "plateau": "the loss had plateaued"}.get(
            outcome.stopped_by)
        common.say(f"wrote {output} ({image.shape[1]}x{image.shape[0]}) in "
                   f"{common.duration(time.perf_counter() - began)}"
                   + (f" (stopped after {outcome.steps} steps: {ended})" if ended else ""))


def main(argv=None):
    """The `nst-tf transfer` command (argv: the program name, then the flags)."""
    app.run(run, argv, flags_parser=common.flags_parser(
        "transfer", USAGE, DESCRIPTION, GROUPS, short_output=True, aliases={"style": "texture"}))


if __name__ == "__main__":
    main()
