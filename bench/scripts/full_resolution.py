"""A full-resolution transfer scored against the original's (downscaled) published result, and
timed against 100 Adam steps at 512x341 measured first in the same run.

    python bench/scripts/full_resolution.py --pair $NST_TF_MEDIUM_EXAMPLES/peebles_under_water_in.jpg \
        --original $NST_TF_MEDIUM_EXAMPLES/peebles_under_water_out.jpg --output peebles_4k.png \
        --preview peebles_4k_preview.jpg --json peebles_4k.json --weights WEIGHTS ...

Prints the look (at the original's size) and SSIM of ours and the original's, the fine detail
(mean absolute Laplacian at full size: ours against the original's upscaled) and the times.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))  # cli_common
import cli_common  # noqa: E402
from absl import app, flags, logging

flags.DEFINE_string("pair", None, "Side-by-side input: content left, texture right.")
flags.DEFINE_string("original", None, "The original's published result (its own size).")
flags.DEFINE_string("output", "full_resolution.png", "Our full-size result.")
flags.DEFINE_string("preview", None, "Also write ours downscaled to the original's size here.")
flags.DEFINE_string("json", None, "Write the measures to this JSON file.")
flags.DEFINE_integer("baseline_steps", 100, "Adam steps at 512x341 that the time is compared with.")
cli_common.define_transfer_flags()
flags.FLAGS.set_default("max_dim", 0)
flags.mark_flags_as_required(["pair", "original"])
FLAGS = flags.FLAGS


@cli_common.guarded
def main(argv):
    cli_common.import_tensorflow_quietly()
    import nst_tf
    from nst_tf.io.files import atomic_output
    from bench.evaluation_rows import full_resolution_check
    from nst_tf.io.images import check_writable, resize, split_pair, write_image

    config = cli_common.config_from_flags()
    for path in filter(None, (FLAGS.output, FLAGS.preview)):
        check_writable(path)
    content, texture = split_pair(nst_tf.as_image(FLAGS.pair))
    original = nst_tf.as_image(FLAGS.original)
    if original.shape[1] > 1.5 * original.shape[0] * content.shape[1] / content.shape[0]:
        original = original[:, :original.shape[1] // 2]  # a published pair of results: the first
    result, measures = full_resolution_check(
        content, texture, original, config, FLAGS.baseline_steps,
        callback=lambda report: cli_common.log_report(report, config))
    write_image(FLAGS.output, result)
    if FLAGS.preview:
        write_image(FLAGS.preview, resize(result, original.shape[:2], antialias=True))
    text = json.dumps(measures, indent=1)
    if FLAGS.json:
        with atomic_output(FLAGS.json) as temporary:
            Path(temporary).write_text(text)
    print(text)
    logging.info("wrote %s", FLAGS.output)


if __name__ == "__main__":
    app.run(main)
