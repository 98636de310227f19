"""How closely a rescaled VGG19 file derives back to Gatys' normalized VGG19, and how far a
perturbed one lands from it: the numbers behind calibration.AGREEMENT.

    python bench/scripts/calibration_agreement.py --weights vgg19_normalized_notop.h5

The stand-in for Keras' file is the normalized file with every convolution's output channels
scaled by 10**U(-2, 3) (seeded) and the next layer compensated. Prints, per layer, the largest
disagreement of the stand-in's biases and projections with the shipped fingerprint, the
derived weights' largest difference from the file's, and the disagreement a perturbation of one
layer's kernels (relative Gaussian noise) makes.
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from nst_tf.network import calibration  # noqa: E402


def rescaled(layers, rng):
    out, previous = [], np.ones(3)
    for name, kernel, bias in layers:
        scale = 10 ** rng.uniform(-2, 3, kernel.shape[-1])
        out.append((name, (kernel.astype(np.float64) * scale / previous[None, None, :, None]
                           ).astype(np.float32), (bias * scale).astype(np.float32)))
        previous = scale
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="Gatys' normalized VGG19 notop .h5")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    normalized = calibration.read_layers(args.weights)
    stand_in = rescaled(normalized, rng)
    found = calibration.rescaling(stand_in)
    derived = calibration.normalized_layers(stand_in, found)
    print("| layer | bias disagreement | projection disagreement | derived - file (relative) |")
    print("|---|---|---|---|")
    for (bias, projection), (name, kernel, b), (_, k0, b0) in zip(
            found.disagreement, derived, normalized):
        difference = max(float(np.abs(kernel - k0).max() / np.abs(k0).max()),
                         float(np.abs(b - b0).max() / np.abs(b0).max()))
        print(f"| {name} | {bias:.1e} | {projection:.1e} | {difference:.1e} |")
    print()
    print(f"| perturbed layer | noise | disagreement (tolerance {calibration.AGREEMENT:g}) |")
    print("|---|---|---|")
    for layer in ("block1_conv1", "block3_conv1", "block5_conv4"):
        for amount in (1e-2, 1e-3):
            perturbed = [(name, (kernel * (1 + amount * rng.standard_normal(kernel.shape))
                                 ).astype(np.float32) if name == layer else kernel, bias)
                         for name, kernel, bias in stand_in]
            print(f"| {layer} | {amount:g} | {calibration.rescaling(perturbed).mismatch} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
