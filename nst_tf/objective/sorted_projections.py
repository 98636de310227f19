"""A texture's sorted projections at one layer, kept in memory or, when large, in a temporary file.

The tiled sliced Wasserstein evaluation (objective/tiled.py) needs, at every evaluation, each
direction's sorted projections of the texture, one direction at a time. At full resolution they
are as large as the picture's own projection maps (112 floats a pixel over block1-3_conv1: 9 GB
at 20 MP), which the evaluation must hold at the same time. Read one direction at a time, they
need not stay in memory: past SORTED_PROJECTIONS_IN_MEMORY_BYTES (nst_tf/limits.py) they are
written once, direction by direction, to an unnamed temporary file (removed by the system when
the file is closed, also when the process is killed), and each direction is read back into a
buffer of its own when asked for. The values read are the values written: the evaluation stays
exact. The file lies in the temporary folder (TMPDIR); where that is memory (tmpfs), nothing is
saved.
"""
from __future__ import annotations

import tempfile
import threading

import numpy as np


class SortedProjections:
    """values: (M, k) float32, one direction's projections of the texture's M positions in each
    column; each column is sorted here, a direction at a time (sorting the columns of the (M, k)
    array in place strides through memory: 8x slower). in_file: keep them in a temporary file
    rather than in memory. The caller drops its array: in memory the sorted columns are a copy,
    one direction to a row."""

    def __init__(self, values: np.ndarray, in_file: bool = False):
        self.count, self.directions = (int(n) for n in values.shape)
        self._file = None
        self._reading = threading.Lock()  # directions are read from several threads
        if not in_file:
            self._values = np.empty((self.directions, self.count), np.float32)
            for direction, row in enumerate(self._values):
                row[:] = values[:, direction]
                row.sort()
            return
        self._values = None
        self._file = tempfile.TemporaryFile(prefix="nst_tf_sorted_")
        for direction in range(self.directions):  # one direction after the other, contiguous
            self._file.write(np.sort(values[:, direction]).data)
        self._file.flush()

    @property
    def in_file(self) -> bool:
        return self._file is not None

    def column(self, direction: int) -> np.ndarray:
        """One direction's sorted projections, (M,) float32."""
        if self._file is None:
            return self._values[direction]
        found = np.empty(self.count, np.float32)
        view, done = memoryview(found).cast("B"), 0
        with self._reading:
            self._file.seek(direction * found.nbytes)
            while done < found.nbytes:  # readinto may return less than asked
                read = self._file.readinto(view[done:])
                if not read:
                    raise EOFError("the temporary file of sorted projections was cut short")
                done += read
        return found

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __del__(self):
        self.close()
