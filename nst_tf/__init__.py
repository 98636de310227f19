"""nst_tf: Neural Texture Transfer in TensorFlow/Keras.

    import nst_tf
    result = nst_tf.transfer("cat.jpg", "cracks.jpg", nst_tf.TransferConfig(iterations=200))

`result` is a uint8 RGB array. TextureTransfer gives step-by-step control (callbacks, the image
so far after an interrupt).
"""
from __future__ import annotations

from typing import Optional

import numpy as np

from nst_tf.config import TransferConfig, parse_split
from nst_tf.errors import NSTError
from nst_tf.optimize import Callback, StepReport
from nst_tf.run import ImageLike, TextureTransfer, as_image

__all__ = ["TransferConfig", "TextureTransfer", "StepReport", "NSTError", "transfer",
           "parse_split", "as_image"]


def transfer(content: ImageLike, texture: ImageLike, config: Optional[TransferConfig] = None,
             callback: Optional[Callback] = None) -> np.ndarray:
    """Puts the texture of `texture` into `content`; returns uint8 RGB of size
    (rows * tile_height, columns * tile_width, 3) (at --max_dim 0: the content's size)."""
    return TextureTransfer(content, texture, config).run(callback)
