"""Clip jobs of a batch on a real Ray cluster (the three-node cluster of
tests/test_batch_cluster.py): each clip is made on a worker from its bytes and comes back whole;
a node lost while its worker is mid-clip loses no job and leaves no half-written video, and the
same command again finds every job finished."""
import json
import subprocess
import sys

import imageio.v3 as iio
import imageio_ffmpeg
import numpy as np
import pytest

from conftest import ROOT, encoded_clip, panned, random_image

ray = pytest.importorskip("ray")
from test_batch_cluster import batch_losing_a_node, cluster  # noqa: E402,F401  (cluster: the fixture)

CLIPS, FRAMES, SIDE = 4, 8, 32
# Three Ray workers each start TensorFlow on a busy 2-core machine: 240 s ran out before.
TIMEOUT_S = 900
FLAGS = ["--weights=random", f"--max_dim={SIDE}", "--iterations=30"]
LATER_STEPS = 10  # a video setting: a clip row's column (the batch command has no video flags)


def frames_of(path):
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    return meta["size"], sum(1 for _ in reader)


@pytest.mark.slow
def test_a_node_lost_mid_clip_loses_no_clip_job(cluster, tmp_path):  # noqa: F811
    folder = tmp_path / "driver"
    (folder / "clips").mkdir(parents=True)
    for k in range(CLIPS):
        encoded_clip(folder / "clips" / f"c{k}.mp4", panned(FRAMES, SIDE, SIDE, seed=k),
                     fps=10, audio=False)
    iio.imwrite(folder / "texture.png", random_image((SIDE, SIDE), seed=9).astype(np.uint8))
    (folder / "jobs.csv").write_text("content,texture,later_steps\n" + "".join(
        f"clips/c{k}.mp4,texture.png,{LATER_STEPS}\n" for k in range(CLIPS)))
    command = [sys.executable, str(ROOT / "scripts" / "batch.py"), "--jobs=jobs.csv",
               "--output_dir=out", f"--ray_address={cluster.address}", "--noprogress", *FLAGS]
    _, returncode, rest = batch_losing_a_node(cluster, command, folder, CLIPS, TIMEOUT_S)
    assert returncode == 0, rest[-3000:]
    out = folder / "out"
    lines = [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]
    assert sorted(r["job"] for r in lines) == [f"c{k}.mp4" for k in range(CLIPS)]  # each once
    assert {r["status"] for r in lines} == {"done"}
    # Every video whole (its frames, at the plan's size), nothing half-written beside them.
    assert sorted(p.name for p in out.iterdir()) == [f"c{k}.mp4" for k in range(CLIPS)] + [
        "report.jsonl"]
    for k in range(CLIPS):
        assert frames_of(out / f"c{k}.mp4") == ((SIDE, SIDE), FRAMES)
    again = subprocess.run(command, cwd=folder, capture_output=True, text=True,
                           timeout=TIMEOUT_S)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"0 done, {CLIPS} skipped, 0 failed" in again.stderr
