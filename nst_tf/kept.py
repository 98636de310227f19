"""What a process keeps for its next runs: the most recently used values by key, made on first
use, the least recently used dropped first (networks, feature extractors, compiled graphs); and
a value made once per process. Thread-safe; no TensorFlow here.
"""
from __future__ import annotations

import collections
import threading
from typing import Callable, Hashable


class Kept:
    """Up to `size` values by key; get(key, make) returns the kept one or make()'s, kept."""

    def __init__(self, size: int):
        self.size = size
        self._values: "collections.OrderedDict[Hashable, object]" = collections.OrderedDict()
        self._lock = threading.Lock()
        self.made = 0  # values made so far (a measure: reuse shows as no new ones)

    def get(self, key: Hashable, make: Callable[[], object]):
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            while len(self._values) >= self.size:
                self._values.popitem(last=False)
            value = make()
            self._values[key] = value
            self.made += 1
            return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def once_per_process(make: Callable[[], object]) -> Callable[[], object]:
    """A function that returns make()'s value, made at its first call and the same after."""
    lock, made = threading.Lock(), []

    def get():
        with lock:
            if not made:
                made.append(make())
            return made[0]
    get.__doc__ = make.__doc__
    return get
