"""Speed of the project's paths against the 2018 notebooks' eager loop, side by side.

    python bench/scripts/benchmark.py                              # shipped cat/gravel, 256 px, 100 steps
    python bench/scripts/benchmark.py --pair $NST_TF_MEDIUM_EXAMPLES/CatCrack_in.jpg --steps 300 --json out.json

Prints a table: seconds per step, ratio to the reference (or the first path), achieved GFLOP/s
against the FLOPs of the convolutions each path runs, peak resident memory, time-to-quality (wall
time until a path first reaches the objective the first path reaches after --steps updates) and,
with --look_every, time-to-look (until its picture first has the look of the first path's final
picture: look measure within 10%, SSIM to the content no more than 0.05 lower).

    python bench/scripts/benchmark.py --pair $NST_TF_MEDIUM_EXAMPLES/CatCrack_in.jpg --steps 1000 \
        --paths adam,reference,lbfgs,adam_coarse,adam_lr20 --look_every 25 --reference_steps 20

Full resolution (global statistics, tiled): one evaluation per picture size and tile size, each
in a fresh process, seconds per megapixel against the first row, and peak resident memory:

    python bench/scripts/benchmark.py --pair $NST_TF_MEDIUM_EXAMPLES/peebles_under_water_in.jpg \
        --highres 512x341:0,3840x2160:1024,5464x3640:1024
"""
import dataclasses
import json
import math
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))  # cli_common
import cli_common  # noqa: E402
from absl import app, flags

ROOT = Path(__file__).resolve().parents[2]
SHARED_WEIGHTS = Path(os.environ.get("NST_TF_REAL_WEIGHTS")
                      or ROOT.parent / "shared" / "weights" / "vgg19_normalized_notop.h5")

flags.DEFINE_string("content", str(ROOT / "examples" / "cat.jpg"), "Content image.")
flags.DEFINE_string("texture", str(ROOT / "examples" / "gravel.jpg"), "Texture image.")
flags.DEFINE_string("pair", None, "A side-by-side image (content left, texture right), e.g. the "
                    "original's CatCrack_in.jpg; replaces --content and --texture.")
flags.DEFINE_integer("size", 256, "Longer side of the image (max_dim).")
flags.DEFINE_integer("steps", 100, "Updates of the first path, whose objective sets the target.")
flags.DEFINE_list("paths", ["reference", "adam", "lbfgs", "lbfgs_coarse"],
                  "Paths to run, in order; the first sets the quality target. Also: adam_xla, "
                  "adam_coarse.")
flags.DEFINE_list("memory_sizes", ["128", "256", "512"],
                  "max_dim values for the memory-growth table; empty to skip.")
flags.DEFINE_string("highres", None, "Instead of the paths: full-resolution rows "
                    "WIDTHxHEIGHT:TILE_SIZE,... (TILE_SIZE 0: untiled); the baseline, untiled "
                    "512x341, is run first when not given first.")
flags.DEFINE_integer("highres_steps", 2, "Adam steps per full-resolution row; the fastest after "
                     "the first is reported (1: the first, tracing included).")
flags.DEFINE_string("json", None, "Also write the results to this JSON file.")
flags.DEFINE_integer("look_every", 0, "Measure each path's picture (look, SSIM) every N steps "
                     "for time-to-look; 0 skips it.")
flags.DEFINE_integer("reference_steps", 0, "Run the eager reference (when not first) for only "
                     "this many steps and estimate its time for --steps; 0 runs them all.")
cli_common.define_transfer_flags(exclude=("size",))
# The benchmark's own defaults: the shared real weights when present, at the texture weight
# docs/design.md gives for them (Keras' 5e-5 is tuned for Keras' own file).
if SHARED_WEIGHTS.is_file():
    flags.FLAGS.set_default("weights", str(SHARED_WEIGHTS))
    flags.FLAGS.set_default("texture_weight", 1e3)
FLAGS = flags.FLAGS


def cell(value, digits=3):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


@cli_common.guarded
def main(argv):
    cli_common.import_tensorflow_quietly()
    import tensorflow as tf
    # Each path builds its own compiled step; TensorFlow's retracing warning would say so per path.
    tf.get_logger().setLevel("ERROR")
    from nst_tf import as_image
    from bench.speed import PATHS, compare, memory_growth
    from nst_tf.io.files import atomic_output
    from nst_tf.io.images import split_pair

    unknown = [p for p in FLAGS.paths if p not in PATHS]
    if unknown or not FLAGS.paths:
        cli_common.fail(f"unknown paths {unknown}; choose from {', '.join(PATHS)}")
    if FLAGS.pair:
        content, texture = split_pair(as_image(FLAGS.pair))
    else:
        content, texture = as_image(FLAGS.content), as_image(FLAGS.texture)
    if FLAGS.highres:
        return highres(content, texture)
    config = cli_common.config_from_flags(max_dim=FLAGS.size)
    results, meta = compare(FLAGS.paths, content, texture, config, FLAGS.steps,
                            FLAGS.look_every, FLAGS.reference_steps or None)
    memory = memory_growth(content, texture, config, [int(s) for s in FLAGS.memory_sizes])

    print(f"device: {meta['device']}; {FLAGS.size} px, split {FLAGS.split}, weights "
          f"{Path(str(config.weights)).name}, texture weight {config.texture_weight:g}; target: "
          f"the objective of {meta['target_from']} after {meta['steps']} steps; ratios to "
          f"{meta['ratios_to']}")
    if meta["look_target"]:
        print(f"look target: look <= {meta['look_target']['look']:.3f}, SSIM to the content >= "
              f"{meta['look_target']['ssim']:.3f} (* = estimated from a short run)")
    header = ["path", "s/step", "ratio", "GFLOP/s", "peak MiB", "steps run", "best total",
              "target", "steps to target", "time to target s", "ratio", "final look",
              "final SSIM", "steps to look", "time to look s", "ratio"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in results:
        print("| " + " | ".join(cell(v) for v in (
            r.path + ("*" if r.estimated else ""), r.seconds_per_step, r.ratio_to_reference,
            r.gflops_per_second, round(r.peak_memory_mb), r.steps, r.final_total, r.target_total,
            r.steps_to_quality, r.time_to_quality_s, r.time_to_quality_ratio, r.final_look,
            r.final_ssim, r.steps_to_look, r.time_to_look_s, r.time_to_look_ratio)) + " |")
    if memory:
        print("\n| max_dim | megapixels | peak MiB |\n|---|---|---|")
        for row in memory:
            print(f"| {row['max_dim']} | {row['megapixels']:.3f} | {row['peak_memory_mb']:.0f} |")
    if FLAGS.json:
        with atomic_output(FLAGS.json) as temporary:
            Path(temporary).write_text(json.dumps(
                {"meta": {**meta, "size": FLAGS.size, "argv": sys.argv[1:]},
                 "paths": [dataclasses.asdict(r) for r in results], "memory": memory}, indent=1))


def highres(content, texture):
    from nst_tf.io.files import atomic_output
    from bench.evaluation_rows import evaluation_rows, parse_rows

    config = cli_common.config_from_flags()
    rows = evaluation_rows(content, texture, config, parse_rows(FLAGS.highres),
                           FLAGS.highres_steps)
    print(f"weights {Path(str(config.weights)).name}; one Adam step (value, gradient, update) "
          f"per row, global statistics; * = first step, tracing included")
    print("| picture | tile size | tiles | s/evaluation | s/MP | per-MP ratio | peak MiB |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['width']}x{row['height']} | {row['tile_size'] or 'untiled'} | "
              f"{row['tiles']} | {row['seconds_per_evaluation']:.1f}"
              f"{'*' if row['includes_tracing'] else ''} | {row['seconds_per_mp']:.1f} | "
              f"{row['per_mp_ratio']:.2f} | {row['peak_memory_mb']:.0f} |")
    if FLAGS.json:
        with atomic_output(FLAGS.json) as temporary:
            Path(temporary).write_text(json.dumps({"argv": sys.argv[1:], "rows": rows}, indent=1))


if __name__ == "__main__":
    app.run(main)
