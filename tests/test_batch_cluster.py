"""The batch on a real Ray cluster (ray.cluster_utils.Cluster: a head and two worker nodes, each
its own raylet with one CPU, one of them declaring a GPU): the driver ships the photos and masks
as bytes and writes every output; the nodes run in a folder where the driver's relative paths do
not exist; a node removed mid-batch loses no job; a GPU job runs only on the GPU node."""
import json
import os
import signal
import subprocess
import sys
import time

import imageio.v3 as iio
import numpy as np
import pytest

from conftest import ROOT, interruptible, legacy_weights_file, random_image
from nst_tf.network.weights import kernel_shapes

ray = pytest.importorskip("ray")
from ray.cluster_utils import Cluster  # noqa: E402

TINY = ["--max_dim=48", "--weights=random", "--texture_weight=1000"]  # a mask shows
SMALL_STORE = 80 * 1024 * 1024  # bytes of object store per node: the jobs need little
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


@pytest.fixture
def cluster(tmp_path, monkeypatch):
    """Three raylets started from an empty folder (the nodes' working directory): the head and a
    CPU node with one CPU each, and a node with one CPU and one (declared) GPU. Shut down at the
    end, whatever happened."""
    nodes = tmp_path / "nodes"
    nodes.mkdir()
    monkeypatch.chdir(nodes)  # the raylets and their workers start here
    started = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "object_store_memory": SMALL_STORE, "include_dashboard": False})
    try:
        started.cpu_node = started.add_node(num_cpus=1, object_store_memory=SMALL_STORE)
        started.gpu_node = started.add_node(num_cpus=1, num_gpus=1,
                                            object_store_memory=SMALL_STORE)
        started.wait_for_nodes()
        started.nodes_dir = nodes
        yield started
    finally:
        if ray.is_initialized():
            ray.shutdown()
        started.shutdown()


@pytest.fixture
def driver(tmp_path):
    """The driver's folder: six photos, a texture and a mask under it, and jobs.csv naming them
    by paths relative to it (which exist nowhere else)."""
    folder = tmp_path / "driver"
    (folder / "photos").mkdir(parents=True)
    for k in range(6):
        iio.imwrite(folder / "photos" / f"p{k}.png", random_image((40, 56), k).astype(np.uint8))
    iio.imwrite(folder / "cracks.png", random_image((30, 30), 9).astype(np.uint8))
    mask = np.zeros((20, 28), np.uint8)
    mask[:, 14:] = 255
    iio.imwrite(folder / "half.png", mask)
    rows = ["content,texture,content_mask"]
    rows += [f"photos/p{k}.png,cracks.png,{'half.png' if k == 0 else ''}" for k in range(6)]
    (folder / "jobs.csv").write_text("\n".join(rows) + "\n")
    return folder


# A batch on the three-node cluster: each Ray worker starts TensorFlow. 240 s ran out on a
# 2-core machine with one other test job beside it; a stuck batch still fails, in 10 minutes.
BATCH_TIMEOUT_S = 600


def _batch(folder, cluster, *flags, jobs="jobs.csv", timeout=BATCH_TIMEOUT_S):
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "batch.py"), f"--jobs={jobs}",
         f"--ray_address={cluster.address}", "--noprogress", *TINY, *flags],
        cwd=folder, capture_output=True, text=True, timeout=timeout,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))


def _report(out):
    return [json.loads(line) for line in (out / "report.jsonl").read_text().splitlines()]


def _no_photo_under(folder):
    return not [p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES]


def test_a_batch_spreads_over_the_nodes_and_the_driver_writes_every_output(cluster, driver):
    started = time.perf_counter()
    done = _batch(driver, cluster, "--output_dir=out", "--iterations=2")
    assert done.returncode == 0, done.stderr[-3000:]
    out = driver / "out"
    lines = _report(out)
    assert sorted(r["job"] for r in lines) == [f"p{k}.png" for k in range(6)]
    assert {r["status"] for r in lines} == {"done"}
    nodes = {r["node"] for r in lines}
    assert len(nodes) >= 2 and None not in nodes, nodes
    assert sorted(p.name for p in out.iterdir()) == [f"p{k}.png" for k in range(6)] + [
        "report.jsonl"]
    assert all(r["output"] == str(out / r["job"]) for r in lines)
    assert _no_photo_under(cluster.nodes_dir)  # the nodes never saw a path of the driver's
    assert "ray: sent " in done.stderr and "6 done, 0 skipped, 0 failed" in done.stderr
    # A job that asks for a GPU runs only on the node that declares one. These jobs have no
    # mask: p0 comes out otherwise (the mask travelled), the others with the same bytes.
    (driver / "unmasked.csv").write_text("content,texture\n" + "".join(
        f"photos/p{k}.png,cracks.png\n" for k in range(6)))
    gpu = _batch(driver, cluster, "--output_dir=out_gpu", "--iterations=2", "--gpus_per_job=1",
                 jobs="unmasked.csv")
    assert gpu.returncode == 0, gpu.stderr[-3000:]
    gpu_lines = _report(driver / "out_gpu")
    assert len(gpu_lines) == 6
    assert {r["node"] for r in gpu_lines} == {cluster.gpu_node.node_id}
    same = [(out / f"p{k}.png").read_bytes() == (driver / "out_gpu" / f"p{k}.png").read_bytes()
            for k in range(6)]
    assert same == [False] + [True] * 5
    again = _batch(driver, cluster, "--output_dir=out", "--iterations=2")
    assert again.returncode == 0 and "0 done, 6 skipped, 0 failed" in again.stderr
    print(f"took {time.perf_counter() - started:.1f} s")


def batch_losing_a_node(cluster, command, folder, jobs: int, timeout: float):
    """Runs the batch `command` in `folder` and removes the cluster's CPU node once the first of
    its `jobs` is done (its worker then mid-job): (the removed node's id, the exit code, what the
    batch wrote after that); fails the test when no job got done."""
    process = subprocess.Popen(command, cwd=folder, stderr=subprocess.PIPE, text=True,
                               preexec_fn=interruptible,
                               env=dict(os.environ, PYTHONUNBUFFERED="1"))
    removed, seen = None, []
    try:
        for line in process.stderr:
            seen.append(line)
            if line.startswith(f"[1/{jobs}] done"):
                removed = cluster.cpu_node.node_id
                cluster.remove_node(cluster.cpu_node)
                break
        rest = process.stderr.read()
        process.wait(timeout=timeout)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
    assert removed is not None, "".join(seen)[-3000:]
    return removed, process.returncode, rest


@pytest.mark.slow  # each Ray test starts its own workers: minutes on 2 cores
def test_a_node_lost_mid_batch_loses_no_job(cluster, driver):
    out = driver / "out"
    # A weights file known by a path relative to the driver's folder: it travels too.
    legacy_weights_file(driver / "zeros.h5", kernel_shapes("vgg19"))
    flags = ["--weights=zeros.h5", "--iterations=60", "--plateau_tolerance=0"]
    command = [sys.executable, str(ROOT / "scripts" / "batch.py"), "--jobs=jobs.csv",
               "--output_dir=out", f"--ray_address={cluster.address}", "--noprogress", *TINY,
               *flags]
    removed, returncode, rest = batch_losing_a_node(cluster, command, driver, 6, BATCH_TIMEOUT_S)
    assert returncode == 0, rest[-3000:]
    assert "MB weights" in rest
    lines = _report(out)
    assert sorted(r["job"] for r in lines) == [f"p{k}.png" for k in range(6)]  # each once
    assert {r["status"] for r in lines} == {"done"}
    assert sorted(p.name for p in out.iterdir()) == [f"p{k}.png" for k in range(6)] + [
        "report.jsonl"]  # no half-written output
    assert sum(r["node"] == removed for r in lines) <= 1  # at most the one done before
    again = _batch(driver, cluster, "--output_dir=out", *flags)
    assert again.returncode == 0 and "0 done, 6 skipped, 0 failed" in again.stderr


@pytest.mark.slow  # each Ray test starts its own workers: minutes on 2 cores
def test_ctrl_c_on_a_ray_batch_keeps_what_finished(driver):
    out = driver / "out"
    flags = ["--iterations=150", "--plateau_tolerance=0"]
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "batch.py"), "--jobs=jobs.csv",
         "--output_dir=out", "--ray_address=local", "--ray_cpus=2", "--noprogress", *TINY,
         *flags], cwd=driver, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    try:
        seen = []
        for line in process.stderr:
            seen.append(line)
            if line.startswith("[1/6] done"):
                process.send_signal(signal.SIGINT)
                break
        rest = process.stderr.read()
        process.wait(timeout=120)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
    assert process.returncode == 130, "".join(seen)[-2000:] + rest[-2000:]
    assert f"interrupted: the finished jobs are in {out / 'report.jsonl'}" in rest
    finished = [r["job"] for r in _report(out) if r["status"] == "done"]
    assert 1 <= len(finished) < 6
    assert sorted(p.name for p in out.iterdir() if p.suffix == ".png") == sorted(finished)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no half-written output
    again = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "batch.py"), "--jobs=jobs.csv",
         "--output_dir=out", "--noprogress", *TINY, "--iterations=2"], cwd=driver,
        capture_output=True, text=True, timeout=BATCH_TIMEOUT_S)
    assert again.returncode == 0, again.stderr[-2000:]
    assert f"{6 - len(finished)} done, {len(finished)} skipped, 0 failed" in again.stderr


def test_a_gpu_job_on_a_cluster_without_gpus_is_refused_before_any_work(driver):
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "batch.py"), "--jobs=jobs.csv",
         "--output_dir=out", "--ray_address=local", "--ray_cpus=1", "--gpus_per_job=1", *TINY],
        cwd=driver, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert done.stderr.strip().splitlines()[-1] == (
        "error: no node of the Ray cluster has 1 CPUs and 1 GPUs for a job (the largest: "
        "1 CPUs, 0 GPUs); lower --cpus_per_job or --gpus_per_job, or add such a node")
    assert not (driver / "out" / "report.jsonl").exists()
