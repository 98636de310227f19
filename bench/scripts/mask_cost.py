"""The cost of spatial control per evaluation: the objective's value and gradient with a content
mask of two regions (two textures) against the same objective without one (two textures
blended), side by side, interleaved, in one process.

    python bench/scripts/mask_cost.py [--size 341x512] [--tile_size 0] [--repeats 5]

--tile_size 0 times the whole-picture evaluation (one compiled call); a tile size times the tiled
evaluation of global statistics. Prints the median seconds of each and their ratio.
"""
import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="341x512", help="HxW of the picture")
    parser.add_argument("--tile_size", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--weights", default="random")
    args = parser.parse_args()
    height, width = (int(v) for v in args.size.split("x"))

    import numpy as np
    import tensorflow as tf
    from nst_tf import as_image
    from nst_tf.io.images import resize
    from nst_tf.network.vgg import FeatureExtractor, preprocess, vgg
    from nst_tf.objective.tiled import TiledObjective
    from nst_tf.objective.whole import WholeObjective
    from nst_tf.presets import DEFAULT_CONTENT_LAYERS, DEFAULT_TEXTURE_LAYERS

    network = vgg("vgg19", None if args.weights == "random" else args.weights)
    extractor = FeatureExtractor(network, DEFAULT_TEXTURE_LAYERS, DEFAULT_CONTENT_LAYERS)
    size = (height, width)
    content, first, second = (resize(as_image(str(ROOT / "examples" / f"{n}.jpg")), size,
                                     antialias=True) for n in ("cat", "gravel", "brick"))
    left = np.zeros(size, np.float32)
    left[:, :width // 2] = 1.0
    weights = (8.0, 3.0, 0.3, 2e-5)
    image = tf.Variable(preprocess(content[None]))
    if args.tile_size:
        plain = TiledObjective(extractor, content, [first, second], [first, second], weights,
                               tile_size=args.tile_size)
        masked = TiledObjective(extractor, content, [first, second], [first, second], weights,
                                tile_size=args.tile_size, region_masks=[left, 1.0 - left])
    else:
        plain = WholeObjective(extractor, content[None], [first[None], second[None]], weights)
        masked = WholeObjective(extractor, content[None], [first[None], second[None]], weights,
                                region_masks=[left[None, ..., None], (1.0 - left)[None, ..., None]])
    times = {"no mask": [], "two regions": []}
    for objective in (plain, masked):  # trace once, outside the timing
        objective.value_and_gradient(image)
    for _ in range(args.repeats):
        for name, objective in (("no mask", plain), ("two regions", masked)):
            start = time.perf_counter()
            _, gradient, _ = objective.value_and_gradient(image)
            np.asarray(gradient)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    kind = f"tiled, {args.tile_size} px tiles" if args.tile_size else "whole picture"
    print(f"{width}x{height}, {kind}, {args.repeats} evaluations each, interleaved")
    for name, value in medians.items():
        print(f"  {name}: {value:.3f} s per evaluation (median)")
    print(f"  ratio: {medians['two regions'] / medians['no mask']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
