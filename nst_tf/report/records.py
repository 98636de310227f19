"""Reports written a line at a time: one JSON object per line (report.jsonl), appended as each
job or frame ends.

Each line is written in one call, flushed and synced, so a crash loses at most the line being
written; a line that does not parse (the tail of such a crash) is ignored on reading.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import List

REPORT_NAME = "report.jsonl"


class JsonLines:
    """A report.jsonl: the records already there (read at once), and append()."""

    def __init__(self, path):
        self.path = Path(path)
        self.records: List[dict] = []
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    self.records.append(json.loads(line))
                except json.JSONDecodeError:
                    continue

    def append(self, record: dict) -> None:
        self.records.append(record)
        with open(self.path, "a") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
