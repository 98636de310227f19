"""Locating, downloading and caching VGG weight files (Keras' VGG19, and VGG16)."""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Optional

from nst_tf.network.layers import NETWORK_LAYERS
from nst_tf.io.download import (ByteProgress, DownloadError, HashMismatch, copy_verified,
                                destination, download, verified)
from nst_tf.errors import NSTError

def _from_checkout() -> bool:
    """Whether the package runs from a checkout (scripts/ beside it) rather than installed."""
    checkout = Path(__file__).resolve().parents[2]
    return (checkout / "nst_tf").is_dir() and (checkout / "scripts").is_dir()


def download_command(network: str = "vgg19") -> str:
    """The command that fetches Keras' file of `network` for this user: the console command
    once installed, the script in a checkout (where the console command may not be)."""
    command = ("python scripts/download_weights.py" if _from_checkout()
               else "nst-tf download-weights")
    return command + ("" if network == "vgg19" else f" --network {network}")


def download_advice(network: str = "vgg19") -> str:
    """What to do when a weights file is missing or broken, in a few words."""
    return f"get Keras' {network.upper()} file with: {download_command(network)}"


@dataclasses.dataclass(frozen=True)
class WeightsFile:
    """A downloadable weights file: its name, where it comes from, and its md5."""

    filename: str
    url: str
    md5: str


KERAS_VGG19_NOTOP = WeightsFile(
    filename="vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
    url=("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
         "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    md5="253f8cb515780f3b799900260a226db6",
)
# keras.applications.vgg16's WEIGHTS_PATH_NO_TOP and its file_hash.
KERAS_VGG16_NOTOP = WeightsFile(
    filename="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
    url=("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
         "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    md5="6d6bbae143d832006294945121d1f1fc",
)


def keras_file(network: str = "vgg19") -> WeightsFile:
    """Keras' ImageNet notop file of `network` (looked up at call time, so tests can swap it)."""
    return {"vgg19": KERAS_VGG19_NOTOP, "vgg16": KERAS_VGG16_NOTOP}[network]

def keras_cache_dir() -> Path:
    """Where keras.utils.get_file keeps downloaded models ($KERAS_HOME/models, ~/.keras/models)."""
    return Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "models"


def _default_weights_dir() -> Path:
    """The checkout's weights/ folder when the package runs from a checkout; installed (pip
    install .: the package in site-packages, where weights/ would land beside every other
    package), Keras' own cache, which is searched anyway."""
    if _from_checkout():
        return Path(__file__).resolve().parents[2] / "weights"
    return keras_cache_dir()


# The project's weights/ folder; NST_TF_WEIGHTS_DIR moves it (e.g. to a shared cache).
WEIGHTS_DIR = Path(os.environ.get("NST_TF_WEIGHTS_DIR") or _default_weights_dir())


def resolve_weights(spec: Optional[str], weights_dir=None, allow_download: bool = True,
                    network: str = "vgg19") -> Optional[str]:
    """Turns the `weights` setting into a file path, or None for random weights.

    'imagenet': Keras' notop file of `network`, from weights_dir or the Keras cache when a
    verified copy is there, else downloaded into weights_dir. 'random' or None: untrained.
    Anything else: a path, checked to be that network's notop file.
    """
    if spec is None or spec == "random":
        return None
    if spec == "imagenet":
        known = keras_file(network)
        weights_dir = Path(weights_dir) if weights_dir is not None else WEIGHTS_DIR
        for folder in (weights_dir, keras_cache_dir()):
            candidate = folder / known.filename
            if verified(candidate, known.md5):
                return str(candidate)
        if not allow_download:
            raise NSTError(f"Keras' {network.upper()} weights are not in {weights_dir}; "
                           f"run {download_command(network)} (with --from FILE: a copy you "
                           "have), or give --weights FILE")
        # 80 MB on a first run: the user sees it coming in.
        try:
            return str(download(known.url, weights_dir / known.filename, known.md5,
                                progress=ByteProgress()))
        except DownloadError as error:
            raise NSTError(f"Keras' {network.upper()} weights are not in {weights_dir} and "
                           f"could not be downloaded ({error.reason}): install a copy you have "
                           f"with {download_command(network)} --from FILE, give --weights FILE "
                           f"(a {network.upper()} notop .h5), or run {download_command(network)} "
                           "where there is internet") from None
    path = Path(spec)
    if not os.path.isfile(path):  # False, not OSError, for a name too long
        raise NSTError(f"{spec}: no such weights file (use 'imagenet', 'random' or a path to a "
                       f"{network.upper()} notop .h5)")
    check_weights_file(path, network)
    return str(path)


def install_weights(source, network: str = "vgg19", dest=None) -> Path:
    """Installs a copy of Keras' `network` notop file that the user has (`download-weights
    --from FILE`): checked against Keras' md5, the one the download checks, and copied where
    the download puts it (WEIGHTS_DIR under Keras' file name, where resolve_weights looks), or
    to `dest` (a file, or a folder to put it in). Returns the installed file's path. Any other
    file is refused with one line, before anything is written."""
    known = keras_file(network)
    name = network.upper()
    target = (WEIGHTS_DIR / known.filename if dest is None
              else destination(dest, known.filename))
    try:
        return copy_verified(source, target, known.md5)
    except HashMismatch as error:
        raise NSTError(f"{source}: not Keras' {name} notop file (its md5 is {error.actual}, "
                       f"Keras' is {known.md5}); nothing installed (another {name} notop file "
                       "runs as it is with --weights FILE)") from None


def vgg19_kernel_shapes() -> dict:
    """{conv layer name: its kernel's shape} for VGG19 without its classifier."""
    return kernel_shapes("vgg19")


def kernel_shapes(network: str = "vgg19") -> dict:
    """{conv layer name: its kernel's shape} for `network` without its classifier."""
    widths = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}
    shapes, channels = {}, 3
    for name in NETWORK_LAYERS[network]:
        if "_conv" in name:
            width = widths[int(name[len("block")])]
            shapes[name] = (3, 3, channels, width)
            channels = width
    return shapes


def check_vgg19_file(path) -> None:
    """check_weights_file for VGG19."""
    check_weights_file(path, "vgg19")


def check_weights_file(path, network: str = "vgg19") -> None:
    """Fails with one line, and the fix, unless `path` is a readable Keras `network` notop .h5
    whose conv kernels have that network's shapes. Reads only the file's index, not the 80 MB of
    weights, so it runs before the network is built."""
    import h5py  # Keras' own dependency for .h5 files

    name, advice = network.upper(), download_advice(network)
    named, kernels = {}, []
    try:
        with h5py.File(path, "r") as handle:
            legacy = "layer_names" in handle.attrs  # Keras 2's layout, Keras' download's

            def note(name, item):
                if isinstance(item, h5py.Dataset) and len(item.shape) == 4:
                    kernels.append(tuple(item.shape))
                    named.setdefault(name.split("/", 1)[0], tuple(item.shape))
            handle.visititems(note)
    except (OSError, ValueError, KeyError, RuntimeError) as error:  # h5py: RuntimeError
        # for a damaged file's internals (a bad heap, object header or link)
        reason = str(error).splitlines()[0][:100] if str(error) else type(error).__name__
        raise NSTError(f"{path}: not a {name} notop weights file (truncated or corrupt: "
                       f"{reason}); {advice}") from None
    expected_shapes = kernel_shapes(network)
    if not legacy:
        # Keras 3's .weights.h5 names layers by class (conv2d_3), not by the network's names:
        # compare the kernels' shapes as a whole.
        if sorted(kernels) != sorted(expected_shapes.values()):
            raise NSTError(f"{path}: not a {name} notop weights file (its {len(kernels)} "
                           f"convolution kernels are not {name}'s {len(expected_shapes)}); "
                           f"{advice}")
        return
    for layer, expected in expected_shapes.items():
        found = named.get(layer)
        if found is None:
            raise NSTError(f"{path}: not a {name} notop weights file (no {layer} in it: another "
                           f"network's weights?); {advice}")
        if found != expected:
            raise NSTError(f"{path}: not a {name} notop weights file ({layer}'s kernel is "
                           f"{'x'.join(map(str, found))}, {name}'s is "
                           f"{'x'.join(map(str, expected))}); {advice}")
    extra = sorted(layer for layer in named if layer not in expected_shapes)
    if extra:
        raise NSTError(f"{path}: not a {name} notop weights file (it has {extra[0]}, which "
                       f"{name} has not: another network's weights?); {advice}")
