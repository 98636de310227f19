"""Atomic file output: a file appears at its final path complete, or not at all."""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from nst_tf.errors import NSTError


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
        try:
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{self.dest.name}.",
                                                 suffix=".part")
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


@contextlib.contextmanager
def atomic_output(dest):
    """Yields a temporary path to write; it becomes `dest` only if the block finishes."""
    pending = PendingFile(dest)
    try:
        yield pending.temporary
        pending.commit()
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
        return a.exists() and b.exists() and os.path.samefile(a, b)  # hard links

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
