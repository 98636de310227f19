"""Cutting an image into the original's tiles and putting them back.

A tile batch is (n_tiles, tile_height, tile_width, 3), tiles in row-major order (left to right,
then down). No TensorFlow here.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import numpy as np

from nst_tf.limits import MIN_TILE_PX
from nst_tf.errors import NSTError
from nst_tf.io.images import resize


def tile_bounds(length: int, pieces: int) -> List[Tuple[int, int]]:
    """[start, stop) of `pieces` near-equal spans covering 0..length, none lost.

    Spans differ by at most one pixel; when `pieces` divides `length` they are exactly the
    original's equal tiles.
    """
    edges = [(k * length) // pieces for k in range(pieces + 1)]
    return list(zip(edges[:-1], edges[1:]))


def split_tiles(image: np.ndarray, split: Tuple[int, int]) -> List[np.ndarray]:
    """Cuts (h, w, c) into split=(columns, rows) tiles, row-major; every pixel lands in one tile."""
    columns, rows = split
    height, width = image.shape[:2]
    return [image[top:bottom, left:right]
            for top, bottom in tile_bounds(height, rows)
            for left, right in tile_bounds(width, columns)]


def join_tiles(tiles: Sequence[np.ndarray], split: Tuple[int, int]) -> np.ndarray:
    """Inverse of split_tiles: tiles in row-major order back into one image."""
    columns, rows = split
    if len(tiles) != columns * rows:
        raise ValueError(f"{len(tiles)} tiles do not fill a {columns}x{rows} grid")
    return np.concatenate([np.concatenate(list(tiles[r * columns:(r + 1) * columns]), axis=1)
                           for r in range(rows)], axis=0)


def tile_size(image_size: Tuple[int, int], split: Tuple[int, int], max_dim: int) -> Tuple[int, int]:
    """(height, width) of every resized tile: the nominal tile scaled so its longer side is max_dim
    (max_dim 0: the nominal tile, unscaled)."""
    height, width = image_size
    columns, rows = split
    nominal_height, nominal_width = height / rows, width / columns
    if (columns, rows) == (1, 1) and min(height, width) < MIN_TILE_PX:  # no split asked for
        raise NSTError(f"the content photo is {width}x{height} px; it must be at least "
                       f"{MIN_TILE_PX} px on each side")
    if min(height // rows, width // columns) < MIN_TILE_PX:
        raise NSTError(f"split {columns}x{rows} of a {width}x{height} image leaves tiles of "
                       f"{width // columns}x{height // rows} px; tiles need at least {MIN_TILE_PX} px a side")
    scale = max_dim / max(nominal_height, nominal_width) if max_dim else 1.0
    size = (int(round(nominal_height * scale)), int(round(nominal_width * scale)))
    if min(size) < MIN_TILE_PX:
        raise NSTError(f"max_dim {max_dim} makes tiles of {size[1]}x{size[0]} px; "
                       f"tiles need at least {MIN_TILE_PX} px a side")
    return size


def to_tile_batch(image: np.ndarray, split: Tuple[int, int], size: Tuple[int, int],
                  wrap: Tuple[bool, bool] = (False, False)) -> np.ndarray:
    """Cuts an image into tiles and resizes each to `size`: (n_tiles, height, width, 3). wrap:
    the axes on which a tile (split 1x1: seamless) wraps around (images.periodic_resize)."""
    return np.stack([resize(tile, size, wrap=wrap) for tile in split_tiles(image, split)])


def from_tile_batch(tiles: np.ndarray, split: Tuple[int, int]) -> np.ndarray:
    """(n_tiles, h, w, c) in row-major order -> one (rows*h, columns*w, c) image."""
    return join_tiles(list(tiles), split)
