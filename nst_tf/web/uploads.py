"""Photos sent to the page: read from the request's bytes in memory, never written to disk.

The limits are checked before decoding: the byte count before the body is read, the pixel
count from the header (Pillow's Image.open reads only the header), so a decompression bomb (a
few KB that decode to gigabytes) and a photo over the server's limit cost nothing. Then the
pixels are decoded as read_image decodes a file (EXIF orientation, CMYK, 16 bit, alpha over
white, an animation's first frame). No TensorFlow here.
"""
from __future__ import annotations

import io
import re
import unicodedata
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from nst_tf.config import MAX_IMAGE_MEGAPIXELS
from nst_tf.errors import NSTError
from nst_tf.io.images import decoded_pixels, to_rgb

MB = 1024 * 1024


def display_name(name: str, fallback: str = "photo.jpg") -> str:
    """A file name the user's browser sent, for messages and the command line only (never a
    path here): its last part, printable, at most 80 characters, no comma (the command line's
    --texture separates photos by commas)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(c for c in name if c.isprintable()).replace(",", "_").strip()
    return name[:80] or fallback


def header_size(data: bytes, name: str = "photo"):
    """(width, height, format) from the header alone; NSTError when it is not an image."""
    if not data:
        raise NSTError(f"{name}: empty file (0 bytes), not an image")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            with Image.open(io.BytesIO(data)) as opened:
                return opened.size[0], opened.size[1], opened.format or "image"
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise NSTError(f"{name}: not an image, or a format this tool cannot read") from None
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def decode_photo(data: bytes, name: str = "photo",
                 max_megapixels: float = MAX_IMAGE_MEGAPIXELS) -> np.ndarray:
    """The photo in `data` as uint8 RGB (h, w, 3); NSTError with one line (naming `name`) when
    it is not an image, is truncated, or its header claims more than `max_megapixels` (checked
    before any pixel is decoded)."""
    width, height, kind = header_size(data, name)
    limit = min(float(max_megapixels), MAX_IMAGE_MEGAPIXELS)
    if width * height > limit * 1e6:
        bomb = width * height > MAX_IMAGE_MEGAPIXELS * 1e6
        raise NSTError(f"{name}: its header says {width}x{height} px "
                       f"({width * height / 1e6:.1f} MP), more than the {limit:g} MP this "
                       "server takes" + (": a damaged file or a decompression bomb" if bomb
                                         else "; make it smaller first"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            with Image.open(io.BytesIO(data)) as opened:
                pixels = decoded_pixels(opened)
        except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error
            reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
            raise NSTError(f"{name}: truncated or corrupt {kind} data ({reason})") from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved
    return np.round(to_rgb(pixels, name)).astype(np.uint8)


def encode(image: np.ndarray, kind: str = "PNG", quality: int = 85) -> bytes:
    """uint8 (or float 0..255) RGB -> PNG or JPEG bytes."""
    pixels = np.asarray(image)
    if pixels.dtype != np.uint8:
        pixels = np.clip(np.round(pixels), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    options = {"quality": quality} if kind == "JPEG" else {"compress_level": 6}
    Image.fromarray(pixels).save(buffer, format=kind, **options)
    return buffer.getvalue()
