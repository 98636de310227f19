"""Running a batch of jobs: the report that makes it resumable, one job, and the local runner.

The local runner runs the jobs one after another in this process, building each network once
and reusing it for every job that shares it (same weights file, and same seed for random
weights). nst_tf.batch.ray_runner runs the same attempt() in Ray tasks, on the bytes of the
job's files (nst_tf.batch.payload), and writes the outputs here.
"""
from __future__ import annotations

import dataclasses
import socket
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

from nst_tf.errors import NSTError
from nst_tf.batch.jobs import Job
from nst_tf.report.records import REPORT_NAME, JsonLines

class Report(JsonLines):
    """out/report.jsonl (report/records.py): one JSON object per job run or skipped."""

    def finished(self, job: Job) -> bool:
        """The job's output exists and its last record here says it finished."""
        for record in reversed(self.records):
            if record.get("job") == job.name:
                return (record.get("status") in ("done", "skipped")
                        and record.get("output") == job.output and Path(job.output).is_file())
        return False


def record(job: Job, status: str, seconds: float = 0.0, error: Optional[str] = None,
           loss: Optional[Dict[str, float]] = None, node: Optional[str] = None) -> dict:
    """A report line: job, status, error, seconds, final loss parts, output, the machine, and
    the Ray node that ran it (None when it ran in the batch's own process)."""
    return {"job": job.name, "status": status, "error": error, "seconds": round(seconds, 3),
            "loss": loss, "output": job.output, "host": socket.gethostname(), "node": node}


def attempt(job: Job, load: Callable[[], object], finish: Callable[[object], None],
            node: Optional[str] = None):
    """Runs one job through this process's engine (its networks kept across jobs): load()
    gives its Request (or what engine.prepare made of one), finish(image) keeps an image.
    Returns (its report record, the engine's Outcome). The engine's policies hold
    (nst_tf.run.engine): an image the outcome holds is kept whatever the ending (the result,
    the best before a non-finite loss, the best so far when stopped); the record's status is
    the outcome's (done, stopped or failed) with its one-line message, and a re-run makes
    again a job that did not end done."""
    from nst_tf.run.engine import default_engine

    start = time.perf_counter()
    outcome = default_engine().run(load)  # load's NSTError is the outcome's, as any bad input
    if outcome.image is not None:
        finish(outcome.image)
    return record(job, outcome.status, time.perf_counter() - start, outcome.message or None,
                  outcome.loss or None, node), outcome


def attempt_clip(job: Job, content, output, node: Optional[str] = None):
    """Runs a job whose content is a clip (nst_tf.video, its row's video settings) from the clip at
    `content` into `output` (its frames beside it, so a re-run goes on): (report record,
    the last frame's Outcome), as attempt()."""
    from nst_tf.video.transfer import run_video

    start = time.perf_counter()
    outcome = run_video(content, job.texture, output, job.config, job.video_settings())
    return record(job, outcome.status, time.perf_counter() - start, outcome.message or None,
                  outcome.loss or None, node), outcome


def run_job(job: Job):
    """Runs one job here, from its files to its output file: (report record, Outcome)."""
    from nst_tf.batch.jobs import is_clip
    from nst_tf.io.images import write_image
    from nst_tf.run.request import Request

    def finish(image) -> None:
        Path(job.output).parent.mkdir(parents=True, exist_ok=True)
        write_image(job.output, image)

    if is_clip(job.content):
        Path(job.output).parent.mkdir(parents=True, exist_ok=True)
        return attempt_clip(job, job.content, job.output)
    return attempt(job, lambda: Request(job.content, job.texture, job.config), finish)


@dataclasses.dataclass
class Summary:
    """What a batch did: counts per status, wall time, photos per minute (done jobs)."""

    done: int = 0
    skipped: int = 0
    stopped: int = 0
    failed: int = 0
    seconds: float = 0.0

    def count(self, status: str) -> None:
        setattr(self, status, getattr(self, status) + 1)

    @property
    def photos_per_minute(self) -> float:
        return 60.0 * self.done / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        stopped = f", {self.stopped} stopped" if self.stopped else ""
        return (f"{self.done} done, {self.skipped} skipped{stopped}, {self.failed} failed in "
                f"{self.seconds:.1f} s ({self.photos_per_minute:.2f} photos per minute)")


Runner = Callable[[List[Job], Callable[[dict], None]], None]


def run_local(jobs: List[Job], on_record: Callable[[dict], None]) -> None:
    """Runs the jobs here, one after another; on_record(record) follows each. Ctrl-C keeps the
    running job's best image and its record (stopped), then ends the batch."""
    for job in jobs:
        line, outcome = run_job(job)
        on_record(line)
        if outcome.stopped_by == "interrupt":
            raise outcome.error


def run_batch(jobs: Iterable[Job], output_dir, runner: Runner = run_local,
              on_record: Optional[Callable[[dict], None]] = None) -> Summary:
    """Skips the finished jobs, runs the others with `runner`, and reports each in
    output_dir/report.jsonl. Ctrl-C stops it; what finished is in the report."""
    output_dir = Path(output_dir)
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NSTError(f"{output_dir}: cannot create ({error.strerror or error})") from None
    report = Report(output_dir / REPORT_NAME)
    summary = Summary()
    start = time.perf_counter()

    def note(line: dict) -> None:
        report.append(line)
        summary.count(line["status"])
        summary.seconds = time.perf_counter() - start
        if on_record is not None:
            on_record(line)

    pending = []
    for job in jobs:
        if report.finished(job):
            note(record(job, "skipped"))
        else:
            pending.append(job)
    try:
        if pending:
            runner(pending, note)
    finally:
        summary.seconds = time.perf_counter() - start
    return summary
