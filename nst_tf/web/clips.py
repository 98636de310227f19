"""Clips sent to the page, and the clips its runs make, in one private temporary folder.

Photos stay in memory (nst_tf.web.uploads); a clip cannot: ffmpeg reads and writes files. So a
clip's bytes go into a folder only this user can open (tempfile.mkdtemp: mode 0700, under the
system's temporary folder), under a name the server makes (never the one sent); a run's frames
and its video go into a folder of its own beside them. A clip that is not a video is removed as
soon as that is known; the oldest clips go when more than KEEP_CLIPS are kept (unless a run
waiting or running uses it); a run's folder goes when the server forgets the run; everything
goes when the server stops. No TensorFlow here.
"""
from __future__ import annotations

import dataclasses
import secrets
import shutil
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Optional

import numpy as np

from nst_tf.errors import NSTError
from nst_tf.limits import MIN_TILE_PX
from nst_tf.video.clip import VIDEO_SUFFIXES, Clip

# Clips kept for runs to come; older ones are removed (the page then asks for the clip again).
KEEP_CLIPS = 4


@dataclasses.dataclass
class ClipUpload:
    """A clip on the server: its id, the name it was sent with (for messages and the command
    line only), the opened clip, and its first frame (uint8 RGB: the page's thumbnail, the
    painted mask's photo, the plan's size)."""

    id: str
    name: str
    clip: Clip
    first: np.ndarray


class ClipStore:
    """The server's clips and run outputs, in one private temporary folder (see the module)."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="nst-tf-clips-"))
        self.clips: "OrderedDict[str, ClipUpload]" = OrderedDict()
        self.in_use: dict = {}  # clip id -> how many runs not finished use it
        self.lock = threading.Lock()

    def add(self, data: bytes, name: str) -> ClipUpload:
        """Keeps the clip in `data` (sent as `name`): written, opened and its first frame read;
        NSTError with one line (and nothing left behind) when it is not a clip this tool reads."""
        from nst_tf.video.clip import frame_numbers, open_clip, read_frames
        suffix = Path(name).suffix.lower()
        if suffix not in VIDEO_SUFFIXES:
            raise NSTError(f"{name}: send a clip as {', '.join(VIDEO_SUFFIXES)}")
        clip_id = secrets.token_urlsafe(12)
        path = self.folder / f"clip_{clip_id}{suffix}"
        try:
            path.write_bytes(data)
            try:
                clip = open_clip(path)
                first = next(read_frames(clip, frame_numbers(clip)[:1]))[1]
            except NSTError as error:  # the message names the server's file: name the user's
                raise NSTError(str(error).replace(str(path), name)) from None
            except StopIteration:
                raise NSTError(f"{name}: the video holds no frame") from None
            width, height = clip.size
            if min(width, height) < MIN_TILE_PX:
                raise NSTError(f"{name}: the clip's frames are {width}x{height} px; they must be "
                               f"at least {MIN_TILE_PX} px on each side")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        upload = ClipUpload(clip_id, name, dataclasses.replace(clip, path=path), first)
        with self.lock:
            self.clips[clip_id] = upload
            self._forget_old()
        return upload

    def get(self, clip_id: str) -> Optional[ClipUpload]:
        with self.lock:
            return self.clips.get(str(clip_id))

    def hold(self, clip_id: str) -> None:
        """A run waiting or running uses the clip: it is not removed until release()."""
        with self.lock:
            self.in_use[clip_id] = self.in_use.get(clip_id, 0) + 1

    def release(self, clip_id: str) -> None:
        with self.lock:
            self.in_use[clip_id] = self.in_use.get(clip_id, 1) - 1
            if self.in_use[clip_id] <= 0:
                del self.in_use[clip_id]
            self._forget_old()

    def run_folder(self, run_id: str) -> Path:
        """Where run `run_id` writes its frames and its video (made here; empty at first)."""
        folder = self.folder / f"run_{run_id}"
        folder.mkdir(exist_ok=True)
        return folder

    def close(self) -> None:
        """Removes the folder and everything in it."""
        with self.lock:
            self.clips.clear()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _forget_old(self) -> None:
        """Under the lock: the oldest clips no run uses, beyond KEEP_CLIPS, are removed."""
        for clip_id in list(self.clips):
            if len(self.clips) <= KEEP_CLIPS:
                return
            if clip_id not in self.in_use:
                self.clips.pop(clip_id).clip.path.unlink(missing_ok=True)
