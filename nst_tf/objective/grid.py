"""Where the tiles of an exact tiled evaluation lie: the receptive field of a layer, the halo a
tile needs, the cores that cover a picture, and which of a tile's positions are its core.

Every position of the picture belongs to exactly one core; a tile is its core plus a halo of at
least the deepest layer's receptive field, its origin on the deepest stride's grid so that the 2x2
poolings pair the same pixels in the tile as in the picture.

Seamless (an axis that wraps around): the picture is one period of a picture repeated without
end, and a tile's halo is cut from that repetition: it runs past the picture's edge into the
other side instead of being clipped there, so its origin may be negative and its end beyond the
picture (the tiled evaluation cuts it modulo the picture's size).
"""
from __future__ import annotations

import math
from typing import List, Sequence, Tuple

from nst_tf.limits import TILE_GRID_PX
from nst_tf.network.layers import VGG19_LAYERS


def footprint(layer: str, network_layers: Sequence[str] = VGG19_LAYERS) -> Tuple[int, int, int]:
    """(stride, lo, hi) of a layer of the network whose layers, input to output, are
    `network_layers` (VGG19's by default): position p sees input pixels [p*stride+lo, p*stride+hi].

    'same' 3x3 convolutions widen the field by one position each side; 2x2 poolings double the
    stride and add one position on the right.
    """
    stride, lo, hi = 1, 0, 0
    for name in network_layers:
        if name.endswith("pool"):
            hi += stride
            stride *= 2
        else:
            lo, hi = lo - stride, hi + stride
        if name == layer:
            return stride, lo, hi
    raise ValueError(f"unknown layer {layer!r}")


def halo(layers: Sequence[str], network_layers: Sequence[str] = VGG19_LAYERS) -> int:
    """Pixels of context a tile needs on every side so that `layers` are exact at its core.

    A multiple of the deepest stride, so that a tile's origin (core start minus halo) stays on
    every layer's grid when core starts do.
    """
    need = 0
    for layer in layers:
        stride, lo, hi = footprint(layer, network_layers)
        need = max(need, -lo, hi - (stride - 1))
    grid = stride_grid(layers, network_layers)
    return int(math.ceil(need / grid) * grid)


def stride_grid(layers: Sequence[str], network_layers: Sequence[str] = VGG19_LAYERS) -> int:
    """The deepest stride of `layers`: a tile starting on a multiple of it pairs the same pixels
    in every pooling as the picture does."""
    return max([1] + [footprint(layer, network_layers)[0] for layer in layers])


# Cores are balanced for tiles of at least this many halos (the full-size tiles: 1024 px against
# the colour branch's 96, 512 against the gray branch's 12); below, balancing would need more
# pieces to keep the edge cores within the tile.
BALANCED_TILE_HALOS = 8


def balances(tile: int, halo_px: int) -> bool:
    """Whether cores of at most `tile` are balanced for `halo_px` (core_spans) and their tiles
    made one length (tiling)."""
    return tile >= BALANCED_TILE_HALOS * halo_px


def core_spans(length: int, tile: int, halo_px: int = 0) -> List[Tuple[int, int]]:
    """[start, stop) cores covering 0..length, each at most `tile` long (give or take the grid),
    every start on the TILE_GRID_PX grid (the deepest stride), so halos line up with every layer.

    The cores are balanced for tiles of `halo_px`: a tile is its core plus the halo on each side,
    clipped at the picture's edges, so the two edge cores are one halo longer than the inner ones
    and every tile has the same length (with halo 0: equal cores). The largest tile, which sets
    an evaluation's memory, is then as small as the cores allow, and the compiled steps see one
    shape (docs/measurements/2026-12-full-resolution.md).
    """
    pieces = max(1, math.ceil(length / tile))
    if not balances(tile, halo_px):
        halo_px = 0  # a tile of a few halos: equal cores (balancing would add tiles)
    elif pieces > 1:  # edge cores (inner + halo) no longer than `tile`
        pieces = max(pieces, math.ceil((length - 2 * halo_px) / (tile - halo_px)))
    if pieces == 1 or length - 2 * halo_px < pieces * TILE_GRID_PX:
        halo_px = 0  # too short to balance: equal cores
    inner = (length - 2 * halo_px) / pieces
    edges = [0] + [int(round((halo_px + k * inner) / TILE_GRID_PX)) * TILE_GRID_PX
                   for k in range(1, pieces)] + [length]
    return [(a, b) for a, b in zip(edges[:-1], edges[1:]) if b > a]


def tile_span(core: Tuple[int, int], length: int, want: int, halo_px: int,
              grid: int = TILE_GRID_PX) -> Tuple[int, int]:
    """[start, stop) of a tile along one axis of `length`: its core [a, b) plus at least `halo_px`
    each side (clipped at the picture's edges), made `want` long (the longest such tile of the
    axis) wherever the picture allows, so that the grid's rounding of the cores leaves one tile
    shape; the extra context is exact, as any context beyond the halo is. A tile shifted back from
    the far edge starts on the branch's stride `grid` (stride_grid) like every other."""
    if want >= length:
        return 0, length
    want += (length - want) % grid  # so that a tile ending at the far edge starts on the grid
    start = max(0, core[0] - halo_px)
    if start + want <= length:
        return start, start + want
    return min(start, max(0, (length - want) // grid * grid)), length


Core = Tuple[int, int, int, int]  # (top, bottom, left, right) pixels
Tile = Tuple[Core, Tuple[int, int], Core]  # (core, origin (top, left), tile bounds)


def tiling(size: Tuple[int, int], tile: int, halo_px: int, grid: int,
           wrap: Tuple[bool, bool] = (False, False)) -> List[Tile]:
    """The tiles of one branch over a picture of `size` (height, width), row by row: each core
    (core_spans, balanced for `halo_px`), its tile's origin and bounds (tile_span). wrap:
    (rows, columns), the axes that wrap around: there the cores are equal (no tile is clipped,
    so none needs balancing) and every tile is its core and a whole halo each side, reaching
    past the picture's edges (bounds below 0 or beyond the size)."""
    axes = []
    for length, wraps in zip(size, wrap):
        if wraps:
            cores = core_spans(length, tile, 0)
            axes.append([(core, (core[0] - halo_px, core[1] + halo_px)) for core in cores])
            continue
        cores = core_spans(length, tile, halo_px)
        spans = [(max(0, a - halo_px), min(length, b + halo_px)) for a, b in cores]
        if balances(tile, halo_px):  # balanced cores: one length, give or take
            want = max(stop - start for start, stop in spans)  # the grid
            spans = [tile_span(core, length, want, halo_px, grid) for core in cores]
        # (Equal cores of a few halos keep their own tiles: one length would grow the edge ones
        # by up to a halo.)
        axes.append(list(zip(cores, spans)))
    return [((top, bottom, left, right), (rows[0], columns[0]),
             (rows[0], rows[1], columns[0], columns[1]))
            for (top, bottom), rows in axes[0] for (left, right), columns in axes[1]]


def cores(size: Tuple[int, int], tile: int, layers: Sequence[str],
          network_layers: Sequence[str] = VGG19_LAYERS,
          wrap: Tuple[bool, bool] = (False, False)) -> List[Core]:
    """The cores of the branch that evaluates `layers` over a picture of `size` (height,
    width) in tiles of at most `tile`: where a run at global statistics cuts the picture (the
    web page draws them over the live picture); wrap: seamless's axes (tiling)."""
    return [core for core, _, _ in tiling(size, tile, halo(layers, network_layers),
                                          stride_grid(layers, network_layers), wrap)]


def wrapped_runs(start: int, stop: int, length: int) -> List[Tuple[int, int, int]]:
    """The positions start..stop-1 of an axis of `length` repeated without end, as runs that do
    not cross the picture's edge: [(offset from start, first position in the picture, count)].
    In the picture (0 <= start, stop <= length): one run."""
    runs, position = [], start
    while position < stop:
        first = position % length
        count = min(stop - position, length - first)
        runs.append((position - start, first, count))
        position += count
    return runs


def _core_bounds(origin, core, stride: int):
    """(top, bottom, left, right) of a tile's core positions at a layer of `stride`, in the tile's
    feature indices: a position p belongs to the core [a, b) when a <= p * stride and
    p < b // stride, so every position of the picture belongs to exactly one core."""
    return ((core[0] - origin[0]) // stride, core[1] // stride - origin[0] // stride,
            (core[2] - origin[1]) // stride, core[3] // stride - origin[1] // stride)


def core_slice(features, origin, core, stride: int):
    """The core positions of a tile's features (1, h, w, c) at a layer of `stride`.

    origin: (top, left) pixel of the tile in the picture; core: (top, bottom, left, right) pixels.
    """
    top, bottom, left, right = _core_bounds(origin, core, stride)
    return features[:, top:bottom, left:right, :]


def core_mask(features, origin, core, stride: int):
    """(1, h, w, 1): 1 at the core positions of a tile's features (those core_slice keeps), 0 on
    the halo. A loss over the core written as a masked sum over the whole tile needs no copy of
    the core going forward and no padding back to the tile's shape coming back: on a 792 px gray
    tile that took the gray step from 3.71 to 2.80 s."""
    top, bottom, left, right = _core_bounds(origin, core, stride)
    import tensorflow as tf  # here: the tiles' geometry above is read without TensorFlow
    shape = tf.shape(features)
    rows, columns = tf.range(shape[1]), tf.range(shape[2])
    in_rows = tf.cast((rows >= top) & (rows < bottom), features.dtype)
    in_columns = tf.cast((columns >= left) & (columns < right), features.dtype)
    return in_rows[None, :, None, None] * in_columns[None, None, :, None]
