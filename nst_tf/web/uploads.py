"""Photos sent to the page: read from the request's bytes in memory, never written to disk.

The limits are checked before decoding: the byte count before the body is read, the pixel
count from the header (nst_tf.io.images), so a decompression bomb (a few KB that decode to
gigabytes) and a photo over the server's limit cost nothing. Then the pixels are decoded as
read_image decodes a file (EXIF orientation, CMYK, 16 bit, alpha over white, an animation's
first frame). No TensorFlow here.
"""
from __future__ import annotations

import re
import unicodedata

import numpy as np

from nst_tf.limits import MAX_IMAGE_MEGAPIXELS
from nst_tf.io.images import read_image_bytes, to_uint8

MB = 1024 * 1024


def display_name(name: str, fallback: str = "photo.jpg") -> str:
    """A file name the user's browser sent, for messages and the command line only (never a
    path here): its last part, printable, at most 80 characters, no comma (the command line's
    --texture separates photos by commas)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if c.isprintable()).replace(",", "_").strip()
    return name[:80] or fallback


def decode_photo(data: bytes, name: str = "photo",
                 max_megapixels: float = MAX_IMAGE_MEGAPIXELS) -> np.ndarray:
    """The photo in `data` as uint8 RGB (h, w, 3), kept so in memory while the run waits:
    nst_tf.io.images.read_image_bytes' checks and messages, the header's size against
    `max_megapixels` before any pixel is decoded."""
    return to_uint8(read_image_bytes(data, name, max_megapixels))
