"""Images in and out: reading, writing, resizing, gray.

An image here is a float32 array of shape (height, width, 3), RGB, values 0..255.
"""
from __future__ import annotations

import contextlib
import io
import logging
import math
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Optional, Tuple

import imageio.v3 as iio
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from nst_tf.limits import (BOMB_FLOOR_MEGAPIXELS, BOUNDED_COMPRESSION_FORMATS,
                           MAX_IMAGE_MEGAPIXELS, MAX_PIXELS_PER_BYTE,
                           UPSAMPLE_METHOD, UPSAMPLE_ROUNDS)
from nst_tf.errors import NSTError
from nst_tf.io.files import atomic_output, name_room, remove_stale

# ITU-R 601 luma, the weights of tf.image.rgb_to_grayscale.
LUMA_WEIGHTS = (0.2989, 0.5870, 0.1140)

# Formats imageio writes losslessly or commonly; checked before a long run, not after it.
WRITABLE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def read_image(path) -> np.ndarray:
    """Reads a photo as it comes from a phone, a camera or the web: float32 RGB (h, w, 3), 0..255.

    EXIF orientation is applied (a portrait phone photo comes out portrait); CMYK, palette,
    grayscale and 16-bit images are converted; alpha is composited over white (what a viewer
    shows on a page); an animation gives its first frame. A file that is empty, not an image,
    truncated or corrupt, or whose header claims more than MAX_IMAGE_MEGAPIXELS, raises NSTError
    naming the file and the problem; the size is checked before any pixel is decoded.
    """
    path = Path(path)
    if not os.path.exists(path):  # os.path's: False, not OSError, for a name too long
        raise NSTError(f"{path}: no such file")
    if os.path.isdir(path):
        raise NSTError(f"{path}: is a directory, not an image")
    try:
        if path.stat().st_size == 0:
            raise NSTError(f"{path}: empty file (0 bytes), not an image")
        return _checked_pixels(path, str(path), file_bytes=path.stat().st_size)
    except PermissionError:
        raise NSTError(f"{path}: cannot read it (permission denied)") from None


def read_image_bytes(data: bytes, name: str = "image",
                     max_megapixels: float = MAX_IMAGE_MEGAPIXELS) -> np.ndarray:
    """read_image for a photo's bytes in memory (a file sent over the network): the same
    conversions and checks, `name` in the messages; max_megapixels: a lower limit of the
    caller's (a server's), checked from the header before any pixel is decoded."""
    if not data:
        raise NSTError(f"{name}: empty file (0 bytes), not an image")
    return _checked_pixels(io.BytesIO(data), name, max_megapixels, len(data))


# EXIF orientations that turn the picture a quarter: upright, its sides swap (exif_transpose).
_QUARTER_TURNS = (5, 6, 7, 8)
_ORIENTATION_TAG = 0x0112


def upright_size(path, name: str = "image") -> Tuple[int, int]:
    """(height, width) of an image file as read_image returns it (upright by its EXIF
    orientation), from its header alone; NSTError with one line when it is not an image."""
    with _header(path, name) as opened:
        width, height = opened.size
        try:
            turned = opened.getexif().get(_ORIENTATION_TAG) in _QUARTER_TURNS
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            turned = False  # the size was read; an unreadable EXIF block turns nothing
    return (width, height) if turned else (height, width)


def image_from(source, name: str = "image") -> np.ndarray:
    """A photo given any way a caller has one: a path, the file's bytes, an array (see to_rgb)
    or a PIL image -> float32 RGB (h, w, 3) 0..255, with read_image's checks. NSTError naming
    `name` for anything else, before any work."""
    if isinstance(source, np.ndarray):
        return to_rgb(source, name)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return read_image_bytes(bytes(source), name)
    if isinstance(source, (str, os.PathLike)):
        return read_image(source)
    if isinstance(source, Image.Image):
        return to_rgb(decoded_pixels(source), name)
    raise NSTError(f"{name}: give a path, the file's bytes, a NumPy array or a PIL image, not "
                   f"{type(source).__name__}")


def image_header(source, name: str = "image") -> Tuple[int, int, str]:
    """(width, height, format) of an image file, file object or bytes, from its header alone
    (milliseconds, whatever its size); NSTError with one line when it is not an image."""
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise NSTError(f"{name}: empty file (0 bytes), not an image")
        source = io.BytesIO(source)
    with _header(source, name) as opened:
        return opened.size[0], opened.size[1], opened.format or "image"


@contextlib.contextmanager
def _header(source, name: str):
    """The image opened for its header (Pillow reads no pixels until asked); NSTError with one
    line when it is not an image. A missing, unreadable or directory path raises as it is."""
    try:
        opened = _open_unchecked(source)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        if isinstance(error, (PermissionError, FileNotFoundError, IsADirectoryError)):
            raise
        raise NSTError(f"{name}: not an image, or a format this tool cannot read") from None
    with opened:
        yield opened


def _checked_pixels(source, name: str, max_megapixels: float = MAX_IMAGE_MEGAPIXELS,
                    file_bytes: Optional[int] = None) -> np.ndarray:
    """The pixels of an image file or file object, decoded after the header's size is checked
    against max_megapixels (at most MAX_IMAGE_MEGAPIXELS): float32 RGB; NSTError naming `name`
    and the problem."""
    try:
        opened = _open_unchecked(source)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as error:
        if isinstance(error, PermissionError):
            raise
        raise NSTError(f"{name}: not an image, or a format this tool cannot read") from None
    with opened:
        width, height = opened.size
        if width * height > MAX_IMAGE_MEGAPIXELS * 1e6:
            raise NSTError(
                f"{name}: its header says {width}x{height} px ({width * height / 1e6:.0f} MP), "
                f"more than the {MAX_IMAGE_MEGAPIXELS} MP this tool reads: a damaged file or a "
                "decompression bomb")
        if (file_bytes and opened.format in BOUNDED_COMPRESSION_FORMATS
                and width * height > BOMB_FLOOR_MEGAPIXELS * 1e6
                and width * height > MAX_PIXELS_PER_BYTE * file_bytes):
            raise NSTError(
                f"{name}: its header says {width}x{height} px ({width * height / 1e6:.0f} MP) in "
                f"{file_bytes} bytes, more than {MAX_PIXELS_PER_BYTE} pixels a byte: a damaged "
                "file or a decompression bomb")
        if width * height > max_megapixels * 1e6:
            raise NSTError(
                f"{name}: its header says {width}x{height} px ({width * height / 1e6:.1f} MP), "
                f"more than the {max_megapixels:g} MP this server takes; make it smaller first")
        try:
            with pillow_quietly():
                pixels = decoded_pixels(opened)
        except Exception as error:  # Pillow raises OSError, SyntaxError, ValueError, zlib.error
            reason = str(error).splitlines()[0][:120] if str(error) else type(error).__name__
            raise NSTError(f"{name}: truncated or corrupt {opened.format or 'image'} data "
                           f"({reason})") from None
    return to_rgb(pixels, name)


_PILLOW_LOG = logging.getLogger("PIL")
_quiet_lock, _quiet_readers = threading.Lock(), [0, logging.NOTSET]


@contextlib.contextmanager
def pillow_quietly():
    """Pillow's warnings and log records of a damaged file (a TIFF tag past the file's end,
    corrupt EXIF, samples it cannot decode) kept off stderr while it reads: they would make a
    refusal more than its one line, and the damage is answered by the checks here. Its logger's
    level is raised while any thread reads, and put back after the last."""
    with _quiet_lock:
        if not _quiet_readers[0]:
            _quiet_readers[1] = _PILLOW_LOG.level
            _PILLOW_LOG.setLevel(logging.CRITICAL + 1)
        _quiet_readers[0] += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        with _quiet_lock:
            _quiet_readers[0] -= 1
            if not _quiet_readers[0]:
                _PILLOW_LOG.setLevel(_quiet_readers[1])


def _open_unchecked(source):
    """Pillow's lazy open (header only) of a path or file object, with Pillow's own pixel limit
    off: the callers apply the project's, with a message naming the file and its size."""
    with pillow_quietly():
        limit, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            return Image.open(source)
        finally:
            Image.MAX_IMAGE_PIXELS = limit


# Pillow modes holding 16 bits per pixel (PNG and TIFF grayscale); "I" is how Pillow reads a
# 16-bit grayscale PNG into 32-bit integers.
_SIXTEEN_BIT_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N")


def decoded_pixels(image) -> np.ndarray:
    """An opened image's first frame, upright, as an array to_rgb understands (EXIF orientation,
    16 bit, palette, CMYK and alpha handled)."""
    image.seek(0)
    image = ImageOps.exif_transpose(image)
    if image.mode in _SIXTEEN_BIT_MODES:
        return np.clip(np.asarray(image), 0, 65535).astype(np.uint16)
    if image.mode == "F":
        return np.asarray(image, np.float32)
    if image.mode in ("RGBA", "LA", "RGB", "L"):
        return np.asarray(image)
    has_alpha = "A" in image.mode or "a" in image.mode or "transparency" in image.info
    return np.asarray(image.convert("RGBA" if has_alpha else "RGB"))


def to_rgb(pixels, name: str = "image") -> np.ndarray:
    """Any array image (gray, gray+alpha, RGB, RGBA; uint8, uint16, bool or float) -> float32 RGB 0..255.

    Alpha is composited over white.
    """
    pixels = np.asarray(pixels)
    if pixels.ndim == 4:  # an animation or a multi-page file: its first frame
        pixels = pixels[0]
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 2, 3, 4) or min(pixels.shape[:2]) < 1:
        raise NSTError(f"{name}: unsupported image shape {pixels.shape}")
    if pixels.dtype == np.uint16:
        scale = 255.0 / 65535.0
    elif pixels.dtype == bool:
        scale = 255.0
    elif np.issubdtype(pixels.dtype, np.floating):
        if not np.isfinite(pixels).all():
            raise NSTError(f"{name}: has pixels that are not finite numbers")
        scale = 255.0 if pixels.max(initial=0.0) <= 1.0 else 1.0
    else:
        scale = 1.0
    channels = pixels.shape[-1]
    colour = pixels[..., :1] if channels <= 2 else pixels[..., :3]
    rgb = np.broadcast_to(colour, pixels.shape[:2] + (3,)).astype(np.float32) * np.float32(scale)
    if channels in (2, 4):
        alpha = np.clip(pixels[..., -1:].astype(np.float32) * np.float32(scale) / 255.0, 0, 1)
        rgb = rgb * alpha + 255.0 * (1.0 - alpha)
    return np.clip(rgb, 0.0, 255.0)


def split_pair(image: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """A side-by-side image (the original's `*_in` examples) -> (left half, right half)."""
    half = image.shape[1] // 2
    return image[:, :half], image[:, half:2 * half]


def check_writable(path) -> None:
    """Fails now, with one line, if `path` cannot be written later (checked by writing a probe)."""
    path = Path(path)
    if path.suffix.lower() not in WRITABLE_SUFFIXES:
        raise NSTError(f"{path}: unsupported output format {path.suffix!r}; "
                       f"use one of {', '.join(WRITABLE_SUFFIXES)}")
    if os.path.isdir(path):
        raise NSTError(f"{path}: is a directory; give a file name")
    directory = path.parent if str(path.parent) else Path(".")
    # The name must leave room for the temporary written beside it (files.PendingFile).
    room = name_room(directory)
    if len(os.fsencode(path.name)) > room:
        raise NSTError(f"{path}: the file name is too long ({len(os.fsencode(path.name))} "
                       f"bytes; at most {room} here)")
    prefix = ".nst_tf-probe-"
    remove_stale(directory, prefix, "")  # a probe of a process killed while it was there
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=f"{prefix}{os.getpid()}."):
            pass
    except OSError as error:
        raise NSTError(f"{path}: cannot write there ({error.strerror or error})") from None


def to_uint8(image) -> np.ndarray:
    """RGB 0..255 (floats, a tensor, or uint8) -> uint8, rounded and clipped (the notebooks
    truncated)."""
    pixels = np.asarray(image)
    if pixels.dtype == np.uint8:
        return pixels
    # A picture taken after a step that went non-finite (a live preview) shows black there.
    return np.round(np.clip(np.nan_to_num(pixels, nan=0.0), 0, 255)).astype(np.uint8)


def encode_image(image, suffix: str = ".png", quality: Optional[int] = None) -> bytes:
    """An image as the bytes of a file of that suffix's format (.png, .jpg, ...), rounded to 8
    bits: the bytes write_image writes. quality: JPEG's (imageio's default when None)."""
    options = {} if quality is None else {"quality": quality}
    # Pillow for every format: imageio's own TIFF writer cannot write to memory.
    return iio.imwrite("<bytes>", to_uint8(image), extension=suffix.lower(), plugin="pillow",
                       **options)


def write_image(path, image) -> None:
    """Writes an image atomically: a reader never sees a half-written file at `path`."""
    path = Path(path)
    check_writable(path)
    data = encode_image(image, path.suffix)
    with atomic_output(path) as temporary:
        Path(temporary).write_bytes(data)


def resize(images, size: Tuple[int, int], antialias: bool = False,
           wrap: Tuple[bool, bool] = (False, False)) -> np.ndarray:
    """Bilinear resize of an image (h, w, c) or a batch (n, h, w, c) to size (height, width);
    wrap: periodic_resize's."""
    import tensorflow as tf  # here, not above: reading and checking photos must not start it
    images = np.asarray(images, np.float32)
    batch = images if images.ndim == 4 else images[None]
    resized = periodic_resize(tf.constant(batch), size, "bilinear", antialias, wrap).numpy()
    return resized if images.ndim == 4 else resized[0]


# How far past an edge resizing reads, in pixels of the smaller side: lanczos5's window (5),
# which is wider than bilinear's (1), and than antialiasing's (1 of the smaller side's pixels).
RESIZE_REACH = 5


def periodic_resize(images, size: Tuple[int, int], method: str = "bilinear",
                    antialias: bool = False, wrap: Tuple[bool, bool] = (False, False)):
    """tf.image.resize of a batch (n, h, w, c) to `size`, where on a wrapped axis (wrap: (rows,
    columns), seamless) the picture is one period of a repeated picture: it is extended around
    by its own opposite edge, resized, and cropped, so that the result repeats too (resizing
    clamps the edges otherwise, and the next level would start with a step at the wrap).

    The margin is a whole number of pixels on both sides of the resize (a multiple of
    old / gcd(old, new)), so the extended resize samples exactly where the plain one does.
    """
    import tensorflow as tf
    for axis, wraps in ((1, wrap[0]), (2, wrap[1])):
        old, new = int(images.shape[axis]), int(size[axis - 1])
        if not wraps or old == new:
            continue
        unit = old // math.gcd(old, new)
        reach = RESIZE_REACH * max(1, -(-old // new)) + 1
        margin = unit * -(-reach // unit)
        indices = np.arange(-margin, old + margin) % old
        extended = tf.gather(images, indices, axis=axis)
        length = new + 2 * margin * new // old
        shape = [int(extended.shape[1]), int(extended.shape[2])]
        shape[axis - 1] = length
        kept = tf.image.resize(extended, shape, method=method, antialias=antialias)
        start = margin * new // old
        images = kept[:, start:start + new] if axis == 1 else kept[:, :, start:start + new]
    return tf.image.resize(images, size, method=method, antialias=antialias)


def upsampled_onto(picture, content_small, content_large, rounds: int = UPSAMPLE_ROUNDS,
                   method: str = UPSAMPLE_METHOD, wrap: Tuple[bool, bool] = (False, False)):
    """A picture made on `content_small`, carried to the size of `content_large`: the large
    content plus the upsampled change, back-projected `rounds` times (each round adds the
    upsampled difference between `picture` and the result downscaled), so that the result
    downscaled is `picture` again while the content's finer detail stays. wrap: the axes that
    wrap around (periodic_resize).

    All (1, h, w, c) float arrays or tensors in one value range; returns a tensor.
    """
    small, large = tuple(picture.shape[1:3]), tuple(content_large.shape[1:3])
    result = content_large + periodic_resize(picture - content_small, large, method, wrap=wrap)
    for _ in range(rounds):
        down = periodic_resize(result, small, "bilinear", antialias=True, wrap=wrap)
        result = result + periodic_resize(picture - down, large, method, wrap=wrap)
    return result


def mirror_fit(image: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """(h, w, c) cropped or mirror-extended at its bottom and right to `size` (height, width)."""
    height, width = size
    pad = ((0, max(0, height - image.shape[0])), (0, max(0, width - image.shape[1])), (0, 0))
    while pad[0][1] or pad[1][1]:  # one mirror at a time: numpy's symmetric pad needs no more
        step = ((0, min(pad[0][1], image.shape[0])), (0, min(pad[1][1], image.shape[1])), (0, 0))
        image = np.pad(image, step, mode="symmetric")
        pad = ((0, max(0, height - image.shape[0])), (0, max(0, width - image.shape[1])), (0, 0))
    return image[:height, :width]


def gray3(rgb):
    """Luma of RGB, repeated to 3 channels; works on arrays and tensors, differentiable."""
    import tensorflow as tf
    luma = tf.tensordot(tf.convert_to_tensor(rgb, tf.float32), tf.constant(LUMA_WEIGHTS),
                        axes=1)[..., None]
    # concat, not tf.repeat: the same values and gradient, but repeat's gradient transposes
    # int32 indices, and TensorFlow's oneDNN layer logged an error line about it ("supports
    # DT_INT32 only on platforms with AVX-512") into every tiled run on some CPUs (AMD Zen 4).
    return tf.concat([luma, luma, luma], axis=-1)
