"""Which network runs and which loss weights go with it, from the weights setting.

The default for every user is the calibrated loop: Gatys' normalized VGG19 with the settings
tuned for it (preset 'normalized'), whatever VGG19 ImageNet file is given; Keras' file and any
other per-channel rescaling of the same network are carried to it exactly (calibration.py).
`faithful` runs the 2018 computation instead: the file as it is, with the notebooks' settings
(preset 'imagenet'). A file that is not a rescaling of VGG19's ImageNet weights (untrained
weights, a fine-tuned network, VGG16) runs as it is with the 2018 settings, and says why.

No TensorFlow here.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

from nst_tf.errors import NSTError
from nst_tf.network.calibration import identify

CALIBRATED, ORIGINAL = "normalized", "imagenet"  # the presets' names (presets.PRESETS)


@dataclasses.dataclass(frozen=True)
class NetworkChoice:
    """preset: the loss weights' preset; derive: the normalized network is derived from the
    weights file when the network is built; summary: what runs, for the start line; warning:
    one line when a given preset does not suit the file, else None."""

    preset: str
    derive: bool
    summary: str
    warning: Optional[str] = None


def _named(weights: str) -> str:
    return "Keras' file" if weights == "imagenet" else Path(weights).name


def choose_network(weights: Optional[str], network: str = "vgg19", faithful: bool = False,
                   preset: Optional[str] = None) -> NetworkChoice:
    """The network and preset for the `weights` setting ('imagenet', a path, 'random' or None)
    of `network`. faithful: the 2018 loop (the file as it is, preset imagenet). preset: a
    preset given by the user (None: the file's). A path that cannot be read gives the 2018
    settings here; the inputs' check reports the file itself."""
    if faithful and preset == CALIBRATED:
        raise NSTError("faithful runs the 2018 computation (preset imagenet); it cannot go with "
                       "preset normalized")
    if weights in (None, "random"):
        return NetworkChoice(preset or ORIGINAL, False,
                             f"untrained weights, preset {preset or ORIGINAL}")
    name = _named(weights)
    if faithful:
        return NetworkChoice(ORIGINAL, False,
                             f"the 2018 loop (faithful: {name} as it is, the notebooks' settings)")
    if weights == "imagenet":
        # Keras' VGG19 file is known by its md5: a rescaling of the normalized network (checked
        # again when it is derived). Keras' VGG16 has no calibration.
        kind, reason = ("rescaled", "") if network == "vgg19" else (
            "other", f"the calibration is VGG19's, not {network.upper()}'s")
    else:
        kind, reason = identify(weights, network)
    if kind == "unreadable":
        return NetworkChoice(preset or ORIGINAL, False, f"preset {preset or ORIGINAL}")
    calibrated = kind in ("normalized", "rescaled")
    if preset is None:
        preset = CALIBRATED if calibrated else ORIGINAL
        if not calibrated:
            return NetworkChoice(preset, False,
                                 f"the 2018 settings ({name}: {reason})")
    derive = preset == CALIBRATED and kind == "rescaled"
    if preset == CALIBRATED:
        source = (f"Gatys' normalized VGG19, derived from {name}" if derive
                  else "Gatys' normalized VGG19" if calibrated else name)
        warning = None if calibrated else (
            f"warning: preset normalized is tuned for Gatys' normalized VGG19, but {name} is "
            f"{reason}")
        return NetworkChoice(preset, derive, f"the calibrated loop ({source})", warning)
    warning = (f"warning: preset imagenet is tuned for Keras' file, but {name} is Gatys' "
               f"normalized VGG19; without the preset the calibrated loop would run"
               if kind == "normalized" else None)
    return NetworkChoice(preset, False, f"preset imagenet ({name} as it is)", warning)
