"""The precision the network's convolutions run in: float32, or bfloat16 where the device has
fast bfloat16 units.

bfloat16 keeps float32's exponent with an 8-bit mantissa: VGG's convolutions lose about three
significant digits, which the texture's statistics (means over thousands of positions) hardly
see, and run several times faster where the hardware multiplies bfloat16 natively: Intel CPUs
with AMX or AVX512_BF16 (Sapphire Rapids, Cooper Lake), AMD Zen 4 and later (AVX512_BF16),
Arm CPUs with the BF16 extension (Apple M2 and later, Graviton 3), and NVIDIA GPUs from compute
capability 8.0 (Ampere). Elsewhere bfloat16 is emulated, slower than float32, so `auto` takes
float32 there. The features are cast to float32 before the Gram matrices, the projections and
every loss; the image, the optimiser's state and the step stay float32 (network/vgg.py).

Detecting the CPU needs no TensorFlow; the GPU's capability is asked only when TensorFlow is
already running.
"""
from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from typing import Optional

PRECISIONS = ("auto", "float32", "bfloat16")
# CPU flags (Linux's /proc/cpuinfo) of native bfloat16 arithmetic.
BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
# Arm's Linux feature name of the BF16 extension.
ARM_BFLOAT16_FEATURE = "bf16"
# NVIDIA's first compute capability with bfloat16 tensor cores (Ampere).
BFLOAT16_GPU_CAPABILITY = (8, 0)
# Overrides what the device says ('1': fast bfloat16, '0': not), for a machine whose detection is
# wrong, and for the test suite, which pins float32 unless a test asks for bfloat16.
OVERRIDE = "NST_TF_FAST_BFLOAT16"


def _cpu_flags() -> set:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                key = line.split(":", 1)[0].strip().lower()
                if key in ("flags", "features"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@functools.lru_cache(maxsize=None)
def cpu_has_fast_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (BFLOAT16_CPU_FLAGS, Arm's BF16)."""
    flags = _cpu_flags()
    if flags & set(BFLOAT16_CPU_FLAGS) or ARM_BFLOAT16_FEATURE in flags:
        return True
    if sys.platform == "darwin" and platform.machine() == "arm64":
        try:
            found = subprocess.run(["sysctl", "-n", "hw.optional.arm.FEAT_BF16"],
                                   capture_output=True, text=True, timeout=5)
            return found.stdout.strip() == "1"
        except (OSError, subprocess.SubprocessError):
            return False
    return False


def gpu_has_fast_bfloat16() -> Optional[bool]:
    """Whether TensorFlow's first GPU has bfloat16 units; None when it sees no GPU (or is not
    running yet)."""
    if "tensorflow" not in sys.modules:
        return None
    import tensorflow as tf
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return None
    capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
    return capability is not None and tuple(capability) >= BFLOAT16_GPU_CAPABILITY


def fast_bfloat16() -> bool:
    """Whether the device the run uses has fast bfloat16 (OVERRIDE first, then a GPU's
    capability, then the CPU's flags)."""
    forced = os.environ.get(OVERRIDE, "").strip()
    if forced in ("0", "1"):
        return forced == "1"
    gpu = gpu_has_fast_bfloat16()
    return gpu if gpu is not None else cpu_has_fast_bfloat16()


def compute_precision(precision: str, faithful: bool = False, optimizer: str = "adam") -> str:
    """'float32' or 'bfloat16' for the setting `precision`: as given, except that the 2018 loop
    (faithful) is float32 always; 'auto' takes bfloat16 for Adam and SGD where the device has
    fast bfloat16 units, float32 elsewhere and for L-BFGS (its line search compares losses a
    bfloat16 network makes noisy in their last digits)."""
    if faithful:
        return "float32"
    if precision != "auto":
        return precision
    return "bfloat16" if optimizer != "lbfgs" and fast_bfloat16() else "float32"
