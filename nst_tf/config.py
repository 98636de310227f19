"""Every knob of a texture transfer, with the defaults of docs/design.md, in one place.

The command-line flags are generated from this dataclass (scripts/cli_common.py), so a default
lives here and nowhere else.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Optional, Tuple

from nst_tf.errors import NSTError
from nst_tf.limits import MIN_TILE_PX, ORIGINAL_TILE_PX, TILE_GRID_PX
from nst_tf.fields import coerced, field_kind, from_text, knob
from nst_tf.network.choice import choose_network
from nst_tf.network.layers import NETWORK_LAYERS, NETWORKS, keras_layer_name
from nst_tf.network.precision import PRECISIONS, compute_precision
from nst_tf.presets import (CALIBRATED_STEPS, COLOR_TRANSFERS, DEFAULT_ITERATIONS, FULL_RESOLUTION_EPSILON,
                            FULL_RESOLUTION_STEPS, MODE_FIELDS, MODES, NORMALIZED_BETA_1,
                            NORMALIZED_EPSILON, OPTIMIZER_SETTINGS, OPTIMIZERS, PRESETS,
                            STATISTICS, TEXTURE_LOSSES, VIDEO_TEMPORAL_WEIGHT, default_steps,
                            loss_units_warning, mode_default)

# Values of the settings that name files which name no file: `init`'s kinds of start image,
# `weights`' Keras file and untrained weights, a texture without a mask in `texture_masks`.
INIT_KINDS = ("content", "noise")
WEIGHTS_KINDS = ("imagenet", "random")
NO_MASK = ("", "none")
# Which edges of the picture wrap around (seamless): none, both, left-right, top-bottom.
SEAMLESS = ("off", "xy", "x", "y")
# Modes that can make a picture whose edges meet; reconstruct remakes the content photo itself.
SEAMLESS_MODES = ("texture", "style", "synthesize")
# The settings whose value may be a file's path, in the order they are checked.
FILE_SETTINGS = ("content_mask", "texture_masks", "init", "weights")


def seamless_wrap(seamless: str) -> Tuple[bool, bool]:
    """(rows, columns): the axes that wrap around for a `seamless` value ('xy' both, 'x' the
    columns: the left edge meets the right, 'y' the rows, 'off' none)."""
    return (seamless in ("xy", "y"), seamless in ("xy", "x"))


def names_file(setting: str, value) -> bool:
    """Whether `value` of `setting` (one of FILE_SETTINGS; texture_masks: one entry) is a path."""
    if value is None or not str(value).strip():
        return False
    kinds = {"init": INIT_KINDS, "weights": WEIGHTS_KINDS, "texture_masks": NO_MASK}.get(
        setting, ())
    return str(value).strip().lower() not in kinds


_knob = knob  # a field of the table (nst_tf.fields.knob)


def _shown(value) -> str:
    if isinstance(value, tuple):
        return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value) or "empty"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _mode_knob(name: str, help_text: str, **extra):
    """A field whose default depends on the mode and preset (None: take MODE_PRESETS'); the help
    lists them, the calibrated preset's first."""
    def defaults(preset):
        return "; ".join(f"{mode} {_shown(mode_default(mode, preset, name))}" for mode in MODES)
    return _knob(None, f"{help_text} Default by mode: {defaults('normalized')} (faithful, "
                 f"preset imagenet: {defaults('imagenet')}).", mode_field=True, **extra)


@dataclasses.dataclass(frozen=True)
class TransferConfig:
    """Every setting of one transfer, with its default; frozen (use .replace(name=value)).

    The network is Gatys' normalized VGG19, derived from the weights file when it is Keras'
    ImageNet VGG19 or another rescaling of it (nst_tf.network.calibration), with the settings
    calibrated for it (preset 'normalized'); faithful=True runs the 2018 computation instead:
    the file as it is, with the notebooks' settings (preset 'imagenet'). A field left None takes
    its mode's default for the preset (nst_tf.presets); preset None follows the weights file
    (nst_tf.network.choice). Values may be written as on the command line
    (split='2x2', texture_layers='block1_conv1,block2_conv1') or as Python values ((2, 2), a
    list); a wrong one raises NSTError naming the field.
    """

    mode: str = _knob(
        "texture", "What is made: 'texture' (the original's texture transfer), 'style' (Gatys' "
        "style transfer: colour Gram matrices of the style, content at block5_conv2, total "
        "variation), 'synthesize' (the texture's statistics from noise, no content, --size), "
        "'reconstruct' (the content's features at --content_layers, from noise).",
        choices=MODES)
    faithful: bool = _knob(
        False, "Run the original's 2018 computation exactly: the weights file as it is (Keras' "
        "VGG19), the notebooks' loss weights, Adam's epsilon 0.1, no settle rule (preset "
        "imagenet). Off: Gatys' normalized VGG19, derived from the file, with the settings "
        "calibrated for it.")
    preset: Optional[str] = _knob(
        None, "Which network the mode's default settings are tuned for: 'normalized' (Gatys' "
        "normalized VGG19, derived from the weights file when it is a rescaling of it: the "
        "calibrated loop) or 'imagenet' (the file as it is: the 2018 settings). Default: "
        "'normalized' when the file is VGG19's ImageNet weights and faithful is off, else "
        "'imagenet'.", choices=PRESETS)
    split: Tuple[int, int] = _knob(
        (1, 1), "Tiles as WxH: the content is cut into H rows of W columns, each matched "
        "against the same tile of the texture.")
    max_dim: int = _knob(ORIGINAL_TILE_PX, "Longer side of each tile, in pixels, after resizing; 0 keeps the "
                         "content's full resolution.")
    statistics: str = _knob(
        "auto", "Texture statistics: 'global' (one Gram matrix per layer over the whole picture; "
        "content, raw and pixel parts averaged over it, as if it ran untiled), 'tile' (the "
        "original's per-tile matching of --split), 'auto' (global at --max_dim 0, else tile).",
        choices=STATISTICS)
    # 1024: the fastest tile measured that keeps both memory targets (docs/measurements/2026-11-full-resolution.md:
    # one evaluation at 3840x2160 175.5 s, 3537 MiB, 3% faster than 768 px tiles; 5464x3640
    # 5427 MiB). A run whose picture is larger than one tile is tiled at every level (its
    # untiled 1024x576 first level held 3.5 GB to the end of a 4K run: docs/measurements/
    # 2026-12-full-resolution.md); the texture branch's tiles are half as long.
    tile_size: int = _knob(
        1024, "Global statistics: largest core, in pixels, of the tiles one evaluation runs one "
        "at a time (memory is bounded by one tile; the result is the untiled one); a multiple "
        "of 16; 0: never tile.")
    texture_scale: float = _knob(
        1.0, "Global statistics: the texture is resized by this factor relative to the content "
        "before its statistics are taken (2: texture features twice as large).")
    start_dim: int = _knob(
        1024, "At --max_dim 0: longer side of the first coarse-to-fine level, the original's "
        "working scale (2x2 tiles of 512 px); each next level doubles it up to the full size.")
    # 2: the look is made at the first level; two steps a level keep it and add the finest
    # detail (peebles at 3840x2160, docs/measurements/2026-12-full-resolution.md), and each step
    # at 4K costs about 70 steps at 512x341.
    refine_iterations: int = _knob(
        2, "At --max_dim 0: steps (or evaluations) at each level above the first.")
    iterations: Optional[int] = _knob(
        None, "Most optimisation steps (Adam) or evaluations (L-BFGS); default "
        + ", ".join(f"{k} {v}" for k, v in DEFAULT_ITERATIONS.items())
        + f" (normalized preset, texture: {CALIBRATED_STEPS}; at --max_dim 0: "
        f"{FULL_RESOLUTION_STEPS} at the first level).")
    direct_weight: Optional[float] = _mode_knob(
        "direct_weight", "Weight of the pixel loss against the content.")
    content_weight: Optional[float] = _mode_knob(
        "content_weight", "Weight of the colour-feature loss against the content.")
    raw_weight: Optional[float] = _mode_knob(
        "raw_weight", "Weight of the raw (un-Grammed) texture-feature loss.")
    texture_weight: Optional[float] = _mode_knob(
        "texture_weight", "Weight of the Gram-matrix texture (or style) loss.")
    tv_weight: Optional[float] = _mode_knob(
        "tv_weight", "Weight of the total-variation loss (mean squared difference of "
        "neighbouring pixels): smooths the result.")
    temporal_weight: float = _knob(
        VIDEO_TEMPORAL_WEIGHT, "Video: weight of the temporal loss on every frame after the "
        "first, the distance to the previous frames' results warped to this frame where the "
        "motion is reliable (Ruder et al. 2016); a still picture has no temporal part.")
    texture_layers: Optional[Tuple[str, ...]] = _mode_knob(
        "texture_layers", "VGG layers compared with the texture (Keras' names, or relu1_1 / "
        "conv1_1 / pool1).")
    texture_layer_weights: Optional[Tuple[float, ...]] = _mode_knob(
        "texture_layer_weights", "One weight per texture layer for the Gram part (the part is "
        "the mean over layers of weight x loss); empty: all 1.")
    content_layers: Optional[Tuple[str, ...]] = _mode_knob(
        "content_layers", "VGG layers compared with the content (Keras' names, or relu4_2 ...).")
    texture_loss: str = _knob(
        "gram", "The texture part's distance: 'gram' (the Gram matrices', the original's) or "
        "'sliced_wasserstein' (Heitz et al. 2021: each layer's features projected on random "
        "directions drawn from --seed, sorted, compared with the texture's quantile by "
        "quantile; the whole distribution, not only its second moments).",
        choices=TEXTURE_LOSSES)
    gray_texture: Optional[bool] = _mode_knob(
        "gray_texture", "Compare the texture in gray (it brings structure, no colour) instead "
        "of in colour.")
    texture_blend: Tuple[float, ...] = _knob(
        (), "With several textures (--texture a.jpg,b.jpg): one weight each; their Gram (and "
        "raw) targets are blended by these weights, normalised to sum 1; empty: equal.")
    original_colors: bool = _knob(
        False, "Keep the content's colours: the same as --color_transfer luminance.")
    color_transfer: Optional[str] = _knob(
        None, "Colour control (Gatys et al. 2017): 'none' (the default: the texture mode takes "
        "its colours from the content already, the style mode keeps the style's palette as "
        "Gatys 2015 does), 'luminance' (the result's luminance with the content's chroma, YIQ; "
        "the texture is then compared in gray unless --gray_texture says otherwise) or "
        "'histogram' (the texture's colours matched to the content's mean and covariance "
        "before its statistics are taken: a colour style keeps its strokes and takes the "
        "content's palette).", choices=COLOR_TRANSFERS)
    content_mask: Optional[str] = _knob(
        None, "Spatial control: an image of any size (resized to the content) saying where the "
        "texture goes: gray, white the texture, black the content kept; with several textures "
        "a label image (PNG) whose colours --region_colors gives, one per texture.")
    region_colors: Tuple[str, ...] = _knob(
        (), "With several textures and --content_mask: each texture's label colour, in order "
        "(#ff0000,#00ff00); black is 'no texture' unless listed.")
    texture_masks: Tuple[str, ...] = _knob(
        (), "One gray mask per texture ('none' for a texture without one): which part of the "
        "texture photo its statistics come from (white: used).")
    size: Tuple[int, int] = _knob(
        (0, 0), "synthesize: the output's size WxH, exactly (max_dim does not rescale it); 0x0: "
        "the content's size when one is given, else the texture's, then scaled by max_dim.")
    seamless: str = _knob(
        "off", "A picture that repeats without a seam: 'xy' (both directions), 'x' (left to "
        "right) or 'y' (top to bottom): every convolution and pooling window of the network, the "
        "total variation and the tiles' halos wrap around the picture's edges; 'off': zero "
        "padding, as VGG was trained.", choices=SEAMLESS)
    optimizer: Optional[str] = _mode_knob(
        "optimizer", "Optimiser: 'adam' (the original's loop with its plateau schedule: its "
        "dynamics make the original's look), 'lbfgs' (L-BFGS-B: a lower objective sooner, a "
        "lighter texture (docs/measurements); it scales the objective itself, so only the ratios of the "
        "weights matter) or 'sgd' (plain gradient steps with exponential decay, Keras' style "
        "example's schedule: --learning_rate --decay_steps --decay_rate).", choices=OPTIMIZERS)
    jit_compile: bool = _knob(
        False, "Compile the step with XLA. Off: on 2 CPU cores it measured slower (docs/measurements).")
    precision: str = _knob(
        "auto", "The network's convolutions in 'float32' or 'bfloat16' (the features, the losses, "
        "the image and the step stay float32); 'auto': bfloat16 where the device has fast "
        "bfloat16 units (AMX or AVX512_BF16 CPUs, Arm's BF16, GPUs from Ampere) with Adam, "
        "else float32. faithful is float32 always.", choices=PRECISIONS)
    lbfgs_memory: int = _knob(10, "L-BFGS: number of past gradients kept for its curvature estimate.")
    lbfgs_first_step: float = _knob(
        10.0, "L-BFGS: the objective is scaled so that a unit step along its first gradient "
        "moves the pixel with the largest gradient by this many levels (0: unscaled).")
    coarse_levels: int = _knob(
        0, "Coarse-to-fine: optimise first at 1/2**k of max_dim for k = levels..1, upsampling "
        "the image between levels; 0 off. Levels whose tiles would be under 32 px are skipped.")
    coarse_iterations: int = _knob(50, "Steps or evaluations at each coarse level.")
    learning_rate: float = _knob(
        10.0, "Initial learning rate: Adam's (pixel units), or SGD's (pixels per unit of "
        "gradient; Keras' style example uses 100 on its own loss scale).")
    decay_steps: int = _knob(100, "sgd: the learning rate is multiplied by decay_rate every "
                             "decay_steps steps (Keras' example's ExponentialDecay).")
    decay_rate: float = _knob(0.96, "sgd: see decay_steps.")
    beta_1: Optional[float] = _mode_knob(
        "beta_1", f"Adam beta_1, its momentum (normalized texture: {NORMALIZED_BETA_1:g}; the "
        "original's 0.99 at --max_dim 0).")
    beta_2: float = _knob(0.999, "Adam beta_2.")
    epsilon: Optional[float] = _mode_knob(
        "epsilon", f"Adam epsilon (normalized texture: {NORMALIZED_EPSILON:g}, at --max_dim 0: "
        f"{FULL_RESOLUTION_EPSILON:g}).")
    plateau_window: int = _knob(5, "Number of recent losses the plateau schedule looks at.")
    plateau_after: int = _knob(10, "The plateau schedule acts only after this step.")
    plateau_tolerance: float = _knob(
        1e-4, "Mean relative loss change below which the learning rate decays.")
    plateau_decay: float = _knob(0.75, "Factor applied to the learning rate on a plateau.")
    min_learning_rate: float = _knob(5e-6, "Stop once the learning rate falls below this.")
    settle_fraction: Optional[float] = _mode_knob(
        "settle_fraction", "Stop once the picture's change over settle_every steps falls "
        "below this fraction of its largest; 0: off. The change is the mean absolute change per "
        "pixel; the rule waits 2 / (1 - beta_1) steps (nst_tf/optimize/stopping.py).")
    settle_every: int = _knob(20, "Steps between the readings of settle_fraction's change.")
    init: Optional[str] = _mode_knob("init", "Start image: 'content', 'noise', or a path to an "
                                     "image of the content's size.")
    seed: int = _knob(0, "Seed for noise initialisation and random-weight networks.")
    network: str = _knob("vgg19", "The frozen network: 'vgg19' (the original's) or 'vgg16' "
                         "(Keras' VGG16: blocks 3-5 have 3 convolutions, not 4).",
                         choices=NETWORKS)
    weights: Optional[str] = _knob(
        "imagenet", "'imagenet' (Keras' file for --network, downloaded into the weights folder "
        "when missing: a checkout's weights/, else ~/.keras/models, or NST_TF_WEIGHTS_DIR), a path to a notop .h5 file of that network, or 'random' (untrained, for "
        "tests). A VGG19 ImageNet file (Keras', or Gatys' normalized) runs as Gatys' normalized "
        "VGG19 unless faithful is on.")

    def __post_init__(self):
        for field in dataclasses.fields(self):  # '2x2', [a, b], 'a,b', 100 for 100.0 ...
            object.__setattr__(self, field.name, coerced(field.name, field_kind(field),
                                                         getattr(self, field.name)))
        if self.mode not in MODES:
            raise NSTError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.preset is not None and self.preset not in PRESETS:
            raise NSTError(f"preset must be one of {', '.join(PRESETS)}, got {self.preset!r}")
        if self.network not in NETWORKS:
            raise NSTError(f"network must be one of {', '.join(NETWORKS)}, got {self.network!r}")
        # The preset follows the weights file unless given (replace() keeps following it).
        choice = choose_network(self.weights, self.network, self.faithful, self.preset)
        object.__setattr__(self, "_preset_given", self.preset is not None)
        object.__setattr__(self, "network_choice", choice)
        object.__setattr__(self, "preset", choice.preset)
        # original_colors is the older name of color_transfer luminance: given, it wins over
        # 'none' (the command line's default), and cannot go with 'histogram'.
        if self.original_colors and self.color_transfer == "histogram":
            raise NSTError("original_colors is color_transfer luminance; it cannot go with "
                           "color_transfer histogram")
        if self.original_colors or self.color_transfer is None:
            object.__setattr__(self, "color_transfer",
                               "luminance" if self.original_colors else "none")
        for name in MODE_FIELDS:  # None: the mode's default
            if getattr(self, name) is None:
                object.__setattr__(self, name, self._mode_default(name))
        known = NETWORK_LAYERS[self.network]
        for name in ("texture_layers", "content_layers"):  # one spelling from here on
            layers = [keras_layer_name(layer) if keras_layer_name(layer) in known else layer
                      for layer in getattr(self, name)]  # an unknown one is reported as written
            object.__setattr__(self, name, tuple(layers))
        self.validate()

    def validate(self) -> None:
        """Raises NSTError with one line when a value cannot work: every number finite, then
        each section's own checks (SECTIONS), in order."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            values = value if isinstance(value, tuple) else (value,)
            if any(isinstance(v, float) and not math.isfinite(v) for v in values):
                raise NSTError(f"{field.name} must be a finite number, got {value}")
        for section, _ in SECTIONS:
            SECTION_CHECKS[section](self)

    @property
    def steps(self) -> int:
        """`iterations`, or the default when it is None (presets.default_steps)."""
        if self.iterations is not None:
            return self.iterations
        return default_steps(self.optimizer, self.mode, self.preset, self.coarse_to_fine)

    @property
    def compute_precision(self) -> str:
        """'float32' or 'bfloat16': what the network runs in (network/precision.py; 'auto'
        asks the device)."""
        return compute_precision(self.precision, self.faithful, self.optimizer)

    @property
    def wrap(self) -> Tuple[bool, bool]:
        """(rows, columns): the axes whose edges wrap around (seamless)."""
        return seamless_wrap(self.seamless)

    @property
    def coarse_to_fine(self) -> bool:
        """Whether the run goes up from start_dim to full resolution (max_dim 0, global
        statistics): the full-resolution defaults apply (presets.FULL_RESOLUTION_PRESETS)."""
        return self.max_dim == 0 and self.global_statistics

    @property
    def global_statistics(self) -> bool:
        """Whether the objective is the whole picture's ('auto': at full resolution only)."""
        return self.statistics == "global" or (self.statistics == "auto" and self.max_dim == 0)

    @property
    def loss_weights(self) -> Tuple[float, ...]:
        """(direct, content, raw, texture, tv, temporal): the original notebooks' order, then TV
        and the temporal part (steps.LOSS_PARTS)."""
        return (self.direct_weight, self.content_weight, self.raw_weight, self.texture_weight,
                self.tv_weight, self.temporal_weight)

    def unused_settings(self, given) -> list:
        """Of the settings in `given` (names a front end saw set: flags, a CSV row's cells, a
        form's fields), those this config's optimiser does not use, with its optimiser:
        [(setting, the optimisers that use it)] (OPTIMIZER_SETTINGS)."""
        unused = []
        for name in given:
            users = [kind for kind, names in OPTIMIZER_SETTINGS.items() if name in names]
            if users and self.optimizer not in users:
                unused.append((name, users))
        return unused

    def units_warnings(self, given, prefix: str = "") -> list:
        """Of the loss weights in `given` (names a front end saw set), one line each for those
        that look like weights in the 2018 network's units while the calibrated loop runs
        (presets.loss_units_warning): the weight is taken as given, in the loop's units. prefix:
        how the front end spells a setting before its name ('--' for flags)."""
        lines = [loss_units_warning(self.mode, self.preset, name, getattr(self, name),
                                    prefix + name)
                 for name in given if name.endswith("_weight")]
        return [line for line in lines if line]

    def named_files(self) -> dict:
        """The files the settings name, {setting: path} ('texture_masks[K]' for the K-th
        texture's mask): the masks, a start image, a weights file."""
        files = {}
        for setting in FILE_SETTINGS:
            value = getattr(self, setting)
            if setting == "texture_masks":
                files.update({f"texture_masks[{index}]": mask for index, mask in enumerate(value)
                              if names_file(setting, mask)})
            elif names_file(setting, value):
                files[setting] = value
        return files

    @classmethod
    def from_dict(cls, values: dict) -> "TransferConfig":
        """Inverse of dataclasses.asdict after a trip through JSON (lists back to tuples)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    def _mode_default(self, name: str):
        """Mode field `name`'s default for this mode, preset and resolution."""
        if name == "gray_texture" and self.color_transfer == "luminance":
            return True  # luminance-only transfer: the style brings no colour
        return mode_default(self.mode, self.preset, name, self.coarse_to_fine)

    def replace(self, **changes) -> "TransferConfig":
        """A copy with `changes`. A mode's setting at its default follows a change of what the
        default depends on (mode, preset, weights, max_dim, statistics, colour transfer): a
        batch row with another mode gets that mode's settings; a preset not given follows the
        weights."""
        if not self._preset_given and "preset" not in changes:
            changes["preset"] = None
        if _DEFAULT_DEPENDS_ON & changes.keys():
            for name in MODE_FIELDS:
                if name not in changes and getattr(self, name) == self._mode_default(name):
                    changes[name] = None
        return dataclasses.replace(self, **changes)

    @classmethod
    def parse_field(cls, name: str, text: str):
        """The value of field `name` written as text, as on the command line ('2x2', '1e3',
        'true', 'block1_conv1,block2_conv1'); NSTError names the field when it cannot be read."""
        kinds = {field.name: field_kind(field) for field in dataclasses.fields(cls)}
        if name not in kinds:
            raise NSTError(f"{name!r} is not a transfer setting")
        return from_text(name, kinds[name], text)


# --- The settings in sections ------------------------------------------------------------------
# Each setting is in one section; the command line's help and the web page show them so, and
# each section is checked by its own function below (TransferConfig.validate).
SECTIONS = (
    ("what is made", ("mode", "faithful", "preset", "network", "weights")),
    ("inputs and control", ("init", "seed", "texture_blend", "color_transfer",
                            "original_colors", "content_mask", "region_colors",
                            "texture_masks")),
    ("loss", ("direct_weight", "content_weight", "raw_weight", "texture_weight", "tv_weight",
              "temporal_weight",
              "texture_loss", "texture_layers", "texture_layer_weights", "content_layers",
              "gray_texture")),
    ("optimisation", ("iterations", "optimizer", "learning_rate", "beta_1", "beta_2", "epsilon",
                      "plateau_window", "plateau_after", "plateau_tolerance", "plateau_decay",
                      "min_learning_rate", "settle_fraction", "settle_every", "decay_steps",
                      "decay_rate", "lbfgs_memory", "lbfgs_first_step", "jit_compile",
                      "precision")),
    ("resolution", ("max_dim", "split", "size", "seamless", "statistics", "tile_size",
                    "texture_scale",
                    "start_dim", "refine_iterations", "coarse_levels", "coarse_iterations")),
)

# A line of help for the settings whose full help is long (the others show its first
# sentence): the command line's --help and the web page's hints.
SHORT_HELP = {
    "seamless": "A picture that repeats without a seam: xy, x or y wrap the network's windows "
                "around those edges; off: as VGG was trained.",
    "precision": "The network's convolutions: float32, or bfloat16 (several times faster where "
                 "the chip has it); auto: bfloat16 there with Adam, else float32.",
    "mode": "What is made: the original's texture transfer, Gatys' style transfer, a texture "
            "synthesized from noise, or the content's features reconstructed.",
    "max_dim": "Longer side of each tile in pixels; 0 keeps the content's full resolution.",
    "iterations": "Most Adam steps or L-BFGS evaluations.",
    "weights": "imagenet (Keras' VGG19), a notop .h5 file, or random.",
    "faithful": "The original's 2018 loop exactly; off: the calibrated loop.",
    "preset": "Tuned for: normalized (calibrated) or imagenet (2018).",
    "optimizer": "adam: the original's loop and look; lbfgs: a lower objective sooner, a lighter "
                 "texture; sgd: plain steps with exponential decay.",
    "statistics": "global: one Gram matrix per layer over the whole picture; tile: per tile "
                  "(the original's); auto: global at --max_dim 0.",
    "network": "vgg19 (the original's) or vgg16 (Keras' VGG16).",
    "tile_size": "Global statistics: largest tile one evaluation runs at a time (memory, not "
                 "the result); a multiple of 16; 0: never tile.",
    "start_dim": "At --max_dim 0: the first level's longer side; each next level doubles it.",
    "texture_scale": "Global statistics: the texture's scale relative to the content (2: "
                     "features twice as large).",
    "lbfgs_first_step": "L-BFGS: the first step moves the steepest pixel by this many levels "
                        "(0: unscaled).",
    "coarse_levels": "Coarse-to-fine on tiles: first optimise at 1/2, 1/4, ... of the size; "
                     "0 off.",
    "learning_rate": "Initial learning rate: Adam's (pixel units), or SGD's.",
    "texture_layer_weights": "One weight per texture layer for the Gram part; empty: all 1.",
    "texture_blend": "With several textures: one weight each for their blend; empty: equal.",
    "gray_texture": "Compare the texture in gray (structure, no colour) instead of in colour.",
    "texture_loss": "The Gram matrices' distance, or the whole distributions'.",
    "temporal_weight": "Video: weight of the distance to the previous results, warped.",
    "original_colors": "Keep the content's colours: --color_transfer luminance.",
    "color_transfer": "luminance: the content's chroma; histogram: the texture's colours "
                      "matched to the content's.",
    "content_mask": "Where the texture goes: gray (white: texture), or a label image.",
    "region_colors": "Each texture's label colour in --content_mask (#ff0000,#00ff00).",
    "texture_masks": "Per texture, the part of it its statistics come from (or none).",
    "decay_steps": "sgd: the rate is multiplied by --decay_rate every this many steps.",
    "init": "Start image: content, noise, or an image of the content's size.",
    "size": "synthesize: the output's size WxH, exactly (0x0: the content's or texture's, "
            "scaled by --max_dim).",
    "split": "Cut the content into W columns and H rows of tiles, each matched with the same "
             "tile of the texture.",
}


def _check_what_is_made(config: TransferConfig) -> None:
    """mode, preset and network are checked as they are read (__post_init__)."""


def _check_inputs(config: TransferConfig) -> None:
    if config.texture_blend and (min(config.texture_blend) < 0 or sum(config.texture_blend) <= 0):
        raise NSTError(f"texture_blend needs weights >= 0 with a positive sum, "
                       f"got {list(config.texture_blend)}")
    if config.color_transfer not in COLOR_TRANSFERS:
        raise NSTError(f"color_transfer must be one of {', '.join(COLOR_TRANSFERS)}, got "
                       f"{config.color_transfer!r}")
    if config.content_mask and config.texture_blend:
        raise NSTError("texture_blend and content_mask do not go together: with a mask each "
                       "texture has its own region, not a share of a blend")
    if config.region_colors and not config.content_mask:
        raise NSTError("region_colors needs a label image (--content_mask)")


def _check_loss(config: TransferConfig) -> None:
    for name in ("direct_weight", "content_weight", "raw_weight", "texture_weight", "tv_weight",
                 "temporal_weight"):
        if getattr(config, name) < 0:
            raise NSTError(f"{name} must be >= 0, got {getattr(config, name)}")
    if config.texture_loss not in TEXTURE_LOSSES:
        raise NSTError(f"texture_loss must be one of {', '.join(TEXTURE_LOSSES)}, got "
                       f"{config.texture_loss!r}")
    if not config.texture_layers or not config.content_layers:
        raise NSTError("texture_layers and content_layers each need at least one layer")
    for name in tuple(config.texture_layers) + tuple(config.content_layers):
        if name not in NETWORK_LAYERS[config.network]:
            raise NSTError(f"unknown {config.network.upper()} layer {name!r}; choose from "
                           f"{', '.join(NETWORK_LAYERS[config.network])} "
                           "(or relu4_2, conv4_2, pool4: the Caffe/Torch spelling)")
    if config.texture_layer_weights and (
            len(config.texture_layer_weights) != len(config.texture_layers)
            or min(config.texture_layer_weights) < 0):
        raise NSTError(f"texture_layer_weights needs one weight >= 0 per texture layer "
                       f"({len(config.texture_layers)}), got {list(config.texture_layer_weights)}")


def _check_optimisation(config: TransferConfig) -> None:
    if config.iterations is not None and config.iterations < 1:
        raise NSTError(f"iterations must be at least 1, got {config.iterations} (the start "
                       "image is not a result)")
    if config.optimizer not in OPTIMIZERS:
        raise NSTError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, got "
                       f"{config.optimizer!r}")
    if config.learning_rate <= 0:
        raise NSTError(f"learning_rate must be > 0, got {config.learning_rate}")
    if config.precision not in PRECISIONS:
        raise NSTError(f"precision must be one of {', '.join(PRECISIONS)}, got "
                       f"{config.precision!r}")
    for name in ("beta_1", "beta_2"):
        if not 0 <= getattr(config, name) < 1:
            raise NSTError(f"{name} must be in [0, 1), got {getattr(config, name)}")
    if config.epsilon <= 0:
        raise NSTError(f"epsilon must be > 0, got {config.epsilon}")
    if config.plateau_window < 2:
        raise NSTError(f"plateau_window must be >= 2, got {config.plateau_window}")
    if not 0 < config.plateau_decay <= 1:
        raise NSTError(f"plateau_decay must be in (0, 1], got {config.plateau_decay}")
    if config.plateau_tolerance < 0 or config.min_learning_rate < 0 or config.plateau_after < 0:
        raise NSTError("plateau_tolerance, min_learning_rate and plateau_after must be >= 0")
    if config.settle_every < 1 or not 0 <= config.settle_fraction < 1:
        raise NSTError(f"settle_every must be >= 1 and settle_fraction in [0, 1), got "
                       f"{config.settle_every} and {config.settle_fraction}")
    if config.decay_steps < 1 or not 0 < config.decay_rate <= 1:
        raise NSTError(f"decay_steps must be >= 1 and decay_rate in (0, 1], got "
                       f"{config.decay_steps} and {config.decay_rate}")
    if config.lbfgs_memory < 1:
        raise NSTError(f"lbfgs_memory must be >= 1, got {config.lbfgs_memory}")
    if config.lbfgs_first_step < 0:
        raise NSTError(f"lbfgs_first_step must be >= 0, got {config.lbfgs_first_step}")


def _check_resolution(config: TransferConfig) -> None:
    if config.seamless not in SEAMLESS:
        raise NSTError(f"seamless must be one of {', '.join(SEAMLESS)}, got {config.seamless!r}")
    if config.max_dim != 0 and config.max_dim < MIN_TILE_PX:
        raise NSTError(f"max_dim must be 0 (full resolution) or at least {MIN_TILE_PX} px, "
                       f"got {config.max_dim}")
    if len(config.split) != 2 or min(config.split) < 1:
        raise NSTError(f"split must be two positive integers (columns x rows), got "
                       f"{config.split}")
    if len(config.size) != 2 or min(config.size) < 0:
        raise NSTError(f"size must be WxH with W, H >= 0, got {config.size}")
    if config.statistics not in STATISTICS:
        raise NSTError(f"statistics must be one of {', '.join(STATISTICS)}, "
                       f"got {config.statistics!r}")
    if config.tile_size != 0 and (config.tile_size < 4 * TILE_GRID_PX
                                  or config.tile_size % TILE_GRID_PX):
        raise NSTError(f"tile_size must be 0 or a multiple of {TILE_GRID_PX} of at least "
                       f"{4 * TILE_GRID_PX}, got {config.tile_size}")
    if not config.texture_scale > 0:
        raise NSTError(f"texture_scale must be > 0, got {config.texture_scale}")
    if config.start_dim < MIN_TILE_PX:
        raise NSTError(f"start_dim must be at least {MIN_TILE_PX} px, got {config.start_dim}")
    if config.refine_iterations < 0:
        raise NSTError(f"refine_iterations must be >= 0, got {config.refine_iterations}")
    if config.coarse_levels < 0 or config.coarse_iterations < 0:
        raise NSTError("coarse_levels and coarse_iterations must be >= 0")
    if config.seamless == "off":
        return
    # Seamless makes one picture whose edges meet: the combinations that cannot give one.
    if config.mode not in SEAMLESS_MODES:
        raise NSTError(f"seamless does not go with mode {config.mode}: it remakes the content "
                       "photo itself, whose edges do not meet (synthesize makes a tile)")
    if tuple(config.split) != (1, 1) and not config.global_statistics:
        raise NSTError(f"seamless makes one picture that repeats; split "
                       f"{config.split[0]}x{config.split[1]} with per-tile statistics makes "
                       f"{config.split[0] * config.split[1]} tiles, each its own: use split 1x1, "
                       "or statistics global")
    if config.mode == "synthesize" and config.size != (0, 0):
        width, height = config.size
        if (config.seamless != "y" and width % TILE_GRID_PX) or (
                config.seamless != "x" and height % TILE_GRID_PX):
            raise NSTError(f"seamless {config.seamless} needs the wrapped sides in multiples of "
                           f"{TILE_GRID_PX} px (VGG's poolings must pair the same pixels across "
                           f"the edge), got size {width}x{height}")


SECTION_CHECKS = {"what is made": _check_what_is_made, "inputs and control": _check_inputs,
                  "loss": _check_loss, "optimisation": _check_optimisation,
                  "resolution": _check_resolution}


_DEFAULT_DEPENDS_ON = {"mode", "preset", "max_dim", "statistics", "color_transfer",
                       "original_colors", "weights", "network", "faithful"}


def _field_list() -> str:
    """Every field with its default and help, for TransferConfig's docstring (help())."""
    lines = []
    for field in dataclasses.fields(TransferConfig):
        default = "by mode" if field.metadata.get("mode_field") else _shown(field.default)
        lines.append(f"    {field.name} ({field_kind(field)}, default {default}):")
        lines.append(f"        {field.metadata['help']}")
    return "\n".join(lines)


TransferConfig.__doc__ += "\n    Fields:\n\n" + _field_list() + "\n"

