"""One engine for every front end: a request in, one outcome out.

The command line, the batch (here and on Ray), the web page and the Python `transfer()` each
turn their input (flags, a CSV row, an HTTP form, arguments) into a Request, hand it to an
Engine with a step callback and a stop signal, and turn the Outcome into their output (a file
and an exit code, a report line, a page). The checks, the plan, the network cache and what each
ending means live here once:

- done: the run made its steps or stopped when the picture settled; image: the result.
- stopped: a stop signal (the page's Stop) or an interrupt (Ctrl-C, SIGTERM) came; image: the
  best picture the current level had seen (what the user asked to keep).
- failed, the loss stopped being finite: image: the best picture before it, kept everywhere
  (lower the loss weights or the learning rate).
- failed, bad input (NSTError, found before the network is built or while it is): no image;
  the message is the one line to show.
- failed, anything else (a bug, a resource): no image; the message names the error's type and
  `error` holds it for a traceback where there is a log.

No TensorFlow is imported until a run starts: prepare() answers in a fraction of a second.
"""
from __future__ import annotations

import dataclasses
import time
from typing import Callable, Dict, Optional

import numpy as np

from nst_tf.config import TransferConfig
from nst_tf.errors import NonFiniteLoss, NSTError
from nst_tf.kept import once_per_process
from nst_tf.network.cache import NetworkCache, shared_networks
from nst_tf.run.levels import RunPlan
from nst_tf.run.request import Prepared, prepare
from nst_tf.steps import LOSS_PARTS
from nst_tf.tensorflow_quietly import import_tensorflow_quietly

DONE, STOPPED, FAILED = "done", "stopped", "failed"

@dataclasses.dataclass
class Outcome:
    """How a run ended (module docstring): status DONE, STOPPED or FAILED; image: uint8 RGB
    (H, W, 3) or None; message: one line for a person ('' when done); stopped_by: 'settled',
    'plateau', 'steps', 'stop', 'interrupt', 'non-finite', 'input' or 'error'; loss: the last
    report's total and parts; steps: the reports seen; seconds: since the run began; plan;
    error: the exception behind a failure or an interrupt (KeyboardInterrupt), else None;
    building: the seconds before the first step (the checks, the network, the targets)."""

    status: str
    image: Optional[np.ndarray] = None
    message: str = ""
    stopped_by: str = "steps"
    loss: Dict[str, float] = dataclasses.field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0
    plan: Optional[RunPlan] = None
    error: Optional[BaseException] = None
    building: float = 0.0


class StopRun(Exception):
    """Raised from the step callback when the stop signal is set."""


class Engine:
    """Runs requests with the networks of a cache (network/cache.py: the process's, shared with
    every engine and run in it, unless given its own). One engine serves a process: the command
    line's run, a batch's jobs, a server's queue, a Ray worker's tasks."""

    def __init__(self, networks_kept: Optional[int] = None,
                 networks: Optional[NetworkCache] = None):
        # Its own cache when it says how many to keep, else the process's.
        self.networks = networks or (shared_networks() if networks_kept is None
                                     else NetworkCache(networks_kept))

    def network(self, config: TransferConfig, weights_path: Optional[str]):
        """The frozen network for `config` and its resolved weights file, from the cache."""
        return self.networks.network(config, weights_path)

    def run(self, request, on_step: Optional[Callable] = None, stop=None,
            on_start: Optional[Callable] = None, download: bool = False) -> Outcome:
        """Runs a Request (or what prepare() made of one, or a function that makes either: a
        batch job's files read where it runs) to its Outcome; never raises for how the run ends
        (the module docstring's policies). on_step(StepReport) follows each step;
        stop: a threading.Event (or anything with is_set()) whose setting stops the run at its
        next step; on_start(TextureTransfer, Prepared) once the network and objective are built,
        before the first step (the command line's start line, the page's live pictures)."""
        began = time.perf_counter()
        job = None
        last: Dict[str, float] = {}
        plan = request.plan if isinstance(request, Prepared) else None

        def ended(status, stopped_by, message="", error=None, keep=False) -> Outcome:
            image = None
            if keep and job is not None:
                try:
                    image = job.result()
                except Exception:  # the picture cannot be made: the outcome says why it ended
                    image = None
            return Outcome(status, image, message, stopped_by, dict(last),
                           len(reports), time.perf_counter() - began, plan, error,
                           built.get("at", 0.0))

        reports = []
        built = {}  # "at": the seconds from the start to the first step

        def step(report) -> None:
            reports.append(report)
            last.clear()
            last.update({part: getattr(report, part) for part in ("total",) + LOSS_PARTS})
            if on_step is not None:
                on_step(report)
            if stop is not None and stop.is_set():
                raise StopRun()

        try:
            if callable(request):
                request = request()
            prepared = (request if isinstance(request, Prepared)
                        else prepare(request, download=download))
            plan = prepared.plan
            if stop is not None and stop.is_set():
                raise StopRun()
            import_tensorflow_quietly()
            from nst_tf.run.texture_transfer import TextureTransfer
            config, inputs = prepared.request.config, prepared.inputs
            job = TextureTransfer(prepared, self.network(config, inputs.weights_path))
            if on_start is not None:
                on_start(job, prepared)
            built["at"] = time.perf_counter() - began
            image = job.run(step)
            stopped_by = getattr(job.optimization, "stopped_by", None) or "steps"
            return Outcome(DONE, image, "", stopped_by, dict(last), len(reports),
                           time.perf_counter() - began, plan, building=built["at"])
        except StopRun:
            if job is not None:
                job.keep_best()
            return ended(STOPPED, "stop", "stopped: the best image so far is kept", keep=True)
        except (KeyboardInterrupt, Exception) as error:  # every other ending: see ending()
            if isinstance(error, KeyboardInterrupt) and job is not None:
                job.keep_best()
            status, stopped_by, message = ending(error)
            return ended(status, stopped_by, message, error, keep=stopped_by in KEEPS_IMAGE)


# The endings whose picture is kept (the best so far, or the best before the loss broke).
KEEPS_IMAGE = ("stop", "interrupt", "non-finite")


def ending(error: BaseException):
    """How a run that raised `error` ended, the one mapping of the module docstring's policies:
    (status, stopped_by, the one line for a person)."""
    if isinstance(error, KeyboardInterrupt):  # Ctrl-C, or SIGTERM raised as one
        return STOPPED, "interrupt", "interrupted: the best image so far is kept"
    if isinstance(error, NonFiniteLoss):
        return FAILED, "non-finite", (f"{error}; the best image before it is kept (lower the "
                                      "loss weights or the learning rate)")
    if isinstance(error, NSTError):
        return FAILED, "input", str(error)
    # A bug or a resource failure: one line here, the trace where there is a log (error).
    reason = str(error).splitlines()[0][:300] if str(error) else ""
    return FAILED, "error", (f"internal error ({type(error).__name__}"
                             + (f": {reason}" if reason else "") + ")")


def outcome_of(error: BaseException, seconds: float = 0.0) -> Outcome:
    """The Outcome of work around runs (a clip's reading, planning and writing) that raised
    `error` with no picture to keep: ending()'s status and line, the error kept."""
    status, stopped_by, message = ending(error)
    return Outcome(status, None, message, stopped_by, seconds=seconds, error=error)


@once_per_process
def default_engine() -> Engine:
    """This process's engine (its network cache is shared by every front end in it)."""
    return Engine()
