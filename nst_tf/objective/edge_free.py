"""A seamless picture's texture statistics: taken only at the texture's positions that see no
edge.

A picture that wraps around has no edge, so no position of it sees one. Its targets should not
either: a texture's positions near its edges see the network's zero padding (a frame no
wrapped picture has) or, mirror-extended, mirror images of the texture; a picture without edges
spreads what those positions see over all of itself (the synthesis copied the mirror seams and
stayed farther from the texture than one without seamless: docs/measurements/2026-12-seamless.md).
So on a wrapped axis each layer's statistics come from the positions whose whole receptive field
lies inside the texture; elsewhere from every position, as without seamless.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple

import numpy as np

from nst_tf.io.images import mirror_fit
from nst_tf.network.layers import VGG19_LAYERS
from nst_tf.objective.grid import footprint

# Each layer keeps at least this many edge-free positions along a wrapped axis: a texture too
# short for that is mirror-extended to the length that gives them (minimum_length).
EDGE_FREE_POSITIONS = 4


def inner_span(length: int, layer: str,
               network_layers: Sequence[str] = VGG19_LAYERS) -> Tuple[int, int]:
    """[first, stop) of the positions of `layer` along an axis of `length` px whose receptive
    field (grid.footprint) lies inside the axis: position p sees pixels [p s + lo, p s + hi]."""
    stride, lo, hi = footprint(layer, network_layers)
    first = math.ceil(-lo / stride)
    stop = min(length // stride, (length - 1 - hi) // stride + 1)
    return first, max(first, stop)


def minimum_length(layers: Sequence[str], network_layers: Sequence[str] = VGG19_LAYERS) -> int:
    """The shortest axis on which every layer of `layers` has EDGE_FREE_POSITIONS edge-free
    positions."""
    need = 1
    for layer in layers:
        stride, lo, hi = footprint(layer, network_layers)
        need = max(need, (EDGE_FREE_POSITIONS - 1 + math.ceil(-lo / stride)) * stride + hi + 1)
    return need


def extended(texture: np.ndarray, wrap: Tuple[bool, bool], layers: Sequence[str],
             network_layers: Sequence[str] = VGG19_LAYERS) -> np.ndarray:
    """A texture (h, w, c) (or a batch (n, h, w, c)) mirror-extended at its bottom and right to
    minimum_length on the wrapped axes it is shorter on; as it is otherwise (no copy)."""
    texture = np.asarray(texture)
    height, width = texture.shape[-3:-1]
    need = minimum_length(layers, network_layers)
    size = (max(height, need) if wrap[0] else height, max(width, need) if wrap[1] else width)
    if size == (height, width):
        return texture
    if texture.ndim == 3:
        return mirror_fit(texture, size)
    return np.stack([mirror_fit(entry, size) for entry in texture])


def edge_free_weights(size: Tuple[int, int], wrap: Tuple[bool, bool], layers: Sequence[str],
                      network_layers: Sequence[str] = VGG19_LAYERS) -> List[np.ndarray]:
    """Per layer of `layers`, (1, h/s, w/s, 1) float32 over the positions of a texture of
    `size` (height, width): 1 where the statistics are taken (inside inner_span on a wrapped
    axis, everywhere on the other), 0 elsewhere."""
    weights = []
    for layer in layers:
        stride = footprint(layer, network_layers)[0]
        weight = np.zeros((1, size[0] // stride, size[1] // stride, 1), np.float32)
        rows, columns = ((inner_span(length, layer, network_layers) if wraps
                          else (0, length // stride)) for length, wraps in zip(size, wrap))
        weight[:, rows[0]:rows[1], columns[0]:columns[1]] = 1.0
        weights.append(weight)
    return weights


def with_edge_free(weights: Optional[List], size: Tuple[int, int], wrap: Tuple[bool, bool],
                   layers: Sequence[str], network_layers: Sequence[str] = VGG19_LAYERS):
    """A texture's per-layer position weights (None: every position counts; or per layer None
    or an array broadcasting against edge_free_weights') times its edge-free weights where an
    axis wraps; `weights` as they are where none does."""
    if not any(wrap):
        return weights
    edge_free = edge_free_weights(size, wrap, layers, network_layers)
    if weights is None:
        return edge_free
    return [e if w is None else w * e for w, e in zip(weights, edge_free)]


def statistics_crop(photo: np.ndarray, size: Tuple[int, int], wrap: Tuple[bool, bool],
                    minimum: int) -> np.ndarray:
    """The piece of a texture photo a seamless synthesis of `size` takes its statistics from.
    On an axis that does not wrap, the picture's own piece (mirror_fit, as without seamless).
    On a wrapped axis, the photo cropped to the picture's length (as without seamless, so that
    both are made from the same part of the photo), or to `minimum` (minimum_length) where
    that is longer: more of the photo where it has it. Never extended there: a photo shorter
    than the picture is used as it is, as its mirror-extension to the picture's size (the rule
    without seamless) would put mirror seams into the statistics of a picture that has none;
    one shorter than `minimum` is mirror-extended to it by `extended`, after any texture
    scale."""
    rows, columns = (min(photo_length, max(length, minimum)) if wraps else length
                     for length, photo_length, wraps in zip(size, photo.shape[:2], wrap))
    return mirror_fit(photo, (rows, columns))
