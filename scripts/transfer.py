"""Neural Texture Transfer from the command line.

    python scripts/transfer.py --content cat.jpg --texture cracks.jpg --output cat_cracked.png
"""
import sys
from pathlib import Path

import cli_common
from absl import app, flags, logging

flags.DEFINE_string("content", None, "Content image: the photo whose layout and colours are kept.")
flags.DEFINE_string("texture", None, "Texture image: the photo whose texture (not colour) is wanted.")
flags.DEFINE_string("output", "output.png", "Where the result is written (png, jpg, ...).")
flags.DEFINE_integer("save_every", 0, "Also write the image every N steps beside the output "
                     "(NAME_00050.png = after 50 updates); 0 never.")
flags.DEFINE_string("metrics", None, "Write one JSON object per step to this file (JSON Lines).")
flags.DEFINE_string("sheet", None, "Also write a labelled contact sheet here: content | texture "
                    "| result, side by side.")
flags.DEFINE_integer("log_every", 50, "Log progress to stderr every N steps; 0 never.")
cli_common.define_transfer_flags()
flags.mark_flags_as_required(["content", "texture"])
FLAGS = flags.FLAGS


def intermediate_path(output: Path, updates: int, level: int = 0, levels: int = 1) -> Path:
    """NAME_00050.png after 50 updates; NAME_level2_00005.png in a run of several levels."""
    stage = f"_level{level + 1}" if levels > 1 else ""
    return output.with_name(f"{output.stem}{stage}_{updates:05d}{output.suffix}")


@cli_common.guarded
def main(argv):
    from nst_tf.errors import NonFiniteLoss
    from nst_tf.files import check_apart
    from nst_tf.images import check_writable, write_image
    from nst_tf.inputs import load_inputs

    # Every flag and input is checked before TensorFlow starts and the network is built.
    config = cli_common.config_from_flags()
    output = Path(FLAGS.output)
    check_writable(output)
    if FLAGS.sheet:
        check_writable(FLAGS.sheet)
    check_apart({"output": output, "metrics": FLAGS.metrics, "sheet": FLAGS.sheet},
                {"content": FLAGS.content, "texture": FLAGS.texture, **cli_common.path_flags(config)})
    inputs = load_inputs(FLAGS.content, FLAGS.texture, config)
    cli_common.import_tensorflow_quietly()
    from nst_tf.metrics import MetricsLog
    from nst_tf.run import TextureTransfer

    job = TextureTransfer(FLAGS.content, FLAGS.texture, config, inputs=inputs)
    metrics = MetricsLog(FLAGS.metrics) if FLAGS.metrics else None

    def on_step(report):
        if metrics is not None:
            metrics(report)
        updates = report.step + 1
        if FLAGS.save_every > 0 and updates % FLAGS.save_every == 0:
            write_image(intermediate_path(output, updates, report.level, report.levels),
                        job.result())
        cli_common.log_report(report, config, FLAGS.log_every)

    def keep(what: str) -> str:
        """Writes the image and closes the metrics; says where."""
        write_image(output, job.result())
        where = f"wrote {what} to {output}"
        if metrics is not None:
            metrics.close()
            where += f" and the metrics to {metrics.path}"
        return where

    try:
        image = job.run(on_step)
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
        from nst_tf.sheet import contact_sheet
        write_image(FLAGS.sheet, contact_sheet([("content", inputs.content),
                                                ("texture", inputs.texture), ("result", image)]))
    logging.info("wrote %s (%dx%d)", output, image.shape[1], image.shape[0])


if __name__ == "__main__":
    app.run(main)
