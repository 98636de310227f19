"""Reproduces the original's Medium examples and compares, by the numbers, with its results.

    python scripts/reproduce_examples.py                       # all five, downloaded
    python scripts/reproduce_examples.py --examples_dir ../shared/medium_examples \
        --weights ../shared/weights/vgg19_normalized_notop.h5 --texture_weight_scale 2e7

Writes per example NAME_result.png (at the original's output size) and NAME_sheet.png
(content | texture | original result | ours), and comparison.json with the objective of each
result and its SSIM against the content.
"""
import json
import sys
from pathlib import Path

import cli_common
from absl import app, flags, logging

flags.DEFINE_string("examples_dir", None, "Read the images from this folder instead of downloading.")
flags.DEFINE_string("download_dir", str(Path(__file__).resolve().parent.parent / "examples" / "medium"),
                    "Where downloaded example images are kept.")
flags.DEFINE_list("only", [], "Examples to run (case-insensitive names); all by default.")
flags.DEFINE_string("output_dir", "medium_results", "Where results, sheets and comparison.json go.")
flags.DEFINE_float("texture_weight_scale", 1.0,
                   "Multiplies the manifest's texture weights: 1 for Keras' ImageNet weights; "
                   "2e7 for Gatys' normalized VGG19 (docs/algorithm.md: 5e-5 there is 1e3 here).")
cli_common.define_transfer_flags()
FLAGS = flags.FLAGS

WEIGHT_FLAGS = ("direct_weight", "content_weight", "raw_weight", "texture_weight")


def config_for(example, base):
    """The example's parameters, unless a flag given on the command line says otherwise."""
    def make(weighting):
        values = {"split": example.split, "max_dim": example.max_dim}
        weighting = list(weighting)
        weighting[3] *= FLAGS.texture_weight_scale
        values.update(zip(WEIGHT_FLAGS, weighting))
        given = {name: getattr(base, name) for name in list(values) if FLAGS[name].present}
        return base.replace(**{**values, **given})
    return make


@cli_common.guarded
def main(argv):
    from nst_tf.examples import fetch, load_manifest, select
    from nst_tf.files import atomic_output
    from nst_tf.images import check_writable, write_image
    from nst_tf.reproduce import reproduce

    base = cli_common.config_from_flags()
    base_url, examples = load_manifest()
    chosen = select(examples, FLAGS.only)
    # Every image first, so that a missing one stops the run before any work.
    images = [fetch(example, base_url, FLAGS.download_dir, FLAGS.examples_dir) for example in chosen]
    output_dir = Path(FLAGS.output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        cli_common.fail(f"{output_dir}: cannot create ({error.strerror or error})")
    check_writable(output_dir / "probe.png")
    rows = []
    try:
        for example, (input_path, original_path) in zip(chosen, images):
            logging.info("%s: running %d weighting(s)", example.name, len(example.weightings))
            done = reproduce(example, input_path, original_path, config_for(example, base))
            write_image(output_dir / f"{example.name}_result.png", done.result)
            write_image(output_dir / f"{example.name}_sheet.png", done.sheet)
            rows.extend(done.rows)
    except KeyboardInterrupt:
        print(f"interrupted: finished examples are in {output_dir}", file=sys.stderr)
        sys.exit(cli_common.EXIT_INTERRUPTED)
    finally:
        if rows:
            with atomic_output(output_dir / "comparison.json") as temporary:
                Path(temporary).write_text(json.dumps(rows, indent=1))

    print("| example | weights (d, c, r, t) | look ours | look original | look content | "
          "layout ours | layout original | ours: total (direct, content, raw, texture) | "
          "original: total (...) | SSIM ours | SSIM original |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        parts = lambda s: f"{s['total']:.5g} ({s['direct']:.4g}, {s['content']:.4g}, {s['raw']:.4g}, {s['texture']:.4g})"  # noqa: E731
        print(f"| {row['example']} | {', '.join(f'{w:g}' for w in row['loss_weights'])} | "
              f"{row['look_ours']:.3f} | {row['look_original']:.3f} | {row['look_content']:.3f} | "
              f"{row['layout_ours']:.2f} | {row['layout_original']:.2f} | "
              f"{parts(row['ours'])} | {parts(row['original'])} | {row['ssim_ours']:.3f} | "
              f"{row['ssim_original']:.3f} |")


if __name__ == "__main__":
    app.run(main)
