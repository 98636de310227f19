"""The batch on a Ray cluster: one job per Ray task, the same run_job() as the local runner.

Why Ray: it is the engine built for this (a scheduler that places tasks on the nodes that have
free CPUs or GPUs, retries tasks whose worker died, and reuses worker processes, so a worker's
network is built once for many jobs), and it runs from a laptop (`local`) to a cluster without
code changes. Only this package travels to the workers (runtime_env py_modules); TensorFlow and
the other requirements must be installed on every node, and the photos and the output folder
must be at the same paths on every node (a shared mount) or the outputs stay on the node that
wrote them (each report line names its `host`).
"""
from __future__ import annotations

from typing import Callable, List, Optional

from nst_tf.errors import NSTError
from nst_tf.batch.jobs import Job

# The CPUs a job asks for when none are given: the whole of a small machine, as a local run.
DEFAULT_CPUS_PER_JOB = 1


def _ray():
    try:
        import ray
    except ImportError:
        raise NSTError("--ray_address needs Ray, which is not installed: pip install 'ray>=2.9' "
                       "(on every node of the cluster)") from None
    return ray


def _task(job: dict) -> dict:
    from nst_tf.batch.runner import run_job
    return run_job(Job.from_dict(job))


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


def ray_runner(gpus_per_job: float = 0.0, cpus_per_job: float = DEFAULT_CPUS_PER_JOB):
    """A runner for nst_tf.batch.runner.run_batch: every job a Ray task asking for these resources;
    records arrive as tasks finish, in any order. Ctrl-C cancels the tasks not yet finished."""
    def run(jobs: List[Job], on_record: Callable[[dict], None]) -> None:
        from nst_tf.batch.runner import record
        ray = _ray()
        remote = ray.remote(_task).options(num_cpus=cpus_per_job, num_gpus=gpus_per_job,
                                           max_retries=1)
        pending = {remote.remote(job.as_dict()): job for job in jobs}
        try:
            while pending:
                ready, _ = ray.wait(list(pending), num_returns=1)
                job = pending.pop(ready[0])
                try:
                    on_record(ray.get(ready[0]))
                except ray.exceptions.RayError as error:  # the worker died (memory, a node lost)
                    message = str(error).strip().splitlines()[-1][:300]
                    on_record(record(job, "failed", 0.0, f"{type(error).__name__}: {message}"))
        except KeyboardInterrupt:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise
    return run


def disconnect() -> None:
    ray = _ray()
    if ray.is_initialized():
        ray.shutdown()
