"""The batch on a Ray cluster: one job per Ray task; the driver reads and writes every file.

Why Ray: it is the engine built for this (a scheduler that places tasks on the nodes that have
free CPUs or GPUs, retries tasks whose worker or node died, and reuses worker processes, so a
worker's network is built once for many jobs), and it runs from a laptop (`local`) to a cluster
without code changes.

What travels: the driver reads each job's files (content, texture, the masks of spatial
control, an init image) and puts their bytes into Ray's object store once (a texture that many
jobs share, once for all of them); the task gets the object references, so a retry on another
node fetches them again from the store, not from the driver's disk. The task decodes the photos
in memory, runs the same nst_tf.batch.runner.attempt() as the local runner, and returns the
result encoded in the output's format with its report record; the driver writes the output
(atomically) and the report line. A worker needs the installed package (which also travels,
through runtime_env py_modules) and TensorFlow, never the driver's paths. --weights PATH goes
once through the object store and each worker process writes it to a private temporary file the
first time it needs it; 'imagenet' is resolved by each node into its own cache.

A node lost mid-batch: its running tasks are retried elsewhere (max_retries); what finished is
already on the driver's disk, and each job gets exactly one report line.
"""
from __future__ import annotations

import collections
import dataclasses
from pathlib import Path
from typing import Callable, Dict, List, Optional

from nst_tf.errors import NSTError
from nst_tf.batch.jobs import Job

# The CPUs a job asks for when none are given: the whole of a small machine, as a local run.
DEFAULT_CPUS_PER_JOB = 1
# How often Ray runs a task again when its worker process or its node died.
MAX_RETRIES = 3


def _ray():
    try:
        import ray
    except ImportError:
        raise NSTError("--ray_address needs Ray, which is not installed: pip install 'ray>=2.9' "
                       "(on every node of the cluster)") from None
    return ray


def _task(job: dict, roles: List[str], weights: Optional[list], *files: bytes):
    """The Ray task: a job's file bytes by role (Ray has fetched them from the object store),
    the shipped weights as [key, suffix, [ObjectRef]] (not fetched until needed) or None.
    Returns (report record, the encoded output or None)."""
    import ray
    from nst_tf.batch.payload import load_payload_request, local_weights
    from nst_tf.batch.runner import attempt
    from nst_tf.io.images import encode_image

    job = Job.from_dict(job)
    data = dict(zip(roles, files))
    result = {}
    from nst_tf.batch.jobs import is_clip
    if is_clip(job.content):  # a clip: made in a private folder here, the video sent back
        weights_path = None
        if weights is not None:
            key, suffix, (ref,) = weights
            weights_path = local_weights(key, suffix, lambda: ray.get(ref))
        return _clip_task(job, data, weights_path, ray.get_runtime_context().get_node_id())

    def load():
        path = None
        if weights is not None:
            key, suffix, (ref,) = weights
            path = local_weights(key, suffix, lambda: ray.get(ref))
        return load_payload_request(job, data, path)

    def finish(image) -> None:
        result["bytes"] = encode_image(image, Path(job.output).suffix)

    line, _ = attempt(job, load, finish, node=ray.get_runtime_context().get_node_id())
    return line, result.get("bytes")


def _clip_task(job: Job, data: dict, weights_path: Optional[str], node: str):
    """A clip job on a worker: the bytes of its files (the clip, the texture, the masks)
    written to a private folder, the video made there (nst_tf.video), its bytes returned."""
    import tempfile
    from nst_tf.batch.payload import JobFiles
    from nst_tf.batch.runner import attempt_clip
    from nst_tf.config import names_file
    with tempfile.TemporaryDirectory(prefix="nst_tf-clip-") as folder:
        folder = Path(folder)
        local_paths = {}
        for role, path in JobFiles.of(job).paths.items():
            local_paths[role] = folder / (role.replace(":", "_") + Path(path).suffix)
            local_paths[role].write_bytes(data[role])
        config = job.config
        changes = {}
        if "content_mask" in local_paths:
            changes["content_mask"] = str(local_paths["content_mask"])
        if config.texture_masks:
            changes["texture_masks"] = tuple(
                str(local_paths.get(f"texture_mask:{k}", mask))
                for k, mask in enumerate(config.texture_masks))
        if "init" in local_paths:  # the first frame's start image, as in a local batch
            changes["init"] = str(local_paths["init"])
        if names_file("weights", config.weights):
            changes["weights"] = weights_path
        config = config.replace(**changes) if changes else config
        output = folder / ("output" + Path(job.output).suffix)
        local = Job(job.name, str(local_paths["content"]), str(local_paths["texture"]),
                    job.output, config, job.video)
        content = local_paths["content"]
        line, outcome = attempt_clip(local, content, output, node)
        line["output"] = job.output
        return line, (output.read_bytes() if output.is_file() and outcome.status == "done"
                      else None)


def connect(address: str, cpus: Optional[int] = None) -> None:
    """Joins the cluster at `address` ('auto': the one this machine belongs to; 'host:port'),
    or starts a local Ray instance for `local` (with `cpus` CPUs, default all)."""
    import nst_tf
    ray = _ray()
    runtime_env = {"py_modules": [nst_tf], "env_vars": {"TF_CPP_MIN_LOG_LEVEL": "2"}}
    try:
        if address == "local":
            ray.init(address="local", num_cpus=cpus, include_dashboard=False,
                     runtime_env=runtime_env, log_to_driver=False)
        else:
            ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        reason = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise NSTError(f"cannot reach a Ray cluster at {address!r} ({reason}); start one with "
                       "`ray start --head`, or use --ray_address local") from None


def check_resources(cpus_per_job: float, gpus_per_job: float) -> None:
    """NSTError with one line when no node of the cluster can take a job of this size (a job
    asking for a GPU on a cluster without one would otherwise wait for ever)."""
    ray = _ray()
    nodes = [node.get("Resources", {}) for node in ray.nodes() if node.get("Alive")]
    if any(res.get("CPU", 0) >= cpus_per_job and res.get("GPU", 0) >= gpus_per_job
           for res in nodes):
        return
    most_gpus = max((res.get("GPU", 0) for res in nodes), default=0)
    most_cpus = max((res.get("CPU", 0) for res in nodes), default=0)
    raise NSTError(f"no node of the Ray cluster has {cpus_per_job:g} CPUs and {gpus_per_job:g} "
                   f"GPUs for a job (the largest: {most_cpus:g} CPUs, {most_gpus:g} GPUs); "
                   "lower --cpus_per_job or --gpus_per_job, or add such a node")


@dataclasses.dataclass
class Traffic:
    """What a Ray batch moved: bytes put into the object store by the driver (photos, masks,
    weights; a file shared by several jobs once) and bytes of outputs sent back."""

    sent_bytes: int = 0
    sent_objects: int = 0
    weights_bytes: int = 0
    returned_bytes: int = 0
    jobs: int = 0

    def line(self) -> str:
        photos = self.sent_bytes - self.weights_bytes + self.returned_bytes
        weights = (f", of which {self.weights_bytes / 1e6:.1f} MB weights"
                   if self.weights_bytes else "")
        return (f"ray: sent {self.sent_bytes / 1e6:.2f} MB in {self.sent_objects} objects"
                f"{weights}, got {self.returned_bytes / 1e6:.2f} MB back "
                f"({photos / max(1, self.jobs) / 1e3:.1f} kB of photos per job)")


def _window(ray, cpus_per_job: float, gpus_per_job: float) -> int:
    """How many jobs to keep submitted at once: twice the jobs the cluster can run together,
    so that the photos of a long batch do not all sit in the object store at the same time."""
    resources = ray.cluster_resources()
    slots = resources.get("CPU", 1) / max(cpus_per_job, 1e-3)
    if gpus_per_job > 0:
        slots = min(slots, resources.get("GPU", 0) / gpus_per_job)
    return max(2, int(2 * slots))


def _write(path: str, data: bytes) -> None:
    from nst_tf.io.files import atomic_output
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as temporary:
        Path(temporary).write_bytes(data)


def ray_runner(gpus_per_job: float = 0.0, cpus_per_job: float = DEFAULT_CPUS_PER_JOB,
               max_retries: int = MAX_RETRIES, traffic: Optional[Traffic] = None):
    """A runner for nst_tf.batch.runner.run_batch: every job a Ray task asking for these
    resources; records arrive as tasks finish, in any order, and the driver writes each output.
    `traffic` (a Traffic) counts the bytes moved. Ctrl-C cancels the tasks not yet finished."""
    traffic = traffic if traffic is not None else Traffic()

    def run(jobs: List[Job], on_record: Callable[[dict], None]) -> None:
        from nst_tf.batch.payload import JobFiles, read_bytes, weights_key
        from nst_tf.batch.runner import record
        ray = _ray()
        remote = ray.remote(_task).options(num_cpus=cpus_per_job, num_gpus=gpus_per_job,
                                           max_retries=max_retries, retry_exceptions=False)
        files = {job.name: JobFiles.of(job).paths for job in jobs}
        uses = collections.Counter(path for paths in files.values() for path in paths.values())
        shared: Dict[str, object] = {}  # a file several jobs read: put once
        weights: Dict[str, list] = {}

        def put(path: str, role: str):
            if path in shared:
                return shared[path]
            data = read_bytes(path, role)
            ref = ray.put(data)
            traffic.sent_bytes += len(data)
            traffic.sent_objects += 1
            if uses[path] > 1:
                shared[path] = ref
            return ref

        def shipped_weights(job: Job) -> Optional[list]:
            from nst_tf.config import names_file
            spec = job.config.weights
            if not names_file("weights", spec):
                return None
            key = weights_key(spec)
            if key not in weights:
                data = read_bytes(spec, "weights")
                weights[key] = [key, Path(spec).suffix, [ray.put(data)]]
                traffic.sent_bytes += len(data)
                traffic.weights_bytes += len(data)
                traffic.sent_objects += 1
            return weights[key]

        queue = collections.deque(jobs)
        pending: Dict[object, Job] = {}
        window = _window(ray, cpus_per_job, gpus_per_job)

        def submit(job: Job) -> None:
            paths = files[job.name]
            try:
                refs = [put(path, role) for role, path in paths.items()]
                shipped = shipped_weights(job)
            except NSTError as error:  # a file gone or unreadable since the checks
                on_record(record(job, "failed", 0.0, str(error)))
                return
            traffic.jobs += 1
            pending[remote.remote(job.as_dict(), list(paths), shipped, *refs)] = job

        try:
            while queue or pending:
                while queue and len(pending) < window:
                    submit(queue.popleft())
                if not pending:
                    continue
                ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                if not ready:
                    continue
                job = pending.pop(ready[0])
                try:
                    line, data = ray.get(ready[0])
                except ray.exceptions.RayError as error:  # retries spent (memory, nodes lost)
                    message = str(error).strip().splitlines()[-1][:300]
                    on_record(record(job, "failed", 0.0, f"{type(error).__name__}: {message}"))
                    continue
                if data is not None:
                    traffic.returned_bytes += len(data)
                    try:
                        _write(job.output, data)
                    except (OSError, NSTError) as error:
                        line = dict(line, status="failed", error=f"{job.output}: cannot write "
                                    f"it ({getattr(error, 'strerror', None) or error})")
                on_record(line)
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
    run.traffic = traffic
    return run


def disconnect() -> None:
    ray = _ray()
    if ray.is_initialized():
        ray.shutdown()
