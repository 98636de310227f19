"""Unusual and broken image files, made on the fly: what phones, cameras and the web hand users.

Each maker writes one file into a folder and returns its path. CASES pairs each with what reading
it must give: the (height, width) it must come out as, or the message it must fail with.
"""
import struct
import zlib

import numpy as np
from PIL import Image

from conftest import random_image

EXIF_ORIENTATION = 0x0112


def _rgb(shape=(80, 120), seed=3):
    return random_image(shape, seed).astype(np.uint8)


def phone_portrait_jpeg(folder):
    """Stored 120 wide, 80 high, with EXIF orientation 6 (rotate 90 degrees clockwise to view)."""
    path = folder / "portrait.jpg"
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = 6
    Image.fromarray(_rgb()).save(path, exif=exif)
    return path


def cmyk_jpeg(folder):
    path = folder / "print.jpg"
    Image.fromarray(_rgb()).convert("CMYK").save(path)
    return path


def palette_png(folder):
    path = folder / "palette.png"
    Image.fromarray(_rgb()).convert("P", palette=Image.Palette.ADAPTIVE, colors=16).save(path)
    return path


def sixteen_bit_png(folder):
    path = folder / "deep.png"
    gray = (random_image((80, 120))[..., 0] * 257).astype(np.uint16)
    Image.fromarray(gray).save(path)
    return path


def grayscale_png(folder):
    path = folder / "gray.png"
    Image.fromarray(_rgb()[..., 0]).save(path)
    return path


def transparent_png(folder):
    path = folder / "alpha.png"
    rgba = np.dstack([_rgb(), np.zeros((80, 120), np.uint8)])
    Image.fromarray(rgba).save(path)
    return path


def animated_gif(folder):
    path = folder / "animated.gif"
    frames = [Image.fromarray(np.full((80, 120, 3), value, np.uint8)) for value in (40, 200)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def webp(folder):
    path = folder / "web.webp"
    Image.fromarray(_rgb()).save(path, lossless=True)
    return path


def tiff(folder):
    path = folder / "scan.tif"
    Image.fromarray(_rgb()).save(path)
    return path


def truncated_jpeg(folder):
    path = folder / "truncated.jpg"
    Image.fromarray(_rgb()).save(path, quality=95)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    return path


def corrupt_png(folder):
    """A valid PNG header and size, then garbage where the compressed pixels should be."""
    path = folder / "corrupt.png"
    Image.fromarray(_rgb()).save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 4
    data[start:start + 200] = bytes(range(200))
    path.write_bytes(bytes(data))
    return path


def zero_byte_file(folder):
    path = folder / "empty.jpg"
    path.write_bytes(b"")
    return path


def text_named_png(folder):
    path = folder / "notes.png"
    path.write_text("this is a shopping list, not a picture\n")
    return path


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb_png(folder):
    """A few hundred bytes whose header claims 60000x60000 px (3.6 gigapixels)."""
    path = folder / "bomb.png"
    header = struct.pack(">IIBBBBB", 60000, 60000, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
                     + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + _png_chunk(b"IEND", b""))
    return path


# (maker, (height, width) when it must read, or a regular expression of the failure message)
CASES = [
    (phone_portrait_jpeg, (120, 80)),
    (cmyk_jpeg, (80, 120)),
    (palette_png, (80, 120)),
    (sixteen_bit_png, (80, 120)),
    (grayscale_png, (80, 120)),
    (transparent_png, (80, 120)),
    (animated_gif, (80, 120)),
    (webp, (80, 120)),
    (tiff, (80, 120)),
    (truncated_jpeg, r"truncated\.jpg: truncated or corrupt JPEG data"),
    (corrupt_png, r"corrupt\.png: truncated or corrupt PNG data"),
    (zero_byte_file, r"empty\.jpg: empty file \(0 bytes\), not an image"),
    (text_named_png, r"notes\.png: not an image, or a format this tool cannot read"),
    (decompression_bomb_png, r"bomb\.png: its header says 60000x60000 px \(3600 MP\), more than "
                             r"the 250 MP this tool reads: a damaged file or a decompression bomb"),
]
