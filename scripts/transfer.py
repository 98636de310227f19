"""Neural Texture Transfer from the command line, and its sibling recipes (--mode).

    python scripts/transfer.py --content cat.jpg --texture cracks.jpg --output cat_cracked.png
    python scripts/transfer.py --mode style --content cat.jpg --style painting.jpg
    python scripts/transfer.py --mode synthesize --texture gravel.jpg --size 512x512
    python scripts/transfer.py --mode reconstruct --content cat.jpg --content_layers relu4_2
"""
import sys
from pathlib import Path

import cli_common
from absl import app, flags, logging

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
                    "| result, side by side.")
flags.DEFINE_string("plot", None, "Also draw the loss parts over the steps into this PNG (log "
                    "scale).")
flags.DEFINE_boolean("progress", True, "Show progress on stderr: a bar on a terminal, else a "
                     "line every --log_every steps; --noprogress: nothing.")
flags.DEFINE_integer("log_every", 50, "Without a terminal: a progress line every N steps; 0 never.")
cli_common.define_transfer_flags()
flags.DEFINE_alias("style", "texture")
flags.DEFINE_alias("style_scale", "texture_scale")
flags.adopt_module_key_flags(cli_common)  # --help lists the transfer's settings too
FLAGS = flags.FLAGS


def intermediate_path(output: Path, updates: int, level: int = 0, levels: int = 1) -> Path:
    """NAME_00050.png after 50 updates; NAME_level2_00005.png in a run of several levels."""
    stage = f"_level{level + 1}" if levels > 1 else ""
    return output.with_name(f"{output.stem}{stage}_{updates:05d}{output.suffix}")


def sheet_panels(config, inputs, result):
    """[(caption, image)] for the contact sheet: the photos the mode used, then the result."""
    texture_name = "style" if config.mode == "style" else "texture"
    panels = [] if config.mode == "synthesize" else [("content", inputs.content)]
    if config.mode != "reconstruct":
        many = len(inputs.textures) > 1
        panels += [(f"{texture_name} {i + 1}" if many else texture_name, t)
                   for i, t in enumerate(inputs.textures)]
    return panels + [("result", result)]


@cli_common.guarded
def main(argv):
    from nst_tf.errors import NonFiniteLoss
    from nst_tf.io.files import check_apart
    from nst_tf.io.images import check_writable, write_image
    from nst_tf.io.inputs import load_inputs

    # Every flag and input is checked before TensorFlow starts and the network is built.
    config = cli_common.config_from_flags()
    output = Path(FLAGS.output)
    textures = [t.strip() for t in FLAGS.texture.split(",") if t.strip()] if FLAGS.texture else []
    # A mode that does not use a photo does not read it (synthesize still takes its size).
    content = FLAGS.content if config.mode != "synthesize" or config.size == (0, 0) else None
    textures = textures if config.mode != "reconstruct" else []
    for path in (output, FLAGS.sheet, FLAGS.plot):
        if path:
            check_writable(path)
    if FLAGS.plot and Path(FLAGS.plot).suffix.lower() != ".png":
        cli_common.fail(f"{FLAGS.plot}: --plot writes a PNG; give a name ending in .png")
    check_apart({"output": output, "metrics": FLAGS.metrics, "sheet": FLAGS.sheet,
                 "plot": FLAGS.plot},
                {"content": content, **{"texture" + (f" #{i + 1}" if len(textures) > 1 else ""): t
                                       for i, t in enumerate(textures)},
                 **cli_common.path_flags(config)})
    inputs = load_inputs(content, textures or None, config)
    cli_common.import_tensorflow_quietly()
    from nst_tf.report.steplog import MetricsLog
    from nst_tf.report.progress import StepProgress
    from nst_tf.run.texture_transfer import TextureTransfer

    job = TextureTransfer(content, textures or None, config, inputs=inputs)
    metrics = MetricsLog(FLAGS.metrics) if FLAGS.metrics else None
    progress = StepProgress(job.plan.steps, FLAGS.log_every, enabled=FLAGS.progress)
    records = []

    def on_step(report):
        records.append(report.as_dict())
        if metrics is not None:
            metrics(report)
        updates = report.step + 1
        if FLAGS.save_every > 0 and updates % FLAGS.save_every == 0:
            write_image(intermediate_path(output, updates, report.level, report.levels),
                        job.result())
        progress(report)

    def keep(what: str) -> str:
        """Writes the image and closes the metrics; says where."""
        write_image(output, job.result())
        where = f"wrote {what} to {output}"
        if metrics is not None:
            metrics.close()
            where += f" and the metrics to {metrics.path}"
        return where

    try:
        try:
            image = job.run(on_step)
        finally:
            progress.close()
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM (cli_common.Terminated)
        job.keep_best()
        print(f"interrupted: {keep('the best image so far')}", file=sys.stderr)
        sys.exit(cli_common.exit_code(interrupt))
    except NonFiniteLoss as error:
        cli_common.fail(f"{error}; {keep('the best image before it')} (lower the loss weights "
                        "or the learning rate)", cli_common.EXIT_FAILED)
    except BaseException:
        if metrics is not None:
            metrics.discard()
        raise
    write_image(output, image)
    if metrics is not None:
        metrics.close()
    if FLAGS.sheet:
        from nst_tf.report.sheet import contact_sheet
        write_image(FLAGS.sheet, contact_sheet(sheet_panels(config, inputs, image)))
    if FLAGS.plot:
        from nst_tf.report.plot import plot_losses
        plot_losses(records, FLAGS.plot)
    logging.info("wrote %s (%dx%d)", output, image.shape[1], image.shape[0])


if __name__ == "__main__":
    app.run(main)
