"""Colour control of a result: the content's colours kept under the result's luminance."""
from __future__ import annotations

import numpy as np
import tensorflow as tf


def original_colors(result: np.ndarray, content: np.ndarray) -> np.ndarray:
    """uint8 RGB (h, w, 3): Y (luminance) of `result`, I and Q (chroma) of `content` (same size,
    RGB 0..255); the luminance-only transfer of Gatys et al., "Preserving Color in Neural
    Artistic Style Transfer" (2016)."""
    result_yiq = tf.image.rgb_to_yiq(np.asarray(result, np.float32) / 255.0)
    content_yiq = tf.image.rgb_to_yiq(np.asarray(content, np.float32) / 255.0)
    mixed = tf.concat([result_yiq[..., :1], content_yiq[..., 1:]], axis=-1)
    rgb = tf.image.yiq_to_rgb(mixed).numpy() * 255.0
    return np.round(np.clip(rgb, 0, 255)).astype(np.uint8)
