"""The plan of a run's resolution levels, coarsest first, and the steps at each: pure functions
of the settings and sizes (no network, no TensorFlow).
"""
from __future__ import annotations

import dataclasses
from typing import List, Sequence, Tuple

from nst_tf.config import TransferConfig
from nst_tf.limits import MIN_TILE_PX, ORIGINAL_TILE_PX, TILE_GRID_PX
from nst_tf.errors import NSTError
from nst_tf.io.tiles import tile_size
from nst_tf.network.layers import NETWORK_LAYERS
from nst_tf.objective.grid import cores as grid_cores

Size = Tuple[int, int]  # (height, width)


@dataclasses.dataclass(frozen=True)
class LevelPlan:
    """sizes: the optimised batch entry's (height, width) at each level, coarsest first; steps:
    the steps (or evaluations) at each."""

    sizes: List[Size]
    steps: List[int]

    def __len__(self) -> int:
        return len(self.sizes)


@dataclasses.dataclass(frozen=True)
class RunPlan(LevelPlan):
    """What a run makes, known before TensorFlow starts (run_plan): the levels' sizes and steps
    (LevelPlan), the result's `output` (width, height), the `tile` of the split at max_dim
    (height, width), and the steps each level reports (`reported`: with per-tile statistics
    only the last level's; coarse levels report nothing)."""

    output: Tuple[int, int] = (0, 0)
    tile: Size = (0, 0)
    reported: Tuple[int, ...] = ()
    # Global statistics on a picture longer than config.tile_size: every level is evaluated in
    # tiles (objective/tiled.py), and `cores` are where the full-size level's content branch
    # cuts it, [(top, bottom, left, right)] (the texture branch's are half as long); () in one piece.
    tiled: bool = False
    cores: Tuple[Tuple[int, int, int, int], ...] = ()


def run_plan(content_size: Size, config: TransferConfig) -> RunPlan:
    """The plan of a run on a content of `content_size` (height, width): the one computation of
    the output's size and the steps per level, for the run, its start line and every front
    end's check. An explicit synthesis size is the output's size (max_dim does not rescale it).
    NSTError when the split or the first level cannot work."""
    exact = config.mode == "synthesize" and config.size != (0, 0)
    tile = tile_size(tuple(content_size), config.split, 0 if exact else config.max_dim)
    columns, rows = config.split
    full = (rows * tile[0], columns * tile[1])
    if config.global_statistics:
        levels = picture_levels(full, config)
        reported = levels.steps
    else:
        levels = tile_levels(tile, config)
        reported = levels.steps[-1:]
    check_seamless_sizes(config, levels.sizes)
    # A run whose full picture is tiled is tiled at every level: untiled, the 1024x576 first
    # level of a 4K run held both branches' activations and picture-sized targets at once, and
    # the process kept that memory (1.3 GB over the tiled levels' needs) to the end.
    tiled = bool(config.global_statistics and config.tile_size and max(full) > config.tile_size)
    found = (grid_cores(full, config.tile_size, config.content_layers,
                        NETWORK_LAYERS[config.network], config.wrap)
             if tiled else [])
    return RunPlan(levels.sizes, levels.steps, output=(full[1], full[0]), tile=tile,
                   reported=tuple(reported), tiled=tiled, cores=tuple(map(tuple, found)))


def check_seamless_sizes(config: TransferConfig, sizes: Sequence[Size]) -> None:
    """NSTError (one line) unless every level's picture is a multiple of 16 px on the axes that
    wrap: VGG's four 2x2 poolings pair the same pixels in the repeated picture only then."""
    rows, columns = config.wrap
    for height, width in sizes:
        if (rows and height % TILE_GRID_PX) or (columns and width % TILE_GRID_PX):
            sides = {"xy": "width and height", "x": "width", "y": "height"}[config.seamless]
            raise NSTError(
                f"seamless {config.seamless} needs the picture's {sides} in multiples of "
                f"{TILE_GRID_PX} px (VGG's poolings must pair the same pixels across the edge), "
                f"got {width}x{height}: give --size WxH in multiples of {TILE_GRID_PX} "
                f"(synthesize), or a content (or --max_dim) that scales to such a size")


def coarser(size: Size, levels: int) -> List[Size]:
    """`size` halved `levels` times down to 1 time, coarsest first; under 32 px left out."""
    sizes = []
    for level in range(levels, 0, -1):
        smaller = (int(round(size[0] / 2 ** level)), int(round(size[1] / 2 ** level)))
        if min(smaller) >= MIN_TILE_PX:
            sizes.append(smaller)
    return sizes


def tile_levels(tile_size: Size, config: TransferConfig) -> LevelPlan:
    """Per-tile statistics: tile sizes from coarsest to full (coarse_levels halvings, each with
    coarse_iterations steps), then the tiles' own size with the run's steps."""
    coarse = coarser(tile_size, config.coarse_levels)
    return LevelPlan(coarse + [tile_size], [config.coarse_iterations] * len(coarse) + [config.steps])


def picture_levels(full: Size, config: TransferConfig) -> LevelPlan:
    """Global statistics: picture sizes coarsest first, and the steps at each.

    At max_dim 0 the look is made at the original's working scale (`start_dim`, with the full
    step count) and refined at doublings of it up to full size with `refine_iterations` each;
    coarse_levels adds halvings below the first level, as on tiles.
    """
    first = full
    if config.max_dim == 0 and max(full) > config.start_dim:
        scale = config.start_dim / max(full)
        first = (max(1, int(round(full[0] * scale))), max(1, int(round(full[1] * scale))))
    if min(first) < MIN_TILE_PX:
        raise NSTError(f"start_dim {config.start_dim} makes a first level of "
                       f"{first[1]}x{first[0]} px; it needs at least {MIN_TILE_PX} px a side")
    above = []
    factor = 2
    while max(first) * factor < max(full):
        above.append((int(round(first[0] * factor)), int(round(first[1] * factor))))
        factor *= 2
    if first != full:
        above.append(full)
    coarse = coarser(first, config.coarse_levels)
    return LevelPlan(coarse + [first] + above,
                     [config.coarse_iterations] * len(coarse) + [config.steps]
                     + [config.refine_iterations] * len(above))


def gradient_scale(size: Size, full: Size, tile_size: Size, max_dim: int) -> float:
    """What Adam multiplies a global picture's gradient by at a level of `size`.

    Every loss is a mean over positions, so a pixel's gradient shrinks with the pixel count.
    The original's Adam (epsilon 0.1, which its gradients are not far above) took its steps on
    tiles of `max_dim` (512 px), summing their losses; a global picture covers several such
    tiles, and with a bare mean its steps would be several times too short (at 1024x576 the
    first step moved pixels by a thousandth of a level). So the picture is optimised as the sum
    over the tiles it covers: the gradient times pixels / (one tile's pixels), which keeps a
    pixel's gradient, and so Adam's steps, the original's at every level. full: the picture's
    full size; tile_size: the tile of the split at max_dim.
    """
    if max_dim:
        tile_pixels = tile_size[0] * tile_size[1]
    else:
        tile_pixels = full[0] * full[1] * (ORIGINAL_TILE_PX / max(full)) ** 2
    return size[0] * size[1] / tile_pixels


class LevelProgress:
    """Adds level, levels and an estimate of the seconds left to each report of a run that
    reports every level.

    The estimate: seconds per step per pixel, measured on the current level once it has made a
    step (before that, the last level's), times the pixels and steps still to come. None until
    one step has been timed.
    """

    def __init__(self, plan: LevelPlan):
        self.pixels = [h * w for h, w in plan.sizes]
        self.level_steps = plan.steps
        self.seconds_per_pixel_step = None

    def reporter(self, level: int, callback):
        """A callback for `level`'s StepReports that passes them on to `callback`, completed."""
        begun = {"at": None}

        def report(step_report) -> None:
            if begun["at"] is None:
                begun["at"] = step_report.seconds
            elif step_report.step:
                self.seconds_per_pixel_step = ((step_report.seconds - begun["at"])
                                               / step_report.step / self.pixels[level])
            remaining = None
            if self.seconds_per_pixel_step is not None:
                left = [(self.level_steps[level] - step_report.step - 1, self.pixels[level])] + list(
                    zip(self.level_steps[level + 1:], self.pixels[level + 1:]))
                remaining = self.seconds_per_pixel_step * sum(steps * pixels
                                                              for steps, pixels in left)
            callback(dataclasses.replace(step_report, level=level, levels=len(self.pixels),
                                         remaining_s=remaining))
        return report
