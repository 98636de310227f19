"""Downloading files with a hash check, atomically; and copying a file one already has, with the
same check.

The file appears at its final path only once its hash has been checked, so a failed or
interrupted download (or copy) never leaves a file that a later run would trust.
"""
from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
import sys
from typing import Callable, Optional

from absl import logging

from nst_tf.errors import NSTError
from nst_tf.io.files import atomic_output

# Seconds a connection may stay silent before an attempt gives up.
DOWNLOAD_TIMEOUT_S = 20
# A download that cannot get through gives up within this many seconds, retries included.
DOWNLOAD_DEADLINE_S = 30
# Waits before the 2nd, 3rd and 4th attempts after a transient failure (backoff).
RETRY_DELAYS_S = (1.0, 2.0, 4.0)
# HTTP answers that say "try again later" rather than "no".
RETRY_HTTP_CODES = (408, 429, 500, 502, 503, 504)
CHUNK_BYTES = 1 << 20


class ByteProgress:
    """Shows a download's progress on `stream`: one line redrawn in place on a terminal, else a
    line at each further 10% (or each 10 MB when the size is unknown). Called with (bytes so
    far, total bytes or None); no TensorFlow here, so the download script starts at once."""

    def __init__(self, stream=None, terminal: Optional[bool] = None, clock=time.monotonic):
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self.clock = clock
        self.start = clock()
        self.shown = -1  # the last tenth (or 10 MB) written as a line

    def __call__(self, done: int, total: Optional[int]) -> None:
        elapsed = max(self.clock() - self.start, 1e-9)
        speed = done / elapsed
        line = f"{done / 1e6:.1f}" + (f"/{total / 1e6:.1f} MB  {100 * done / total:.0f}%"
                                      if total else " MB") + f"  {speed / 1e6:.1f} MB/s"
        if total and speed > 0:
            line += f"  ~{(total - done) / speed:.0f} s left"
        if self.terminal:
            end = "\n" if total and done >= total else ""
            self.stream.write(f"\r{line}\x1b[K{end}")
            self.stream.flush()
            return
        mark = int(10 * done / total) if total else done // 10_000_000
        if mark > self.shown:
            self.shown = mark
            print(line, file=self.stream, flush=True)


def file_hash(path, algorithm: str = "md5") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_algorithm(expected: str) -> str:
    """md5 and sha256 digests are told apart by their length."""
    return {32: "md5", 64: "sha256"}.get(len(expected), "md5")


def verified(path, expected_hash: Optional[str]) -> bool:
    """True when `path` is a file whose hash is `expected_hash` (any file, if no hash is given)."""
    path = Path(path)
    if not path.is_file():
        return False
    return expected_hash is None or file_hash(path, _hash_algorithm(expected_hash)) == expected_hash.lower()


class _Transient(Exception):
    """A network failure worth another try (refused, reset, timed out, HTTP 5xx)."""


class DownloadError(NSTError):
    """A download that failed: the one-line message, and `reason`, its cause in a few words
    (for a caller that words its own advice)."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class HashMismatch(NSTError):
    """A file whose hash is not the expected one: the message, the algorithm and both digests
    (for a caller that words its own message)."""

    def __init__(self, message: str, algorithm: str, actual: str, expected: str):
        super().__init__(message)
        self.algorithm, self.actual, self.expected = algorithm, actual, expected


def destination(dest, url: str) -> Path:
    """`dest` itself, or, when it is a folder (an existing one, or a path ending in a slash),
    the URL's file name inside it, as `wget -P` does (`url` may be a bare file name)."""
    text = str(dest)
    dest = Path(dest)
    if dest.is_dir() or text.endswith(("/", os.sep)):
        name = Path(urllib.parse.urlparse(url).path).name
        if not name:
            raise NSTError(f"{url}: no file name in the URL; give --dest a file path")
        return dest / name
    return dest


def download(url: str, dest, expected_hash: Optional[str] = None,
             timeout: float = DOWNLOAD_TIMEOUT_S, deadline: float = DOWNLOAD_DEADLINE_S,
             sleep=time.sleep,
             progress: Optional[Callable[[int, Optional[int]], None]] = None) -> Path:
    """Fetches `url` to `dest` (a file, or a folder to put it in), checking an md5 or sha256; a
    no-op when the file already verifies. Returns the file's path.

    A transient network failure is retried after RETRY_DELAYS_S while the attempts fit in
    `deadline` seconds, so with no network at all it still fails within it. Raises NSTError with
    one line (what failed, and what to do); in every failure (an interrupt included) nothing is
    left at the destination. progress(bytes so far, total or None) follows each chunk.
    """
    dest = destination(dest, url)
    if verified(dest, expected_hash):
        return dest
    with _folder_for(dest):
        return _download(url, dest, expected_hash, timeout, deadline, sleep, progress)


@contextlib.contextmanager
def _folder_for(dest: Path):
    """Makes the folder `dest` goes in; when the block fails (an interrupt included), the
    folders made for it go too, so a failure leaves nothing."""
    if dest.is_dir():
        raise NSTError(f"{dest}: is a folder; give --dest a file path or a folder to put it in")
    made = [folder for folder in (dest.parent, *dest.parent.parents) if not folder.exists()]
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NSTError(f"cannot write to {dest.parent} ({error.strerror or error})") from None
    try:
        yield
    except BaseException:
        for folder in made:
            try:
                folder.rmdir()
            except OSError:
                break
        raise


def copy_verified(source, dest, expected_hash: str) -> Path:
    """Copies the file `source` to `dest` (a file, or a folder to put it in under the source's
    name) when its md5 or sha256 is `expected_hash`; returns the path it is at. Nothing is
    written, and no folder made, for a file of another hash (HashMismatch, one line); a
    verified file already at `dest` is kept as it is; the copy appears at `dest` only once it
    is complete and checked again (the source could change while it is read)."""
    source = Path(source)
    if not source.is_file():
        what = "a folder, not a file" if source.is_dir() else "no such file"
        raise NSTError(f"{source}: {what}")
    dest = destination(dest, source.name)
    algorithm = _hash_algorithm(expected_hash)
    try:
        actual = file_hash(source, algorithm)
    except OSError as error:
        raise NSTError(f"{source}: cannot read it ({error.strerror or error})") from None
    if actual != expected_hash.lower():
        raise HashMismatch(f"{source}: {algorithm} is {actual}, expected {expected_hash}",
                           algorithm, actual, expected_hash.lower())
    if verified(dest, expected_hash):
        return dest
    with _folder_for(dest), atomic_output(dest) as temporary:
        digest = hashlib.new(algorithm)
        try:
            with open(source, "rb") as reading, open(temporary, "wb") as out:
                for chunk in iter(lambda: reading.read(CHUNK_BYTES), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except OSError as error:
            raise NSTError(f"cannot copy {source} to {dest} ({error.strerror or error})") from None
        if digest.hexdigest() != expected_hash.lower():
            raise HashMismatch(f"{source}: changed while it was copied ({algorithm} "
                               f"{digest.hexdigest()}, expected {expected_hash})", algorithm,
                               digest.hexdigest(), expected_hash.lower())
    return dest


def _download(url: str, dest: Path, expected_hash, timeout, deadline, sleep, progress) -> Path:
    """download()'s attempts, with its retries, into an existing folder."""
    start = time.monotonic()
    for attempt, delay in enumerate(RETRY_DELAYS_S + (None,), start=1):
        remaining = deadline - (time.monotonic() - start)
        try:
            _fetch(url, dest, expected_hash, max(1.0, min(timeout, remaining)), progress)
            return dest
        except _Transient as error:
            spent = time.monotonic() - start
            if delay is None or spent + delay >= deadline:
                raise DownloadError(f"cannot download {url} ({error}; {attempt} attempts in "
                                    f"{spent:.0f} s); fetch it on a machine with internet "
                                    f"access and place it at {dest}", str(error)) from None
            logging.warning("download failed (%s); trying again in %g s", error, delay)
            sleep(delay)
    raise AssertionError("unreachable")


def _transient_reason(error: BaseException) -> str:
    reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
    return str(reason)


def _fetch(url: str, dest: Path, expected_hash: Optional[str], timeout: float,
           progress=None) -> None:
    """One attempt. Network failures raise _Transient (or NSTError when retrying cannot help:
    HTTP 4xx, a bad URL, a missing local file); a local write failure raises NSTError."""
    remote = urllib.parse.urlparse(url).scheme not in ("file", "")
    try:
        response = urllib.request.urlopen(url, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code in RETRY_HTTP_CODES:
            raise _Transient(f"HTTP {error.code} {error.reason}") from None
        raise DownloadError(f"cannot download {url} (HTTP {error.code} {error.reason})",
                            f"HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        # A host name that does not resolve means no network (or no DNS): retrying within
        # seconds does not help, and an offline user should get the answer at once.
        offline = isinstance(getattr(error, "reason", None), socket.gaierror)
        if remote and not isinstance(error, ValueError) and not offline:
            raise _Transient(_transient_reason(error)) from None
        reason = (f"no network: {_transient_reason(error)}" if offline
                  else _transient_reason(error))
        raise DownloadError(f"cannot download {url} ({reason}); fetch it on a machine with "
                            f"internet access and place it at {dest}", reason) from None
    algorithm = _hash_algorithm(expected_hash or "")
    digest = hashlib.new(algorithm)
    length = response.headers.get("Content-Length") if response.headers else None
    total = int(length) if length and length.isdigit() else None
    done = 0
    with response, atomic_output(dest) as temporary:
        try:
            out = open(temporary, "wb")
        except OSError as error:
            raise NSTError(f"cannot write {dest} ({error.strerror or error})") from None
        with out:
            while True:
                try:
                    chunk = response.read(CHUNK_BYTES)
                except (http.client.HTTPException, OSError) as error:
                    raise _Transient(f"connection lost: {_transient_reason(error)}") from None
                if not chunk:
                    break
                digest.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
                try:
                    out.write(chunk)
                except OSError as error:
                    raise NSTError(f"cannot write {dest} ({error.strerror or error})") from None
        if expected_hash is not None and digest.hexdigest() != expected_hash.lower():
            raise HashMismatch(f"{url}: {algorithm} is {digest.hexdigest()}, expected "
                               f"{expected_hash}; the download is corrupt or the file changed",
                               algorithm, digest.hexdigest(), expected_hash.lower())
