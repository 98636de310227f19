"""Spatial control's masks, read and checked before TensorFlow starts: where each texture goes
in the content, and which part of each texture photo its statistics come from.

A mask here is float32 (H, W) in [0, 1]. A gray mask says how much of the texture a place takes
(white 1: the texture as without a mask; black 0: the content kept, the texture terms do not act
there; between: blended). With several textures, the content's mask is a label image: each
texture's region is the pixels of its colour (`region_colors`, in the textures' order; black is
"no texture" unless it is listed), and its border is made soft by the resizing to the picture.
Label images should be PNG: a JPEG's artefacts change the colours (a pixel within 8 levels of a
listed colour on every channel counts as it).
"""
from __future__ import annotations

import os
import re
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np

from nst_tf.config import NO_MASK
from nst_tf.errors import NSTError
from nst_tf.io.images import image_from, resize, to_rgb

MaskLike = Union[str, os.PathLike, bytes, np.ndarray]  # or a PIL image

# How far (levels, per channel) a label pixel may be from its colour: JPEG-safe-ish, and far
# below the distance between colours anyone would pick for regions.
LABEL_TOLERANCE = 8.0


def parse_colour(text: str) -> Tuple[int, int, int]:
    """'#ff8000' or 'ff8000' -> (255, 128, 0)."""
    match = re.fullmatch(r"#?([0-9a-fA-F]{6})", text.strip())
    if not match:
        raise NSTError(f"region colour {text!r} is not a colour like #ff0000")
    value = match.group(1)
    return tuple(int(value[i:i + 2], 16) for i in (0, 2, 4))


def _rgb(mask: MaskLike, name: str) -> np.ndarray:
    if isinstance(mask, np.ndarray):
        array = np.asarray(mask, np.float32)
        if array.ndim == 2 or array.ndim == 3 and array.shape[-1] == 1:
            # A Python caller's gray mask in [0, 1] (or 0..255 when any value exceeds 1).
            gray = array.reshape(array.shape[:2])
            scale = 255.0 if gray.max() > 1.0 else 1.0
            return np.repeat((gray * (255.0 / scale))[..., None], 3, axis=-1)
        return to_rgb(array, name)
    return image_from(mask, name)


def at_size(mask: np.ndarray, size: Tuple[int, int],
            wrap: Tuple[bool, bool] = (False, False)) -> np.ndarray:
    """A mask (h, w) resized to `size` (h, w), as the photos are (bilinear, antialiased):
    binary labels get soft borders. A mask of one value keeps it exactly. wrap: the axes that
    wrap around (a seamless picture's mask; images.periodic_resize). Starts TensorFlow."""
    if tuple(mask.shape) == tuple(size):
        return mask
    if np.all(mask == mask.flat[0]):
        return np.full(size, mask.flat[0], np.float32)
    return np.clip(resize(mask[..., None], size, antialias=True, wrap=wrap)[..., 0], 0.0, 1.0)


def gray_mask(mask: MaskLike, name: str = "content_mask") -> np.ndarray:
    """A mask as gray in [0, 1] at its own size (h, w)."""
    return (_rgb(mask, name).mean(axis=-1) / 255.0).astype(np.float32)


def label_masks(mask: MaskLike, colours: Sequence[str],
                name: str = "content_mask") -> List[np.ndarray]:
    """One mask per colour from a label image, at its own size: 1 where the label is its colour.
    Every colour of the image must be listed (black may stay unlisted: no texture there), and
    every listed colour must be found."""
    rgb = _rgb(mask, name)
    wanted = [np.array(parse_colour(c), np.float32) for c in colours]
    regions, claimed = [], np.zeros(rgb.shape[:2], bool)
    for colour, text in zip(wanted, colours):
        region = np.all(np.abs(rgb - colour) <= LABEL_TOLERANCE, axis=-1)
        if not region.any():
            raise NSTError(f"{described(mask, name)}: region colour {text} is not in the label "
                           "image")
        regions.append(region)
        claimed |= region
    black = np.all(rgb <= LABEL_TOLERANCE, axis=-1)
    unclaimed = ~claimed & ~black
    if unclaimed.any():
        row, column = np.argwhere(unclaimed)[0]
        found = "#" + "".join(f"{int(round(v)):02x}" for v in rgb[row, column])
        raise NSTError(f"{described(mask, name)}: label colour {found} (at x={column}, "
                       f"y={row}) has no texture; list it in --region_colors or paint it black")
    return [region.astype(np.float32) for region in regions]


def described(mask: MaskLike, name: str) -> str:
    """A mask as messages name it: its path, else `name`."""
    return str(mask) if isinstance(mask, (str, os.PathLike)) else name


# How far a mask's aspect may be from its photo's: a mask drawn at another size of the same
# photo differs by its rounding to whole pixels (under 1% from 100 px a side); more is another
# shape, which stretching to the photo would distort.
ASPECT_TOLERANCE = 0.02


def check_aspect(mask_shape, image_shape, name: str, what: str = "the content") -> None:
    """NSTError with one line when a mask of (height, width) `mask_shape` has another shape than
    the image it goes with (it is resized to that image, not cropped)."""
    (mask_height, mask_width), (height, width) = mask_shape[:2], image_shape[:2]
    ratio = (mask_width / mask_height) / (width / height)
    if abs(ratio - 1) > ASPECT_TOLERANCE:
        raise NSTError(f"{name} is {mask_width}x{mask_height} and {what} {width}x{height}: "
                       f"another shape (aspect {mask_width / mask_height:.2f} against "
                       f"{width / height:.2f}); a mask is stretched to its photo, so draw it "
                       "at the photo's shape")


def region_masks(content_mask: Optional[MaskLike], textures: int,
                 region_colors: Sequence[str]) -> Optional[List[np.ndarray]]:
    """The content's regions, one mask per texture at the mask's own size (at_size carries them
    to the picture), or None for no spatial control: no mask, or a gray mask of 1 everywhere
    (the same as none, byte for byte). No TensorFlow: the command line checks masks first."""
    if content_mask is None:
        if region_colors:
            raise NSTError("region_colors needs a label image (--content_mask)")
        return None
    if region_colors:
        if len(region_colors) != textures:
            raise NSTError(f"region_colors has {len(region_colors)} colours for {textures} "
                           "textures; give one per texture")
        masks = label_masks(content_mask, region_colors)
    elif textures > 1:
        raise NSTError(f"{textures} textures and one gray content_mask: give --region_colors, "
                       "one label colour per texture")
    else:
        masks = [gray_mask(content_mask)]
    for index, mask in enumerate(masks):
        if not mask.any():
            which = f"region {region_colors[index]}" if region_colors else "the mask"
            raise NSTError(f"{described(content_mask, 'content_mask')}: {which} is all black: "
                           "no place takes the texture")
    if len(masks) == 1 and np.all(masks[0] == 1.0):
        return None
    return masks


def texture_region_masks(texture_masks: Sequence[Optional[MaskLike]],
                         textures: int) -> Optional[List]:
    """Per texture, None or its gray mask at its own size; None when no texture has one. An
    entry 'none' (or None) leaves that texture unmasked."""
    if not texture_masks:
        return None
    if len(texture_masks) != textures:
        raise NSTError(f"texture_masks has {len(texture_masks)} masks for {textures} "
                       "textures; give one per texture ('none' for a texture without one)")
    masks = []
    for mask in texture_masks:
        if mask is None or isinstance(mask, str) and mask.strip().lower() in NO_MASK:
            masks.append(None)
            continue
        gray = gray_mask(mask, "texture_mask")
        if not gray.any():
            raise NSTError(f"{described(mask, 'texture_mask')}: all black: no part of the "
                           "texture to take statistics from")
        masks.append(gray)
    return masks if any(m is not None for m in masks) else None
