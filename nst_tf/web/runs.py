"""The server's runs: one at a time, in one worker thread, the others waiting in line.

A Run holds what the page shows: its state, its place in the line, every step's report, the
latest picture (JPEG, made at most every `preview_seconds`), and at the end the result. Stop
keeps the best image so far (TextureTransfer.keep_best, then result(): what Ctrl-C does on the
command line). Whoever knows a run's id sees it (a second tab) and may stop it; a closed tab
changes nothing. The photos are numpy arrays in memory.

A clip's run (nst_tf.video.run_video) makes its frames one after the other into its own folder
(nst_tf.web.clips), then the video file; a Stop keeps the finished frames as a shorter clip.

TensorFlow is imported by the worker thread when the first run starts.
"""
from __future__ import annotations

import collections
import dataclasses
import secrets
import shutil
import sys
import threading
import time
import traceback
from typing import Dict, List, Optional

import numpy as np

from nst_tf.config import TransferConfig
from nst_tf.errors import NSTError
from nst_tf.report.sheet import photo_panels
from nst_tf.io.images import encode_image, to_uint8
from nst_tf.web.settings import NOMINAL_BUILD, NOMINAL_PACE, NOMINAL_TF_START, NOMINAL_WARM_UP

WAITING, STARTING, RUNNING, STOPPING = "waiting", "starting", "running", "stopping"
DONE, STOPPED, FAILED, CANCELLED = "done", "stopped", "failed", "cancelled"
FINISHED = (DONE, STOPPED, FAILED, CANCELLED)

# The live pictures' JPEG quality: small enough to send every second, sharp enough to judge.
PREVIEW_QUALITY = 85

# Finished runs kept for their pages (results, sheets); older ones are forgotten.
KEEP_FINISHED = 20


_SAY = threading.Lock()


def _say(line: str) -> None:
    """One line on stderr, whole even when threads write at once."""
    with _SAY:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def last_frame(reports: list) -> list:
    """The reports of the last engine run among `reports`: a clip's frames each count their
    seconds from 0 again."""
    start = 0
    for index in range(1, len(reports)):
        if reports[index]["seconds"] < reports[index - 1]["seconds"]:
            start = index
    return reports[start:]


class Run:
    """One transfer asked for by the page. Read its fields under the queue's lock."""

    def __init__(self, config: TransferConfig, content: Optional[np.ndarray], textures: list,
                 names: dict, command: str, size, level_steps,
                 content_mask: Optional[np.ndarray] = None, asked: Optional[dict] = None,
                 tiles: Optional[list] = None, clip=None, video=None, frames: int = 0,
                 folder_for=None, release=None, prepared=None):
        self.id = secrets.token_urlsafe(12)
        # A clip's run: the clip (nst_tf.web.clips.ClipUpload), its VideoSettings, how many
        # frames it makes, the folder its frames and video go into (folder_for(run id)), and
        # what to call once the run no longer needs the clip.
        self.clip, self.video, self.frame_count = clip, video, frames
        self.folder = None if folder_for is None else folder_for(self.id)
        self._release = release
        self.frames_done, self.frame_seconds = 0, []
        # Where this frame's reports begin in `reports`, when it began (perf_counter), and the
        # pace of the frame before (steps a second): a new frame's time left goes on from it.
        self.frame_first_report, self.frame_began, self.frame_rate = 0, None, None
        self.video_file = None  # the clip made (also by a Stop, from the finished frames)
        self.config, self.content, self.textures = config, content, textures
        self.content_mask = content_mask
        # A photo's run: its request as checked and planned (run/request.py), run as it is.
        self.prepared = prepared
        # The painted mask, for its download beside the command line that names it.
        self.mask_png = None if content_mask is None else encode_image(content_mask, ".png")
        self.asked = asked or {}
        self.tiles = tiles or []  # [[left, top, right, bottom]] of a run at global statistics
        self.names, self.command = names, command
        self.size, self.level_steps = tuple(size), list(level_steps)
        self.state, self.message = WAITING, ""
        self.created, self.started, self.ended = time.time(), None, None
        # The estimate when it started (seconds, building included), and for the building's
        # measure: when the worker took it, how long the warm-up took, its first report's time
        # (perf_counter), and the building time per frame it was estimated with.
        self.estimate: Optional[float] = None
        self.began = self.warm_seconds = self.first_report_at = None
        self.building: Optional[float] = None
        self.step_guess: Optional[float] = None  # seconds a step, at the pace known at its start
        self.reports: List[dict] = []
        self.preview: Optional[bytes] = None
        self.preview_version = 0
        self.result: Optional[np.ndarray] = None
        self.sheet_panels: list = []
        self.stop_asked = threading.Event()
        self.version = 0  # bumped on every change the page may show
        self._png = {}

    def let_go(self) -> None:
        """The run needs its photos and clip no more (it finished, or left the line)."""
        self.content = self.textures = self.content_mask = self.prepared = None
        if self._release is not None:
            self._release()
            self._release = None

    def remove_folder(self) -> None:
        """A clip's run: its frames and video go (the server forgets the run, or it never ran)."""
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def all_steps(self) -> list:
        """The steps of the run: level by level; a clip's first frame's, then each later one's."""
        if self.clip is None:
            return list(self.level_steps)
        return list(self.level_steps) + [self.video.later_steps] * (self.frame_count - 1)

    def rate(self) -> Optional[float]:
        """Steps per second over the last ten reports (a clip's: of this frame, or until it
        has two, the frame before's)."""
        recent = self.reports[max(self.frame_first_report, len(self.reports) - 11):]
        if len(recent) < 2 or recent[-1]["seconds"] <= recent[0]["seconds"]:
            return self.frame_rate
        return (len(recent) - 1) / (recent[-1]["seconds"] - recent[0]["seconds"])

    def seconds_left(self) -> Optional[float]:
        """An estimate (at most: a plateau can end the run early). While the network and the
        objective are built: what the estimate leaves."""
        if self.state not in (STARTING, RUNNING, STOPPING):
            return None
        now = time.time()
        if not self.reports:
            if self.estimate is None or self.started is None:
                return None
            return max(0.0, self.estimate - (now - self.started))
        last = self.reports[-1]
        rate = self.rate() or (1.0 / self.step_guess if self.step_guess else None)
        if self.clip is not None:
            return self._clip_seconds_left(rate, time.perf_counter())
        if last.get("remaining_s") is not None:
            return float(last["remaining_s"])
        level = min(last.get("level", 0), len(self.level_steps) - 1) if len(
            self.level_steps) > 1 else 0
        left = self.level_steps[level] - last["step"] - 1 + sum(self.level_steps[level + 1:])
        return None if rate is None else max(0.0, left / rate)

    def _clip_seconds_left(self, rate, now) -> Optional[float]:
        """A clip's: this frame's steps left (or, before its first step, what a frame takes less
        the time it has had), then each later frame's, each with its building: at the pace of
        the later frames made, else of this one."""
        if rate is None:
            return None
        if self.frames_done >= self.frame_count:  # the frames are made: the video is written
            return 0.0
        later_steps = self.video.later_steps
        made = self.frame_seconds[1:]
        frame = (sum(made) / len(made) if made
                 else later_steps / rate + (self.building or 0.0))
        later = max(0, self.frame_count - self.frames_done - 1)
        if len(self.reports) > self.frame_first_report:  # this frame has made a step
            this = self.level_steps[0] if self.frames_done == 0 else later_steps
            left = max(0.0, this - self.reports[-1]["step"] - 1) / rate
        else:  # building this frame
            began = self.frame_began if self.frame_began is not None else now
            left = max(0.0, frame - (now - began))
        return left + later * frame

    def png(self, what: str) -> Optional[bytes]:
        """The result ('result') or the contact sheet ('sheet') as PNG bytes, made once."""
        if self.result is None:
            return None
        if what not in self._png:
            if what == "result":
                self._png[what] = encode_image(self.result, ".png")
            else:
                from nst_tf.report.sheet import contact_sheet, seamless_panels
                # Seamless: then the result repeated 2x2, as the command line's --sheet.
                panels = self.sheet_panels + [("result", self.result)] + seamless_panels(
                    self.config.seamless, self.result)
                self._png[what] = encode_image(contact_sheet(panels), ".png")
        return self._png[what]


class RunQueue:
    """Runs one at a time in a worker thread; the rest wait in line, first come first served.

    weights_path: the resolved weights file (None: random weights); network: its network.
    preview_seconds: the shortest time between two live pictures. max_waiting: more waiting
    runs are refused.
    """

    def __init__(self, weights_path: Optional[str], network: str = "vgg19",
                 preview_seconds: float = 1.0, max_waiting: int = 20, log=None, engine=None):
        from nst_tf.run.engine import default_engine
        self.weights_path, self.network = weights_path, network
        self.engine = engine or default_engine()
        self.preview_seconds = preview_seconds
        self.max_waiting = max_waiting
        self.changed = threading.Condition()
        self.pace: Optional[float] = None  # seconds per step per megapixel, measured
        # Building the network's objective and the first step's graph, measured on the last run
        # as a multiple of NOMINAL_BUILD; and whether the network is built (a warm-up done).
        self.build_scale: Optional[float] = None
        self.warm = False
        self.runs: Dict[str, Run] = collections.OrderedDict()
        self.waiting: collections.deque = collections.deque()
        self.current: Optional[Run] = None
        self.closing = False
        self.log = log or _say
        self.worker = threading.Thread(target=self._work, name="nst-tf runs", daemon=True)
        self.worker.start()

    # -- what the handlers call -----------------------------------------------------------------

    def check(self, config: TransferConfig, content, textures, content_mask=None):
        """The run's checks and plan without TensorFlow (NSTError with one line): the Prepared
        request the run will hand to the engine as it is (its plan.output, plan.reported)."""
        from nst_tf.run.request import Request, prepare
        return prepare(Request(content, textures or None, config, content_mask=content_mask))

    def building(self, size) -> float:
        """Seconds to build a run's objective and trace its first step at `size` (width,
        height): NOMINAL_BUILD, at the scale the last run measured. Under the lock or not."""
        fixed, per_megapixel = NOMINAL_BUILD
        return (self.build_scale or 1.0) * (fixed + per_megapixel * size[0] * size[1] / 1e6)

    def warm_up(self) -> float:
        """Seconds the next run spends before its own building: none once a run has built the
        network, else NOMINAL_WARM_UP and TensorFlow's start if it has not started."""
        if self.warm:
            return 0.0
        return NOMINAL_WARM_UP + (0.0 if "tensorflow" in sys.modules else NOMINAL_TF_START)

    def estimate(self, size, level_steps, builds: int = 1) -> float:
        """Seconds a run of `size` (width, height) and these steps would take: the warm-up
        before the first run (warm_up), the objective built `builds` times (a clip: once a
        frame), and the steps at the pace of the runs before (NOMINAL_PACE until one has run),
        every level counted at full size: an estimate on the long side."""
        with self.changed:
            pace = self.pace or NOMINAL_PACE
            warm_up = self.warm_up()
            building = self.building(size)
        return warm_up + builds * building + pace * sum(level_steps) * size[0] * size[1] / 1e6

    def submit(self, run: Run) -> Run:
        with self.changed:
            if self.closing:
                raise NSTError("the server is shutting down")
            if len(self.waiting) >= self.max_waiting:
                raise NSTError(f"{len(self.waiting)} runs are waiting already; try again later")
            self.runs[run.id] = run
            self.waiting.append(run)
            self._forget_old()
            self._bump(run)
        return run

    def get(self, run_id: str) -> Optional[Run]:
        with self.changed:
            return self.runs.get(run_id)

    def stop(self, run_id: str) -> Optional[Run]:
        """A waiting run leaves the line; a running one stops at its next step and keeps its
        best image so far."""
        with self.changed:
            run = self.runs.get(run_id)
            if run is None:
                return None
            if run.state == WAITING:
                self.waiting.remove(run)
                run.state, run.ended = CANCELLED, time.time()
                run.message = "stopped before it started"
                run.let_go()
                self._bump(*self.waiting, run)
            elif run.state in (STARTING, RUNNING):
                run.stop_asked.set()
                run.state = STOPPING
                self._bump(run)
            return run

    def position(self, run: Run) -> int:
        """1 for the next run to start, ...; 0 when it is not waiting."""
        try:
            return self.waiting.index(run) + 1
        except ValueError:
            return 0

    def status(self, run: Run, since: int = 0) -> dict:
        """What the page shows, with the reports from index `since` on. Under the lock."""
        rate = run.rate()
        return {
            "id": run.id, "state": run.state, "message": run.message,
            "position": self.position(run), "running_ahead": self.current is not None
            and self.current is not run and run.state == WAITING,
            "width": run.size[0], "height": run.size[1], "steps": run.level_steps,
            "reports": run.reports[since:], "since": since, "count": len(run.reports),
            "preview": run.preview_version, "rate": rate, "seconds_left": run.seconds_left(),
            "elapsed": (run.ended or time.time()) - run.started if run.started else None,
            "result": run.result is not None, "command": run.command, "names": run.names,
            "mode": run.config.mode, "optimizer": run.config.optimizer,
            "seamless": run.config.seamless,
            "version": run.version, "asked": run.asked, "mask": run.mask_png is not None,
            "tiles": run.tiles,
            "clip": None if run.clip is None else {
                "frames": run.frame_count, "done": run.frames_done,
                "later_steps": run.video.later_steps, "video": run.video_file is not None},
        }

    def close(self, timeout: float = 30.0) -> Optional[Run]:
        """Stops the running run (its best image is kept), cancels the waiting ones and ends
        the worker; returns the run that was stopped, if any."""
        with self.changed:
            self.closing = True
            stopped = self.current
            for run in list(self.waiting):
                run.state, run.message = CANCELLED, "the server stopped"
                run.let_go()
            self.waiting.clear()
            if stopped is not None:
                stopped.stop_asked.set()
            self.changed.notify_all()
        self.worker.join(timeout)
        return stopped

    # -- the worker -----------------------------------------------------------------------------

    def _measure_pace(self, run: Run) -> None:
        """The pace of the steps of `run`'s last level (a clip's: its last frame's; the first
        steps aside: they include building the graph), and the time it took to build (from
        the worker taking it to its first report, less the warm-up and one step), for the next
        estimates. Under the lock."""
        reports = last_frame(run.reports)
        level = reports[-1].get("level", 0) if reports else 0
        steps = [r for r in reports if r.get("level", 0) == level]
        if len(steps) < 6:
            return
        seconds = (steps[-1]["seconds"] - steps[2]["seconds"]) / (len(steps) - 3)
        if seconds <= 0:
            return
        self.pace = seconds / (run.size[0] * run.size[1] / 1e6)
        if run.first_report_at is not None and run.began is not None:
            built = run.first_report_at - run.began - (run.warm_seconds or 0.0) - seconds
            fixed, per_megapixel = NOMINAL_BUILD
            nominal = fixed + per_megapixel * run.size[0] * run.size[1] / 1e6
            self.build_scale = min(20.0, max(0.2, built / nominal))

    def _warm_up(self, run: Run) -> float:
        """TensorFlow started and the run's network built (once: the engine keeps it), timed
        apart from the run's own building; seconds. A failure is left for the run to meet."""
        began = time.perf_counter()
        try:
            from nst_tf.tensorflow_quietly import import_tensorflow_quietly
            import_tensorflow_quietly()
            self.engine.network(run.config, self.weights_path)
        except Exception:
            pass
        return time.perf_counter() - began

    def _bump(self, *runs: Run) -> None:
        for run in runs:
            run.version += 1
        self.changed.notify_all()

    def _forget_old(self) -> None:
        finished = [run for run in self.runs.values() if run.state in FINISHED]
        for run in finished[:max(0, len(finished) - KEEP_FINISHED)]:
            del self.runs[run.id]
            run.remove_folder()

    def _work(self) -> None:
        while True:
            with self.changed:
                while not self.waiting and not self.closing:
                    self.changed.wait()
                if self.closing:
                    return
                run = self.waiting.popleft()
                self.current = run
                run.state, run.started = STARTING, time.time()
                run.began = run.frame_began = time.perf_counter()
                run.message = "building the network and the objective"
                run.building = self.building(run.size)
                run.step_guess = (self.pace or NOMINAL_PACE) * run.size[0] * run.size[1] / 1e6
                run.estimate = (self.warm_up() + (run.frame_count or 1) * run.building
                                + run.step_guess * sum(run.all_steps()))
                self._bump(run, *self.waiting)
            try:
                run.warm_seconds = self._warm_up(run)
                with self.changed:
                    self.warm = True
                self._execute(run)
            except Exception as error:  # past the engine's care: this run fails, the line goes on
                self._failed(run, error)
            finally:
                with self.changed:
                    self.current = None
                    run.let_go()  # the photos are in the sheet's panels
                    self._measure_pace(run)
                    self._bump(run, *self.waiting)

    def _failed(self, run: Run, error: Exception) -> None:
        """A run that raised `error` around the engine (its pictures, its clip): the log gets
        the traceback, the page one line; the worker goes on with the next run."""
        traceback.print_exception(type(error), error, error.__traceback__)
        with self.changed:
            run.state, run.ended = FAILED, time.time()
            run.message = f"internal error ({type(error).__name__}); see the server's log"
            self._bump(run)
        self.log(f"run {run.id}: {FAILED} ({run.message})")

    def _execute(self, run: Run) -> None:
        from nst_tf.run.engine import DONE as ENGINE_DONE, STOPPED as ENGINE_STOPPED
        from nst_tf.run.request import Request
        config = run.config
        running = {}
        self.log(f"run {run.id}: {config.mode} mode, {run.size[0]}x{run.size[1]}, "
                 f"{sum(run.level_steps)} {config.optimizer} steps")
        last_preview = [0.0]

        def on_start(job, prepared) -> None:
            running["job"] = job
            run.sheet_panels = [(caption, to_uint8(image)) for caption, image in photo_panels(
                config.mode, prepared.inputs.content, prepared.inputs.textures)]

        def on_step(report) -> None:
            now = time.perf_counter()
            with self.changed:
                if run.first_report_at is None:
                    run.first_report_at = now
                run.reports.append(report.as_dict())
                if run.state == STARTING:
                    run.state, run.message = RUNNING, ""
                self._bump(run)
            if now - last_preview[0] >= self.preview_seconds and not run.stop_asked.is_set():
                last_preview[0] = now
                preview = encode_image(running["job"].result(), ".jpg",
                                       quality=PREVIEW_QUALITY)
                with self.changed:
                    run.preview, run.preview_version = preview, run.preview_version + 1
                    self._bump(run)

        if run.clip is None:
            outcome = self.engine.run(run.prepared or Request(
                run.content, run.textures or None, config, content_mask=run.content_mask),
                on_step, stop=run.stop_asked, on_start=on_start)
        else:
            outcome = self._make_clip(run, on_step, on_start)
        state = {ENGINE_DONE: DONE, ENGINE_STOPPED: STOPPED}.get(outcome.status, FAILED)
        if outcome.stopped_by == "error":  # a bug: the log gets the traceback, the page a line
            error = outcome.error
            traceback.print_exception(type(error), error, error.__traceback__)
        message = outcome.message if outcome.stopped_by != "error" else (
            f"internal error ({type(outcome.error).__name__}); see the server's log")
        if run.clip is not None and state == STOPPED and run.frames_done:
            message = (f"{message}; the clip has the {run.frames_done} finished frame"
                       f"{'s' if run.frames_done > 1 else ''}")
        # A stop before the first step leaves no picture worth keeping.
        result = outcome.image if (run.reports or state == DONE) else None
        with self.changed:
            run.result = result
            if result is not None:
                run.preview = encode_image(result, ".jpg", quality=PREVIEW_QUALITY)
                run.preview_version += 1
            run.state, run.message, run.ended = state, message, time.time()
            self._bump(run)
        self.log(f"run {run.id}: {state} after {len(run.reports)} steps in "
                 f"{outcome.seconds:.1f} s" + (f" ({message})" if state == FAILED else ""))

    def _make_clip(self, run: Run, on_step, on_start):
        """A clip's run: its frames one after the other, then the video (the finished frames
        only, after a Stop). The last frame made (or part-made) is the run's picture."""
        from nst_tf.run.engine import outcome_of
        output = run.folder / "result.mp4"
        # The frames' failures are outcomes already (run_video); the page's own steps (the
        # clip's plan, the video of a stopped clip) become one by the engine's mapping.
        try:
            return self._frames_and_video(run, output, on_step, on_start)
        except Exception as error:
            return outcome_of(error)

    def _frames_and_video(self, run: Run, output, on_step, on_start):
        from nst_tf.io.images import read_image
        from nst_tf.run.engine import DONE as ENGINE_DONE
        from nst_tf.video.clip import FRAME_NAME, write_video
        from nst_tf.video.transfer import plan_clip, run_video
        plan = plan_clip(run.clip.clip, output, run.config, run.video)

        def on_frame(index, count, outcome, seconds) -> None:
            with self.changed:
                run.frame_rate = run.rate()  # the next frame's time left goes on at this pace
                if index == 0:  # its building and pace, for the later frames' estimate
                    self._measure_pace(run)
                    run.building = self.building(run.size)
                    if self.pace:
                        run.step_guess = self.pace * run.size[0] * run.size[1] / 1e6
                run.frames_done = index + 1
                run.frame_seconds.append(seconds)
                run.frame_first_report = len(run.reports)
                run.frame_began = time.perf_counter()
                self._bump(run)

        outcome = run_video(run.clip.clip.path, run.textures or None, output, run.config,
                            run.video, plan, on_frame=on_frame, on_step=on_step,
                            stop=run.stop_asked, engine=self.engine, on_start=on_start,
                            content_mask=run.content_mask)
        if outcome.status != ENGINE_DONE and run.frames_done:
            write_video(output, plan.folder, run.frames_done, plan.fps, plan.clip,
                        plan.numbers[0] / plan.clip.fps)
            if outcome.image is None:  # stopped before a step of the next frame
                last = read_image(plan.folder / FRAME_NAME.format(run.frames_done - 1))
                outcome = dataclasses.replace(outcome, image=to_uint8(last))
        if output.is_file():
            with self.changed:
                run.video_file = output
                self._bump(run)
        return outcome
