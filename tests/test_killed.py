"""Runs killed at any moment: a 30-job batch and a 30-frame clip killed with SIGKILL at seeded
random moments (while Python and TensorFlow start, between jobs, while a file is written), then
run again, and again; at the end every output is there once and whole, and the reports agree
with the files. And a full disk while writing: the previous file stays whole, the failure is one
line, and nothing half-written is left.

The default run kills each twice; the slow layer ten times each. A failure names its seed.
NST_TF_KILL_TALLY=FILE appends one JSON line per run (the measurement's counts).
"""
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from conftest import ROOT, encoded_clip, panned, random_image
from nst_tf.errors import NSTError
from nst_tf.io.images import read_image, write_image
from nst_tf.report.records import JsonLines

JOBS = FRAMES = 30
SIDE = 32  # px: every job and frame is 32x32, made in two steps by a random-weight network
TINY = ["--weights=random", f"--max_dim={SIDE}", "--iterations=2", "--noprogress"]
# A run waits this long at most for the records it is to be killed after (a busy 2-core box
# starts TensorFlow in 5-30 s), and the last run this long to finish what is left.
WAIT_S = 600


def lines_of(report: Path) -> int:
    return len(report.read_bytes().splitlines()) if report.exists() else 0


def killed_runs(command, report: Path, kills: int, seed: int, cwd: Path):
    """Runs `command` `kills` times, each killed (SIGKILL, the whole process group) after a
    seeded random number of new report lines (0-3) and a seeded random delay; then once more to
    its end. Returns what each run did: [{"after_lines", "delay", "killed", "lines"}]."""
    rng = random.Random(seed)
    runs = []
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    for round_ in range(kills + 1):
        last = round_ == kills
        before = lines_of(report)
        after, delay = rng.randrange(4), rng.uniform(0.0, 1.5)
        if after == 0:  # from the start: while Python imports, TensorFlow starts, the clip opens
            delay = rng.uniform(0.0, 12.0)
        process = subprocess.Popen(command, cwd=cwd, env=env, start_new_session=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            if last:
                output, _ = process.communicate(timeout=WAIT_S)
                assert process.returncode == 0, (seed, output.decode()[-3000:])
                runs.append({"after_lines": None, "killed": False, "lines": lines_of(report)})
                break
            deadline = time.monotonic() + WAIT_S
            while (process.poll() is None and lines_of(report) < before + after
                   and time.monotonic() < deadline):
                time.sleep(0.02)
            time.sleep(delay)
            killed = process.poll() is None
            if killed:
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)
            runs.append({"after_lines": after, "delay": round(delay, 2), "killed": killed,
                         "lines": lines_of(report)})
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    return runs


def records_of(report: Path) -> list:
    """Every line of a report, each a whole JSON object (a torn line fails here)."""
    lines = report.read_text().splitlines()
    records = []
    for number, line in enumerate(lines, 1):
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"{report}: line {number} is not whole: {line[:200]!r}")
    return records


def no_temporaries(folder: Path):
    left = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    assert not left, left


def tally(kind, seed, runs, **extra):
    target = os.environ.get("NST_TF_KILL_TALLY")
    if target:
        with open(target, "a") as handle:
            handle.write(json.dumps({"kind": kind, "seed": seed, "runs": runs, **extra}) + "\n")


def batch_killed(tmp_path, kills, seed):
    photos = tmp_path / "photos"
    photos.mkdir()
    rows = ["content,texture,output"]
    for job in range(JOBS):
        iio.imwrite(photos / f"p{job:02d}.png",
                    random_image((SIDE, SIDE), seed=100 + job).astype(np.uint8))
        rows.append(f"photos/p{job:02d}.png,texture.png,r{job:02d}.png")
    iio.imwrite(tmp_path / "texture.png", random_image((SIDE, SIDE), seed=3).astype(np.uint8))
    (tmp_path / "jobs.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "out"
    report = out / "report.jsonl"
    command = [sys.executable, str(ROOT / "scripts" / "batch.py"), "--jobs=jobs.csv",
               f"--output_dir={out}", *TINY]
    runs = killed_runs(command, report, kills, seed, tmp_path)
    expected = {f"r{job:02d}.png" for job in range(JOBS)}
    no_temporaries(out)
    assert {p.name for p in out.iterdir()} == expected | {"report.jsonl"}, seed
    for name in expected:
        assert read_image(out / name).shape == (SIDE, SIDE, 3), (seed, name)
    records = records_of(report)
    done = [r["job"] for r in records if r["status"] == "done"]
    # Every job made once: a job killed before its record is made again, and only then recorded.
    assert sorted(done) == sorted(expected), (seed, done)
    for record in records:
        assert record["status"] in ("done", "skipped"), (seed, record)
        assert Path(record["output"]).name == record["job"], (seed, record)
    tally("batch", seed, runs, jobs=JOBS, records=len(records))
    return runs


def video_killed(tmp_path, kills, seed):
    clip = encoded_clip(tmp_path / "clip.mp4", panned(FRAMES, SIDE, SIDE), fps=10, audio=False)
    iio.imwrite(tmp_path / "texture.png", random_image((SIDE, SIDE), seed=3).astype(np.uint8))
    output = tmp_path / "out" / "styled.mp4"
    output.parent.mkdir()
    frames = output.with_name("styled.mp4.frames")
    command = [sys.executable, str(ROOT / "scripts" / "video.py"), f"--content={clip}",
               "--texture=texture.png", f"--output={output}", "--later_steps=1", *TINY]
    runs = killed_runs(command, frames / "report.jsonl", kills, seed, tmp_path)
    no_temporaries(output.parent)
    no_temporaries(frames)
    expected = {f"frame_{k:05d}.png" for k in range(FRAMES)}
    assert {p.name for p in frames.iterdir()} == expected | {"report.jsonl"}, seed
    for name in expected:
        assert read_image(frames / name).shape == (SIDE, SIDE, 3), (seed, name)
    import imageio_ffmpeg
    from nst_tf.video.clip import open_clip
    made = open_clip(output)
    assert made.frames == FRAMES and made.size == (SIDE, SIDE), (seed, made)
    reader = imageio_ffmpeg.read_frames(str(output))
    next(reader)
    assert sum(1 for _ in reader) == FRAMES, seed
    recorded = [r["frame"] for r in records_of(frames / "report.jsonl")]
    # Every frame recorded once, and only once its file is there; a frame whose run was killed
    # between its file and its line gets its line from the next run (the file is what a re-run
    # trusts).
    assert sorted(recorded) == list(range(FRAMES)), (seed, recorded)
    tally("video", seed, runs, frames=FRAMES, recorded=len(recorded))
    return runs


def test_a_batch_killed_twice_finishes_with_every_output_once(tmp_path):
    runs = batch_killed(tmp_path, kills=2, seed=11)
    assert len(runs) == 3


def test_a_clip_killed_twice_finishes_with_every_frame_once(tmp_path):
    runs = video_killed(tmp_path, kills=2, seed=12)
    assert len(runs) == 3


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_a_batch_killed_ten_times_finishes_with_every_output_once(tmp_path, seed):
    batch_killed(tmp_path, kills=10, seed=seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_a_clip_killed_ten_times_finishes_with_every_frame_once(tmp_path, seed):
    video_killed(tmp_path, kills=10, seed=seed)


# -- A full disk, simulated: the write fails half-way with ENOSPC. ---------------------------

def half_then_full(real_write):
    """A write that puts half the bytes down, then finds the disk full."""
    def write(self, data):
        real_write(self, data[:len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return write


def test_a_full_disk_while_writing_an_image_leaves_the_previous_file_whole(tmp_path,
                                                                           monkeypatch):
    path = tmp_path / "result.png"
    before = random_image((40, 56), seed=1)
    write_image(path, before)
    data = path.read_bytes()
    monkeypatch.setattr(Path, "write_bytes", half_then_full(Path.write_bytes))
    with pytest.raises(NSTError) as failure:
        write_image(path, random_image((40, 56), seed=2))
    assert str(failure.value) == (f"{path}: could not be written (No space left on device); the "
                                  "file there before, if any, is as it was")
    assert path.read_bytes() == data
    np.testing.assert_array_equal(read_image(path), np.round(before))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["result.png"]


def test_a_full_disk_while_adding_a_report_line_keeps_the_lines_before(tmp_path, monkeypatch):
    from nst_tf.report import records

    class FillingUp:
        """A file whose writes find the disk full half-way."""

        def __init__(self, *args):
            self.handle = open(*args)

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

        write = half_then_full(lambda self, data: self.handle.write(data))

    report = JsonLines(tmp_path / "report.jsonl")
    report.append({"job": "a.png", "status": "done"})
    monkeypatch.setattr(records, "open", FillingUp, raising=False)
    with pytest.raises(NSTError) as failure:
        report.append({"job": "b.png", "status": "done"})
    monkeypatch.undo()
    assert str(failure.value) == (f"{tmp_path / 'report.jsonl'}: could not add a line (No space "
                                  "left on device); the lines before it are kept")
    assert report.records == [{"job": "a.png", "status": "done"}]
    # The torn half-line is skipped on reading, and the next line starts a line of its own.
    again = JsonLines(tmp_path / "report.jsonl")
    assert again.records == [{"job": "a.png", "status": "done"}]
    again.append({"job": "c.png", "status": "done"})
    lines = (tmp_path / "report.jsonl").read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[2]) == {"job": "c.png", "status": "done"}
    assert JsonLines(tmp_path / "report.jsonl").records == [
        {"job": "a.png", "status": "done"}, {"job": "c.png", "status": "done"}]


def test_a_killed_writers_temporary_file_goes_with_the_next_write(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    dead = int(gone.stdout)  # that process has ended: nothing writes under its id
    stale = tmp_path / f".result.png.{dead}.k2j4x9.part"
    probe = tmp_path / f".nst_tf-probe-{dead}.q81z"
    live = tmp_path / f".result.png.{os.getppid()}.a1b2c3.part"  # a writer still running
    other = tmp_path / ".other.png.1.zz.part"  # another file's: not this write's business
    for path in (stale, probe, live, other):
        path.write_bytes(b"half a picture")
    write_image(tmp_path / "result.png", random_image((8, 8)))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["result.png", live.name, other.name])
