"""Photos per minute for one batch three ways: separate transfer.py runs, the local batch, Ray.

Each way runs as its own fresh process(es), one after another on the same machine, so their
times are comparable; the outputs of the three are compared byte for byte.
"""
from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Sequence

from nst_tf.io.images import read_image, write_image

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def make_photos(source, folder, count: int = 12, size=(192, 256)) -> List[Path]:
    """`count` different photos of `size` (height, width) cut from `source` at spread offsets,
    every other one mirrored."""
    image = read_image(source)
    height, width = size
    if image.shape[0] < height or image.shape[1] < width:
        raise ValueError(f"{source} is smaller than {width}x{height}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for k in range(count):
        top = (k * 37) % (image.shape[0] - height + 1)
        left = (k * 53) % (image.shape[1] - width + 1)
        crop = image[top:top + height, left:left + width]
        path = folder / f"photo{k:02d}.png"
        write_image(path, crop[:, ::-1] if k % 2 else crop)
        photos.append(path)
    return photos


@dataclasses.dataclass
class Way:
    name: str
    seconds: float
    photos: int

    @property
    def photos_per_minute(self) -> float:
        return 60.0 * self.photos / self.seconds


def _run(command: Sequence[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *map(str, command)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def compare_ways(photos: List[Path], texture, work, flags: Sequence[str],
                 ray_flags: Sequence[str]) -> List[Way]:
    """Times (a) one transfer.py per photo, (b) batch.py, (c) batch.py on a local Ray instance;
    raises if their outputs differ."""
    work = Path(work)
    separate = work / "separate"
    separate.mkdir(parents=True, exist_ok=True)
    seconds = sum(_run([SCRIPTS / "transfer.py", f"--content={photo}", f"--texture={texture}",
                        f"--output={separate / (photo.stem + '.png')}", *flags])
                  for photo in photos)
    ways = [Way("separate transfer.py runs", seconds, len(photos))]
    folder = photos[0].parent
    for name, extra, out in (("local batch", [], work / "local"),
                             ("Ray, local instance", list(ray_flags), work / "ray")):
        ways.append(Way(name, _run([SCRIPTS / "batch.py", f"--content_dir={folder}",
                                    f"--texture={texture}", f"--output_dir={out}", *flags,
                                    *extra]), len(photos)))
    for photo in photos:
        outputs = [(work / way / (photo.stem + ".png")).read_bytes()
                   for way in ("separate", "local", "ray")]
        if not outputs[0] == outputs[1] == outputs[2]:
            raise RuntimeError(f"{photo.name}: the three ways gave different bytes")
    return ways


def table(ways: List[Way]) -> str:
    base = ways[0].seconds
    rows = ["| way | seconds | photos per minute | time vs separate runs |", "|---|---|---|---|"]
    rows += [f"| {w.name} | {w.seconds:.1f} | {w.photos_per_minute:.2f} | "
             f"{w.seconds / base:.2f} |" for w in ways]
    local, ray = ways[1], ways[2]
    rows.append(f"\nRay's overhead: {(ray.seconds - local.seconds) / ray.photos:+.2f} s per job "
                f"over the local batch ({ray.seconds - local.seconds:+.1f} s in all, its start-up "
                "included)")
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------------
# The batch on a Ray cluster on this machine: the local batch, Ray on one node, and a three-node
# cluster (ray.cluster_utils.Cluster: a head that runs no job and two worker nodes with one CPU
# each), with tasks and with one actor per worker; bytes moved per job; the cost of shipping a
# weights file. On one machine no speed-up is expected: the point is the overhead per job.

ROOT = SCRIPTS.parent
_TRAFFIC = re.compile(r"ray: sent ([\d.]+) MB in (\d+) objects(?:, of which ([\d.]+) MB "
                      r"weights)?, got ([\d.]+) MB back \(([\d.]+) kB of photos per job\)")


@dataclasses.dataclass
class RayWay(Way):
    sent_mb: float = 0.0
    weights_mb: float = 0.0
    returned_mb: float = 0.0
    kb_per_job: float = 0.0


def _run_ray(name: str, command: Sequence[str], photos: int) -> RayWay:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *map(str, command)], capture_output=True, text=True,
                          cwd=ROOT)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{done.stderr[-2000:]}")
    match = _TRAFFIC.search(done.stderr)
    if not match:
        return RayWay(name, seconds, photos)
    sent, _, weights, back, per_job = match.groups()
    return RayWay(name, seconds, photos, float(sent), float(weights or 0), float(back),
                  float(per_job))


def start_cluster(workers: int = 2, cpus: int = 1, head_cpus: int = 0, store_mb: int = 200):
    """A head of `head_cpus` CPUs (0: it runs no job) and `workers` nodes of `cpus` CPUs, on
    this machine; returns the cluster and the seconds it took to start."""
    from ray.cluster_utils import Cluster
    began = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": head_cpus, "object_store_memory": store_mb << 20,
        "include_dashboard": False})
    for _ in range(workers):
        cluster.add_node(num_cpus=cpus, object_store_memory=store_mb << 20)
    cluster.wait_for_nodes()
    return cluster, time.perf_counter() - began


def compare_cluster(photos: List[Path], texture, work, flags: Sequence[str],
                    ray_cpus: int = 2, weights_file=None, rounds: int = 2):
    """Times, one after another: the local batch; Ray on one node started by batch.py
    (`--ray_address local`, its start-up counted); Ray on a one-node cluster started before
    (`ray_cpus` CPUs); a three-node cluster started before (a head that runs no job, two nodes
    of one CPU), `rounds` times tasks then an actor per worker. One CPU a Ray job, so every Ray
    way runs two jobs at once. Raises if any outputs differ. Returns the ways, the clusters'
    start-up seconds, and weights_cost() on the three nodes for `weights_file` (None: not
    measured)."""
    work = Path(work)
    folder = photos[0].parent
    common = [f"--content_dir={folder}", f"--texture={texture}", *flags]
    count = len(photos)
    ways = [Way("local batch", _run([SCRIPTS / "batch.py", *common,
                                     f"--output_dir={work / 'local'}"]), count)]
    ways.append(_run_ray("Ray, one node, `--ray_address local` (its start-up counted)", [
        SCRIPTS / "batch.py", *common, f"--output_dir={work / 'ray_local'}",
        "--ray_address=local", f"--ray_cpus={ray_cpus}", "--cpus_per_job=1"], count))
    folders = ["local", "ray_local"]
    startup = {}
    one, startup["one node"] = start_cluster(workers=0, head_cpus=ray_cpus)
    try:
        ways.append(_run_ray("Ray, one node, started before", [
            SCRIPTS / "batch.py", *common, f"--output_dir={work / 'one'}",
            f"--ray_address={one.address}", "--cpus_per_job=1"], count))
        folders.append("one")
    finally:
        one.shutdown()
    three, startup["three nodes"] = start_cluster()
    cost = None
    try:
        for round_ in range(1, rounds + 1):
            ways.append(_run_ray(f"Ray, three nodes, tasks ({round_})", [
                SCRIPTS / "batch.py", *common, f"--output_dir={work / f'tasks{round_}'}",
                f"--ray_address={three.address}", "--cpus_per_job=1"], count))
            ways.append(_run_ray(f"Ray, three nodes, an actor per worker ({round_})", [
                "-m", "bench.batch_speed", "actors", three.address,
                str(work / f"actors{round_}"), *common], count))
            folders += [f"tasks{round_}", f"actors{round_}"]
        if weights_file:
            done = subprocess.run([sys.executable, "-m", "bench.batch_speed", "weights",
                                   three.address, str(weights_file)], capture_output=True,
                                  text=True, cwd=ROOT)
            if done.returncode != 0:
                raise RuntimeError(f"weights cost failed:\n{done.stderr[-2000:]}")
            cost = json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        three.shutdown()
    for photo in photos:
        outputs = [(work / way / (photo.stem + ".png")).read_bytes() for way in folders]
        if len(set(outputs)) != 1:
            raise RuntimeError(f"{photo.name}: the ways gave different bytes")
    return ways, startup, cost


def compare_tasks_actors(photos: List[Path], texture, work, flags: Sequence[str],
                         rounds: int = 3) -> List[Way]:
    """Only the three-node cluster, actors then tasks, `rounds` times (the other order than
    compare_cluster's, against a bias of the order); raises if any outputs differ."""
    work = Path(work)
    common = [f"--content_dir={photos[0].parent}", f"--texture={texture}", *flags]
    three, _ = start_cluster()
    ways, folders = [], []
    try:
        for round_ in range(1, rounds + 1):
            ways.append(_run_ray(f"Ray, three nodes, an actor per worker ({round_})", [
                "-m", "bench.batch_speed", "actors", three.address,
                str(work / f"ab_actors{round_}"), *common], len(photos)))
            ways.append(_run_ray(f"Ray, three nodes, tasks ({round_})", [
                SCRIPTS / "batch.py", *common, f"--output_dir={work / f'ab_tasks{round_}'}",
                f"--ray_address={three.address}", "--cpus_per_job=1"], len(photos)))
            folders += [f"ab_actors{round_}", f"ab_tasks{round_}"]
    finally:
        three.shutdown()
    for photo in photos:
        if len({(work / way / (photo.stem + ".png")).read_bytes() for way in folders}) != 1:
            raise RuntimeError(f"{photo.name}: the ways gave different bytes")
    return ways


def cluster_table(ways: List[Way]) -> str:
    base = ways[0]
    rows = ["| way | seconds | photos per minute | s per job over the first row | sent MB "
            "(weights) | back MB | kB of photos per job |", "|---|---|---|---|---|---|---|"]
    for way in ways:
        extra = (f"{way.sent_mb:.2f} ({way.weights_mb:.1f}) | {way.returned_mb:.2f} | "
                 f"{way.kb_per_job:.1f}" if isinstance(way, RayWay) else "- | - | -")
        rows.append(f"| {way.name} | {way.seconds:.1f} | {way.photos_per_minute:.2f} | "
                    f"{(way.seconds - base.seconds) / way.photos:+.2f} | {extra} |")
    return "\n".join(rows)


def actor_runner(slots: int, cpus_per_job: float = 1.0, traffic=None):
    """The alternative to tasks, for the measurement: one actor per worker slot, each keeping its
    network; jobs go to whichever actor is idle. (Kept out of the package: see the guide.)"""
    import ray
    from nst_tf.batch.payload import JobFiles, read_bytes
    from nst_tf.batch.ray_runner import Traffic, _task, _write
    traffic = traffic if traffic is not None else Traffic()

    @ray.remote(num_cpus=cpus_per_job, max_restarts=-1, max_task_retries=3)
    class Worker:
        def run(self, job, roles, weights, *files):
            return _task(job, roles, weights, *files)

    def run(jobs, on_record):
        from nst_tf.batch.payload import weights_key
        from nst_tf.config import names_file
        actors = [Worker.remote() for _ in range(slots)]
        shared, weights = {}, {}
        queue, pending = list(jobs), {}

        def ref_of(path, role):
            if path not in shared:
                data = read_bytes(path, role)
                traffic.sent_bytes += len(data)
                traffic.sent_objects += 1
                shared[path] = ray.put(data)
            return shared[path]

        while queue or pending:
            while queue and actors:
                job, actor = queue.pop(0), actors.pop()
                paths = JobFiles.of(job).paths
                shipped = None
                if names_file("weights", job.config.weights):
                    key = weights_key(job.config.weights)
                    if key not in weights:
                        data = read_bytes(job.config.weights, "weights")
                        traffic.sent_bytes += len(data)
                        traffic.weights_bytes += len(data)
                        traffic.sent_objects += 1
                        weights[key] = [key, Path(job.config.weights).suffix, [ray.put(data)]]
                    shipped = weights[key]
                ref = actor.run.remote(job.as_dict(), list(paths), shipped,
                                       *[ref_of(p, r) for r, p in paths.items()])
                pending[ref] = (job, actor)
                traffic.jobs += 1
            ready, _ = ray.wait(list(pending), num_returns=1)
            job, actor = pending.pop(ready[0])
            actors.append(actor)
            line, data = ray.get(ready[0])
            if data is not None:
                traffic.returned_bytes += len(data)
                _write(job.output, data)
            on_record(line)
    return run


def _actors_main(address: str, output_dir: str, argv: Sequence[str]) -> None:
    """python -m bench.batch_speed actors ADDRESS OUTPUT_DIR --content_dir=... --texture=...
    [transfer flags]: the batch with actor_runner on the cluster at ADDRESS."""
    sys.path.insert(0, str(SCRIPTS))
    from absl import flags as absl_flags
    from nst_tf.cli import common
    from nst_tf.batch.jobs import jobs_from_folder
    from nst_tf.batch.runner import run_batch
    from nst_tf.batch import ray_runner
    absl_flags.DEFINE_string("content_dir", None, "")
    absl_flags.DEFINE_string("texture", None, "")
    common.define_transfer_flags()
    absl_flags.FLAGS(["actors", *argv])
    base = common.config_from_flags()
    jobs = jobs_from_folder(absl_flags.FLAGS.content_dir, absl_flags.FLAGS.texture,
                            Path(output_dir).resolve(), base)
    ray_runner.connect(address)
    try:
        import ray
        slots = int(ray.cluster_resources().get("CPU", 1))
        traffic = ray_runner.Traffic()
        summary = run_batch(jobs, output_dir, actor_runner(slots, traffic=traffic))
    finally:
        ray_runner.disconnect()
    print(traffic.line(), file=sys.stderr)
    print(summary.line(), file=sys.stderr)


def weights_cost(address: str, path) -> dict:
    """What shipping a weights file costs on the cluster at ADDRESS: its bytes, the driver's
    ray.put, and on each worker node the first fetch and write to a private file (then a second
    job's lookup)."""
    import ray
    from nst_tf.batch import ray_runner
    from nst_tf.batch.payload import weights_key
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    def fetch(shipped):
        import time as clock
        from nst_tf.batch.payload import local_weights
        key, suffix, (ref,) = shipped
        times = []
        for _ in range(2):
            began = clock.perf_counter()
            local_weights(key, suffix, lambda: ray.get(ref))
            times.append(clock.perf_counter() - began)
        return ray.get_runtime_context().get_node_id(), times

    ray_runner.connect(address)
    try:
        data = Path(path).read_bytes()
        began = time.perf_counter()
        shipped = [weights_key(str(path)), Path(path).suffix, [ray.put(data)]]
        put = time.perf_counter() - began
        remote = ray.remote(fetch)
        nodes = [node["NodeID"] for node in ray.nodes()
                 if node["Alive"] and node["Resources"].get("CPU", 0) > 0]
        began = time.perf_counter()
        fetched = ray.get([remote.options(
            num_cpus=1, scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)
        ).remote(shipped) for node in nodes])
        wall = time.perf_counter() - began
    finally:
        ray_runner.disconnect()
    return {"bytes": len(data), "put_s": put, "nodes": len(nodes), "wall_s": wall,
            "first_s": [t[0] for _, t in fetched], "again_s": [t[1] for _, t in fetched]}


def _weights_main(address: str, path: str) -> None:
    print(json.dumps(weights_cost(address, path)))


if __name__ == "__main__":
    if sys.argv[1] == "actors":
        _actors_main(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif sys.argv[1] == "weights":
        _weights_main(sys.argv[2], sys.argv[3])
