"""Runs fuzzed inputs through a front end's checks, each case in a forked child, and says how it
was answered (tests/test_fuzz.py starts one and talks to it over stdin/stdout, a JSON line each).

A request is {"leg": ..., ...}; the answer {"answer": "refused" | "checked" | "crash" | "hang",
"message", "stderr", "code", "tensorflow", "seconds", "max_rss_mb"}:
- refused: the front end answered in its one-line way (NSTError; the command line's exit 2);
- checked: every check passed (the command line stops where TensorFlow would start);
- crash: anything else (a traceback, a signal, an exit code the command line does not use);
- hang: no answer within the request's "timeout" seconds (the child is killed).

Forking keeps the cases apart (each command line parses its flags once, and a reader that
crashes the interpreter takes only its child) and cheap: this process has imported the library
but not TensorFlow, so a child starts in milliseconds.
"""
import json
import os
import resource
import select
import signal
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402,F401  (imported once here, before the children fork)
import PIL.Image  # noqa: E402,F401
import absl.flags  # noqa: E402,F401

from nst_tf.batch.jobs import check_photos, read_jobs  # noqa: E402
from nst_tf.cli import common  # noqa: E402
from nst_tf.config import TransferConfig  # noqa: E402
from nst_tf.errors import NSTError  # noqa: E402
from nst_tf.run.request import Request, prepare  # noqa: E402
from nst_tf.video.settings import VideoSettings  # noqa: E402
from nst_tf.video.transfer import plan_video  # noqa: E402


class ChecksPassed(BaseException):
    """Raised where a command would import TensorFlow: every check before it passed."""


def _no_tensorflow():
    raise ChecksPassed()


def leg_python(request):
    """The Python call's checks: prepare() (nst_tf.load_inputs' checks and the plan)."""
    config = TransferConfig(**request.get("config", {}))
    prepared = prepare(Request(request.get("content"), request.get("texture"), config,
                               content_mask=request.get("content_mask")))
    return {"shape": list(prepared.inputs.content.shape), "output": list(prepared.plan.output)}


def leg_batch(request):
    """The batch's checks: read_jobs, then every photo's header (check_photos)."""
    jobs = read_jobs(request["jobs"], request["output_dir"],
                     TransferConfig(**request.get("config", {})))
    check_photos(jobs)
    return {"jobs": len(jobs)}


def leg_video(request):
    """The video's checks: plan_video (the clip, its frames, the plan, the output)."""
    plan = plan_video(request["content"], request["output"],
                      TransferConfig(**request.get("config", {})), VideoSettings())
    return {"frames": len(plan.numbers), "size": list(plan.size)}


def leg_cli(request):
    """A command line (nst-tf transfer | batch | video) with these flags, in this process."""
    import importlib
    common.import_tensorflow_quietly = _no_tensorflow
    module = importlib.import_module(f"nst_tf.cli.{request['command']}")
    module.main([f"nst-tf {request['command']}", *request["argv"]])


LEGS = {"python": leg_python, "batch": leg_batch, "video": leg_video, "cli": leg_cli}


def child(request, write_fd):
    """In the forked child: runs the leg with stdout and stderr in a file, writes the answer."""
    capture = tempfile.TemporaryFile()
    os.dup2(capture.fileno(), 1)
    os.dup2(capture.fileno(), 2)
    if request.get("cwd"):
        os.chdir(request["cwd"])
    began = time.perf_counter()
    answer = {"code": None}
    try:
        answer.update(answer="checked", result=LEGS[request["leg"]](request))
    except ChecksPassed:
        answer.update(answer="checked")
    except NSTError as error:
        answer.update(answer="refused", message=str(error))
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        answer.update(code=code, answer="refused" if code == 2 else "crash")
    except BaseException:
        answer.update(answer="crash", message=traceback.format_exc())
    sys.stdout.flush()
    sys.stderr.flush()
    capture.seek(0)
    answer.update(stderr=capture.read().decode(errors="replace"),
                  tensorflow="tensorflow" in sys.modules,
                  seconds=round(time.perf_counter() - began, 3),
                  max_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))
    data = json.dumps(answer).encode()
    while data:
        data = data[os.write(write_fd, data):]
    os._exit(0)


def serve_one(request):
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            child(request, write_fd)
        finally:
            os._exit(70)
    os.close(write_fd)
    deadline = time.monotonic() + float(request.get("timeout", 10))
    chunks, hung = [], False
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            hung = True
            break
        ready, _, _ = select.select([read_fd], [], [], left)
        if ready:
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    if hung:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(read_fd)
    if hung:
        return {"answer": "hang", "message": f"no answer in {request.get('timeout', 10)} s"}
    if os.WIFSIGNALED(status):
        return {"answer": "crash", "message": f"killed by signal {os.WTERMSIG(status)}"}
    try:
        return json.loads(b"".join(chunks))
    except ValueError:
        return {"answer": "crash", "message": f"no answer (exit status {status})"}


def main():
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(serve_one(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
