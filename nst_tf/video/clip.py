"""Clips in and out: a video file (through the ffmpeg that imageio-ffmpeg ships in its wheel) or a
folder of frames, the part of it a run takes, and the finished clip with the audio copied.

Frames are uint8 RGB (h, w, 3). No TensorFlow here: a clip is checked before it starts.
"""
from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

import numpy as np

from nst_tf.errors import NSTError
from nst_tf.io.images import image_header, read_image, to_uint8

# Suffixes read as video files (anything ffmpeg reads works; these are offered and checked).
VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".gif")
# Suffixes of the frames of a folder.
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
# The video files written: H.264 in MP4 (plays everywhere), VP9 in WebM.
WRITE_CODECS = {".mp4": "libx264", ".mov": "libx264", ".mkv": "libx264", ".webm": "libvpx-vp9"}
FRAME_NAME = "frame_{:05d}.png"


def _ffmpeg():
    """imageio-ffmpeg (its ffmpeg binary comes in the wheel), or one line saying how to get it."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise NSTError("video needs imageio-ffmpeg and opencv-python-headless: "
                       "pip install 'nst-tf[video]' (in a checkout: pip install "
                       "'.[video]')") from None
    return imageio_ffmpeg


@dataclasses.dataclass(frozen=True)
class Clip:
    """A clip to read: a video file or a folder of frames (sorted by name). frames: how many;
    fps; size (width, height); audio: whether the file has an audio track."""

    path: Path
    frames: int
    fps: float
    size: Tuple[int, int]
    audio: bool
    files: Tuple[Path, ...] = ()

    @property
    def is_folder(self) -> bool:
        return self.path.is_dir()


def open_clip(path, fps: float = 25.0) -> Clip:
    """The clip at `path`, checked from its container or its frames' headers before any frame is
    decoded; NSTError with one line when it is not a video, holds no frame, or its frames change
    size. fps: a folder's frame rate (a file says its own)."""
    path = Path(path)
    if not os.path.exists(path):  # False, not OSError, for a name too long
        raise NSTError(f"{path}: no such file or folder")
    if os.path.isdir(path):
        files = sorted(p for p in path.iterdir()
                       if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES)
        if not files:
            raise NSTError(f"{path}: no frames in it ({', '.join(FRAME_SUFFIXES)})")
        sizes = {}
        for file in files:
            width, height, _ = image_header(file, str(file))
            sizes.setdefault((width, height), file)
        if len(sizes) > 1:
            (first, a), (second, b) = list(sizes.items())[:2]
            raise NSTError(f"{path}: its frames change size ({a.name} is {first[0]}x{first[1]}, "
                           f"{b.name} {second[0]}x{second[1]}); every frame must be one size")
        return Clip(path, len(files), float(fps), next(iter(sizes)), False, tuple(files))
    if path.suffix.lower() in FRAME_SUFFIXES:
        raise NSTError(f"{path}: a photo, not a clip (nst-tf transfer makes one picture; a "
                       "folder of frames is a clip)")
    ffmpeg = _ffmpeg()
    try:
        reader = ffmpeg.read_frames(str(path))
        meta = next(reader)
        reader.close()
        frames, _ = ffmpeg.count_frames_and_secs(str(path))
    except (OSError, RuntimeError, StopIteration, ValueError) as error:
        reason = str(error).strip().splitlines()[-1][:160] if str(error).strip() else ""
        raise NSTError(f"{path}: not a video this tool can read"
                       + (f" ({reason})" if reason else "")) from None
    if not frames:
        raise NSTError(f"{path}: the video holds no frame")
    return Clip(path, int(frames), float(meta.get("fps") or fps), tuple(meta["size"]),
                bool(meta.get("audio_codec")))


def parse_range(text: Optional[str], frames: int) -> Tuple[int, int]:
    """--frames A:B (from 0, B excluded; either may be left out, B may be negative from the end)
    -> (start, stop) within the clip; NSTError with one line when it selects nothing."""
    if not text:
        return 0, frames
    match = re.fullmatch(r"\s*(-?\d*)\s*:\s*(-?\d*)\s*", text)
    if not match:
        raise NSTError(f"--frames takes A:B (frames A to B-1, from 0; 10:, :50, 5:-5), got "
                       f"{text!r}")
    start, stop = (int(g) if g else None for g in match.groups())
    start, stop, _ = slice(start, stop).indices(frames)
    if stop <= start:
        raise NSTError(f"--frames {text} selects no frame of the clip's {frames}")
    return start, stop


def frame_numbers(clip: Clip, frames: Optional[str] = None, every: int = 1) -> List[int]:
    """The clip's frames a run takes: --frames A:B, every `every`-th."""
    if every < 1:
        raise NSTError(f"--every must be at least 1, got {every}")
    start, stop = parse_range(frames, clip.frames)
    return list(range(start, stop, every))


def read_frames(clip: Clip, numbers: List[int]) -> Iterator[Tuple[int, np.ndarray]]:
    """(frame number, uint8 RGB) for each of `numbers` (ascending), decoded one at a time."""
    wanted = set(numbers)
    if clip.is_folder:
        for number in numbers:
            yield number, to_uint8(read_image(clip.files[number]))
        return
    width, height = clip.size
    reader = _ffmpeg().read_frames(str(clip.path))
    try:
        next(reader)
        for number, data in enumerate(reader):
            if number > numbers[-1]:
                break
            if number in wanted:
                yield number, np.frombuffer(data, np.uint8).reshape(height, width, 3).copy()
    finally:
        reader.close()


def check_output(path, size: Tuple[int, int]) -> None:
    """NSTError with one line, before any work, when the clip cannot be written at `path` with
    frames of `size` (width, height): a format not written here, a folder that cannot be made,
    or odd sides where the codec needs even ones."""
    path = Path(path)
    if path.suffix.lower() not in WRITE_CODECS and not (path.is_dir() or not path.suffix):
        raise NSTError(f"{path}: write a video as {', '.join(WRITE_CODECS)}, or frames into a "
                       "folder (a path without a suffix)")
    if path.suffix.lower() in WRITE_CODECS and (size[0] % 2 or size[1] % 2):
        raise NSTError(f"{path}: the frames would be {size[0]}x{size[1]} px and "
                       f"{path.suffix} (4:2:0 colour) needs even sides; change --max_dim, or write "
                       "frames into a folder")
    folder = path if not path.suffix else path.parent
    for parent in (folder, *folder.parents):
        if parent.exists():
            if not parent.is_dir():
                raise NSTError(f"{path}: {parent} is a file, not a folder")
            break


def frames_folder(output) -> Path:
    """Where the finished frames go as they are made: the output itself when it is a folder,
    else OUTPUT.frames/ beside the video (kept, so a re-run goes on from there)."""
    output = Path(output)
    return output if not output.suffix else output.with_name(output.name + ".frames")


def write_video(output, frames_dir: Path, count: int, fps: float, source: Optional[Clip],
                start_seconds: float = 0.0) -> None:
    """Encodes frames_dir's `count` frames into `output` at `fps`, with the source's audio from
    `start_seconds` for the clip's length when it has one; written atomically."""
    from nst_tf.io.files import atomic_output
    output = Path(output)
    exe = _ffmpeg().get_ffmpeg_exe()
    codec = WRITE_CODECS[output.suffix.lower()]
    with atomic_output(output) as temporary:
        command = [exe, "-y", "-loglevel", "error", "-framerate", f"{fps:g}",
                   "-start_number", "0", "-i", str(frames_dir / "frame_%05d.png")]
        if source is not None and source.audio:
            command += ["-ss", f"{start_seconds:.3f}", "-i", str(source.path),
                        "-map", "0:v:0", "-map", "1:a:0", "-t", f"{count / fps:.3f}"]
        command += ["-frames:v", str(count), "-c:v", codec, "-pix_fmt", "yuv420p"]
        if codec == "libx264":
            command += ["-crf", "18", "-movflags", "+faststart"]
        command += ["-f", {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska",
                           ".webm": "webm"}[output.suffix.lower()], str(temporary)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            reason = done.stderr.strip().splitlines()[-1][:200] if done.stderr.strip() else ""
            raise NSTError(f"{output}: ffmpeg could not write it ({reason})")
