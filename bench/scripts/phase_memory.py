"""Where a full-resolution run's memory peaks: the resident memory (VmRSS) sampled every 50 ms
in a thread, and for each phase of the run (the objective built, its stored targets, each
evaluation, Adam, a level's upsampling, the result) the memory it started at, its peak and its
end, printed as each ends; last, the process's peak.

    python bench/scripts/phase_memory.py --content big.png --texture t.png --max_dim 0 \
        --iterations 1 --refine_iterations 1 --weights $NST_TF_REAL_WEIGHTS

Every argument is the transfer command's (nst-tf transfer ...). The phases are the library's
methods, wrapped here for measuring; the library does not know of it. With --trim, glibc's
malloc_trim(0) before each phase, and what it gave back: the memory that was freed but held in
the heap's holes (how glibc's fixed mmap threshold, nst_tf/process_memory.py, was found).
"""
import ctypes
import functools
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.process_status import rss_mib  # noqa: E402

SAMPLE_SECONDS = 0.05
# (module, class, method, label): the phases of a tiled run.
PHASES = (
    ("nst_tf.run.texture_transfer", "TextureTransfer", "__init__", "transfer set up"),
    ("nst_tf.objective.tiled", "TiledObjective", "__init__", "objective built"),
    ("nst_tf.objective.tiled", "TiledObjective", "_stored_content_targets",
     "  content targets stored"),
    ("nst_tf.objective.tiled", "TiledObjective", "_gram_accumulated", "  Gram accumulated"),
    ("nst_tf.objective.tiled", "TiledObjective", "value_and_gradient", "value and gradient"),
    ("nst_tf.optimize.adam", "AdamOptimization", "__init__", "Adam set up"),
    ("nst_tf.optimize.adam", "AdamOptimization", "run", "Adam run"),
    ("nst_tf.run.regimes", "PictureRegime", "upsampled", "upsampled to the next level"),
    ("nst_tf.run.texture_transfer", "TextureTransfer", "result", "result"),
)


class Sampler:
    """The process's peak resident memory, and each open phase's, sampled in a thread."""

    def __init__(self):
        self.peak, self.open = 0.0, []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            now = rss_mib()
            self.peak = max(self.peak, now)
            for phase in list(self.open):
                phase[1] = max(phase[1], now)
            time.sleep(SAMPLE_SECONDS)


def wrapped(sampler, began, original, label, trim):
    @functools.wraps(original)
    def phase(*args, **kwargs):
        if trim:
            before = rss_mib()
            ctypes.CDLL("libc.so.6").malloc_trim(0)
            print(f"  malloc_trim before {label.strip()}: {before:.0f} -> {rss_mib():.0f} MiB",
                  flush=True)
        start = rss_mib()
        entry = [label, start]
        sampler.open.append(entry)
        try:
            return original(*args, **kwargs)
        finally:
            sampler.open.remove(entry)
            end = rss_mib()
            print(f"{time.perf_counter() - began:8.1f} s  {label:30s} start {start:6.0f}  "
                  f"peak {max(entry[1], end):6.0f}  end {end:6.0f} MiB", flush=True)
    return phase


def main() -> None:
    import importlib
    trim = "--trim" in sys.argv
    arguments = [a for a in sys.argv[1:] if a != "--trim"]
    sampler, began = Sampler(), time.perf_counter()
    for module, owner, method, label in PHASES:
        holder = getattr(importlib.import_module(module), owner)
        setattr(holder, method, wrapped(sampler, began, getattr(holder, method), label, trim))
    from nst_tf.cli.main import main as command
    sys.argv = ["nst-tf", "transfer", *arguments]
    try:
        command()
    finally:
        print(f"process peak {sampler.peak:.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
