"""Atomic file output: a file appears at its final path complete, or not at all.

A process killed while writing (kill -9, a power cut) leaves its hidden temporary file behind;
the temporary's name holds the writer's process id, so the next write beside it removes the
temporaries of writers no longer running. A write that fails (a full disk) leaves the previous
file whole and is one line (NSTError).
"""
from __future__ import annotations

import contextlib
import errno
import glob
import os
import tempfile
from pathlib import Path

from nst_tf.errors import NSTError

TEMPORARY_SUFFIX = ".part"
# A write's errors that say the disk (or the user's quota, or the file size limit) is full.
NO_ROOM = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class PendingFile:
    """A hidden temporary file beside `dest` that becomes `dest` on commit().

    Being in the same folder makes the final rename atomic; until then readers of `dest` see the
    old file or none.
    """

    def __init__(self, dest):
        self.dest = Path(dest)
        folder = self.dest.parent if str(self.dest.parent) else Path(".")
        prefix = f".{self.dest.name}."
        remove_stale(folder, prefix, TEMPORARY_SUFFIX)
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=f"{prefix}{os.getpid()}.",
                                                 suffix=TEMPORARY_SUFFIX)
        except OSError as error:
            raise NSTError(f"{self.dest}: cannot write there ({error.strerror or error})") from None
        os.close(handle)
        self.temporary = Path(temporary)

    def commit(self) -> None:
        # mkstemp makes files private (0600); give the result the permissions of a normal file.
        os.chmod(self.temporary, 0o666 & ~_umask())
        os.replace(self.temporary, self.dest)

    def discard(self) -> None:
        if self.temporary.exists():
            self.temporary.unlink()


def name_room(folder) -> int:
    """The longest file name (bytes) that `folder` takes with PendingFile's temporary beside
    it: the filesystem's limit less the temporary's additions (a dot, the process id, the
    random part and the suffix)."""
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    return limit - len(f"..{2 ** 22}.{'x' * 8}{TEMPORARY_SUFFIX}")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: running
        return True
    return True


def remove_stale(folder, prefix: str, suffix: str) -> None:
    """Removes the files PREFIX<pid>.*SUFFIX in `folder` whose writer (that process id) is not
    running on this machine: what a killed writer left. A name without a process id is kept."""
    for path in glob.glob(os.path.join(glob.escape(str(folder)), glob.escape(prefix) + "*"
                                       + glob.escape(suffix))):
        pid = os.path.basename(path)[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(path)


@contextlib.contextmanager
def atomic_output(dest):
    """Yields a temporary path to write; it becomes `dest` only if the block finishes. A write
    that fails for want of room (or quota) is NSTError with one line; `dest` is left as it
    was."""
    pending = PendingFile(dest)
    try:
        try:
            yield pending.temporary
            pending.commit()
        except OSError as error:
            if error.errno in NO_ROOM:
                raise NSTError(f"{pending.dest}: could not be written ({error.strerror}); the "
                               "file there before, if any, is as it was") from None
            raise
    finally:
        pending.discard()


def check_apart(outputs: dict, inputs: dict) -> None:
    """Refuses, before any work, an output path that is one of the inputs (or two outputs that
    are one file): a run must never overwrite the photos it reads.

    outputs, inputs: {flag name: path or None}; None entries are ignored.
    """
    def same(a: Path, b: Path) -> bool:
        if a.resolve() == b.resolve():
            return True
        return os.path.exists(a) and os.path.exists(b) and os.path.samefile(a, b)  # hard links

    seen = {}
    for out_name, out_path in outputs.items():
        if out_path is None:
            continue
        out_path = Path(out_path)
        for in_name, in_path in list(inputs.items()) + list(seen.items()):
            if in_path is not None and same(out_path, Path(in_path)):
                raise NSTError(f"{out_path}: --{out_name} would overwrite --{in_name}; "
                               f"choose another path")
        seen[out_name] = out_path
