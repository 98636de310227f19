"""The metrics file: JSON Lines, one StepReport per line, the machine-readable record of a run."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List

from nst_tf.io.files import PendingFile
from nst_tf.steps import StepReport


class MetricsLog:
    """A callback that appends each StepReport to `path` as one JSON object per line.

    Lines go to a hidden file beside `path`, flushed every step, which becomes `path` on close();
    so `path` only ever holds a finished record, and an interrupted run that closes the log keeps
    the steps it made.
    """

    def __init__(self, path):
        self.path = Path(path)
        self._pending = PendingFile(self.path)
        self._file = open(self._pending.temporary, "w")

    def __call__(self, report: StepReport) -> None:
        self._file.write(json.dumps(report.as_dict()) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Moves the record to its final path."""
        self._file.close()
        self._pending.commit()

    def discard(self) -> None:
        """Drops the record (the run failed before producing anything worth keeping)."""
        self._file.close()
        self._pending.discard()


def read_metrics(path) -> List[dict]:
    """The records of a metrics file, one dict per step."""
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]
