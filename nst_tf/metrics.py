"""The metrics file: JSON Lines, one StepReport per line, the machine-readable record of a run."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import List

from nst_tf.errors import NSTError
from nst_tf.optimize import StepReport


class MetricsLog:
    """A callback that appends each StepReport to `path` as one JSON object per line.

    Lines go to a hidden file beside `path`, flushed every step, which becomes `path` on close();
    so `path` only ever holds a finished record, and an interrupted run that closes the log keeps
    the steps it made.
    """

    def __init__(self, path):
        self.path = Path(path)
        try:
            handle, self._temporary = tempfile.mkstemp(
                dir=self.path.parent if str(self.path.parent) else ".",
                prefix=f".{self.path.name}-", suffix=".part")
        except OSError as error:
            raise NSTError(f"{self.path}: cannot write there ({error.strerror or error})") from None
        self._file = os.fdopen(handle, "w")

    def __call__(self, report: StepReport) -> None:
        self._file.write(json.dumps(report.as_dict()) + "\n")
        self._file.flush()

    def close(self) -> None:
        """Moves the record to its final path."""
        self._file.close()
        os.replace(self._temporary, self.path)

    def discard(self) -> None:
        """Drops the record (the run failed before producing anything worth keeping)."""
        self._file.close()
        if os.path.exists(self._temporary):
            os.remove(self._temporary)


def read_metrics(path) -> List[dict]:
    """The records of a metrics file, one dict per step."""
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]
