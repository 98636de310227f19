"""Each mode's defaults, per weights preset: the loss weights, layers and optimiser a mode uses
when the settings leave them out (None), and the constants they are built from.

No TensorFlow here.
"""
from __future__ import annotations

from nst_tf.network.layers import ALL_CONV1

# VGG19's shallowest layers carry texture; block5_conv2 carries the content's layout.
DEFAULT_TEXTURE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1")
DEFAULT_CONTENT_LAYERS = ("block1_conv1", "block5_conv2")

OPTIMIZERS = ("adam", "lbfgs", "sgd")
STATISTICS = ("auto", "global", "tile")
# The texture part's distance: the Gram matrices' (the original's), or the sliced Wasserstein
# distance of the features' distributions (Heitz et al. 2021).
TEXTURE_LOSSES = ("gram", "sliced_wasserstein")
# Colour control of the result (Gatys et al. 2017): none, luminance-only transfer, or the
# texture's colour histogram matched to the content's.
COLOR_TRANSFERS = ("none", "luminance", "histogram")
# Steps (Adam) or evaluations (L-BFGS) when `iterations` is not given: the original's 1000 Adam
# steps; L-BFGS-B reaches a lower objective than those within far fewer evaluations.
# Adam is the default: a lower objective is not the original's look (docs/measurements/2026-11-the-look.md).
DEFAULT_ITERATIONS = {"adam": 1000, "lbfgs": 100, "sgd": 1000}
# The settings only some optimisers read (nst_tf/optimize/): given to another, they would do
# nothing, so the front ends refuse them (TransferConfig.unused_settings).
OPTIMIZER_SETTINGS = {
    "adam": ("learning_rate", "beta_1", "beta_2", "epsilon", "plateau_window", "plateau_after",
             "plateau_tolerance", "plateau_decay", "min_learning_rate", "settle_fraction",
             "settle_every"),
    "sgd": ("learning_rate", "decay_steps", "decay_rate", "settle_fraction", "settle_every"),
    "lbfgs": ("lbfgs_memory", "lbfgs_first_step"),
}

# What is made: texture transfer (the original), classic style transfer (Gatys et al. 2015),
# texture synthesis from noise, and content reconstruction from noise at a chosen layer.
MODES = ("texture", "style", "synthesize", "reconstruct")
# Which weights file a mode's default loss weights are tuned for: Keras' ImageNet VGG19, or
# Gatys' normalized VGG19 (the shared offline file), whose features are about 1 in mean.
PRESETS = ("imagenet", "normalized")

# Keras' ImageNet VGG19 and Gatys' normalized VGG19 compute the same features up to a
# per-channel scale, so loss weights tuned on one carry to the other times these factors,
# (direct, content, raw, texture): raw 1e4 (raw 0.3 there is about 3000 here, the feature-scale
# change); texture 5e7, chosen by the look at the Medium size (docs/measurements/
# 2026-11-the-look.md: 1000 faithful steps give the original's look on CatCrack at 512 px with
# 5e7, not with 2e7, 1.36x; with 5e7 CrocoLeaf's and sand_block's first tiles reach 1.03x and
# 0.94x). 2e7 (1e3 for 5e-5, measured at 256 px) suits 128-256 px, where each pixel's gradient
# is larger.
NORMALIZED_LOSS_SCALES = (1.0, 1.0, 1e4, 5e7)
# A weight given for the calibrated loop that is this far under the calibrated unit looks like
# one in the 2018 units (Keras' file): the geometric middle between the two units of a typical
# value (the texture's 5e-5 of the notebooks and 2500 here; the raw part's 0.3 and 3000), so a
# weight counts as 2018's when it is nearer that unit. The weight is still taken as given (the
# loop's units); the front end says what it would be in them (loss_units_warning).
ORIGINAL_TYPICAL_WEIGHTS = {"raw_weight": 0.3, "texture_weight": 5e-5}

# Each mode's defaults for the fields that depend on it, per weights preset. A field left None
# (in the dataclass or on the command line) takes its value from here; given, it wins.
# texture, imagenet: the original notebooks' settings. texture, normalized: the same carried to
# Gatys' normalized file by NORMALIZED_LOSS_SCALES.
# style, imagenet: Keras' example (content 2.5e-8 at block5_conv2, style 1e-6 over the five
# blockN_conv1, TV 1e-6) rewritten in this project's normalisation, where every part is a mean:
# its per-layer style loss is this one's times c^2 / (36 stride^4) (c channels), and its content
# loss a sum over the 672 x 512 block5_conv2 features of a 512x341 picture; only the ratios
# matter to Adam. Its TV term (a sum over pixels and channels of (dx^2 + dy^2)^1.25) has
# another form; ours is the mean squared neighbour difference, weighted to match it where
# neighbours differ by about 5 levels (1e-6 x 3 x 174592 x 2.7 / 8.6e-3).
# The normalized presets were tuned by eye on examples/ and hold the test in tests/test_modes.py.
MODE_FIELDS = ("direct_weight", "content_weight", "raw_weight", "texture_weight", "tv_weight",
               "texture_layers", "texture_layer_weights", "content_layers", "gray_texture",
               "init", "optimizer", "beta_1", "epsilon", "settle_fraction")
_TEXTURE = dict(direct_weight=5.0, content_weight=1.0, raw_weight=0.0, texture_weight=5e-5,
                tv_weight=0.0, texture_layers=DEFAULT_TEXTURE_LAYERS, texture_layer_weights=(),
                content_layers=DEFAULT_CONTENT_LAYERS, gray_texture=True, init="content",
                optimizer="adam", beta_1=0.99, epsilon=0.1, settle_fraction=0.0)
_STYLE = dict(_TEXTURE, direct_weight=0.0, content_weight=1.0, texture_weight=1.16e-4,
              texture_layers=ALL_CONV1, texture_layer_weights=(113.8, 28.4, 7.1, 1.78, 0.111),
              content_layers=("block5_conv2",), gray_texture=False, tv_weight=150.0,
              optimizer="lbfgs")
_SYNTHESIZE = dict(_STYLE, content_weight=0.0, texture_weight=1e-4, tv_weight=0.0,
                   init="noise")
_RECONSTRUCT = dict(_TEXTURE, direct_weight=0.0, content_weight=1.0, texture_weight=0.0,
                    content_layers=("block4_conv2",), init="noise", optimizer="lbfgs")
# Adam's momentum, epsilon and steps of the texture mode with the normalized file: the calibrated
# loop. Adam's steps do not change when the gradient and epsilon are scaled together, so with
# another weights file epsilon is a calibration like the loss scales, not a property of the
# original. At 512 px the normalized file's pixel gradients are 0.0005-0.004, far under the
# original's 0.1, which then makes Adam's steps about 100 x the gradient: the look took
# 400-1000 steps. At 0.001 each step moves every pixel by nearly the learning rate, as the
# original's steps did with Keras' file, and the look comes in 30-60 steps; with the original's
# momentum (beta_1 0.99, a memory of 100 steps) the picture then overshoots away from the
# content (SSIM under the original's for 100 more steps), with 0.9 (10 steps) it does not. So
# the run makes a fixed CALIBRATED_STEPS, and needs no stopping rule. Chosen on the original's
# 14 Medium runs (docs/measurements/2026-12-the-look-sooner.md). Keras' file keeps the
# original's 0.99, 0.1 and 1000 steps.
NORMALIZED_BETA_1 = 0.9
NORMALIZED_EPSILON = 0.001
NORMALIZED_SETTLE_FRACTION = 0.0
CALIBRATED_STEPS = 80

MODE_PRESETS = {
    ("texture", "imagenet"): _TEXTURE,
    ("texture", "normalized"): dict(
        _TEXTURE, beta_1=NORMALIZED_BETA_1, epsilon=NORMALIZED_EPSILON,
        settle_fraction=NORMALIZED_SETTLE_FRACTION,
        **{name: _TEXTURE[name] * scale for name, scale in zip(
            ("direct_weight", "content_weight", "raw_weight", "texture_weight"),
            NORMALIZED_LOSS_SCALES)}),
    ("style", "imagenet"): _STYLE,
    ("style", "normalized"): dict(_STYLE, content_weight=1.0, texture_weight=30.0,
                                  texture_layer_weights=(), tv_weight=0.03),
    ("synthesize", "imagenet"): _SYNTHESIZE,
    ("synthesize", "normalized"): dict(_SYNTHESIZE, texture_weight=1e3,
                                       texture_layer_weights=()),
    ("reconstruct", "imagenet"): _RECONSTRUCT,
    ("reconstruct", "normalized"): dict(_RECONSTRUCT, content_weight=1e3),
}


# A run at full resolution (--max_dim 0: coarse to fine from start_dim, global statistics) with
# the normalized file, texture mode: the first level's Adam steps and calibration, chosen so that
# the whole run costs under 5x 100 steps at 512x341 and keeps the original's look. At 1024x576
# a step costs 3.4-4 steps at 512x341 (its pixels; 4.0 tiled with the raw loss), and the
# refinement levels (2048 and 3840 px wide, two steps each, with their targets) about 210 of
# them on peebles at 4K, which leaves the first level 50-70 steps. With
# epsilon 0.001 each step moves every pixel by nearly the learning rate, as the original's
# gradients did with Keras' weights (epsilon 0.1 against gradients far above it), so the look is
# made in about 45 steps (the settle rule's 200-step wait does not fit; it is off); 0.01 takes
# 60-200 (docs/measurements/2026-12-full-resolution.md). Given settings win, as everywhere.
FULL_RESOLUTION_EPSILON = 0.001
FULL_RESOLUTION_STEPS = 45
FULL_RESOLUTION_PRESETS = {
    ("texture", "normalized"): dict(beta_1=0.99, epsilon=FULL_RESOLUTION_EPSILON,
                                    settle_fraction=0.0, iterations=FULL_RESOLUTION_STEPS),
}
# The steps of a preset's run when `iterations` is not given, over DEFAULT_ITERATIONS.
PRESET_STEPS = {("texture", "normalized"): CALIBRATED_STEPS}


def _full_resolution(mode: str, preset: str, full_resolution: bool) -> dict:
    return FULL_RESOLUTION_PRESETS.get((mode, preset), {}) if full_resolution else {}


def mode_default(mode: str, preset: str, name: str, full_resolution: bool = False):
    """The default of field `name` in `mode` for weights `preset` (MODE_PRESETS; at full
    resolution FULL_RESOLUTION_PRESETS first)."""
    return _full_resolution(mode, preset, full_resolution).get(
        name, MODE_PRESETS[(mode, preset)][name])


def default_steps(optimizer: str, mode: str, preset: str, full_resolution: bool = False) -> int:
    """Steps (Adam) or evaluations when `iterations` is not given: DEFAULT_ITERATIONS, but
    Adam's from PRESET_STEPS where the preset has them, and the first level's at full
    resolution from FULL_RESOLUTION_PRESETS."""
    overrides = _full_resolution(mode, preset, full_resolution)
    if optimizer == "adam" and "iterations" in overrides:
        return overrides["iterations"]
    if optimizer == "adam" and (mode, preset) in PRESET_STEPS:
        return PRESET_STEPS[(mode, preset)]
    return DEFAULT_ITERATIONS[optimizer]


# A video (nst_tf/video): the temporal loss's weight, the earlier frames it looks back to (1: the
# previous one; 2 and 4: Ruder et al.'s long-term terms, where the nearer ones do not reach), and
# the steps of every frame after the first, which starts from the previous result warped to it
# and so near its answer (chosen by measurement: docs/measurements/2026-12-video.md).
VIDEO_TEMPORAL_WEIGHT = 3.0
VIDEO_TEMPORAL_FRAMES = (1, 2, 4)
VIDEO_LATER_STEPS = 20
# ... at this learning rate (the first frame's). The weight and the rate were chosen on a panned
# clip at 256 px against frames made one by one: weight 3 at rate 10 keeps every frame's texture
# loss within 7% of theirs with the warping error 62% lower; 5 within 10%, 10 within 20%, 50 at
# 99% over; rate 2 left the texture 12-18% over at every weight.
VIDEO_LATER_LEARNING_RATE = 10.0
# More frames than this are refused unless asked for: at a few seconds a frame on a CPU, a
# longer clip is hours (--max_frames raises it).
VIDEO_MAX_FRAMES = 3000


def loss_units_warning(mode: str, preset: str, name: str, value: float, shown: str = ""):
    """One line when loss weight `name` = `value`, given for `mode` under `preset`, looks like a
    weight in the 2018 network's units (ORIGINAL_TYPICAL_WEIGHTS) while the calibrated loop
    runs, saying what it would be in the loop's units; else None. shown: the setting as the
    front end spells it (a flag's --name), else its name."""
    if mode != "texture" or preset != "normalized" or name not in ORIGINAL_TYPICAL_WEIGHTS:
        return None
    scale = dict(zip(("direct_weight", "content_weight", "raw_weight", "texture_weight"),
                     NORMALIZED_LOSS_SCALES))[name]
    if not 0 < value < ORIGINAL_TYPICAL_WEIGHTS[name] * scale ** 0.5:
        return None
    return (f"warning: {shown or name} {value:g} looks like a weight for Keras' file under the 2018 loop; "
            f"the calibrated loop takes it as it is (its default is "
            f"{MODE_PRESETS[(mode, preset)][name]:g}), and in its units it would be "
            f"{value * scale:g} (or add --faithful for the 2018 loop)")
