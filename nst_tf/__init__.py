"""nst_tf: Neural Texture Transfer in TensorFlow/Keras.

    import nst_tf
    result = nst_tf.transfer("cat.jpg", "cracks.jpg", nst_tf.TransferConfig(iterations=200))

`result` is a uint8 RGB array. TextureTransfer gives step-by-step control (callbacks, the image
so far after an interrupt).

Importing the package does not start TensorFlow: the names that need it load on first use, so
the configuration and the input checks (nst_tf.io.inputs) answer in a fraction of a second.
"""
from __future__ import annotations

import importlib

from nst_tf.config import TransferConfig
from nst_tf.fields import parse_split
from nst_tf.errors import NSTError, NonFiniteLoss
from nst_tf.io.inputs import as_image, load_inputs
from nst_tf.steps import Callback, StepReport

__all__ = ["TransferConfig", "TextureTransfer", "StepReport", "Callback", "NSTError", "NonFiniteLoss",
           "transfer", "parse_split", "as_image", "load_inputs"]

# name -> the module that defines it, imported (with TensorFlow) when the name is first used.
_LAZY = {"TextureTransfer": "nst_tf.run.texture_transfer"}


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'nst_tf' has no attribute {name!r}")


def transfer(content, texture, config: TransferConfig = None, callback=None,
             content_mask=None, texture_masks=None):
    """Puts the texture of `texture` into `content` (config.mode: or makes a style transfer, a
    synthesis, a reconstruction); returns uint8 RGB of size (rows * tile_height,
    columns * tile_width, 3) (at --max_dim 0: the content's size). content: a path or an array
    (None for synthesis); texture: one, a list of them (blended by config.texture_blend), or
    None for reconstruction. callback(StepReport) follows each step. content_mask,
    texture_masks: spatial control (arrays or paths; see TransferConfig.content_mask)."""
    from nst_tf.run.texture_transfer import TextureTransfer
    return TextureTransfer(content, texture, config, content_mask=content_mask,
                           texture_masks=texture_masks).run(callback)
