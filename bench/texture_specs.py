"""The textures a texture benchmark names on its command line (--textures), read as pictures.

A spec is a path, `skimage:NAME` (a sample image of scikit-image's wheel, unpacked into
skimage_dir: grass, hubble_deep_field, immunohistochemistry, ...), `medium:NAME` (the right half
of NAME_in.* in $NST_TF_MEDIUM_EXAMPLES, the original's texture: for measuring only, those
photos may not be redistributed) or `crop:PATH:WIDTHxHEIGHT+LEFT+TOP` (a part of a photo as a
texture, named after the photo and the corner).
"""
import os
from pathlib import Path

from nst_tf.io.images import read_image


def texture_of(spec: str, skimage_dir: Path) -> tuple:
    """(name, RGB float32) of a --textures entry."""
    if spec.startswith("skimage:"):
        name = spec.split(":", 1)[1]
        path = next((Path(skimage_dir) / "skimage" / "data").glob(name + ".*"))
        return name, read_image(path)
    if spec.startswith("medium:"):
        name = spec.split(":", 1)[1]
        folder = Path(os.environ["NST_TF_MEDIUM_EXAMPLES"])
        pair = read_image(next(folder.glob(name + "_in.*")))
        return name, pair[:, pair.shape[1] // 2:]
    if spec.startswith("crop:"):
        _, path, box = spec.split(":")
        size, left, top = box.split("+")
        width, height = (int(v) for v in size.split("x"))
        left, top = int(left), int(top)
        return (f"{Path(path).stem}_{left}_{top}",
                read_image(path)[top:top + height, left:left + width])
    return Path(spec).stem, read_image(spec)
