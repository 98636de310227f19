"""Colour control of a result: the content's colours kept under the result's luminance."""
from __future__ import annotations

import numpy as np
from nst_tf.tensorflow_quietly import tf  # started without its C++ log lines

from nst_tf.io.images import to_uint8


def original_colors(result: np.ndarray, content: np.ndarray) -> np.ndarray:
    """uint8 RGB (h, w, 3): Y (luminance) of `result`, I and Q (chroma) of `content` (same size,
    RGB 0..255); the luminance-only transfer of Gatys et al., "Preserving Color in Neural
    Artistic Style Transfer" (2016)."""
    result_yiq = tf.image.rgb_to_yiq(np.asarray(result, np.float32) / 255.0)
    content_yiq = tf.image.rgb_to_yiq(np.asarray(content, np.float32) / 255.0)
    mixed = tf.concat([result_yiq[..., :1], content_yiq[..., 1:]], axis=-1)
    rgb = tf.image.yiq_to_rgb(mixed).numpy() * 255.0
    return to_uint8(rgb)


def matched_colours(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """`source` (h, w, 3) RGB 0..255 with its colours' mean and covariance made `target`'s (any
    size): the linear colour transfer of Gatys et al., "Controlling Perceptual Factors in
    Neural Style Transfer" (2017), x -> A (x - mean_s) + mean_t with A = C_t^(1/2) C_s^(-1/2),
    the symmetric square roots (the 'image analogies' variant: no rotation of the colour
    space, unlike a Cholesky factor's), in RGB. Clipped to 0..255 (which moves the statistics
    slightly when the matched colours leave the range)."""
    def statistics(image):
        pixels = np.asarray(image, np.float64).reshape(-1, 3)
        return pixels.mean(axis=0), np.cov(pixels, rowvar=False)

    def power(covariance, exponent):
        values, vectors = np.linalg.eigh(covariance)
        values = np.maximum(values, 1e-6)  # a flat channel has no spread to match
        return (vectors * values ** exponent) @ vectors.T

    source_mean, source_cov = statistics(source)
    target_mean, target_cov = statistics(target)
    transform = power(target_cov, 0.5) @ power(source_cov, -0.5)
    pixels = np.asarray(source, np.float64).reshape(-1, 3) - source_mean
    matched = pixels @ transform.T + target_mean
    return np.clip(matched, 0.0, 255.0).reshape(np.shape(source)).astype(np.float32)
