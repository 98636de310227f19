"""Reproducing one Medium example: our transfer per weighting, scored beside the original's."""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Dict, List, Optional, Tuple, Union

import numpy as np

from bench.transfer_parts import built
from nst_tf.config import TransferConfig
from bench.look import LookMeasure, layout_correlation, objective, ssim
from bench.manifest import Example, check_tile, example_config
from nst_tf.io.images import read_image, resize, split_pair, write_image
from nst_tf.io.tiles import split_tiles
from nst_tf.report.sheet import contact_sheet


@dataclasses.dataclass
class Reproduction:
    """Our result at the original's output size, the contact sheet, and one score row per weighting."""

    result: np.ndarray
    sheet: np.ndarray
    rows: List[Dict]


def side_by_side_parts(image: np.ndarray, count: int) -> List[np.ndarray]:
    """The `count` equal-width results that a published output shows side by side."""
    width = image.shape[1] // count
    return [image[:, k * width:(k + 1) * width] for k in range(count)]


def one_tile(split: Tuple[int, int], tile: int, content: np.ndarray, texture: np.ndarray,
             originals: List[np.ndarray]) -> Tuple[np.ndarray, np.ndarray, List[np.ndarray]]:
    """Tile `tile` (row-major) of a `split` run: the content's, the texture's (resized to the
    content first, as a run does) and each published result's."""
    texture = resize(texture, content.shape[:2], antialias=True)
    pick = lambda image: split_tiles(image, split)[tile]  # noqa: E731
    return pick(content), pick(texture), [pick(image) for image in originals]


# The bars a run is held to (docs/measurements/2026-12-medium-examples.md): its look at most
# this times the original's, its SSIM to the content at least the original's minus SSIM_SLACK.
LOOK_RATIO_BAR = 1.1
SSIM_SLACK = 0.05


class LookChecks:
    """A callback that takes the look and SSIM of the picture every `every` steps (their own
    time left out of the run's seconds) and notes the first step where both bars hold."""

    def __init__(self, job, look: LookMeasure, look_original: float, reference: np.ndarray,
                 ssim_bar: float, every: int, callback=None, texture=None, keep=None):
        self.job, self.look, self.look_original = job, look, look_original
        self.reference, self.ssim_bar, self.every = reference, ssim_bar, every
        self.callback, self.texture, self.keep = callback, texture, keep
        self.checks: List[Dict] = []
        self.checking = 0.0  # seconds spent on the checks

    def __call__(self, report) -> None:
        if self.callback is not None:
            self.callback(report)
        if (report.step + 1) % self.every:
            return
        began = time.perf_counter()
        picture = self.job.result()
        ratio = self.look(picture) / self.look_original
        self.checks.append({
            "step": report.step + 1, "seconds": report.seconds - self.checking,
            "ratio": ratio, "ssim": ssim(picture, self.reference),
            "layout": None if self.texture is None else layout_correlation(picture, self.texture)})
        if self.keep is not None:  # each check's picture, to see where a rule would stop
            write_image(f"{self.keep}_step{report.step + 1}.png", picture)
        self.checking += time.perf_counter() - began

    def to_the_look(self) -> Optional[Dict]:
        """The first check with the look within the bar and the SSIM above its bar, or None."""
        return to_the_look(self.checks, self.ssim_bar)


def to_the_look(checks: List[Dict], ssim_bar: float, until: Optional[int] = None) -> Optional[Dict]:
    """The first of `checks` (up to step `until`) with the look within LOOK_RATIO_BAR and SSIM
    at least `ssim_bar`, or None."""
    return next((c for c in checks if (until is None or c["step"] <= until)
                 and c["ratio"] <= LOOK_RATIO_BAR and c["ssim"] >= ssim_bar), None)


def reproduce(example: Example, input_path, original_path,
              config_for: Union[TransferConfig,
                                Callable[[Tuple[float, float, float, float]], TransferConfig]],
              callback=None, tile: Optional[int] = None,
              every: Optional[int] = None, keep_dir=None) -> Reproduction:
    """Runs the example once per weighting (config_for(weighting) gives each run's config; a
    TransferConfig there is the base of manifest.example_config, the weightings carried to its
    network by the scales its preset takes, as the script's default does) and
    scores our result and the original's with the same network, weights and tiles: the
    objective, the look measure (at our result's size) and SSIM to the content.

    With `tile` only that tile of the example's split runs, alone (split 1x1), scored against
    the same tile of the original's result. With the original's per-tile statistics a tile's
    gradient is its own, so this is the split run's tile, except that the plateau schedule then
    watches this tile's loss instead of the mean over all tiles.

    Each row has the steps run, the seconds and why the run ended; with `every`, also the look
    and SSIM every `every` steps and the first step (and its seconds) where both bars hold; with
    `keep_dir`, each check's picture is written there too."""
    if isinstance(config_for, TransferConfig):
        base = config_for
        config_for = lambda weighting: example_config(example, weighting, base)  # noqa: E731
    content, texture = split_pair(read_image(input_path))
    original = read_image(original_path)
    originals = side_by_side_parts(original, len(example.weightings))
    if tile is not None:
        check_tile(example, tile)
        content, texture, originals = one_tile(example.split, tile, content, texture, originals)
    ours, rows = [], []
    for index, (weighting, theirs) in enumerate(zip(example.weightings, originals)):
        config = config_for(weighting)
        if tile is not None:
            config = config.replace(split=(1, 1))
        job = built(content, texture, config, download=True)
        size = job.result().shape[:2]
        reference = resize(content, size, antialias=True)
        look = LookMeasure(job.extractor.model, texture)
        theirs_resized = resize(theirs, size, antialias=True)
        look_original = look(theirs_resized)
        ssim_original = ssim(theirs, reference)
        checks = LookChecks(job, look, look_original, reference, ssim_original - SSIM_SLACK,
                            every or 10 ** 9, callback, texture,
                            None if keep_dir is None else
                            f"{keep_dir}/{example.name}_tile{tile}_weighting{index}")
        began = time.perf_counter()
        result = job.run(checks)
        seconds = time.perf_counter() - began - checks.checking
        ours_score = objective(job.objective, result, config.split, job.tile_size)
        theirs_score = objective(job.objective, theirs, config.split, job.tile_size)
        reached = checks.to_the_look()
        rows.append({
            "example": example.name, "tile": tile, "weighting": list(weighting),
            "loss_weights": list(config.loss_weights), "split": list(config.split),
            "size": [size[1], size[0]], "optimizer": config.optimizer, "steps": config.steps,
            "epsilon": config.epsilon, "settle_fraction": config.settle_fraction,
            "steps_run": getattr(job.optimization, "updates", None),
            "stopped_by": getattr(job.optimization, "stopped_by", None),
            "seconds": seconds, "checks": checks.checks,
            # the stopping rule's readings (levels per pixel, every settle_every steps), when on
            "changes": getattr(getattr(job.optimization, "settled", None), "changes", None),
            "look_step": None if reached is None else reached["step"],
            "look_seconds": None if reached is None else reached["seconds"],
            "ours": ours_score, "original": theirs_score,
            "look_ours": look(result), "look_original": look_original,
            "look_content": look(reference),
            "layout_ours": layout_correlation(result, texture),
            "layout_original": layout_correlation(theirs_resized, texture),
            "ssim_ours": ssim(result, reference), "ssim_original": ssim_original,
        })
        ours.append(result)
    height = min(r.shape[0] for r in ours)
    combined = np.concatenate([r[:height] for r in ours], axis=1)
    if tile is None:
        width, height = example.original_size
    else:  # the published result's tile: its side-by-side parts' tiles put back together
        original = np.concatenate(originals, axis=1)
        height, width = original.shape[:2]
    result = np.clip(np.round(resize(combined, (height, width), antialias=True)), 0, 255).astype(np.uint8)
    sheet = contact_sheet([("content", content), ("texture", texture),
                           ("original result", original), ("nst_tf", result)])
    return Reproduction(result=result, sheet=sheet, rows=rows)
