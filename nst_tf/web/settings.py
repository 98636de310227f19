"""The page's settings, made from TransferConfig's fields: the form the page draws (kind,
default, each mode's default, help, choices, group), the TransferConfig a submitted form asks
for, and that config written back as a command line.

One definition with the command line: the defaults, help texts and choices are the dataclass
fields' metadata, the groups and short help the settings' sections (nst_tf/config.py), and a
value is read from text by TransferConfig.parse_field. No TensorFlow here.
"""
from __future__ import annotations

import dataclasses
import shlex
from typing import Dict, Optional, Sequence, Tuple

from nst_tf.config import INIT_KINDS, SECTIONS, SHORT_HELP, TransferConfig
from nst_tf.errors import NSTError
from nst_tf.fields import field_kind
from nst_tf.network.choice import choose_network
from nst_tf.presets import (DEFAULT_ITERATIONS, MODES, PRESETS,
                            default_steps, mode_default)

# Shown first, outside the "more" disclosure: the settings people change.
MAIN_FIELDS = ("mode", "preset", "texture_weight", "max_dim", "iterations", "optimizer")

# The page's words for the settings people change (the flag's name is shown beside as a hint);
# the others are named by their flag with spaces.
LABELS = {"mode": "What to make", "preset": "Loss weights", "texture_weight": "Texture strength",
          "max_dim": "Size (longest side, px; 0: full)", "iterations": "Steps",
          "optimizer": "Optimizer"}

# Settings with a slider beside their box, over a range around the default shown (the mode's,
# the optimiser's): 'log' from default * low to default * high on a log scale (a strength),
# 'linear' from the larger of 1 and default * low to default * high in whole steps. The box
# stays what is sent: the slider writes into it, and an empty box is the default.
SLIDERS = {"texture_weight": {"scale": "log", "low": 0.1, "high": 10.0},
           "iterations": {"scale": "linear", "low": 0.25, "high": 4.0}}

# Regions painted on the page: texture k's colour in the label image the page sends as
# content_mask (one texture: a gray mask, white where painted), and how many textures it takes.
REGION_COLORS = ("#ff0000", "#00ff00", "#0000ff")
MAX_TEXTURES = len(REGION_COLORS)
# The file name the command line gives the page's painted mask (its "Download mask").
MASK_NAME = "mask.png"

# The page's quick preview: the run at most this many px a side (a quarter of the pixels of
# the 512 px default: the calibrated loop's 80 steps in about half a minute on 2 CPU cores).
PREVIEW_SIZE = 256

# The time estimate before a run: seconds per step per megapixel of the result. Until this
# server has measured its own pace, the calibrated loop's on 2 CPU cores (the README's picture:
# 80 Adam steps at 512x341 in 89 s, docs/measurements/2026-12-the-look-sooner.md).
NOMINAL_PACE = 6.4
# ... and building a run before its steps, once a run (a clip: once a frame): the objective
# (the texture's and the content's targets) and the first step's graph, as (seconds, seconds
# per megapixel of the result); before this server's first run, building the network (VGG19
# from its weights file) and that run's first graphs, NOMINAL_WARM_UP seconds, and starting
# TensorFlow if it has not started yet, NOMINAL_TF_START. Measured on the 2 shared cores under
# a load of 5-7 (steps 4-5 times slower than NOMINAL_PACE) and scaled down to it: building took
# 0.9 s at 96x64, 0.9 s at 256x170 and 3.8-6.0 s at 512x341 beside steps of 0.2, 1.0-1.5 and
# 4.3-4.9 s; the network 0.5 s, the first run 1.3 s more, TensorFlow's start 3.8-5.7 s
# (docs/guide/web.md). The server scales the building by what it measures on its own runs
# (nst_tf.web.runs.RunQueue.building).
NOMINAL_BUILD = (0.3, 6.0)
NOMINAL_WARM_UP = 0.5
NOMINAL_TF_START = 2.0

# Settings the page does not offer: the network and its weights are the server's (--weights).
SERVER_FIELDS = ("weights", "network")
# Nothing the user sends may name a file on the server. A text setting is offered only when it
# has choices, or is one of these (checked against the network's layer names), or is `init`
# (restricted to INIT_KINDS); any other (content_mask, texture_masks: paths; region_colors:
# only with a mask; a text setting added later) stays at its default, so a new setting that
# takes a path is left off the page until someone decides otherwise.
TEXT_FIELDS = ("texture_layers", "content_layers")

_FIELDS = {field.name: field for field in dataclasses.fields(TransferConfig)}
_DEFAULTS = TransferConfig()


def _json_value(value):
    """A setting's value as the page shows it: tuples as text the way the command line writes
    them ('2x2', 'a,b'), numbers and booleans as they are."""
    if isinstance(value, tuple):
        if value and all(isinstance(v, int) for v in value) and len(value) == 2:
            return "x".join(map(str, value))
        return ",".join(repr(v) if isinstance(v, float) else str(v) for v in value)
    return value


def offered(name: str) -> bool:
    """Whether the page offers setting `name` (SERVER_FIELDS, TEXT_FIELDS)."""
    field = _FIELDS.get(name)
    if field is None or name in SERVER_FIELDS:
        return False
    kind = field_kind(field)
    textual = kind == "str" or kind.startswith("Tuple[str")
    return not textual or "choices" in field.metadata or name in TEXT_FIELDS or name == "init"


def _widget(name: str, kind: str, field) -> str:
    if "choices" in field.metadata or name == "init":
        return "select"
    if kind == "bool":
        return "bool"
    return "text"


def form_fields() -> list:
    """Every setting the page offers, in the command line's help order: {name, kind, widget,
    default (None: by mode), mode_defaults {mode: {preset: value}}, help, short, choices,
    group}."""
    order = [("main", MAIN_FIELDS)] + list(SECTIONS)
    listed = {name for _, names in order for name in names}
    rest = tuple(name for name in _FIELDS if name not in listed)
    order.append(("advanced", rest))
    shown, seen = [], set()
    for group, names in order:
        for name in names:
            if name not in _FIELDS or name in seen or not offered(name):
                continue
            seen.add(name)
            field = _FIELDS[name]
            kind = field_kind(field)
            by_mode = bool(field.metadata.get("mode_field"))
            choices = list(field.metadata.get("choices", ()))
            if name == "init":
                choices = list(INIT_KINDS)
            entry = {
                "name": name, "kind": kind, "widget": _widget(name, kind, field),
                "default": None if by_mode else _json_value(getattr(_DEFAULTS, name)),
                "label": LABELS.get(name, name.replace("_", " ")),
                "help": field.metadata["help"], "short": SHORT_HELP.get(name, ""),
                "choices": choices, "group": group,
                "mode_defaults": {mode: {preset: _json_value(mode_default(mode, preset, name))
                                         for preset in PRESETS} for mode in MODES}
                if by_mode else None,
                "slider": SLIDERS.get(name),
            }
            if name == "iterations":
                # {mode: {preset: {optimizer: steps}}}: the calibrated loop's are not Adam's 1000.
                entry["optimizer_defaults"] = {
                    mode: {preset: {optimizer: default_steps(optimizer, mode, preset)
                                    for optimizer in DEFAULT_ITERATIONS} for preset in PRESETS}
                    for mode in MODES}
            shown.append(entry)
    return shown


def config_from_form(values: Dict[str, object], weights: Optional[str],
                     preset: Optional[str] = None, network: str = "vgg19") -> TransferConfig:
    """The TransferConfig a submitted form asks for. values: {setting: text, or a bool for a
    checkbox}; an empty text, None or 'default' leaves the setting at its default (a mode's
    setting: the mode's). weights, network: the server's. preset: the one the server's weights
    call for, used when the form names none. NSTError with one line (naming the setting) when a
    value cannot be read or is out of range."""
    chosen = {}
    for name, value in values.items():
        if name not in _FIELDS:
            raise NSTError(f"{name!r} is not a transfer setting")
        if name in SERVER_FIELDS:
            raise NSTError(f"{name} is the server's (--{name} when it starts), not the page's")
        if not offered(name):
            raise NSTError(f"{name} is not offered on the page (it names a file on the server, "
                           "or needs one)")
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "default")):
            continue
        if isinstance(value, bool):
            if field_kind(_FIELDS[name]) != "bool":
                raise NSTError(f"{name} takes {field_kind(_FIELDS[name])}, got {value}")
            chosen[name] = value
            continue
        if not isinstance(value, (str, int, float)):
            raise NSTError(f"{name}: give it as text, got {type(value).__name__}")
        chosen[name] = TransferConfig.parse_field(name, str(value))
    if "init" in chosen and chosen["init"] not in INIT_KINDS:
        raise NSTError(f"init must be one of {', '.join(INIT_KINDS)} here (the page cannot "
                       "name a file on the server)")
    if "preset" not in chosen and preset:
        chosen["preset"] = preset
    try:
        config = TransferConfig(**chosen, weights=weights, network=network)
    except NSTError as error:  # the page marks the box its message begins with
        raise NSTError(_naming_its_setting(str(error), chosen, weights, network)) from None
    for name, users in config.unused_settings(chosen):
        raise NSTError(f"{name} is for optimizer {' or '.join(users)}; optimizer "
                       f"{config.optimizer} does not use it")
    return config


def _naming_its_setting(message: str, chosen: dict, weights, network) -> str:
    """`message` beginning with the setting it is about: as it is when it does, else the first
    setting that fails alone (with the chosen mode and preset) put in front."""
    if any(message.startswith((name, f"--{name}")) for name in chosen):
        return message
    context = {key: chosen[key] for key in ("mode", "preset") if key in chosen}
    for name, value in chosen.items():
        try:
            TransferConfig(**{**context, name: value}, weights=weights, network=network)
        except NSTError:
            return f"{name}: {message}"
    return message


def _flag_value(value) -> str:
    if isinstance(value, tuple):
        if len(value) == 2 and all(isinstance(v, int) for v in value):
            return "x".join(map(str, value))
        return ",".join(repr(v) if isinstance(v, float) else str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def changed_settings(config: TransferConfig) -> dict:
    """{setting: value} of `config` that differ from what the transfer command would use
    without the flag: a field's default, a mode's setting its mode's default (for config's
    preset), the preset the weights call for, iterations the optimiser's."""
    base = TransferConfig(mode=config.mode, preset=config.preset, weights=config.weights,
                          network=config.network, original_colors=config.original_colors,
                          color_transfer=config.color_transfer, max_dim=config.max_dim,
                          statistics=config.statistics)
    changed = {}
    for name in _FIELDS:
        value = getattr(config, name)
        if name == "preset":
            if value != choose_network(config.weights, config.network, config.faithful).preset:
                changed[name] = value
        elif name == "iterations":  # without the flag: the optimiser's default
            if value is not None and value != base.replace(optimizer=config.optimizer).steps:
                changed[name] = value
        elif value != getattr(base if _FIELDS[name].metadata.get("mode_field") else _DEFAULTS,
                              name):
            changed[name] = value
    return changed


def _setting_flags(config: TransferConfig, skip=()) -> list:
    """--flag=value for each setting of `config` that differs from the command's defaults."""
    words = []
    for name, value in changed_settings(config).items():
        if name in skip:
            continue
        if isinstance(value, bool):
            words.append(f"--{name}" if value else f"--no{name}")
        else:
            words.append(f"--{name}={_flag_value(value)}")
    return words


def command_line(config: TransferConfig, content: Optional[str], textures: Sequence[str],
                 output: str = "result.png") -> str:
    """`nst-tf transfer --content ... --texture ... --flag=value ...`: the run as a command (the
    one `pip install` gives), with only the settings that differ from the command's defaults.
    content, textures: the names to write for the photos, run in a folder that holds them
    (where_to_run says so)."""
    words = ["nst-tf", "transfer"]
    if content is not None and config.mode != "synthesize":
        words.append(f"--content={content}")
    if textures and config.mode != "reconstruct":
        words.append(f"--texture={','.join(textures)}")
    words.append(f"--output={output}")
    words += _setting_flags(config)
    return " ".join(shlex.quote(word) for word in words)


def video_command_line(config: TransferConfig, clip: str, textures: Sequence[str], video,
                       output: str = "result.mp4") -> str:
    """`nst-tf video --content CLIP ...`: a clip run as a command, as command_line writes a
    picture's: the video settings (VideoSettings) and the transfer's that differ from the
    command's defaults."""
    words = ["nst-tf", "video", f"--content={clip}"]
    if textures and config.mode != "reconstruct":
        words.append(f"--texture={','.join(textures)}")
    words.append(f"--output={output}")
    defaults = type(video)()
    for field in dataclasses.fields(video):
        value = getattr(video, field.name)
        if value != getattr(defaults, field.name):  # a tuple of frame distances: 1,2
            words.append(f"--{field.name}=" + (",".join(map(str, value)) if isinstance(
                value, tuple) else _flag_value(value)))
    words += _setting_flags(config)
    return " ".join(shlex.quote(word) for word in words)


def where_to_run(files: Sequence[Tuple[str, str]]) -> str:
    """The line above the command: which files to put in the folder it runs in. files: (name,
    where it comes from: 'example', 'upload' or 'mask'), in the command's order."""
    names = [name for name, _ in files]
    listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    notes = []
    examples = [name for name, kind in files if kind == "example"]
    if examples:
        notes.append(("the example" if len(examples) == 1 else "the examples")
                     + " from nst-tf's examples/ folder")
    if any(kind == "mask" for _, kind in files):
        notes.append(f"{MASK_NAME} from the page's Download mask")
    return f"# Run in a folder holding {listed}" + (f" ({'; '.join(notes)})" if notes else "") + ":"
