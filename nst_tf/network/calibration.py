"""Gatys' normalized VGG19 from any file of the ImageNet-trained VGG19, exactly.

Gatys et al. (2015) normalised the ImageNet-trained VGG19 by scaling each filter so that its mean
activation over ImageNet is 1, compensating in the next layer; ReLU and max-pooling commute with a
positive per-channel scale, so the network's function is kept. Keras' file comes from the same
trained VGG19, so at every convolution l its features are the normalized network's times a
positive scale per channel, m_l (m_0 = 1 for the pixels):

    keras kernel[:, :, i, o] = normalized kernel[:, :, i, o] * m_l[o] / m_{l-1}[i]
    keras bias[o]            = normalized bias[o] * m_l[o]

Given m_{l-1}, the kernel for output channel o rescaled by its inputs' scales has the norm
m_l[o] times the normalized kernel's. The package ships that norm for each of the normalized
network's 5,504 output channels (its fingerprint), so the scales follow layer by layer from the
weights alone. Two more numbers per channel check the result: the bias, and the kernel's
projection on a fixed direction (a perturbed kernel keeps nearly its norm, not its projection).
A file that is not such a rescaling of the same VGG19 disagrees with them and is named for what
disagrees.

No TensorFlow here: h5py and NumPy only, so the command line checks a file before TensorFlow
starts.
"""
from __future__ import annotations

import dataclasses
import functools
import os
import re
from pathlib import Path
from typing import List, Optional, Tuple

import numpy as np

from nst_tf.errors import NSTError
from nst_tf.network.layers import NETWORK_LAYERS

# The normalized network's fingerprint: float32 (3, 5504), rows kernel norm, bias and
# projection, per output channel, the 16 convolutions in order (bench/scripts/fingerprint.py
# writes it from the normalized file).
FINGERPRINT_PATH = Path(__file__).with_name("vgg19_normalized_fingerprint.npy")

# The largest disagreement with the fingerprint (relative, per bias; per projection relative to
# its kernel's norm) taken for float32 rounding. A weight stored in float32 carries 6e-8 of
# relative error, and the scales carry it through the 16 layers: the normalized file times
# random scales (1e-2 to 1e3) disagrees by at most 1.5e-7, 600 times under this. Perturbing one
# layer's kernels by 0.1% (relative, Gaussian) moves its biases' agreement to 1.6e-4-9e-4, by
# 1% to 1.7e-3-6e-3 (block5_conv4 to block1_conv1).
AGREEMENT = 1e-4
# Scales within this of 1 are the normalized file itself, used as it is (not re-derived).
SAME_SCALE = 1e-5

Layers = List[Tuple[str, np.ndarray, np.ndarray]]  # (conv layer name, kernel, bias), in order


def conv_layers(network: str = "vgg19") -> Tuple[str, ...]:
    """The network's convolutions, input to output."""
    return tuple(name for name in NETWORK_LAYERS[network] if "_conv" in name)


def read_layers(path, network: str = "vgg19") -> Layers:
    """The convolutions' (name, kernel, bias) of a Keras notop .h5 file, input to output: Keras
    2's layout (layers by name, Keras' download's) or Keras 3's .weights.h5 (conv2d, conv2d_1,
    ... in creation order). NSTError when the file cannot be read as such."""
    import h5py

    try:
        with h5py.File(path, "r") as handle:
            if "layer_names" in handle.attrs:
                layers = []
                for name in conv_layers(network):
                    if name not in handle:
                        raise NSTError(f"{path}: no {name} in it")
                    # The kernel is the layer's 4-D dataset, the bias its 1-D one: found by
                    # their shapes, not by the weight_names attribute, whose strings sit in the
                    # file's global heap (a damaged heap made reading them hang, not fail).
                    weights = {}

                    def note_weight(_, item):  # returns None: h5py stops at any other value
                        if isinstance(item, h5py.Dataset):
                            weights.setdefault(len(item.shape), item)
                    handle[name].visititems(note_weight)
                    if 4 not in weights or 1 not in weights:
                        raise NSTError(f"{path}: {name} has no kernel and bias")
                    layers.append((name, weights[4][()], weights[1][()]))
                return layers
            found = {}

            def note(name, item):
                match = re.fullmatch(r"layers/conv2d(?:_(\d+))?/vars/([01])", name)
                if match and isinstance(item, h5py.Dataset):
                    found.setdefault(int(match.group(1) or 0), {})[int(match.group(2))] = item[()]
            handle.visititems(note)
    except NSTError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as error:  # h5py: RuntimeError
        # for a damaged file's internals (a bad heap, object header or link)
        raise NSTError(f"{path}: cannot read its kernels ({str(error).splitlines()[0][:100]})"
                       ) from None
    ordered = [found[index] for index in sorted(found)]
    names = conv_layers(network)
    if len(ordered) != len(names) or any(len(pair) != 2 for pair in ordered):
        raise NSTError(f"{path}: {len(ordered)} convolutions, {network.upper()} has {len(names)}")
    return [(name, pair[0], pair[1]) for name, pair in zip(names, ordered)]


def direction(index: int, size: int) -> np.ndarray:
    """The fixed unit direction layer `index`'s flattened kernels are projected on (NumPy's
    legacy RandomState: its stream is frozen, so every machine draws the same)."""
    vector = np.random.RandomState(1000 + index).standard_normal(size)
    return vector / np.linalg.norm(vector)


def fingerprint(layers: Layers) -> np.ndarray:
    """(3, channels) float64: each output channel's kernel norm, bias and projection."""
    rows = []
    for index, (_, kernel, bias) in enumerate(layers):
        flat = kernel.astype(np.float64).reshape(-1, kernel.shape[-1])
        rows.append(np.stack([np.linalg.norm(flat, axis=0), bias.astype(np.float64),
                              direction(index, flat.shape[0]) @ flat]))
    return np.concatenate(rows, axis=1)


@functools.lru_cache(maxsize=1)
def shipped_fingerprint() -> np.ndarray:
    """The normalized network's fingerprint, as shipped in the package."""
    return np.load(FINGERPRINT_PATH).astype(np.float64)


@dataclasses.dataclass(frozen=True)
class Rescaling:
    """How a file's convolutions relate to the normalized network's.

    scales: per convolution, its output channels' scales m_l (file = normalized x m_l);
    disagreement: per convolution, the largest relative disagreement of its biases, and of its
    kernels' projections (relative to their norm), with the fingerprint once rescaled;
    mismatch: None when every one is within AGREEMENT, else what disagrees, in words (the first
    layer that does, and by how much).
    """

    scales: Tuple[np.ndarray, ...]
    mismatch: Optional[str]
    disagreement: Tuple[Tuple[float, float], ...] = ()

    @property
    def is_normalized(self) -> bool:
        """The file is the normalized network itself (every scale 1 within SAME_SCALE)."""
        return self.mismatch is None and all(np.abs(m - 1).max() <= SAME_SCALE
                                             for m in self.scales)


def rescaling(layers: Layers, reference: Optional[np.ndarray] = None) -> Rescaling:
    """The per-channel scales that take the normalized network (its fingerprint `reference`,
    default the shipped one) to `layers`, and whether every weight agrees with them."""
    reference = shipped_fingerprint() if reference is None else reference
    widths = [bias.shape[0] for _, _, bias in layers]
    if sum(widths) != reference.shape[1] or len(layers) != len(conv_layers("vgg19")):
        return Rescaling((), f"its {len(layers)} convolutions with {sum(widths)} channels are "
                             f"not VGG19's 16 with {reference.shape[1]}")
    scales, disagreement, start, inputs = [], [], 0, np.ones(3)
    mismatch = None
    for index, (name, kernel, bias) in enumerate(layers):
        norm, ref_bias, ref_projection = reference[:, start:start + widths[index]]
        start += widths[index]
        if kernel.shape[2] != inputs.shape[0]:
            return Rescaling(tuple(scales), f"{name}'s kernel takes {kernel.shape[2]} channels")
        flat = (kernel.astype(np.float64) * inputs[None, None, :, None]).reshape(
            -1, kernel.shape[-1])
        found = np.linalg.norm(flat, axis=0)
        if not np.all(np.isfinite(found)) or found.min() <= 0:
            return Rescaling(tuple(scales), f"{name} has a kernel of zero or no finite norm")
        scale = found / norm
        derived = flat / scale
        bias_error = np.abs(bias / scale - ref_bias) / np.maximum(np.abs(ref_bias), 1e-12)
        projection_error = np.abs(direction(index, flat.shape[0]) @ derived
                                  - ref_projection) / norm
        scales.append(scale)
        disagreement.append((float(bias_error.max()), float(projection_error.max())))
        inputs = scale
        if mismatch is None and not max(disagreement[-1]) <= AGREEMENT:
            what = "biases" if bias_error.max() >= projection_error.max() else "kernels"
            mismatch = f"{name}'s {what} differ by {max(disagreement[-1]):.1e}"
    return Rescaling(tuple(scales), mismatch, tuple(disagreement))


def normalized_layers(layers: Layers, found: Rescaling) -> Layers:
    """`layers` carried to the normalized network by the scales of `found` (float32)."""
    out, inputs = [], np.ones(3)
    for (name, kernel, bias), scale in zip(layers, found.scales):
        kernel = kernel.astype(np.float64) * inputs[None, None, :, None] / scale
        out.append((name, kernel.astype(np.float32), (bias / scale).astype(np.float32)))
        inputs = scale
    return out


@functools.lru_cache(maxsize=8)
def _identified(path: str, size: int, mtime_ns: int, network: str) -> Tuple[str, str]:
    try:
        layers = read_layers(path, network)
    except NSTError as error:
        return "unreadable", str(error)
    if network != "vgg19":
        return "other", f"the calibration is VGG19's, not {network.upper()}'s"
    found = rescaling(layers)
    if found.mismatch is not None:
        return "other", f"not a rescaling of VGG19's ImageNet weights: {found.mismatch}"
    return ("normalized" if found.is_normalized else "rescaled"), ""


def identify(path, network: str = "vgg19") -> Tuple[str, str]:
    """(kind, reason) of a weights file: 'normalized' (Gatys' normalized VGG19 itself),
    'rescaled' (a per-channel rescaling of it, such as Keras' ImageNet file), 'other' (reason:
    what disagrees) or 'unreadable'. Reads the file's kernels once per version of the file
    (about 0.3 s for VGG19's 80 MB)."""
    try:
        stat = os.stat(path)
    except OSError as error:
        return "unreadable", f"{path}: {error.strerror or error}"
    return _identified(str(path), stat.st_size, stat.st_mtime_ns, network)


def derived_layers(path, network: str = "vgg19") -> Layers:
    """The normalized network derived from the file at `path`; NSTError with one line when the
    file is not a rescaling of it."""
    layers = read_layers(path, network)
    found = rescaling(layers)
    if found.mismatch is not None:
        raise NSTError(f"{path}: not a rescaling of VGG19's ImageNet weights "
                       f"({found.mismatch}); --faithful runs it as it is")
    return layers if found.is_normalized else normalized_layers(layers, found)


def write_layers(path, layers: Layers, network: str = "vgg19") -> None:
    """Writes `layers` as a Keras 2 notop .h5 (the layout of Keras' download), atomically:
    keras.applications.VGG19(include_top=False, weights=path) loads it."""
    import h5py
    from nst_tf.io.files import atomic_output

    weights = {name: (kernel, bias) for name, kernel, bias in layers}
    names = ("input_1",) + NETWORK_LAYERS[network]
    with atomic_output(Path(path)) as temporary:
        with h5py.File(temporary, "w") as handle:
            handle.attrs["layer_names"] = [name.encode() for name in names]
            handle.attrs["backend"] = b"tensorflow"
            for name in names:
                group = handle.create_group(name)
                pair = weights.get(name)
                group.attrs["weight_names"] = ([f"{name}/kernel:0".encode(),
                                                f"{name}/bias:0".encode()] if pair else [])
                if pair:
                    group.create_dataset(f"{name}/kernel:0", data=pair[0])
                    group.create_dataset(f"{name}/bias:0", data=pair[1])
