"""The original's Medium examples: the manifest (bench/medium.json) and getting the images."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from nst_tf.presets import NORMALIZED_LOSS_SCALES
from nst_tf.io.download import download, verified
from nst_tf.errors import NSTError

MANIFEST = Path(__file__).resolve().parent / "medium.json"

# The manifest's loss weights are tuned for Keras' ImageNet VGG19 file; config's
# NORMALIZED_LOSS_SCALES carries them to Gatys' normalized file (the texture mode's preset uses
# the same factors).
LOSS_SCALES = {
    "keras": (1.0, 1.0, 1.0, 1.0),
    "normalized": NORMALIZED_LOSS_SCALES,
}


def scaled_weighting(weighting: Sequence[float], scales: Sequence[float]) -> Tuple[float, ...]:
    """A manifest weighting (direct, content, raw, texture) carried to another weights file."""
    return tuple(w * k for w, k in zip(weighting, scales))


def loss_scales_for(preset: str, choice: str = "auto") -> str:
    """Which LOSS_SCALES carry the manifest's weightings to the network that runs: 'auto'
    follows the config's preset as the command line's defaults do (the calibrated loop, preset
    normalized, on any rescaling of the normalized network: 'normalized'; the 2018 loop or a
    file run as it is: 'keras'); 'keras' or 'normalized' as asked."""
    if choice == "auto":
        return "normalized" if preset == "normalized" else "keras"
    if choice not in LOSS_SCALES:
        raise NSTError(f"loss scales must be auto or one of {', '.join(LOSS_SCALES)}, got "
                       f"{choice!r}")
    return choice


WEIGHT_SETTINGS = ("direct_weight", "content_weight", "raw_weight", "texture_weight")


def example_config(example: "Example", weighting: Sequence[float], base, scales: str = "auto",
                   given: Sequence[str] = (), factors: Optional[Sequence[float]] = None):
    """The TransferConfig of one of `example`'s runs: `base` with the example's split, size and
    `weighting` carried by loss_scales_for(base.preset, scales) (or by `factors`, (direct,
    content, raw, texture), when given); the settings named in `given` keep base's values."""
    factors = LOSS_SCALES[loss_scales_for(base.preset, scales)] if factors is None else factors
    values = {"split": example.split, "max_dim": example.max_dim}
    values.update(zip(WEIGHT_SETTINGS, scaled_weighting(weighting, factors)))
    return base.replace(**{**values, **{name: getattr(base, name) for name in given}})


@dataclasses.dataclass(frozen=True)
class Example:
    """One example: its images, the original's output size, and the parameters it implies."""

    name: str
    input: str
    input_sha256: Optional[str]
    original: str
    original_sha256: Optional[str]
    original_size: Tuple[int, int]  # (width, height) of the original's published result
    split: Tuple[int, int]
    max_dim: int
    weightings: Tuple[Tuple[float, float, float, float], ...]  # (direct, content, raw, texture)
    notes: str = ""  # why the weightings are what they are, where the manifest's 'about' is not enough


def load_manifest(path=MANIFEST) -> Tuple[str, List[Example]]:
    """(base URL, examples) from the manifest."""
    data = json.loads(Path(path).read_text())
    examples = [Example(**{**e, "original_size": tuple(e["original_size"]), "split": tuple(e["split"]),
                           "weightings": tuple(tuple(w) for w in e["weightings"])})
                for e in data["examples"]]
    return data["base_url"], examples


def select(examples: Sequence[Example], names: Optional[Sequence[str]]) -> List[Example]:
    """The examples named (case-insensitive), in manifest order; all when names is empty."""
    if not names:
        return list(examples)
    known = {e.name.lower(): e for e in examples}
    unknown = [n for n in names if n.lower() not in known]
    if unknown:
        raise NSTError(f"unknown example {', '.join(unknown)}; choose from "
                       f"{', '.join(e.name for e in examples)}")
    wanted = {n.lower() for n in names}
    return [e for e in examples if e.name.lower() in wanted]


def check_tile(example: Example, tile: Optional[int]) -> None:
    """Fails with one line when `tile` (row-major, from 0) is not one of the example's tiles."""
    count = example.split[0] * example.split[1]
    if tile is not None and not 0 <= tile < count:
        raise NSTError(f"tile {tile}: {example.name} has {count} tile(s) "
                       f"({example.split[0]}x{example.split[1]}), numbered 0 to {count - 1}")


def fetch(example: Example, base_url: str, folder, examples_dir=None) -> Tuple[Path, Path]:
    """Paths of the example's input and original-result images.

    With examples_dir the images are read from there (and must exist); otherwise they are
    downloaded into `folder` when a verified copy is not already there.
    """
    paths = []
    for filename, sha256 in ((example.input, example.input_sha256),
                             (example.original, example.original_sha256)):
        if examples_dir is not None:
            path = Path(examples_dir) / filename
            if not path.is_file():
                raise NSTError(f"{path}: no such file (example {example.name})")
            if sha256 is not None and not verified(path, sha256):
                raise NSTError(f"{path}: sha256 differs from the manifest's; not the original file")
        else:
            path = download(base_url + filename, Path(folder) / filename, sha256)
        paths.append(path)
    return paths[0], paths[1]
