"""Downloading files with a hash check, atomically.

The file appears at its final path only once its hash has been checked, so a failed or
interrupted download never leaves a file that a later run would trust.
"""
from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from nst_tf.errors import NSTError
from nst_tf.files import atomic_output

# Seconds a connection may stay silent before a download gives up.
DOWNLOAD_TIMEOUT_S = 20
CHUNK_BYTES = 1 << 20


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


def download(url: str, dest, expected_hash: Optional[str] = None,
             timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Fetches `url` to `dest`, checking an md5 or sha256; a no-op when `dest` already verifies.

    Returns dest. Raises NSTError with one line when the network fails or the hash differs; in
    every failure (an interrupt included) nothing is left at `dest`.
    """
    dest = Path(dest)
    if verified(dest, expected_hash):
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise NSTError(f"cannot write to {dest.parent} ({error.strerror or error})") from None
    algorithm = _hash_algorithm(expected_hash or "")
    digest = hashlib.new(algorithm)
    try:
        with atomic_output(dest) as temporary, open(temporary, "wb") as out, \
                urllib.request.urlopen(url, timeout=timeout) as response:
            for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            if expected_hash is not None and digest.hexdigest() != expected_hash.lower():
                raise NSTError(f"{url}: {algorithm} is {digest.hexdigest()}, expected "
                               f"{expected_hash}; the download is corrupt or the file changed")
    except NSTError:
        raise
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
        raise NSTError(f"cannot download {url} ({reason}); fetch it on a machine with internet "
                       f"access and place it at {dest}") from None
    return dest
