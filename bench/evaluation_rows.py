"""Full-resolution benchmark rows: the cost of one evaluation per megapixel and the peak memory,
each picture size in a fresh process, tiled (global statistics) against untiled at 512 px.

    python bench/scripts/benchmark.py --highres 512x341:0,3840x2160:1024,5464x3640:1024
"""
from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bench.speed import peak_memory_mb, run_probe
from nst_tf.config import TransferConfig
from nst_tf.errors import NSTError
from nst_tf.io.images import resize, write_image

# (height, width) of the untiled picture that full-resolution costs are compared with: 512 px,
# the original's working tile, at a 3:2 photo's shape (benchmark --highres, full_resolution.py).
BASELINE_SIZE = (341, 512)


def parse_rows(text: str) -> List[Tuple[Tuple[int, int], int]]:
    """'3840x2160:1024,512x341:0' -> [((2160, 3840), 1024), ((341, 512), 0)]: (height, width),
    tile size (0: untiled)."""
    rows = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            size, tile = item.split(":")
            width, height = (int(v) for v in size.lower().split("x"))
            rows.append(((height, width), int(tile)))
        except ValueError:
            raise NSTError(f"highres rows look like WIDTHxHEIGHT:TILE, got {item!r}") from None
    return rows


def evaluation_probe(argument: str) -> str:
    """Runs `steps` Adam steps on one picture at full resolution in this process; returns JSON
    with the seconds of the fastest step after the first (the first traces), or with one step
    that step's seconds (tracing included: an upper bound), and the peak RSS.

    argument: JSON {"content", "texture", "config"}; the config's iterations are the steps and
    its start_dim the picture's size, so there is one level: the picture, tiled by tile_size.
    """
    from bench.transfer_parts import built
    task = json.loads(argument)
    config = TransferConfig.from_dict(task["config"])
    seconds = []
    job = built(task["content"], task["texture"], config, download=True)
    job.run(lambda report: seconds.append(report.seconds))
    height, width = job.regime.full
    steps = [b - a for a, b in zip(seconds[:-1], seconds[1:])] or seconds[:1]
    objective = job.objective
    return json.dumps({
        "width": width, "height": height, "megapixels": height * width / 1e6,
        "tile_size": config.tile_size, "tiles": len(getattr(objective, "colour_tiles", [None])),
        "seconds_per_evaluation": min(steps), "includes_tracing": len(seconds) < 2,
        "peak_memory_mb": peak_memory_mb()})


def evaluation_rows(content, texture, config: TransferConfig,
                    rows: Sequence[Tuple[Tuple[int, int], int]], steps: int = 2,
                    baseline: Optional[Tuple[Tuple[int, int], int]] = (BASELINE_SIZE, 0)
                    ) -> List[Dict]:
    """One fresh process per (size, tile size): seconds per evaluation, per megapixel, and the
    peak resident memory; `per_mp_ratio` is relative to the first row, the baseline, which is
    timed as its fastest of steps 2-4 (its first steps are still warming up: with one more step only,
    512x341 measured 6.1 s instead of 4.3 s here, which would flatter the ratios).

    baseline: the row put first unless `rows` start with it (untiled 512x341 by default), so a
    large row is never the baseline, timed over four steps; None: the first row is the baseline.
    """
    rows = list(rows)
    if baseline is not None and (not rows or tuple(rows[0]) != tuple(baseline)):
        rows.insert(0, baseline)
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for index, (size, tile) in enumerate(rows):
            content_path = Path(folder) / f"content_{size[1]}x{size[0]}.png"
            texture_path = Path(folder) / f"texture_{size[1]}x{size[0]}.png"
            write_image(content_path, resize(content, size, antialias=True))
            write_image(texture_path, resize(texture, size, antialias=True))
            probe = config.replace(max_dim=0, statistics="global", tile_size=tile,
                                   start_dim=max(size), coarse_levels=0,
                                   iterations=max(steps, 4) if index == 0 else steps)
            row = run_probe("bench.evaluation_rows", "evaluation_probe",
                            {"content": str(content_path), "texture": str(texture_path),
                             "config": dataclasses.asdict(probe)},
                            f"evaluation probe at {size[1]}x{size[0]}")
            row["seconds_per_mp"] = row["seconds_per_evaluation"] / row["megapixels"]
            results.append(row)
    for row in results:
        row["per_mp_ratio"] = row["seconds_per_mp"] / results[0]["seconds_per_mp"]
    return results


def full_resolution_check(content, texture, original, config: TransferConfig,
                          baseline_steps: int = 100, baseline_size=BASELINE_SIZE, callback=None):
    """A full-resolution run scored against the original's downscaled result, timed against
    `baseline_steps` Adam steps at `baseline_size` (height, width) measured first, in this process.

    content, texture, original: RGB arrays (the original's result at its own, smaller, size).
    Returns (result uint8 at the content's size, {measures}): the look and SSIM to the content of
    ours downscaled to the original's size and of the original's; the mean absolute Laplacian of
    ours at full size and of the original's upscaled to it; the seconds of both runs.
    """
    import time

    import numpy as np

    from bench.look import LookMeasure, mean_laplacian, ssim
    from bench.transfer_parts import built

    baseline_config = config.replace(max_dim=max(baseline_size), split=(1, 1), statistics="tile",
                                     iterations=baseline_steps, coarse_levels=0)
    baseline_content = resize(content, baseline_size, antialias=True)
    started = time.perf_counter()
    reports = []
    built(baseline_content, texture, baseline_config, download=True).run(reports.append)
    baseline_seconds = (time.perf_counter() - started) * baseline_steps / max(1, len(reports))

    started = time.perf_counter()
    job = built(content, texture, config, download=True)
    result = job.run(callback)
    seconds = time.perf_counter() - started

    small = original.shape[:2]
    ours_small = resize(result, small, antialias=True)
    content_small = resize(content, small, antialias=True)
    look = LookMeasure(job.extractor.model, texture)
    original_full = resize(original, result.shape[:2])
    measures = {
        "size": [result.shape[1], result.shape[0]], "original_size": [small[1], small[0]],
        "levels": [[w, h] for h, w in job.plan.sizes], "level_steps": job.plan.steps,
        "seconds": seconds, "baseline_seconds": baseline_seconds,
        "baseline": f"{baseline_steps} Adam steps at {baseline_size[1]}x{baseline_size[0]}",
        "time_ratio": seconds / baseline_seconds,
        "look_ours": look(ours_small), "look_original": look(original),
        "look_content": look(content_small),
        "ssim_ours": ssim(ours_small, content_small), "ssim_original": ssim(original, content_small),
        "detail_ours": mean_laplacian(result), "detail_original_upscaled":
            mean_laplacian(original_full), "detail_content": mean_laplacian(content),
        "peak_memory_mb": peak_memory_mb(),
    }
    measures["look_ratio"] = measures["look_ours"] / measures["look_original"]
    measures["detail_ratio"] = measures["detail_ours"] / measures["detail_original_upscaled"]
    return np.asarray(result), measures
