"""Reports written a line at a time: one JSON object per line (report.jsonl), appended as each
job or frame ends.

Each line is written in one call, flushed and synced, so a crash loses at most the line being
written; a line that does not parse (the tail of such a crash, or of a full disk) is ignored on
reading, and the next line written starts on a line of its own.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List

from nst_tf.errors import NSTError
from nst_tf.io.files import NO_ROOM

REPORT_NAME = "report.jsonl"


class JsonLines:
    """A report.jsonl: the records already there (read at once), and append()."""

    def __init__(self, path):
        self.path = Path(path)
        self.records: List[dict] = []
        if self.path.exists():
            for line in self.path.read_text(errors="replace").splitlines():
                try:
                    self.records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue

    def append(self, record: dict) -> None:
        line = json.dumps(record) + "\n"
        with open(self.path, "a+b") as handle:
            if handle.tell() > 0:  # after a torn last line, a line of its own
                handle.seek(-1, os.SEEK_END)
                if handle.read(1) != b"\n":
                    line = "\n" + line
            try:
                handle.write(line.encode())
                handle.flush()
                os.fsync(handle.fileno())
            except OSError as error:
                if error.errno in NO_ROOM:
                    raise NSTError(f"{self.path}: could not add a line ({error.strerror}); the "
                                   "lines before it are kept") from None
                raise
        self.records.append(record)
