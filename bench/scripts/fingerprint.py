"""Writes the normalized VGG19's fingerprint that the package ships, from the normalized file.

    python bench/scripts/fingerprint.py --weights vgg19_normalized_notop.h5

Each of the 5,504 output channels' kernel norm, bias and projection on a fixed direction
(nst_tf.network.calibration.fingerprint), as float32 (3, 5504), into
nst_tf/network/vgg19_normalized_fingerprint.npy. With them any per-channel rescaling of the
same VGG19 (Keras' ImageNet file) is carried to the normalized network, and any other file is
refused. Prints how well float32 storage keeps the file's own rescaling (its scales should be 1).
"""
import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from nst_tf.network import calibration  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True, help="Gatys' normalized VGG19 notop .h5")
    parser.add_argument("--output", type=Path, default=calibration.FINGERPRINT_PATH)
    args = parser.parse_args()
    layers = calibration.read_layers(args.weights)
    stored = calibration.fingerprint(layers).astype(np.float32)
    np.save(args.output, stored)
    found = calibration.rescaling(layers, stored.astype(np.float64))
    worst = max(float(np.abs(m - 1).max()) for m in found.scales)
    print(f"wrote {args.output} {stored.shape}; the file against it: scales within {worst:.1e} "
          f"of 1, {found.mismatch or 'every weight agrees'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
