"""Steadiness and cost of nst-tf video against independent per-frame runs.

    python bench/scripts/video_benchmark.py --weights $NST_TF_REAL_WEIGHTS \
        --clips pan,zoom,apart,clips/bigbuckbunny.mp4 --frames 12 --max_dim 256 \
        --output_dir video_runs

Clips: `pan` (examples/cat.jpg seen through a 300x200 window moving across it, 13-14 px a
frame over 12 frames), `zoom` (a crop
shrinking 2% a frame about the centre), `apart` (the cat's left half moving left and its right
half right, uncovering the gravel between them), or a video file (its first --frames frames).
Each clip is made twice at --max_dim: every frame alone (the transfer of one picture: its
default steps from the content), and as a video (nst_tf.video: the first frame so, every later
one from the previous result warped, with the temporal loss). For each it reports:

- the warping error (Lai et al. 2018): over consecutive output frames, the mean squared
  difference (0..1 units) between frame t and frame t-1 warped onto it, over the pixels where
  the flow is reliable, the flow taken from the input frames by Farneback's method (OpenCV), not
  the DIS flow the run uses, so the measure does not grade itself; the input clip's own
  warping error is the floor; on the synthetic clips also along their true motion (exact flows
  from the clip's geometry, and where they hold: true_motion), whose floor is the resampling's
  alone;
- each frame's texture loss (the weighted Gram part at its last step), the video's against the
  independent run's;
- seconds a frame (first, later), steps a frame, and the flow's share of the time.

Writes OUTPUT_DIR/NAME_strip.png (independent above, video below, every third frame), the
frames (NAME_video/, NAME_alone/),
OUTPUT_DIR/NAME_video.gif and OUTPUT_DIR/results.json, and prints a Markdown table.
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nst_tf.io.images import read_image, resize, to_uint8, write_image  # noqa: E402

SYNTHETIC = ("pan", "zoom", "apart")


def _window(name: str, t: int, count: int):
    """Where frame t of a synthetic clip looks in its source picture (451x300): pan and zoom,
    (left, top, width, height) of the cat; apart, how far each half has moved (px)."""
    if name == "pan":
        step = (451 - 300) / max(1, count - 1)
        return int(round(t * step)), 0, 300, 200
    if name == "zoom":
        scale = 0.98 ** t
        h, w = int(300 * scale), int(450 * scale)
        return (451 - w) // 2, (300 - h) // 2, w, h
    return 6 * t


def synthetic(name: str, count: int, width: int):
    """A clip whose motion is known, from the shipped CC0 photos: uint8 frames."""
    cat = read_image(ROOT / "examples" / "cat.jpg")  # 451x300
    height = int(round(width * 2 / 3))
    frames = []
    for t in range(count):
        if name in ("pan", "zoom"):
            left, top, w, h = _window(name, t, count)
            window = cat[top:top + h, left:left + w]
        else:  # apart: the halves move away from the middle, uncovering the gravel
            gravel = resize(read_image(ROOT / "examples" / "gravel.jpg"), (300, 451))
            shift = _window(name, t, count)
            window = gravel.copy()
            window[:, :225 - shift] = cat[:, shift:225]
            window[:, 226 + shift:] = cat[:, 226:451 - shift]
        frames.append(to_uint8(resize(window, (height, width), antialias=True)))
    return frames


# Pixels this close (in the frames' pixels) to the frame's edge or to a moving layer's edge get
# no weight in the true motion's measure: the resampling filter mixes what lies on both sides.
MARGIN = 2


def true_motion(name: str, count: int, width: int):
    """For each consecutive pair (t-1, t) of a synthetic clip: the true backward flow (frame t
    to frame t-1, pixels) and where it holds, (h, w) of 0 and 1: the point was seen in frame
    t-1 (not entering the frame, not uncovered between the halves), away from the edges by
    MARGIN. Pixel centres map linearly through the resize (x_source = left + (x + 1/2) * scale
    - 1/2)."""
    height = int(round(width * 2 / 3))
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    motions = []
    for t in range(1, count):
        if name in ("pan", "zoom"):
            (l0, t0, w0, h0), (l1, t1, w1, h1) = (_window(name, k, count) for k in (t - 1, t))
            sx0, sy0, sx1, sy1 = w0 / width, h0 / height, w1 / width, h1 / height
            x_source, y_source = l1 + (x + 0.5) * sx1 - 0.5, t1 + (y + 0.5) * sy1 - 0.5
            x_before = (x_source - l0 + 0.5) / sx0 - 0.5
            y_before = (y_source - t0 + 0.5) / sy0 - 0.5
            seen = np.ones_like(x, bool)
            edges_now, edges_before = [], []
        else:
            before, now = (_window(name, k, count) for k in (t - 1, t))
            scale = 451 / width  # the whole 451 px picture across the frame
            column = (x + 0.5) * scale - 0.5  # in the source picture
            left, right = column < 225 - now, column >= 226 + now
            move = np.where(left, now - before, np.where(right, before - now, 0))
            x_before, y_before = x + move / scale, y
            # the gravel between the halves was seen only where no half covered it before
            seen = left | right | ((column >= 225 - before) & (column < 226 + before))
            to_frame = lambda c: (c + 0.5) / scale - 0.5  # noqa: E731
            edges_now = [to_frame(225 - now), to_frame(226 + now)]
            edges_before = [to_frame(225 - before), to_frame(226 + before)]
        inside = ((x_before >= MARGIN) & (x_before <= width - 1 - MARGIN) & (y_before >= MARGIN)
                  & (y_before <= height - 1 - MARGIN) & (x >= MARGIN) & (x <= width - 1 - MARGIN)
                  & (y >= MARGIN) & (y <= height - 1 - MARGIN))
        away = np.ones_like(inside)
        for edge in edges_now:
            away &= np.abs(x - edge) > MARGIN
        for edge in edges_before:
            away &= np.abs(x_before - edge) > MARGIN
        flow = np.stack([x_before - x, y_before - y], -1).astype(np.float32)
        motions.append((flow, (inside & seen & away).astype(np.float32)))
    return motions


def farneback(first, second):
    """Farneback's flow from `first` to `second` (the measure's, not the run's)."""
    import cv2
    gray = [cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY) for f in (first, second)]
    return cv2.calcOpticalFlowFarneback(gray[0], gray[1], None, 0.5, 3, 15, 3, 5, 1.2, 0)


def warping_errors(inputs, outputs, motions=None):
    """Per consecutive pair: the warping error of `outputs`, over the pixels where the input
    frames' Farneback flows are consistent; or, given `motions` (true_motion's), along the true
    motion where it holds."""
    from nst_tf.video.motion import reliability, warping_error
    errors = []
    for t in range(1, len(inputs)):
        if motions is not None:
            backward, weights = motions[t - 1]
        else:
            backward = farneback(inputs[t], inputs[t - 1])
            forward = farneback(inputs[t - 1], inputs[t])
            weights = reliability(backward, forward)
        errors.append(warping_error(outputs[t - 1], outputs[t], backward, weights))
    return errors


def strip(rows, every=3):
    """Rows of frames (every `every`-th), stacked: uint8."""
    return np.concatenate([np.concatenate(row[::every], axis=1) for row in rows], axis=0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--texture", default=str(ROOT / "examples" / "gravel.jpg"))
    parser.add_argument("--clips", default="pan,zoom,apart")
    parser.add_argument("--frames", type=int, default=12)
    parser.add_argument("--max_dim", type=int, default=256)
    parser.add_argument("--temporal_weight", type=float, default=None)
    parser.add_argument("--later_steps", type=int, default=None)
    parser.add_argument("--later_learning_rate", type=float, default=None)
    parser.add_argument("--iterations", type=int, default=None,
                        help="A still picture's (and the first frame's) steps; default its own.")
    parser.add_argument("--independent", action=argparse.BooleanOptionalAction, default=True,
                        help="Also run every frame alone (the baseline).")
    parser.add_argument("--output_dir", type=Path, default=Path("video_runs"))
    args = parser.parse_args()
    from nst_tf.tensorflow_quietly import import_tensorflow_quietly
    import_tensorflow_quietly()
    import imageio.v3 as iio
    from nst_tf import TransferConfig
    from nst_tf.run.engine import default_engine
    from nst_tf.run.request import Request
    from nst_tf.video import transfer as video
    from nst_tf.video.clip import open_clip, read_frames

    args.output_dir.mkdir(parents=True, exist_ok=True)
    config = TransferConfig(weights=args.weights, max_dim=args.max_dim,
                            iterations=args.iterations)
    settings = {k: v for k, v in (("temporal_weight", args.temporal_weight),
                                  ("later_steps", args.later_steps),
                                  ("later_learning_rate", args.later_learning_rate))
                if v is not None}
    results = {}
    for name in args.clips.split(","):
        if name in SYNTHETIC:
            frames = synthetic(name, args.frames, args.max_dim)
        else:
            clip = open_clip(name)
            frames = [f for _, f in read_frames(clip, list(range(min(args.frames,
                                                                     clip.frames))))]
        label = Path(name).stem
        folder = args.output_dir / f"{label}_input"
        folder.mkdir(exist_ok=True)
        for t, frame in enumerate(frames):
            iio.imwrite(folder / f"f{t:03d}.png", frame)
        row = {"frames": len(frames)}
        # The video, frame by frame, timing the flow apart.
        flow_seconds = []
        original = video.anchors_for

        def timed(*a, **k):
            began = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                flow_seconds.append(time.perf_counter() - began)
        video.anchors_for = timed
        frame_rows = []
        out = args.output_dir / f"{label}_video"
        try:
            video.run_video(folder, args.texture, out, config,
                            video.VideoSettings(**settings),
                            on_frame=lambda index, count, outcome, seconds: frame_rows.append(
                                {"steps": outcome.steps, "seconds": seconds,
                                 "texture": outcome.loss["texture"]}))
        finally:
            video.anchors_for = original
        made = list(video.frames_of(out))
        size = made[0].shape[:2]
        inputs = [to_uint8(resize(f.astype(np.float32), size, antialias=True))
                  if f.shape[:2] != size else f for f in frames]
        motions = true_motion(name, len(frames), args.max_dim) if name in SYNTHETIC else None
        row["video"] = {"frames": frame_rows, "flow_seconds": flow_seconds,
                        "warping_error": warping_errors(inputs, made)}
        row["input_warping_error"] = warping_errors(inputs, inputs)
        if motions is not None:
            row["video"]["true_warping_error"] = warping_errors(inputs, made, motions)
            row["input_true_warping_error"] = warping_errors(inputs, inputs, motions)
        rows = [made]
        if args.independent:
            alone, alone_rows = [], []
            for frame in inputs:
                outcome = default_engine().run(Request(frame.astype(np.float32), args.texture,
                                                       config))
                alone.append(outcome.image)
                alone_rows.append({"steps": outcome.steps, "seconds": outcome.seconds,
                                   "texture": outcome.loss["texture"]})
            row["independent"] = {"frames": alone_rows,
                                  "warping_error": warping_errors(inputs, alone)}
            if motions is not None:
                row["independent"]["true_warping_error"] = warping_errors(inputs, alone,
                                                                          motions)
            kept = args.output_dir / f"{label}_alone"  # for measures to come
            kept.mkdir(exist_ok=True)
            for t, image in enumerate(alone):
                write_image(kept / f"frame_{t:05d}.png", image)
            rows = [alone, made]
        write_image(args.output_dir / f"{label}_strip.png", strip(rows))
        iio.imwrite(args.output_dir / f"{label}_video.gif", np.stack(made),
                    duration=1000 / 8, loop=0)
        results[label] = row
        (args.output_dir / "results.json").write_text(json.dumps(results, indent=1))
    print("| clip | frames | warping error: input / independent / video (ratio) | along the "
          "true motion: input / independent / video (ratio) | texture loss, video / "
          "independent: mean, worst | s a frame: first, later | steps: first, later | flow's "
          "share |")
    print("|---|---|---|---|---|---|---|---|")
    for label, row in results.items():
        vid = row["video"]
        mean = lambda values: float(np.mean(values)) if values else float("nan")  # noqa: E731
        later = vid["frames"][1:]
        flow = sum(row["video"]["flow_seconds"][1:]) / max(1e-9, sum(f["seconds"]
                                                                     for f in later))
        if "independent" in row:
            ind = row["independent"]
            ratios = [v["texture"] / i["texture"] for v, i in zip(vid["frames"], ind["frames"])]
            errors = (f"{mean(row['input_warping_error']):.5f} / "
                      f"{mean(ind['warping_error']):.5f} / {mean(vid['warping_error']):.5f} "
                      f"({mean(vid['warping_error']) / mean(ind['warping_error']):.2f})")
            texture = f"{mean(ratios):.2f}, {max(ratios):.2f}"
            true = "-"
            if "true_warping_error" in vid:
                true = (f"{mean(row['input_true_warping_error']):.5f} / "
                        f"{mean(ind['true_warping_error']):.5f} / "
                        f"{mean(vid['true_warping_error']):.5f} "
                        f"({mean(vid['true_warping_error']) / mean(ind['true_warping_error']):.2f})")
        else:
            errors = f"{mean(row['input_warping_error']):.5f} / - / {mean(vid['warping_error']):.5f}"
            texture = true = "-"
        print(f"| {label} | {row['frames']} | {errors} | {true} | {texture} | "
              f"{vid['frames'][0]['seconds']:.1f}, {mean([f['seconds'] for f in later]):.1f} | "
              f"{vid['frames'][0]['steps']}, {mean([f['steps'] for f in later]):.0f} | "
              f"{flow:.1%} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
