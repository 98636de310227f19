"""Everything a transfer reads, read and checked before TensorFlow starts.

A run's checks (run/request.py's prepare(), before TensorFlow starts, about 5 s, and the network)
read the photos, masks and weights file here, so a wrong path, a broken photo or a bad weights
file is answered at once; the run's plan (an impossible split) is checked there. This module
knows files, not runs: it imports nothing from run/, and nothing here imports TensorFlow.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Optional, Sequence, Tuple, Union

import numpy as np

from nst_tf.config import INIT_KINDS, TransferConfig
from nst_tf.errors import NSTError
from nst_tf.io.masks import check_aspect, described, region_masks, texture_region_masks
from nst_tf.io.images import image_from, read_image
from nst_tf.network.weights import resolve_weights

ImageLike = Union[str, os.PathLike, bytes, np.ndarray]  # or a PIL image



def as_image(image: ImageLike, name: str = "image") -> np.ndarray:
    """A path, the file's bytes, an array or a PIL image -> float32 RGB (h, w, 3) 0..255
    (nst_tf.io.images.image_from)."""
    return image_from(image, name)


@dataclasses.dataclass(frozen=True)
class Inputs:
    """A transfer's inputs, read and checked: content and textures as float32 RGB (each texture at
    its own size), the start image when `init` is a path, and the weights file (None: random).

    Modes without one of the photos get a stand-in that no part uses: synthesis a black content
    of the output's size (--size, else the content's if given, else the texture's), content
    reconstruction the content as its texture. region_masks: spatial control's masks, one per
    texture at the mask's own size (None: no spatial control); texture_masks: per texture None
    or the part of it that its statistics come from (None: none has one).
    """

    content: np.ndarray
    textures: Tuple[np.ndarray, ...]
    init: Optional[np.ndarray]
    weights_path: Optional[str]
    region_masks: Optional[list] = None
    texture_masks: Optional[list] = None

    @property
    def texture(self) -> np.ndarray:
        """The first (usually only) texture."""
        return self.textures[0]


TextureArg = Union[ImageLike, Sequence[ImageLike], None]


def as_texture_list(texture: TextureArg) -> list:
    """One texture (a path, an array, a batch), a list of them, or None: always a list."""
    if texture is None:
        return []
    if isinstance(texture, (list, tuple)):
        return list(texture)
    return [texture]


def read_inputs(content: Optional[ImageLike], texture: TextureArg,
                config: TransferConfig, download: bool = False, content_mask=None,
                texture_masks=None) -> Inputs:
    """Reads and checks every input of a transfer; raises NSTError with one line on the first
    problem. texture: one photo or a list (blended by config.texture_blend); synthesis needs no
    content, reconstruction no texture. The weights file's index is checked, or Keras' file
    found ('imagenet'). download: fetch Keras' file when no verified copy is here (80 MB; the
    command line and TextureTransfer ask for it); by default it only looks, and a missing file
    is an NSTError saying how to get it, so a caller's checks touch nothing but local files. content_mask, texture_masks: arrays or paths that replace
    config.content_mask and config.texture_masks (a Python caller's masks)."""
    textures = as_texture_list(texture)
    if content is None and config.mode != "synthesize":
        raise NSTError(f"mode {config.mode} needs a content photo (--content)")
    if not textures and config.mode != "reconstruct":
        raise NSTError(f"mode {config.mode} needs a texture photo (--texture)")
    if config.texture_blend and len(config.texture_blend) != max(1, len(textures)):
        raise NSTError(f"texture_blend has {len(config.texture_blend)} weights for "
                       f"{len(textures)} textures; give one per texture")
    textures = tuple(as_image(t, "texture") for t in textures)
    content = None if content is None else as_image(content, "content")
    if config.mode == "synthesize":
        width, height = config.size
        if not width:
            height, width = (content if content is not None else textures[0]).shape[:2]
        content = np.zeros((height, width, 3), np.float32)
    textures = textures or (content,)
    init = None
    if config.init not in INIT_KINDS:
        init = read_image(config.init)
        if init.shape != content.shape:
            raise NSTError(f"{config.init}: init image is {init.shape[1]}x{init.shape[0]}, the "
                           f"content is {content.shape[1]}x{content.shape[0]}; they must match")
    if config.color_transfer == "histogram" and config.mode == "synthesize":
        raise NSTError("color_transfer histogram matches the texture's colours to the "
                       "content's; synthesis has no content")
    mask = config.content_mask if content_mask is None else content_mask
    regions = region_masks(mask, len(textures), config.region_colors)
    if regions is not None:
        check_aspect(regions[0].shape, content.shape, described(mask, "content_mask"))
    if regions is not None and config.mode == "reconstruct":
        raise NSTError("content_mask places textures; mode reconstruct has none")
    texture_masks = config.texture_masks if texture_masks is None else texture_masks
    by_texture = texture_region_masks(texture_masks, len(textures))
    for index, (given, found) in enumerate(zip(texture_masks or (), by_texture or ())):
        if found is not None:
            check_aspect(found.shape, textures[index].shape, described(given, "texture_mask"),
                         "its texture")
    if by_texture is not None and regions is None:
        if len(textures) > 1:
            raise NSTError("texture_masks with several textures needs --content_mask: the "
                           "region each texture goes to")
        regions = [np.ones(content.shape[:2], np.float32)]  # one region: the whole picture
    return Inputs(content, textures, init, resolve_weights(
        config.weights, allow_download=download, network=config.network), regions, by_texture)
