"""Where a step's time goes: the texture mode's step at 512x341 split into its parts, each timed
on its own in the same process, in float32 and bfloat16, beside the machine's own rate on one
large convolution.

    python bench/scripts/step_profile.py --weights $NST_TF_REAL_WEIGHTS [--repeats 5]

Parts: the colour branch forward (to block5_conv2) and the gray branch forward (to
block3_conv1), the whole value and gradient (both branches, forward and backward), the Gram
matrices and distances alone on the branch's features, the update (Adam, clip, best image),
and the Python around a step (the rest of an optimiser step). Each is the median of --repeats
runs after one warm-up. The convolution rate is 2 x multiply-adds over seconds.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def timed(function, repeats):
    function()  # trace and warm up
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        function()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="random")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max_dim", type=int, default=512)
    args = parser.parse_args()
    from nst_tf.tensorflow_quietly import import_tensorflow_quietly
    import_tensorflow_quietly()
    import tensorflow as tf
    from bench.speed import conv_flops
    from nst_tf.config import TransferConfig
    from nst_tf.objective.terms import gram, gram_distance
    from nst_tf.run.request import Request, prepare
    from nst_tf.run.texture_transfer import TextureTransfer

    # The machine's convolution rate: one 3x3 convolution of 128 channels at 256x170, forward.
    x = tf.random.uniform((2, 170, 256, 128))
    kernel = tf.random.normal((3, 3, 128, 128))
    rows = {}
    for precision, dtype in (("float32", tf.float32), ("bfloat16", tf.bfloat16)):
        xc, kc = tf.cast(x, dtype), tf.cast(kernel, dtype)
        one = tf.function(lambda: tf.nn.conv2d(xc, kc, 1, "SAME"))
        seconds = timed(lambda: one().numpy(), args.repeats)
        machine = 2.0 * 2 * 170 * 256 * 9 * 128 * 128 / seconds / 1e9
        config = TransferConfig(weights=args.weights, max_dim=args.max_dim, iterations=1,
                                precision=precision)
        prepared = prepare(Request(ROOT / "examples" / "cat.jpg", ROOT / "examples" / "gravel.jpg",
                                   config))
        job = TextureTransfer(prepared)
        objective, extractor, image = job.objective, job.extractor, job.image
        weighting = objective.weighting
        colour = tf.function(lambda: extractor.content_features(image))
        gray = tf.function(lambda: extractor.texture_features(weighting.texture_view(image)))
        features = gray()
        grams = tf.function(lambda: tf.add_n([tf.reduce_sum(gram_distance(gram(f), t))
                                              for f, t in zip(features,
                                                              objective.gram_targets)]))
        optimization = job._optimization()
        summed, gradient, _ = objective.value_and_gradient(image)
        summed = tf.convert_to_tensor(summed, tf.float32)
        parts = {
            "colour branch forward": timed(lambda: [f.numpy() for f in colour()], args.repeats),
            "gray branch forward": timed(lambda: [f.numpy() for f in gray()], args.repeats),
            "value and gradient": timed(
                lambda: objective.value_and_gradient(image)[1].numpy(), args.repeats),
            "Gram matrices and distances": timed(lambda: grams().numpy(), args.repeats),
            "update": timed(lambda: optimization._update(summed, gradient) or
                            image.numpy(), args.repeats),
            "whole step": timed(lambda: optimization.step()["total"].numpy(), args.repeats),
        }
        size = tuple(image.shape[1:3])
        flops = 2.0 * (conv_flops(size, "block5_conv2", 1) + conv_flops(size, "block3_conv1", 1))
        rows[precision] = {
            "seconds": {k: round(v, 4) for k, v in parts.items()},
            "step_gflops_per_second": round(flops / parts["value and gradient"] / 1e9, 1),
            "machine_conv_gflops_per_second": round(machine, 1),
            "size": list(size)}
        print(json.dumps({precision: rows[precision]}), flush=True)


if __name__ == "__main__":
    main()
