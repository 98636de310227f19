"""Labelled contact sheets: images side by side at one height, each with a caption above."""
from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from nst_tf.io.images import to_uint8

CAPTION_PX = 28
GAP_PX = 8


def contact_sheet(panels: Sequence[Tuple[str, np.ndarray]], height: int = 320) -> np.ndarray:
    """[(caption, RGB image)] -> one uint8 RGB image: the panels at `height` px, left to right."""
    font = ImageFont.load_default(size=18)
    scaled = []
    for caption, image in panels:
        picture = Image.fromarray(to_uint8(image))
        width = max(1, round(picture.width * height / picture.height))
        scaled.append((caption, picture.resize((width, height), Image.BILINEAR)))
    total_width = sum(p.width for _, p in scaled) + GAP_PX * (len(scaled) + 1)
    sheet = Image.new("RGB", (total_width, height + CAPTION_PX + 2 * GAP_PX), "white")
    draw = ImageDraw.Draw(sheet)
    left = GAP_PX
    for caption, picture in scaled:
        draw.text((left, GAP_PX // 2), caption, fill="black", font=font)
        sheet.paste(picture, (left, CAPTION_PX + GAP_PX))
        left += picture.width + GAP_PX
    return np.asarray(sheet)


def photo_panels(mode: str, content, textures) -> list:
    """[(caption, image)]: the photos a mode used, for a contact sheet before its result
    (synthesis has no content, reconstruction no texture; several textures are numbered)."""
    name = "style" if mode == "style" else "texture"
    panels = [] if mode == "synthesize" else [("content", content)]
    if mode != "reconstruct":
        many = len(textures) > 1
        panels += [(f"{name} {i + 1}" if many else name, t) for i, t in enumerate(textures)]
    return panels


def repeated(image: np.ndarray, times: Tuple[int, int] = (2, 2)) -> np.ndarray:
    """The picture repeated `times` (rows, columns): how a seamless tile looks laid edge to
    edge; its seams, if any, show where the copies meet."""
    return np.tile(np.asarray(image), (times[0], times[1], 1))


def seamless_panels(seamless: str, result) -> list:
    """[(caption, image)] after the result on a contact sheet: with seamless on ('xy', 'x' or
    'y'), the result repeated 2x2, so the edges that were made to meet can be checked (with
    'x' or 'y' the other edges show their seam); off: nothing."""
    return [] if seamless == "off" else [("repeated 2x2", repeated(result))]
