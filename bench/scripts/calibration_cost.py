"""What carrying a VGG19 file to Gatys' normalized VGG19 costs, in a fresh process.

    python bench/scripts/calibration_cost.py identify FILE     # the check alone (no TensorFlow)
    python bench/scripts/calibration_cost.py derive FILE       # the derived weights (no TensorFlow)
    python bench/scripts/calibration_cost.py build FILE        # the network from the file as it is
    python bench/scripts/calibration_cost.py build-derived FILE  # the network derived from it

Prints the seconds of the step named (TensorFlow's import left out); run it under
`/usr/bin/time -v` for the process's peak resident memory.
"""
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    what, path = sys.argv[1], sys.argv[2]
    if what.startswith("build"):
        from nst_tf.cli.common import import_tensorflow_quietly
        import_tensorflow_quietly()
        from nst_tf.network.vgg import vgg
        start = time.perf_counter()
        vgg("vgg19", path, derive=what == "build-derived")
    else:
        from nst_tf.network import calibration
        start = time.perf_counter()
        if what == "identify":
            print(calibration.identify(path))
        else:
            calibration.derived_layers(path)
    print(f"{what}: {time.perf_counter() - start:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
