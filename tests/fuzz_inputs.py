"""Fuzzed inputs: small valid files of every kind a user hands the tool, and a seeded mutation of
one of them per case (tests/test_fuzz.py).

A case is made from its seed alone: the family (a photo's format, a mask, a clip, a batch's CSV,
a weights file) is seed % len(FAMILIES), and random.Random(seed) picks the mutation and its
places, so a failing seed makes the same bytes again anywhere (`case(seed, folder)`).
"""
import dataclasses
import io
import random
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from conftest import encoded_clip, legacy_weights_file, random_image

FAMILIES = ("png", "jpeg", "webp", "tiff", "mask", "clip", "csv", "weights")
PHOTOS = ("png", "jpeg", "webp", "tiff")
SUFFIX = {"png": ".png", "jpeg": ".jpg", "webp": ".webp", "tiff": ".tif", "mask": ".png",
          "clip": ".mp4", "csv": ".csv", "weights": ".h5"}
# The valid files' size: small, and a multiple of 16 (a clip's 4:2:0 and the plan both take it).
HEIGHT, WIDTH = 48, 64


def _photo(fmt: str) -> bytes:
    pixels = random_image((HEIGHT, WIDTH), seed=7).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP",
                                          "tiff": "TIFF"}[fmt])
    return buffer.getvalue()


def _mask() -> bytes:
    """A gray mask, white on the left two thirds: the content's shape, some texture, some not."""
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    mask[:, :WIDTH * 2 // 3] = 255
    buffer = io.BytesIO()
    Image.fromarray(mask).save(buffer, "PNG")
    return buffer.getvalue()


def valid_files(folder: Path) -> dict:
    """{family: bytes of a valid file}, and the content and texture photos the cases use beside
    the fuzzed one (folder/content.png, folder/texture.png)."""
    folder = Path(folder)
    Image.fromarray(random_image((HEIGHT, WIDTH), seed=1).astype(np.uint8)).save(
        folder / "content.png")
    Image.fromarray(random_image((40, 40), seed=2).astype(np.uint8)).save(folder / "texture.png")
    clip = encoded_clip(folder / "valid_clip.mp4", [
        random_image((HEIGHT, WIDTH), seed=s).astype(np.uint8) for s in range(4)], fps=10,
        audio=False)
    legacy_weights_file(folder / "valid_weights.h5", _vgg19_shapes())
    files = {fmt: _photo(fmt) for fmt in PHOTOS}
    files.update(mask=_mask(), clip=clip.read_bytes(),
                 weights=(folder / "valid_weights.h5").read_bytes(),
                 csv=b"content,texture,output,iterations\ncontent.png,texture.png,a.png,1\n"
                     b"content.png,texture.png,b.png,\n")
    return files


def _vgg19_shapes():
    from nst_tf.network.weights import vgg19_kernel_shapes
    return vgg19_kernel_shapes()


# ------------------------------------------------------------------------------------------
# Mutations: (rng, data, family) -> bytes. Each keeps most of the file, so the reader gets past
# the magic number and meets the damage where a real damaged file has it.

def unchanged(rng, data, family):
    return data


def truncated(rng, data, family):
    return data[:rng.randrange(0, len(data))]


def flipped(rng, data, family):
    data = bytearray(data)
    for _ in range(rng.choice((1, 2, 8, 64))):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def header_flipped(rng, data, family):
    """Random bytes in the first 64: the header's fields, sizes and offsets."""
    data = bytearray(data)
    for _ in range(rng.choice((1, 3, 6))):
        data[rng.randrange(min(64, len(data)))] = rng.randrange(256)
    return bytes(data)


def zeroed(rng, data, family):
    start = rng.randrange(len(data))
    stop = min(len(data), start + rng.choice((4, 64, 1024)))
    return data[:start] + bytes(stop - start) + data[stop:]


def inserted(rng, data, family):
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.randbytes(rng.choice((1, 7, 300))) + data[at:]


def repeated(rng, data, family):
    """A stretch of the file copied again after itself (a doubled chunk or segment)."""
    start = rng.randrange(len(data))
    stop = min(len(data), start + rng.randrange(1, 512))
    return data[:stop] + data[start:stop] + data[stop:]


def spliced(rng, data, family):
    """Another format's first bytes on this file's body (a file renamed, or cut and glued)."""
    magic = rng.choice([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"RIFF\x00\x00\x00\x00WEBP",
                        b"II*\x00", b"MM\x00*", b"GIF89a", b"\x89HDF\r\n\x1a\n",
                        b"\x00\x00\x00\x20ftypisom", b"content,texture\n", b"BM"])
    return magic + data[len(magic):] if rng.random() < 0.5 else magic + data


def emptied(rng, data, family):
    return rng.choice((b"", b"\x00", b"\n", rng.randbytes(rng.randrange(1, 200))))


def resized_header(rng, data, family):
    """The header's width and height replaced: a decompression bomb (past the limit), a photo
    far larger than its bytes, or none at all (0 or 1 px)."""
    width, height = rng.choice([(60000, 60000), (65535, 65535), (20000, 20000), (100000, 3000),
                                (16383, 16383), (4000, 4000), (1, 1), (0, 0), (1, 100000),
                                (WIDTH * 3, HEIGHT)])
    return set_dimensions(data, family, width, height)


def set_dimensions(data: bytes, family: str, width: int, height: int) -> bytes:
    """`data` (a valid PNG, JPEG, WebP or TIFF as made here) claiming width x height."""
    data = bytearray(data)
    if data[:4] == b"\x89PNG":
        body = struct.pack(">II", width, height) + bytes(data[24:29])
        data[16:29] = body
        data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + bytes(body)))
    elif data[:2] == b"\xff\xd8":
        at = 2
        while at + 4 < len(data):
            marker, length = data[at + 1], struct.unpack(">H", data[at + 2:at + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                data[at + 5:at + 9] = struct.pack(">HH", min(height, 65535), min(width, 65535))
                break
            at += 2 + length
    elif data[:4] == b"RIFF":
        kind = bytes(data[12:16])
        if kind == b"VP8 ":  # lossy: 14-bit sizes after the frame tag and start code
            data[26:30] = struct.pack("<HH", min(width, 16383), min(height, 16383))
        elif kind == b"VP8L":  # lossless: 14 bits each, minus one, packed
            bits = ((max(width, 1) - 1) & 0x3FFF) | (((max(height, 1) - 1) & 0x3FFF) << 14)
            value = struct.unpack("<I", data[21:25])[0]
            data[21:25] = struct.pack("<I", (value & ~0xFFFFFFF) | bits)
    elif data[:2] in (b"II", b"MM"):
        order = "<" if data[:2] == b"II" else ">"
        offset = struct.unpack(order + "I", data[4:8])[0]
        count = struct.unpack(order + "H", data[offset:offset + 2])[0]
        for entry in range(count):
            at = offset + 2 + 12 * entry
            tag, kind = struct.unpack(order + "HH", data[at:at + 4])
            if tag in (256, 257):  # ImageWidth, ImageLength
                value = width if tag == 256 else height
                if kind == 3:
                    data[at + 8:at + 10] = struct.pack(order + "H", min(value, 65535))
                else:
                    data[at + 8:at + 12] = struct.pack(order + "I", value)
    return bytes(data)


BINARY_MUTATIONS = (unchanged, truncated, flipped, header_flipped, zeroed, inserted, repeated,
                    spliced, emptied)
IMAGE_MUTATIONS = BINARY_MUTATIONS + (resized_header, resized_header)


# The CSV's mutations: what a spreadsheet, a text editor or a half-finished script writes.
def csv_cells(rng, data, family):
    """A cell replaced by something a person or a script might put there."""
    rows = [line.split(",") for line in data.decode().splitlines()]
    row = rng.randrange(len(rows))
    column = rng.randrange(len(rows[row]))
    rows[row][column] = rng.choice([
        "", " ", "missing.png", "../content.png", "/", "content.png", "texture.png",
        "a.png", "-1", "0", "1e9", "nan", "inf", "abc", "1.5", "\"", "\"\"\"", "a.txt",
        "out/../a.png", "valid_clip.mp4", "valid_weights.h5", "iterations", "x" * 300,
        "é.png", "max_dim", "content.png;texture.png", "\t", "content.png\x00",
        "valid_clip.mp4"])
    return "\n".join(",".join(cells) for cells in rows).encode()


def csv_columns(rng, data, family):
    """The header changed: a column dropped, renamed, unknown, or a setting added."""
    lines = data.decode().splitlines()
    header = lines[0].split(",")
    choice = rng.randrange(4)
    if choice == 0 and len(header) > 1:
        header.pop(rng.randrange(len(header)))
    elif choice == 1:
        header[rng.randrange(len(header))] = rng.choice(
            ["Content", "style", "max_dim", "weights", "content_mask", "every", "frames",
             "texture_blend", "optimizer", "lbfgs_memory", "", "output", "seed"])
    elif choice == 2:
        header.append(rng.choice(["max_dim", "learning_rate", "mode", "init", "unknown"]))
    else:
        header = header + header[:1]
    return "\n".join([",".join(header)] + lines[1:]).encode()


def csv_bytes(rng, data, family):
    """Bytes no CSV should hold: a byte-order mark, NULs, Latin-1, CR line ends, a stray quote."""
    return rng.choice([b"\xef\xbb\xbf" + data, data.replace(b",", b"\x00", 1),
                       data + b"\xe9\xff\xfe\n", data.replace(b"\n", b"\r"),
                       data.replace(b"\n", b"\r\n"), data.replace(b"a.png", b"\"a.png"),
                       data + b"content.png,texture.png,a.png,1\n", data * 3,
                       data.replace(b"iterations", b"iterations,iterations")])


CSV_MUTATIONS = (unchanged, csv_cells, csv_cells, csv_columns, csv_bytes, truncated, flipped,
                 inserted, emptied)

MUTATIONS = {**{family: IMAGE_MUTATIONS for family in PHOTOS + ("mask",)},
             "clip": BINARY_MUTATIONS, "csv": CSV_MUTATIONS, "weights": BINARY_MUTATIONS}


@dataclasses.dataclass
class Case:
    seed: int
    family: str
    mutation: str
    path: Path

    def __str__(self):
        return f"seed {self.seed}: {self.family} {self.mutation} ({self.path.name})"


def case(seed: int, folder: Path, valid: dict) -> Case:
    """The fuzzed file of `seed`, written into `folder` (which holds valid_files' photos)."""
    family = FAMILIES[seed % len(FAMILIES)]
    rng = random.Random(seed)
    mutation = rng.choice(MUTATIONS[family])
    data = mutation(rng, valid[family], family)
    path = Path(folder) / f"fuzz_{seed}{SUFFIX[family]}"
    path.write_bytes(data)
    return Case(seed, family, mutation.__name__, path)
