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

import collections
import dataclasses
import threading
import time
from typing import Callable, Dict, Optional, Sequence

import numpy as np

from nst_tf.config import TransferConfig
from nst_tf.errors import NonFiniteLoss, NSTError
from nst_tf.io.inputs import ImageLike, Inputs, TextureArg, load_inputs
from nst_tf.run.levels import RunPlan, run_plan
from nst_tf.steps import LOSS_PARTS
from nst_tf.tensorflow_quietly import import_tensorflow_quietly

DONE, STOPPED, FAILED = "done", "stopped", "failed"

# Networks an engine keeps built: a VGG19 is 80 MB of weights and a second of building, and a
# batch or a server seldom needs more than one or two at a time.
NETWORKS_KEPT = 2


@dataclasses.dataclass
class Request:
    """One transfer: the photos as paths, bytes, arrays or PIL images (content None for
    synthesis; texture one, a list, or None for reconstruction), the settings, and optionally
    the masks of spatial control and a start image in place of config.content_mask,
    config.texture_masks and config.init (the same kinds of value). anchors: a video frame's
    temporal targets, [(RGB (H, W, 3), weights (H, W) in [0, 1])] at the content's size (the
    previous results warped to this frame, and where the warp holds)."""

    content: Optional[ImageLike]
    texture: TextureArg
    config: TransferConfig = dataclasses.field(default_factory=TransferConfig)
    content_mask: Optional[ImageLike] = None
    texture_masks: Optional[Sequence[Optional[ImageLike]]] = None
    init: Optional[ImageLike] = None
    anchors: Sequence = ()


@dataclasses.dataclass
class Prepared:
    """A request read and checked, with its plan: what prepare() returns and run() takes."""

    request: Request
    inputs: Inputs
    plan: RunPlan


@dataclasses.dataclass
class Outcome:
    """How a run ended (module docstring): status DONE, STOPPED or FAILED; image: uint8 RGB
    (H, W, 3) or None; message: one line for a person ('' when done); stopped_by: 'settled',
    'plateau', 'steps', 'stop', 'interrupt', 'non-finite', 'input' or 'error'; loss: the last
    report's total and parts; steps: the reports seen; seconds: since the run began; plan;
    error: the exception behind a failure or an interrupt (KeyboardInterrupt), else None."""

    status: str
    image: Optional[np.ndarray] = None
    message: str = ""
    stopped_by: str = "steps"
    loss: Dict[str, float] = dataclasses.field(default_factory=dict)
    steps: int = 0
    seconds: float = 0.0
    plan: Optional[RunPlan] = None
    error: Optional[BaseException] = None


class StopRun(Exception):
    """Raised from the step callback when the stop signal is set."""


def prepare(request: Request, download: bool = False) -> Prepared:
    """Reads and checks every input of `request` and plans the run, before TensorFlow starts;
    NSTError with one line on the first problem. download: fetch Keras' weights file when it is
    not here (80 MB); otherwise a missing file is an NSTError saying how to get it."""
    config = request.config
    if not isinstance(config, TransferConfig):
        raise NSTError(f"config: give a TransferConfig, not {type(config).__name__}")
    if request.init is not None:
        config = config.replace(init="content")  # the start image comes with the request
    inputs = load_inputs(request.content, request.texture, config, download=download,
                         content_mask=request.content_mask,
                         texture_masks=request.texture_masks)
    if request.init is not None:
        from nst_tf.io.inputs import as_image
        init = as_image(request.init, "init")
        if init.shape != inputs.content.shape:
            raise NSTError(f"init: init image is {init.shape[1]}x{init.shape[0]}, the content is "
                           f"{inputs.content.shape[1]}x{inputs.content.shape[0]}; they must "
                           "match")
        inputs = dataclasses.replace(inputs, init=init)
    for index, (target, weights) in enumerate(request.anchors):
        if (np.shape(target) != inputs.content.shape
                or np.shape(weights) != inputs.content.shape[:2]):
            raise NSTError(f"anchor {index}: a target of {np.shape(target)} and weights of "
                           f"{np.shape(weights)} for a content of {inputs.content.shape}; they "
                           "must be the content's size")
    return Prepared(request, inputs, run_plan(inputs.content.shape[:2], config))


class Engine:
    """Runs requests, keeping the networks it builds (NETWORKS_KEPT of them, the least recently
    used dropped first). One engine serves a process: the command line's run, a batch's jobs,
    a server's queue, a Ray worker's tasks."""

    def __init__(self, networks_kept: int = NETWORKS_KEPT):
        self.networks_kept = networks_kept
        self._networks: "collections.OrderedDict[tuple, object]" = collections.OrderedDict()
        self._lock = threading.Lock()

    def network(self, config: TransferConfig, weights_path: Optional[str]):
        """The frozen network for `config` and its resolved weights file (None: random weights,
        which depend on the seed); built once and kept."""
        from nst_tf.network.vgg import vgg
        derive = config.network_choice.derive
        key = (config.network, weights_path, config.seed if weights_path is None else None,
               derive)
        with self._lock:
            if key in self._networks:
                self._networks.move_to_end(key)
                return self._networks[key]
            while len(self._networks) >= self.networks_kept:
                self._networks.popitem(last=False)
            model = vgg(config.network, weights_path, config.seed, derive)
            self._networks[key] = model
            return model

    def run(self, request, on_step: Optional[Callable] = None, stop=None,
            on_start: Optional[Callable] = None, download: bool = False) -> Outcome:
        """Runs a Request (or what prepare() made of one) to its Outcome; never raises for how
        the run ends (the module docstring's policies). on_step(StepReport) follows each step;
        stop: a threading.Event (or anything with is_set()) whose setting stops the run at its
        next step; on_start(TextureTransfer, Prepared) once the network and objective are built,
        before the first step (the command line's start line, the page's live pictures)."""
        began = time.perf_counter()
        job = None
        last: Dict[str, float] = {}
        prepared = request if isinstance(request, Prepared) else None
        plan = prepared.plan if prepared is not None else None

        def ended(status, stopped_by, message="", error=None, keep=False) -> Outcome:
            image = None
            if keep and job is not None:
                try:
                    image = job.result()
                except Exception:  # the picture cannot be made: the outcome says why it ended
                    image = None
            return Outcome(status, image, message, stopped_by, dict(last),
                           len(reports), time.perf_counter() - began, plan, error)

        reports = []

        def step(report) -> None:
            reports.append(report)
            last.clear()
            last.update({part: getattr(report, part) for part in ("total",) + LOSS_PARTS})
            if on_step is not None:
                on_step(report)
            if stop is not None and stop.is_set():
                raise StopRun()

        try:
            if prepared is None:
                prepared = prepare(request, download=download)
                plan = prepared.plan
            if stop is not None and stop.is_set():
                raise StopRun()
            import_tensorflow_quietly()
            from nst_tf.run.texture_transfer import TextureTransfer
            config, inputs = prepared.request.config, prepared.inputs
            job = TextureTransfer(None, None, config, inputs=inputs,
                                  network=self.network(config, inputs.weights_path),
                                  anchors=prepared.request.anchors)
            if on_start is not None:
                on_start(job, prepared)
            image = job.run(step)
            stopped_by = getattr(job.optimization, "stopped_by", None) or "steps"
            return Outcome(DONE, image, "", stopped_by, dict(last), len(reports),
                           time.perf_counter() - began, plan)
        except StopRun:
            if job is not None:
                job.keep_best()
            return ended(STOPPED, "stop", "stopped: the best image so far is kept", keep=True)
        except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM raised as one
            if job is not None:
                job.keep_best()
            return ended(STOPPED, "interrupt", "interrupted: the best image so far is kept",
                         interrupt, keep=True)
        except NonFiniteLoss as error:
            return ended(FAILED, "non-finite", f"{error}; the best image before it is kept "
                         "(lower the loss weights or the learning rate)", error, keep=True)
        except NSTError as error:
            return ended(FAILED, "input", str(error), error)
        except Exception as error:  # a bug or a resource failure: one line here, the trace
            reason = str(error).splitlines()[0][:300] if str(error) else ""
            return ended(FAILED, "error", f"internal error ({type(error).__name__}"
                         + (f": {reason}" if reason else "") + ")", error)


_DEFAULT = None
_DEFAULT_LOCK = threading.Lock()


def default_engine() -> Engine:
    """This process's engine (its network cache is shared by every front end in it)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = Engine()
        return _DEFAULT
