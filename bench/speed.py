"""Measuring ways of running the same objective side by side, in one process, on one input.

Each path runs on the same tiles and weights; its reports give seconds per step, and the first
report whose total is at or below the quality target gives its time-to-quality. Time-to-look is
judged by the picture, not the objective: the first check (every `look_every` steps) at which
the path's picture has a look measure within 10% of the first path's final picture's while its
SSIM to the content is at least that picture's minus 0.05. Time spent measuring is not counted.
"""
from __future__ import annotations

import dataclasses
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import tensorflow as tf

from bench.reference import reference_transfer
from bench.transfer_parts import built
from nst_tf.config import TransferConfig
from nst_tf.network.layers import VGG19_LAYERS
from bench.look import LookMeasure, ssim
from nst_tf.io.images import resize, write_image

# Time-to-look: a picture has the target's look when its look measure is at most this factor of
# the target picture's, while its SSIM to the content is at least the target's minus the slack.
LOOK_FACTOR = 1.1
SSIM_SLACK = 0.05

# Output channels of each VGG19 block's convolutions.
BLOCK_CHANNELS = {1: 64, 2: 128, 3: 256, 4: 512, 5: 512}

# name -> (settings applied to the benchmark's config, computed the notebooks' way)
PATHS = {
    "reference": ({"optimizer": "adam"}, True),
    "adam": ({"optimizer": "adam"}, False),
    "adam_xla": ({"optimizer": "adam", "jit_compile": True}, False),
    "adam_coarse": ({"optimizer": "adam", "coarse_levels": 1, "coarse_iterations": 100}, False),
    "adam_lr20": ({"optimizer": "adam", "learning_rate": 20.0}, False),
    "lbfgs": ({"optimizer": "lbfgs"}, False),
    "lbfgs_coarse": ({"optimizer": "lbfgs", "coarse_levels": 1, "coarse_iterations": 20}, False),
    "adam_tf_backward": ({"optimizer": "adam"}, False),
}
# Paths that differ from another only in the feature extractor: attribute -> value.
EXTRACTOR_SETTINGS = {"adam_tf_backward": {"turned_backward": False}}


def conv_flops(image_size: Tuple[int, int], deepest: str, images: int) -> float:
    """Multiply-adds x 2 of VGG19's 3x3 convolutions from the input up to layer `deepest`."""
    height, width = image_size
    channels, flops = 3, 0.0
    for name in VGG19_LAYERS[:VGG19_LAYERS.index(deepest) + 1]:
        block = int(name[5])
        if name.endswith("pool"):
            height, width = height // 2, width // 2
            continue
        out = BLOCK_CHANNELS[block]
        flops += 2.0 * height * width * 9 * channels * out
        channels = out
    return flops * images


def deepest(layers) -> str:
    return max(layers, key=VGG19_LAYERS.index)


def step_flops(config: TransferConfig, tile_size: Tuple[int, int], tiles: int,
               reference: bool) -> float:
    """Convolution FLOPs of one step: the forward pass plus the backward pass to the pixels,
    which costs as much again (the network is frozen: no weight gradients)."""
    if reference:  # [X, gray(X)] together, to the deepest layer of either list
        forward = conv_flops(tile_size, deepest(config.texture_layers + config.content_layers),
                             2 * tiles)
    else:
        forward = (conv_flops(tile_size, deepest(config.content_layers), tiles)
                   + conv_flops(tile_size, deepest(config.texture_layers), tiles))
    return 2.0 * forward


def reset_peak_memory() -> bool:
    """Resets the kernel's peak-RSS counter for this process (Linux); False where impossible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_memory_mb() -> float:
    """Peak resident memory since the last reset (or since start), in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def device_name() -> str:
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    return "CPU"


class _QualityReached(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class LookTarget:
    """The look a path must reach: measure at most `look`, SSIM to the content at least `ssim`."""

    look: float
    ssim: float

    def reached(self, look: float, similarity: float) -> bool:
        return look <= self.look and similarity >= self.ssim


@dataclasses.dataclass
class PathResult:
    """What one path measured. Losses are the mean over tiles of the weighted total."""

    path: str
    steps: int
    seconds_per_step: float
    ratio_to_reference: Optional[float]
    gflops_per_second: float
    peak_memory_mb: float
    final_total: float
    target_total: Optional[float]
    time_to_quality_s: Optional[float]
    steps_to_quality: Optional[int]
    time_to_quality_ratio: Optional[float]
    wall_s: float
    final_look: Optional[float] = None
    final_ssim: Optional[float] = None
    time_to_look_s: Optional[float] = None
    steps_to_look: Optional[int] = None
    time_to_look_ratio: Optional[float] = None
    estimated: bool = False  # a reference run cut short: its times are per-step x steps


def run_path(name: str, content, texture, config: TransferConfig, steps: int,
             target: Optional[float], look_target: Optional[LookTarget] = None,
             look_every: int = 0) -> Tuple[PathResult, List]:
    """Runs one path for at most `steps` steps (or evaluations), stopping once `target` (and
    `look_target`, when given) is met. look_every > 0 measures the picture every that many steps
    and at the end (PathResult.final_look / final_ssim)."""
    settings, reference = PATHS[name]
    config = config.replace(iterations=steps, **settings)
    reset_peak_memory()
    start = time.perf_counter()
    job = (reference_transfer(content, texture, config) if reference
           else built(content, texture, config, download=True))
    # The extractor is the process's (kept across runs): its settings go back after this run.
    restore = {attribute: getattr(job.extractor, attribute)
               for attribute in EXTRACTOR_SETTINGS.get(name, {})}
    for attribute, value in EXTRACTOR_SETTINGS.get(name, {}).items():
        setattr(job.extractor, attribute, value)
    reports, looks = [], []
    measuring = {"seconds": 0.0}
    measure = _picture_measure(job, texture) if look_every > 0 else None

    def record(report):
        report = dataclasses.replace(report, seconds=report.seconds - measuring["seconds"])
        reports.append(report)
        if measure is not None and report.step % look_every == 0:
            began = time.perf_counter()
            looks.append((report, *measure(job.result())))
            measuring["seconds"] += time.perf_counter() - began
        quality = target is None or report.total <= target
        look_done = look_target is None or any(look_target.reached(l, m) for _, l, m in looks)
        if (target is not None or look_target is not None) and quality and look_done:
            raise _QualityReached

    try:
        job.run(record)
    except _QualityReached:
        pass
    finally:
        for attribute, value in restore.items():
            setattr(job.extractor, attribute, value)
    wall = time.perf_counter() - start - measuring["seconds"]
    # Step 0 includes tracing; the steady state is what a long run pays per step.
    gaps = [b.seconds - a.seconds for a, b in zip(reports[1:], reports[2:])]
    per_step = statistics.median(gaps) if gaps else float("nan")
    reached = next((r for r in reports if target is not None and r.total <= target), None)
    looked = next((r for r, l, m in looks if look_target is not None and look_target.reached(l, m)),
                  None)
    tiles = config.split[0] * config.split[1]
    flops = step_flops(config, job.tile_size, tiles, reference)
    final_look, final_ssim = measure(job.result()) if measure is not None else (None, None)
    result = PathResult(
        path=name, steps=len(reports), seconds_per_step=per_step, ratio_to_reference=None,
        gflops_per_second=flops / per_step / 1e9, peak_memory_mb=peak_memory_mb(),
        final_total=min(r.total for r in reports), target_total=target,
        time_to_quality_s=reached.seconds if reached else None,
        steps_to_quality=reached.step if reached else None, time_to_quality_ratio=None,
        wall_s=wall, final_look=final_look, final_ssim=final_ssim,
        time_to_look_s=looked.seconds if looked else None,
        steps_to_look=looked.step if looked else None)
    return result, reports


def _picture_measure(job, texture):
    """image -> (look measure, SSIM to the content), both at the result's size."""
    look = LookMeasure(job.extractor.model, texture)
    size = tuple(job.result().shape[:2])
    reference = resize(job.content, size, antialias=True)
    return lambda image: (look(image), ssim(image, reference))


def compare(paths: List[str], content, texture, config: TransferConfig, steps: int,
            look_every: int = 0, reference_steps: Optional[int] = None
            ) -> Tuple[List[PathResult], Dict]:
    """Runs `paths` in order on the same input. The first sets the targets: its total after
    `steps` updates (the loss evaluated at step `steps`) and, with look_every > 0, the look of
    its final picture; the others stop on reaching both.

    reference_steps: run the eager 'reference' path (when it is not first) for only this many
    steps; its times for `steps` are then estimated as its first step (tracing) plus its
    median seconds per step times `steps`. It follows the faithful trajectory (same objective,
    tested equal), so that is also its time to the faithful look.
    """
    results = []
    first, first_reports = run_path(paths[0], content, texture, config, steps + 1, None,
                                    look_every=look_every)
    target = first_reports[-1].total
    first.target_total = target
    first.time_to_quality_s = first.time_to_look_s = first_reports[-1].seconds
    first.steps_to_quality = first.steps_to_look = first_reports[-1].step
    look_target = None
    if look_every > 0:
        look_target = LookTarget(first.final_look * LOOK_FACTOR, first.final_ssim - SSIM_SLACK)
    results.append(first)
    for name in paths[1:]:
        if name == "reference" and reference_steps:
            result, reports = run_path(name, content, texture, config, reference_steps + 1, None)
            estimate = reports[0].seconds + result.seconds_per_step * steps
            result.target_total = target
            result.time_to_quality_s = result.time_to_look_s = estimate
            result.steps_to_quality = result.steps_to_look = steps
            result.estimated = True
        else:
            result = run_path(name, content, texture, config, steps + 1, target, look_target,
                              look_every)[0]
        results.append(result)
    # Ratios are to the eager reference when it ran (the original's cost), else to the first path.
    base = next((r for r in results if r.path == "reference"), first)
    for result in results:
        result.ratio_to_reference = result.seconds_per_step / base.seconds_per_step
        if result.time_to_quality_s is not None:
            result.time_to_quality_ratio = result.time_to_quality_s / base.time_to_quality_s
        if result.time_to_look_s is not None and base.time_to_look_s:
            result.time_to_look_ratio = result.time_to_look_s / base.time_to_look_s
    meta = {"device": device_name(), "steps": steps, "target_from": paths[0],
            "look_target": dataclasses.asdict(look_target) if look_target else None}
    meta["ratios_to"] = base.path
    return results, meta


def memory_probe(argument: str) -> str:
    """Runs a few steps in this process and returns its peak resident memory, as JSON.

    argument: JSON {"content", "texture", "config", "steps"}. Meant for a fresh process
    (memory_growth), so that nothing retained from earlier work counts.
    """
    task = json.loads(argument)
    config = TransferConfig.from_dict(task["config"]).replace(iterations=task["steps"])
    job = built(task["content"], task["texture"], config, download=True)
    job.run()
    height, width = job.tile_size
    tiles = config.split[0] * config.split[1]
    return json.dumps({"max_dim": config.max_dim, "megapixels": height * width * tiles / 1e6,
                       "peak_memory_mb": peak_memory_mb()})


def memory_growth(content, texture, config: TransferConfig, sizes, steps: int = 3) -> List[Dict]:
    """Peak resident memory of `config`'s path at each max_dim, each size in a fresh process."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        content_path, texture_path = Path(folder) / "content.png", Path(folder) / "texture.png"
        write_image(content_path, content)
        write_image(texture_path, texture)
        for size in sorted(sizes):
            rows.append(run_probe("bench.speed", "memory_probe", {
                "content": str(content_path), "texture": str(texture_path),
                "config": dataclasses.asdict(config.replace(max_dim=size)), "steps": steps},
                f"memory probe at {size} px"))
    return rows


def run_probe(module: str, function: str, argument: dict, what: str) -> dict:
    """Runs module.function(json argument) in a fresh Python process (so its peak memory and
    its timing are its own) and returns the JSON object it prints last."""
    root = Path(__file__).resolve().parent.parent
    code = f"import sys; from {module} import {function}; print({function}(sys.argv[1]))"
    done = subprocess.run([sys.executable, "-c", code, json.dumps(argument)], capture_output=True,
                          text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root),
                                                     "TF_CPP_MIN_LOG_LEVEL": "3"})
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed: {done.stderr[-800:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
