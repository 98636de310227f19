"""Reproduces the original's Medium examples and compares, by the numbers, with its results.

    python bench/scripts/reproduce_examples.py                       # all five, downloaded
    python bench/scripts/reproduce_examples.py --examples_dir $NST_TF_MEDIUM_EXAMPLES \
        --weights $NST_TF_REAL_WEIGHTS

The manifest's weightings are the original notebooks' (Keras' file, the 2018 loop); they are
carried to the network that runs as the command line's defaults are (--loss_scales auto): the
calibrated loop gets them in its units, --faithful as they are. The first line says which.

Writes per example NAME_result.png (at the original's output size) and NAME_sheet.png
(content | texture | original result | ours), and comparison.json with, for our result and the
original's: the look measure, the layout correlation, the objective and SSIM to the content.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))  # cli_common
import cli_common  # noqa: E402
from absl import app, flags, logging

flags.DEFINE_string("examples_dir", None, "Read the images from this folder instead of downloading.")
flags.DEFINE_string("download_dir", str(Path(__file__).resolve().parents[2] / "examples" / "medium"),
                    "Where downloaded example images are kept.")
flags.DEFINE_list("only", [], "Examples to run (case-insensitive names); all by default.")
flags.DEFINE_string("output_dir", "medium_results", "Where results, sheets and comparison.json go.")
flags.DEFINE_enum("loss_scales", "auto", ["auto", "keras", "normalized"],
                  "Carry the manifest's loss weights (tuned for Keras' ImageNet VGG19 under the "
                  "2018 loop) to the network that runs: 'auto' follows the run's preset, as the "
                  "command line's defaults do (the calibrated loop: 'normalized', raw x1e4, "
                  "texture x5e7; --faithful or a file run as it is: 'keras', as they are).")
flags.DEFINE_integer("tile", None, "Run only this tile (row-major, from 0) of each example's "
                     "split, alone, and score it against the same tile of the original's result; "
                     "files are then named NAME_tileK_result.png and NAME_tileK_sheet.png.")
flags.DEFINE_integer("every", None, "Also take the look and SSIM every this many steps, and "
                     "report the first step (and second) where both bars hold: the time to the "
                     "look.")
flags.DEFINE_string("keep_checks", None, "With --every: write each check's picture into "
                    "this folder (NAME_tileK_weightingW_stepN.png).")
flags.DEFINE_float("texture_weight_scale", None, "Overrides the texture factor of --loss_scales.")
flags.DEFINE_float("raw_weight_scale", None, "Overrides the raw factor of --loss_scales.")
cli_common.define_transfer_flags()
FLAGS = flags.FLAGS

def loss_scales(preset: str):
    """(name, (direct, content, raw, texture) factors) of the scales in use for `preset`."""
    from bench.manifest import LOSS_SCALES, loss_scales_for
    name = loss_scales_for(preset, FLAGS.loss_scales)
    direct, content, raw, texture = LOSS_SCALES[name]
    raw = raw if FLAGS.raw_weight_scale is None else FLAGS.raw_weight_scale
    texture = texture if FLAGS.texture_weight_scale is None else FLAGS.texture_weight_scale
    return name, (direct, content, raw, texture)


def config_for(example, base):
    """The example's parameters, unless a flag given on the command line says otherwise."""
    from bench.manifest import WEIGHT_SETTINGS, example_config
    _, factors = loss_scales(base.preset)
    given = [name for name in ("split", "max_dim") + WEIGHT_SETTINGS if FLAGS[name].present]
    return lambda weighting: example_config(example, weighting, base, given=given,
                                            factors=factors)


def to_the_look(row) -> str:
    """'step N, S s' where both bars first held, '-' when not checked, 'not reached'."""
    if not row["checks"]:
        return "-"
    if row["look_step"] is None:
        return "not reached"
    return f"step {row['look_step']}, {row['look_seconds']:.0f} s"


@cli_common.guarded
def main(argv):
    cli_common.import_tensorflow_quietly()
    from bench.manifest import check_tile, fetch, load_manifest, select
    from nst_tf.io.files import atomic_output
    from nst_tf.io.images import check_writable, write_image
    from bench.reproduce import reproduce

    # The preset follows the weights file, as on the command line (the normalized file's
    # epsilon and stopping rule with it).
    base = cli_common.config_from_flags()
    if base.network_choice.warning:
        cli_common.say(base.network_choice.warning)
    scales, factors = loss_scales(base.preset)
    cli_common.say(f"reproduce: {base.network_choice.summary}; the manifest's weightings "
                   f"(direct, content, raw, texture) times {', '.join(f'{k:g}' for k in factors)} "
                   f"(loss scales {scales})")
    base_url, examples = load_manifest()
    chosen = select(examples, FLAGS.only)
    for example in chosen:
        check_tile(example, FLAGS.tile)
    # Every image first, so that a missing one stops the run before any work.
    images = [fetch(example, base_url, FLAGS.download_dir, FLAGS.examples_dir) for example in chosen]
    output_dir = Path(FLAGS.output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        cli_common.fail(f"{output_dir}: cannot create ({error.strerror or error})")
    check_writable(output_dir / "probe.png")
    if FLAGS.keep_checks:
        Path(FLAGS.keep_checks).mkdir(parents=True, exist_ok=True)
    rows = []
    try:
        for example, (input_path, original_path) in zip(chosen, images):
            logging.info("%s: running %d weighting(s)", example.name, len(example.weightings))
            done = reproduce(example, input_path, original_path, config_for(example, base),
                             tile=FLAGS.tile, every=FLAGS.every,
                             keep_dir=FLAGS.keep_checks)
            stem = example.name if FLAGS.tile is None else f"{example.name}_tile{FLAGS.tile}"
            write_image(output_dir / f"{stem}_result.png", done.result)
            write_image(output_dir / f"{stem}_sheet.png", done.sheet)
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
          "original: total (...) | SSIM ours | SSIM original | steps | s | to the look |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        parts = lambda s: f"{s['total']:.5g} ({s['direct']:.4g}, {s['content']:.4g}, {s['raw']:.4g}, {s['texture']:.4g})"  # noqa: E731
        name = row["example"] if row["tile"] is None else f"{row['example']} tile {row['tile']}"
        print(f"| {name} | {', '.join(f'{w:g}' for w in row['loss_weights'])} | "
              f"{row['look_ours']:.3f} | {row['look_original']:.3f} | {row['look_content']:.3f} | "
              f"{row['layout_ours']:.2f} | {row['layout_original']:.2f} | "
              f"{parts(row['ours'])} | {parts(row['original'])} | {row['ssim_ours']:.3f} | "
              f"{row['ssim_original']:.3f} | {row['steps_run']} ({row['stopped_by'] or 'all'}) | "
              f"{row['seconds']:.0f} | {to_the_look(row)} |")


if __name__ == "__main__":
    app.run(main)
