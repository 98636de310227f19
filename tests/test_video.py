"""Video: clips in and out, the motion between frames, the temporal loss, resuming, bad input.
Small synthetic clips whose motion is known: a picture panned across the frame."""
import json
import re
import subprocess
import sys
import threading

import imageio.v3 as iio
import numpy as np
import pytest

pytest.importorskip("cv2")
pytest.importorskip("imageio_ffmpeg")

from nst_tf.config import TransferConfig  # noqa: E402
from nst_tf.errors import NSTError  # noqa: E402
from nst_tf.video import clip as clips  # noqa: E402
from nst_tf.video.motion import optical_flow, reliability, warp, warping_error  # noqa: E402
from nst_tf.video.transfer import (VideoSettings, finished_frames, frames_of,  # noqa: E402
                                   plan_video, run_video)
from conftest import PAN_PX, ROOT, encoded_clip, panned, random_image  # noqa: E402

TINY = dict(weights="random", max_dim=64, iterations=3)


@pytest.fixture
def frames_dir(tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    for t, frame in enumerate(panned()):
        iio.imwrite(folder / f"f{t:03d}.png", frame)
    return folder


def test_a_folder_and_a_file_read_the_same_frames_with_their_rate_and_audio(tmp_path,
                                                                           frames_dir):
    folder = clips.open_clip(frames_dir, fps=12)
    assert (folder.frames, folder.fps, folder.size, folder.audio) == (5, 12.0, (64, 48), False)
    video = clips.open_clip(encoded_clip(tmp_path / "c.mp4", panned()))
    assert (video.frames, video.fps, video.size, video.audio) == (5, 10.0, (64, 48), True)
    numbers = clips.frame_numbers(video, "1:", 2)
    assert numbers == [1, 3]
    read = dict(clips.read_frames(video, numbers))
    assert sorted(read) == [1, 3] and read[1].shape == (48, 64, 3)
    # H.264 at 4:2:0 halves the colour's resolution, not the luma's: the frames asked for.
    luma = np.array([0.299, 0.587, 0.114])
    assert np.abs(read[3] @ luma - panned()[3] @ luma).mean() < 2
    assert np.abs(read[3] @ luma - panned()[2] @ luma).mean() > 10


@pytest.mark.parametrize("text,frames,expected", [
    (None, 10, (0, 10)), ("2:5", 10, (2, 5)), ("3:", 10, (3, 10)), (":-2", 10, (0, 8))])
def test_frame_ranges(text, frames, expected):
    assert clips.parse_range(text, frames) == expected


def test_the_flow_of_a_pan_warps_one_frame_onto_the_next():
    first, second = (f.astype(np.float32) for f in panned(2))
    backward = optical_flow(second, first)  # frame 1 to frame 0: the picture came from the right
    assert np.median(backward[..., 0]) == pytest.approx(PAN_PX, abs=0.2)
    carried = warp(first, backward)
    inner = np.s_[4:-4, 4:-PAN_PX - 4]
    assert np.abs(carried[inner] - second[inner]).mean() < 0.1 * np.abs(first - second).mean()
    weights = reliability(backward, optical_flow(first, second))
    assert weights.shape == (48, 64) and weights[inner].mean() > 0.9
    assert warping_error(first, second, backward, weights) < 0.1 * warping_error(
        first, second, np.zeros_like(backward), weights)


def test_two_layers_moving_apart_uncover_pixels_that_get_no_weight():
    base = random_image((48, 64), 3).astype(np.float32)
    moved = base.copy()
    moved[:, 32:] = np.roll(base, 6, axis=1)[:, 32:]  # the right half moves right by 6 px
    moved[:, 32:38] = random_image((48, 6), 4)  # what it uncovers was never seen
    backward, forward = optical_flow(moved, base), optical_flow(base, moved)
    weights = reliability(backward, forward)
    assert weights[:, 4:26].mean() > 0.9  # the left half holds still
    assert weights[:, 32:38].mean() < weights[:, 4:26].mean() - 0.3


def test_the_temporal_loss_holds_a_later_frame_to_the_warped_result(frames_dir, tmp_path):
    # The first frame's rate on the later ones too, so that 8 steps can move a frame away.
    settings = VideoSettings(later_steps=8, later_learning_rate=10.0)
    # A texture strong enough (with random weights) that 8 steps move a frame off its start.
    config = TransferConfig(**{**TINY, "iterations": 8, "texture_weight": 50.0})
    distances = {}
    for name, weight in (("strong", 1e4), ("loose", 0.0)):
        reports = []
        run_video(frames_dir, ROOT / "examples" / "gravel.jpg", tmp_path / name,
                  config.replace(temporal_weight=weight), settings, on_step=reports.append)
        made = frames_of(tmp_path / name).astype(np.float32)
        first, second = (f.astype(np.float32) for f in panned(2))
        backward = optical_flow(second, first)  # the flow of the input frames
        carried = warp(made[0], backward)
        distances[name] = np.abs(made[1] - carried)[4:-4, 4:-PAN_PX - 4].mean()
        # The first frame's 8 steps, then the later frames' (each starts at its target: 0).
        later = [r.temporal for r in reports[8:] if r.step > 0]
        assert len(later) == 4 * 7
        assert all(value > 0 for value in later) if name == "strong" else not any(later)
    assert distances["strong"] < 0.5 * distances["loose"], distances


def test_frames_are_written_as_made_and_a_rerun_goes_on_after_the_last(frames_dir, tmp_path):
    config = TransferConfig(**TINY)
    settings = VideoSettings(later_steps=2)
    output = tmp_path / "out.mp4"
    made = []
    run_video(frames_dir, ROOT / "examples" / "gravel.jpg", output, config, settings,
              on_frame=lambda index, *rest: made.append(index))
    assert made == [0, 1, 2, 3, 4] and finished_frames(tmp_path / "out.mp4.frames") == 5
    written = clips.open_clip(output)
    assert (written.frames, written.fps, written.size) == (5, 25.0, (64, 48))
    kept = (tmp_path / "out.mp4.frames" / "frame_00002.png").read_bytes()
    for k in (3, 4):
        (tmp_path / "out.mp4.frames" / f"frame_{k:05d}.png").unlink()
    made.clear()
    plan = plan_video(frames_dir, output, config, settings)
    assert plan.finished == 3
    run_video(frames_dir, ROOT / "examples" / "gravel.jpg", output, config, settings, plan,
              on_frame=lambda index, *rest: made.append(index))
    assert made == [3, 4]
    assert (tmp_path / "out.mp4.frames" / "frame_00002.png").read_bytes() == kept
    # A line per frame made, the re-run's appended: frame, its clip frame, steps, seconds, and
    # the seconds before its first step.
    lines = [json.loads(line) for line in
             (tmp_path / "out.mp4.frames" / "report.jsonl").read_text().splitlines()]
    assert [(r["frame"], r["source_frame"], r["steps"]) for r in lines] == [
        (0, 0, TINY["iterations"]), (1, 1, 2), (2, 2, 2), (3, 3, 2), (4, 4, 2), (3, 3, 2),
        (4, 4, 2)]
    assert all(0 < r["building"] < r["seconds"] for r in lines)
    # A run killed between frame 4's file and its line: the re-run makes no frame, and records
    # the one it finds made without a line, with what it knows of it.
    report = tmp_path / "out.mp4.frames" / "report.jsonl"
    report.write_text("".join(line + "\n" for line in report.read_text().splitlines()
                              if json.loads(line)["frame"] != 4))
    made.clear()
    run_video(frames_dir, ROOT / "examples" / "gravel.jpg", output, config, settings,
              on_frame=lambda index, *rest: made.append(index))
    assert made == []
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [r["frame"] for r in lines] == [0, 1, 2, 3, 3, 4]
    assert lines[-1] == {"frame": 4, "source_frame": 4, "steps": None, "seconds": None,
                         "building": None, "recorded_late": True}


def test_a_stop_keeps_the_finished_frames_and_the_part_made_one(frames_dir, tmp_path):
    stop = threading.Event()
    steps = []

    def on_step(report):
        steps.append(report.step)
        if len(steps) == 5:  # the first frame's 3 steps, then 2 of the second's
            stop.set()

    outcome = run_video(frames_dir, ROOT / "examples" / "gravel.jpg", tmp_path / "out",
                        TransferConfig(**TINY), VideoSettings(later_steps=4), on_step=on_step,
                        stop=stop)
    assert outcome.status == "stopped"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "frame_00000.png", "partial_00001.png", "report.jsonl"]
    assert finished_frames(tmp_path / "out") == 1


def _video_command(*args):
    code = ("import sys\nfrom nst_tf.cli.video import main\n"
            "try:\n    main(['video.py', *sys.argv[1:]]); code = 0\n"
            "except SystemExit as stop:\n    code = stop.code\n"
            "print('EXIT', code, 'TF', 'tensorflow' in sys.modules)\n")
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)


def test_bad_clips_are_one_line_before_tensorflow(tmp_path, frames_dir):
    texture = ROOT / "examples" / "gravel.jpg"
    odd = tmp_path / "odd"
    odd.mkdir()
    iio.imwrite(odd / "a.png", np.zeros((40, 40, 3), np.uint8))
    iio.imwrite(odd / "b.png", np.zeros((40, 42, 3), np.uint8))
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.mp4").write_text("not a video")
    base = [f"--texture={texture}", "--weights=random"]
    for args, message in [
            ([f"--content={tmp_path / 'notes.mp4'}", f"--output={tmp_path / 'o.mp4'}"],
             f"{tmp_path / 'notes.mp4'}: not a video this tool can read"),
            ([f"--content={tmp_path / 'empty'}", f"--output={tmp_path / 'o.mp4'}"],
             f"{tmp_path / 'empty'}: no frames in it"),
            ([f"--content={odd}", f"--output={tmp_path / 'o.mp4'}"],
             f"{odd}: its frames change size (a.png is 40x40, b.png 42x40)"),
            ([f"--content={frames_dir}", f"--output={tmp_path / 'o.mp4'}", "--max_frames=3"],
             f"{frames_dir}: 5 frames to make, more than --max_frames 3"),
            ([f"--content={frames_dir}", f"--output={tmp_path / 'o.avi'}"],
             f"{tmp_path / 'o.avi'}: write a video as .mp4, .mov, .mkv, .webm"),
            ([f"--content={frames_dir}", f"--output={tmp_path / 'o.mp4'}", "--max_dim=63"],
             f"{tmp_path / 'o.mp4'}: the frames would be 63x47 px and .mp4 (4:2:0 colour) needs "
             "even sides"),
            ([f"--content={ROOT / 'examples' / 'cat.jpg'}", f"--output={tmp_path / 'o.mp4'}"],
             f"{ROOT / 'examples' / 'cat.jpg'}: a photo, not a clip")]:
        done = _video_command(*base, *args)
        assert done.stdout.splitlines()[-1] == "EXIT 2 TF False", (args, done.stderr)
        assert done.stderr.startswith(f"error: {message}"), (args, done.stderr)
        assert done.stderr.count("\n") == 1
    assert not (tmp_path / "o.mp4").exists() and not (tmp_path / "o.mp4.frames").exists()


@pytest.mark.slow  # a clip at full resolution in tiles: most of a minute on 2 cores
def test_a_full_resolution_clip_makes_its_later_frames_at_full_size_in_tiles(tmp_path):
    folder = tmp_path / "clip"
    folder.mkdir()
    for t, frame in enumerate(panned(3, 100, 140)):
        iio.imwrite(folder / f"f{t:03d}.png", frame)
    config = TransferConfig(weights="random", max_dim=0, tile_size=64, start_dim=64,
                            iterations=2, refine_iterations=1, texture_weight=50.0)
    reports = []
    outcome = run_video(folder, ROOT / "examples" / "gravel.jpg", tmp_path / "out", config,
                        VideoSettings(later_steps=2), on_step=reports.append)
    assert outcome.status == "done" and frames_of(tmp_path / "out").shape == (3, 100, 140, 3)
    # The first frame goes up from 64 px in three levels; the later ones are one level, at
    # 140x100, from the warped result (the temporal part is 0 at their start, then not).
    assert [(r.level, r.levels) for r in reports[:4]] == [(0, 3), (0, 3), (1, 3), (2, 3)]
    later = reports[4:]
    assert [(r.level, r.levels, r.step) for r in later] == [(0, 1, 0), (0, 1, 1)] * 2
    # The second frame starts at its one target where it holds; its next step is held to it.
    assert later[0].temporal == 0 and later[1].temporal > 0 and later[3].temporal > 0


def test_the_batch_takes_a_clip_as_a_job(tmp_path):
    import json
    from conftest import run_script
    folder = tmp_path / "in"
    folder.mkdir()
    encoded_clip(folder / "pan.mp4", panned(3), audio=False)
    iio.imwrite(folder / "cat.png", panned(1)[0])
    done = run_script("batch.py", f"--content_dir={folder}",
                      f"--texture={ROOT / 'examples' / 'gravel.jpg'}",
                      f"--output_dir={tmp_path / 'out'}", "--weights=random", "--max_dim=64",
                      "--iterations=2", "--noprogress", timeout=300)
    assert done.returncode == 0, done.stderr
    report = {line["job"]: line for line in map(json.loads, (tmp_path / "out" / "report.jsonl")
                                                 .read_text().splitlines())}
    assert {name: line["status"] for name, line in report.items()} == {
        "cat.png": "done", "pan.mp4": "done"}
    made = clips.open_clip(tmp_path / "out" / "pan.mp4")
    assert (made.frames, made.size) == (3, (64, 48))


def test_video_settings_are_one_table_for_flags_csv_columns_and_keywords(tmp_path):
    """The video's settings: one table (VideoSettings) read from text as the command line and a
    batch's cells write them, split from a transfer's settings for nst_tf.video()."""
    from nst_tf.batch.jobs import read_jobs
    assert VideoSettings(frames=" ", every="2", temporal_frames="1,3") == VideoSettings(
        every=2, temporal_frames=(1, 3))
    with pytest.raises(NSTError, match=r"^every takes a whole number, got 'two'$"):
        VideoSettings(every="two")
    with pytest.raises(NSTError, match=r"^temporal_frames must be frame distances of at least "
                                       r"1, got \[0\]$"):
        VideoSettings(temporal_frames=(0,))
    video, transfer = VideoSettings.split({"later_steps": 5, "temporal_weight": 2.0,
                                           "max_dim": 128})
    assert video == VideoSettings(later_steps=5)
    assert transfer == {"temporal_weight": 2.0, "max_dim": 128}
    # A still picture has no temporal part, so the video's weight is every config's default.
    assert TransferConfig().temporal_weight == 3.0
    folder = tmp_path / "in"
    folder.mkdir()
    encoded_clip(folder / "pan.mp4", panned(3), audio=False)
    iio.imwrite(folder / "cat.png", panned(1)[0])
    gravel = ROOT / "examples" / "gravel.jpg"
    (folder / "jobs.csv").write_text(f"content,texture,frames,later_steps,temporal_weight\n"
                                     f"pan.mp4,{gravel},0:2,3,5\ncat.png,{gravel},,,\n")
    clip_job, photo_job = read_jobs(folder / "jobs.csv", tmp_path / "out",
                                    TransferConfig(weights="random"))
    assert clip_job.video_settings() == VideoSettings(frames="0:2", later_steps=3)
    assert clip_job.config.temporal_weight == 5.0 and photo_job.video == {}
    assert type(clip_job).from_dict(clip_job.as_dict()) == clip_job  # what Ray's tasks get
    (folder / "bad.csv").write_text(f"content,texture,every\ncat.png,{gravel},2\n")
    with pytest.raises(NSTError, match=r"row 2, column every: a video setting, and the content "
                                       r"is not a clip$"):
        read_jobs(folder / "bad.csv", tmp_path / "out", TransferConfig(weights="random"))
    (folder / "bad.csv").write_text(f"content,texture,every\npan.mp4,{gravel},0\n")
    with pytest.raises(NSTError, match=r"row 2, column every: every must be at least 1, got 0$"):
        read_jobs(folder / "bad.csv", tmp_path / "out", TransferConfig(weights="random"))


def test_the_clip_written_keeps_the_frame_rate_and_the_sources_audio(tmp_path, frames_dir):
    # Frames encoded with the audio of the part of the clip they came from (frames 1 to 3 of
    # a 10 fps clip: from 0.1 s, 0.3 s long).
    source = clips.open_clip(encoded_clip(tmp_path / "c.mp4", panned()))
    out = tmp_path / "made"
    out.mkdir()
    for index, frame in enumerate(panned()[1:4]):
        iio.imwrite(out / f"frame_{index:05d}.png", frame)
    clips.write_video(tmp_path / "out.mp4", out, 3, source.fps, source, start_seconds=0.1)
    made = clips.open_clip(tmp_path / "out.mp4")
    assert (made.frames, made.fps, made.size, made.audio) == (3, 10.0, (64, 48), True)
    clips.write_video(tmp_path / "quiet.mp4", out, 3, 10.0, None)
    assert clips.open_clip(tmp_path / "quiet.mp4").audio is False


def test_the_progress_line_counts_the_later_frames_at_their_share_of_the_steps(tmp_path,
                                                                              frames_dir):
    # Three frames: the first 8 steps, the two later ones 2 each. After the first frame the
    # time left is two frames at 2/8 of its time (not two first frames), to the 0.1 s printed.
    done = _video_command(f"--content={frames_dir}", f"--texture={ROOT / 'examples' / 'gravel.jpg'}",
                          "--weights=random", f"--output={tmp_path / 'out'}", "--max_dim=48",
                          "--iterations=8", "--later_steps=2", "--frames=0:3")
    # absl's app.run ends a run that succeeded with SystemExit(None).
    assert done.stdout.splitlines()[-1] in ("EXIT 0 TF True", "EXIT None TF True"), (
        done.stderr[-2000:])
    first = next(line for line in done.stderr.splitlines() if line.startswith("frame 1/3: "))
    seconds, left = (float(x) for x in re.fullmatch(
        r"frame 1/3: 8 steps in ([\d.]+) s; ~([\d.]+) s left", first).groups())
    assert left == pytest.approx(2 * seconds * 2 / 8, abs=0.1)


@pytest.mark.parametrize("name", ["pan", "zoom", "apart"])
def test_the_benchmarks_true_motion_carries_each_synthetic_frame_onto_the_next(name):
    # The steadiness measure along the known motion (bench/scripts/video_benchmark.py): frame
    # t-1 warped by it matches frame t up to the resampling's blur, and a third of a pixel off
    # in any direction matches worse, so the flows are the true ones, not near them.
    sys.path.insert(0, str(ROOT / "bench" / "scripts"))
    try:
        import video_benchmark as benchmark
    finally:
        sys.path.pop(0)
    frames = benchmark.synthetic(name, 6, 192)
    motions = benchmark.true_motion(name, 6, 192)
    assert len(motions) == 5 and motions[0][0].shape == (128, 192, 2)
    assert all(0.75 < weights.mean() < 1 for _, weights in motions)  # what entered: no weight
    exact = np.mean(benchmark.warping_errors(frames, frames, motions))
    for dx, dy in [(0.33, 0), (-0.33, 0), (0, 0.33), (0, -0.33)]:
        shifted = [(flow + np.float32([dx, dy]), weights) for flow, weights in motions]
        assert np.mean(benchmark.warping_errors(frames, frames, shifted)) > 1.5 * exact
    if name != "zoom":  # zooming in shows detail the earlier frame did not have
        assert exact < 0.2 * np.mean(benchmark.warping_errors(frames, frames))


def test_a_clip_whose_frames_are_all_made_is_done_on_a_re_run(frames_dir, tmp_path):
    """An earlier run made every frame (killed before its video or its report line): the same
    command again is done, with the last frame as its picture, and makes no frame."""
    from nst_tf.run.engine import DONE
    from nst_tf.video.settings import VideoSettings
    from nst_tf.video.transfer import run_video
    output = tmp_path / "out"  # a folder: the frames only
    output.mkdir()
    made = [random_image((48, 64), seed).astype(np.uint8) for seed in range(5)]
    for index, frame in enumerate(made):
        iio.imwrite(output / f"frame_{index:05d}.png", frame)

    def no_run(*args, **kwargs):
        raise AssertionError("no frame is left to make")
    engine = type("NoEngine", (), {"run": no_run})()
    outcome = run_video(frames_dir, random_image((40, 40), 9), output,
                        TransferConfig(weights="random", max_dim=64), VideoSettings(fps=12),
                        engine=engine)
    assert outcome.status == DONE and outcome.message == ""
    np.testing.assert_array_equal(outcome.image, made[-1])
