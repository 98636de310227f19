"""Gram against sliced Wasserstein: texture synthesis from noise on several textures, at one size
and one number of steps, scored by measures neither loss optimises (bench/texture_distances.py).

    python bench/scripts/texture_loss_comparison.py --weights $NST_TF_REAL_WEIGHTS \
        --textures examples/gravel.jpg,examples/brick.jpg,skimage:grass,... \
        --size 128 --steps 100 --output_dir texture_losses

A texture is a spec of bench/texture_specs.py (a path, `skimage:NAME`, `medium:NAME`,
`crop:...`). Each is synthesized with each loss from the same noise (seed 0), the synthesis
preset's weights and optimiser (L-BFGS-B unless --optimizer), and scored against the piece of
texture it was made from (at its own scale: TextureDistances' fit 'crop'). Prints a Markdown
table (held-out sliced distance, Gram distance, histogram distance, seconds a step) and writes
OUTPUT_DIR/NAME.png (texture | gram | sliced Wasserstein) and results.json.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.texture_specs import texture_of  # noqa: E402
from nst_tf.io.images import write_image  # noqa: E402

LOSSES = ("gram", "sliced_wasserstein")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--textures", required=True)
    parser.add_argument("--skimage_dir", type=Path, default=Path("skimage_wheel"))
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--optimizer", default=None, help="default: the synthesis mode's")
    parser.add_argument("--output_dir", type=Path, default=Path("texture_losses"))
    args = parser.parse_args()
    from nst_tf.tensorflow_quietly import import_tensorflow_quietly
    import_tensorflow_quietly()
    from bench.texture_distances import TextureDistances
    from nst_tf import TransferConfig
    from nst_tf.network.vgg import vgg19
    from nst_tf.report.sheet import contact_sheet
    from nst_tf.run.engine import default_engine
    from nst_tf.run.request import Request

    args.output_dir.mkdir(parents=True, exist_ok=True)
    measure_network = vgg19(args.weights)
    results = {}
    for spec in args.textures.split(","):
        name, texture = texture_of(spec, args.skimage_dir)
        distances = TextureDistances(measure_network, texture, fit="crop")
        row, panels = {}, [("texture", texture)]
        for loss in LOSSES:
            config = TransferConfig(mode="synthesize", size=(args.size, args.size),
                                    weights=args.weights, texture_loss=loss,
                                    iterations=args.steps, optimizer=args.optimizer)
            reports = []
            outcome = default_engine().run(Request(None, texture, config), reports.append)
            if outcome.status != "done":
                raise SystemExit(f"{name} {loss}: {outcome.message}")
            # The steps' pace, the first step (which builds the graph) aside.
            pace = (reports[-1].seconds - reports[0].seconds) / max(1, len(reports) - 1)
            row[loss] = {**distances(outcome.image), "seconds_per_step": pace,
                         "texture_part": reports[-1].texture}
            panels.append((loss.replace("_", " "), outcome.image))
            print(name, loss, row[loss], flush=True)
        write_image(args.output_dir / f"{name}.png", contact_sheet(panels, height=192))
        results[name] = row
        (args.output_dir / "results.json").write_text(json.dumps(results, indent=1))
    print("| texture | held-out sliced: Gram / SW | Gram distance: Gram / SW | histogram "
          "(levels): Gram / SW | s a step: Gram / SW |")
    print("|---|---|---|---|---|")
    for name, row in results.items():
        gram, sliced = row["gram"], row["sliced_wasserstein"]
        print(f"| {name} | {gram['sliced']:.3f} / {sliced['sliced']:.3f} | "
              f"{gram['gram']:.3f} / {sliced['gram']:.3f} | {gram['histogram']:.1f} / "
              f"{sliced['histogram']:.1f} | {gram['seconds_per_step']:.3f} / "
              f"{sliced['seconds_per_step']:.3f} |")
    means = {loss: {key: float(np.mean([row[loss][key] for row in results.values()]))
                    for key in ("sliced", "gram", "histogram", "seconds_per_step")}
             for loss in LOSSES}
    print("mean:", json.dumps(means))


if __name__ == "__main__":
    main()
