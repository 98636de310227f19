"""scripts/batch.py: jobs from a CSV or a folder, checked first; run here or as Ray tasks;
resumable; the same bytes as transfer.py."""
import json
import re

import imageio.v3 as iio
import numpy as np
import pytest

from nst_tf.batch.runner import Report, record
from nst_tf.config import TransferConfig
from nst_tf.errors import NSTError
from nst_tf.batch.jobs import jobs_from_folder, read_jobs
from conftest import interruptible, random_image, run_script

TINY = ["--max_dim=48", "--iterations=3", "--weights=random"]


@pytest.fixture
def photos(tmp_path):
    """Two small photos, a texture, a truncated photo, and a jobs CSV over the three."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for name, seed in (("cat.png", 1), ("dog.jpg", 2)):
        iio.imwrite(folder / name, random_image((40, 56), seed).astype(np.uint8))
    # A photo damaged past its header: it passes the check before the batch and fails its job.
    iio.imwrite(folder / "broken.png", random_image((40, 56), 3).astype(np.uint8))
    (folder / "broken.png").write_bytes((folder / "broken.png").read_bytes()[:120])
    iio.imwrite(tmp_path / "cracks.png", random_image((30, 30), 9).astype(np.uint8))
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("content,texture,output,iterations\n"
                    "photos/cat.png,cracks.png,cat_out.png,\n"
                    "photos/dog.jpg,cracks.png,,2\n"
                    "photos/broken.png,cracks.png,broken_out.png,\n")
    return tmp_path


def _report(folder):
    return [json.loads(line) for line in (folder / "report.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("csv_text,message", [
    ("content,texture,colour\nphotos/cat.png,cracks.png,red\n",
     r"row 1, column 3 'colour': not a job column \(content, texture, output\) nor a transfer or "
     r"video flag"),
    ("content,texture\nphotos/cat.png,cracks.png\nphotos/cow.png,cracks.png\n",
     r"row 3, column content: no such file photos/cow\.png"),
    ("content,texture,iterations\nphotos/cat.png,cracks.png,many\n",
     r"row 2, column iterations: iterations takes a whole number, got 'many'"),
    ("content,texture,max_dim\nphotos/cat.png,cracks.png,16\n",
     r"row 2, column max_dim: max_dim must be 0 \(full resolution\) or at least 32 px, got 16"),
    ("content,texture,split\nphotos/cat.png,cracks.png,2by2\n",
     r"row 2, column split: split must look like WxH"),
    ("content,texture,output\nphotos/cat.png,cracks.png,a.png\nphotos/dog.jpg,cracks.png,a.png\n",
     r"jobs a\.png and a\.png both write .*a\.png"),
    ("content,texture,output\nphotos/cat.png,cracks.png,cat.gif2\n",
     r"row 2, column output: unsupported format '\.gif2'"),
    ("content,texture\n,cracks.png\n", r"row 2, column content: empty"),
    ("texture\ncracks.png\n", r"row 1: needs a content column and a texture column"),
])
def test_the_csv_is_checked_before_any_work(photos, csv_text, message):
    jobs = photos / "bad.csv"
    jobs.write_text(csv_text)
    with pytest.raises(NSTError) as failure:
        read_jobs(jobs, photos / "out", TransferConfig(weights="random"))
    assert str(failure.value).startswith(f"{jobs}: ") and "\n" not in str(failure.value)
    assert re.search(message, str(failure.value)), str(failure.value)


def test_csv_overrides_and_the_folder_shortcut(photos):
    base = TransferConfig(weights="random", iterations=7)
    jobs = read_jobs(photos / "jobs.csv", photos / "out", base)
    assert [job.name for job in jobs] == ["cat_out.png", "dog.png", "broken_out.png"]
    assert [job.config.iterations for job in jobs] == [7, 2, 7]
    assert jobs[0].output == str(photos / "out" / "cat_out.png")
    assert jobs[0].content == str(photos / "photos" / "cat.png")  # relative to the CSV's folder
    iio.imwrite(photos / "photos" / "cat.jpg", random_image((20, 20)).astype(np.uint8))
    (photos / "photos" / "notes.txt").write_text("not a photo")
    folder_jobs = jobs_from_folder(photos / "photos", photos / "cracks.png", photos / "out", base)
    assert [job.name for job in folder_jobs] == ["broken.png", "cat_jpg.png", "cat_png.png",
                                                 "dog.png"]
    with pytest.raises(NSTError, match=r"no_such_dir: no such folder"):
        jobs_from_folder(photos / "no_such_dir", photos / "cracks.png", photos / "out", base)


def test_the_report_ignores_a_torn_last_line(tmp_path, photos):
    job = read_jobs(photos / "jobs.csv", tmp_path, TransferConfig(weights="random"))[0]
    report = Report(tmp_path / "report.jsonl")
    report.append(record(job, "done", 1.0))
    with open(tmp_path / "report.jsonl", "a") as handle:
        handle.write('{"job": "cat_out.png", "status": "fai')  # a crash mid-line
    again = Report(tmp_path / "report.jsonl")
    assert [r["status"] for r in again.records] == ["done"]
    assert not again.finished(job)  # the output file is not there
    iio.imwrite(job.output, np.zeros((4, 4, 3), np.uint8))
    assert again.finished(job)


def _check_batch(photos, out, done, runner_flags):
    assert done.returncode == 1, done.stderr  # one job failed
    lines = {r["job"]: r for r in _report(out)}
    assert sorted(lines) == ["broken_out.png", "cat_out.png", "dog.png"]
    assert lines["cat_out.png"]["status"] == lines["dog.png"]["status"] == "done"
    assert lines["broken_out.png"]["status"] == "failed"
    assert lines["broken_out.png"]["error"].startswith(
        f"{photos / 'photos' / 'broken.png'}: truncated or corrupt PNG data (")
    assert set(lines["cat_out.png"]["loss"]) == {"total", "direct", "content", "raw", "texture", "tv",
                                               "temporal"}
    assert sorted(p.name for p in out.iterdir()) == ["cat_out.png", "dog.png", "report.jsonl"]
    assert re.search(r"2 done, 0 skipped, 1 failed in [\d.]+ s \([\d.]+ photos per minute\)",
                     done.stderr)
    # A re-run skips the two finished jobs and runs (and reports) the failed one again.
    again = run_script("batch.py", f"--jobs={photos / 'jobs.csv'}", f"--output_dir={out}",
                       *TINY, *runner_flags)
    assert again.returncode == 1
    statuses = [(r["job"], r["status"]) for r in _report(out)[3:]]
    assert sorted(statuses) == [("broken_out.png", "failed"), ("cat_out.png", "skipped"),
                                ("dog.png", "skipped")]
    assert "0 done, 2 skipped, 1 failed" in again.stderr


def _same_bytes_as_transfer_py(photos, out):
    single = photos / "single.png"
    done = run_script("transfer.py", f"--content={photos / 'photos' / 'dog.jpg'}",
                      f"--texture={photos / 'cracks.png'}", f"--output={single}",
                      "--max_dim=48", "--iterations=2", "--weights=random")
    assert done.returncode == 0, done.stderr
    assert single.read_bytes() == (out / "dog.png").read_bytes()


def test_local_batch_runs_resumes_and_matches_transfer_py(photos):
    out = photos / "out"
    done = run_script("batch.py", f"--jobs={photos / 'jobs.csv'}", f"--output_dir={out}", *TINY)
    _check_batch(photos, out, done, [])
    assert "[3/3]" in done.stderr
    _same_bytes_as_transfer_py(photos, out)


def test_bad_csv_on_the_command_line_is_one_line(photos):
    (photos / "bad.csv").write_text("content,texture,colour\nphotos/cat.png,cracks.png,red\n")
    done = run_script("batch.py", f"--jobs={photos / 'bad.csv'}", f"--output_dir={photos / 'o'}")
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "column 3 'colour'" in done.stderr
    assert not (photos / "o").exists()


def test_each_jobs_plan_is_checked_before_any_work(photos):
    # The second job's 56x40 photo scales to 48x34 at --max_dim 48: not a tile seamless can
    # make; the batch says so before the first job starts, not when it reaches the second.
    (photos / "seamless.csv").write_text("content,texture,seamless\n"
                                         "photos/cat.png,cracks.png,\n"
                                         "photos/dog.jpg,cracks.png,xy\n")
    out = photos / "o"
    done = run_script("batch.py", f"--jobs={photos / 'seamless.csv'}", f"--output_dir={out}",
                      *TINY)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert done.stderr.strip().endswith(
        "job dog.png: seamless xy needs the picture's width and height in multiples of 16 px "
        "(VGG's poolings must pair the same pixels across the edge), got 48x34: give --size WxH "
        "in multiples of 16 (synthesize), or a content (or --max_dim) that scales to such a "
        "size"), done.stderr
    assert not out.exists()


@pytest.mark.slow  # the cluster test runs the Ray path in the default run
def test_ray_batch_runs_resumes_and_matches_transfer_py(photos):
    out = photos / "out_ray"
    ray_flags = ["--ray_address=local", "--ray_cpus=2"]
    done = run_script("batch.py", f"--jobs={photos / 'jobs.csv'}", f"--output_dir={out}",
                      *TINY, *ray_flags, timeout=600)
    _check_batch(photos, out, done, ray_flags)
    _same_bytes_as_transfer_py(photos, out)


def test_ctrl_c_keeps_the_finished_jobs_and_a_rerun_goes_on(photos):
    import signal
    import subprocess
    import sys
    from conftest import ROOT
    out = photos / "out"
    (photos / "photos" / "broken.png").unlink()
    for k in range(2):  # enough slow jobs that the batch is mid-way when interrupted
        iio.imwrite(photos / "photos" / f"more{k}.png", random_image((40, 56), 20 + k).astype(np.uint8))
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "batch.py"), f"--content_dir={photos / 'photos'}",
         f"--texture={photos / 'cracks.png'}", f"--output_dir={out}", "--max_dim=48",
         "--iterations=150", "--plateau_tolerance=0", "--weights=random"],
        stderr=subprocess.PIPE, text=True, preexec_fn=interruptible)
    try:
        for line in process.stderr:
            if line.startswith("[1/4] done"):
                process.send_signal(signal.SIGINT)
                break
        rest = process.stderr.read()
        process.wait(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 130
    assert f"interrupted: the finished jobs are in {out / 'report.jsonl'}" in rest
    finished = [r["job"] for r in _report(out) if r["status"] == "done"]
    assert finished and len(finished) < 4
    assert sorted(p.name for p in out.iterdir() if p.suffix == ".png") == sorted(finished)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no half-written output
    again = run_script("batch.py", f"--content_dir={photos / 'photos'}",
                       f"--texture={photos / 'cracks.png'}", f"--output_dir={out}", "--max_dim=48",
                       "--iterations=2", "--weights=random")
    assert again.returncode == 0, again.stderr
    skipped = [r["job"] for r in _report(out)[len(finished):] if r["status"] == "skipped"]
    assert sorted(skipped) == sorted(finished)
    assert f"{4 - len(finished)} done, {len(finished)} skipped, 0 failed" in again.stderr

