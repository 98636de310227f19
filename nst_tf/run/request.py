"""A run asked for, checked and planned once, before TensorFlow starts.

Every front end turns its input into a Request; prepare() reads and checks every input (io/)
and makes the run's plan (levels.run_plan: the levels' sizes and steps, the output, the tile):
the only place a plan is made. What runs (the engine, the video, the web page's queue) takes the
Prepared and never plans again. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Sequence

import numpy as np

from nst_tf.config import TransferConfig
from nst_tf.errors import NSTError
from nst_tf.io.inputs import ImageLike, Inputs, TextureArg, as_image, read_inputs
from nst_tf.run.levels import RunPlan, run_plan


@dataclasses.dataclass
class Request:
    """One transfer: the photos as paths, bytes, arrays or PIL images (content None for
    synthesis; texture one, a list, or None for reconstruction), the settings, and optionally
    the masks of spatial control and a start image in place of config.content_mask,
    config.texture_masks and config.init (the same kinds of value). anchors: a video frame's
    temporal targets, [(RGB (H, W, 3), weights (H, W) in [0, 1])] at the content's size (the
    previous results warped to this frame, and where the warp holds)."""

    content: Optional[ImageLike]
    texture: TextureArg
    config: TransferConfig = dataclasses.field(default_factory=TransferConfig)
    content_mask: Optional[ImageLike] = None
    texture_masks: Optional[Sequence[Optional[ImageLike]]] = None
    init: Optional[ImageLike] = None
    anchors: Sequence = ()


@dataclasses.dataclass
class Prepared:
    """A request read and checked, with its plan: what prepare() returns and run() takes."""

    request: Request
    inputs: Inputs
    plan: RunPlan


def prepare(request: Request, download: bool = False) -> Prepared:
    """Reads and checks every input of `request` and plans the run, before TensorFlow starts;
    NSTError with one line on the first problem. download: fetch Keras' weights file when it is
    not here (80 MB); otherwise a missing file is an NSTError saying how to get it."""
    config = request.config
    if not isinstance(config, TransferConfig):
        raise NSTError(f"config: give a TransferConfig, not {type(config).__name__}")
    if request.init is not None:
        config = config.replace(init="content")  # the start image comes with the request
    inputs = read_inputs(request.content, request.texture, config, download=download,
                         content_mask=request.content_mask,
                         texture_masks=request.texture_masks)
    if request.init is not None:
        init = as_image(request.init, "init")
        if init.shape != inputs.content.shape:
            raise NSTError(f"init: init image is {init.shape[1]}x{init.shape[0]}, the content is "
                           f"{inputs.content.shape[1]}x{inputs.content.shape[0]}; they must "
                           "match")
        inputs = dataclasses.replace(inputs, init=init)
    for index, (target, weights) in enumerate(request.anchors):
        if (np.shape(target) != inputs.content.shape
                or np.shape(weights) != inputs.content.shape[:2]):
            raise NSTError(f"anchor {index}: a target of {np.shape(target)} and weights of "
                           f"{np.shape(weights)} for a content of {inputs.content.shape}; they "
                           "must be the content's size")
    return Prepared(request, inputs, plan_for(inputs.content.shape[:2], config))


def plan_for(content_size, config: TransferConfig) -> RunPlan:
    """The plan of a run on a content of `content_size` (height, width): made here and nowhere
    else (a split or a first level that cannot work is refused: NSTError), and handed with the
    inputs to what runs them; a video's frames are planned here too."""
    return run_plan(tuple(content_size), config)


def load_inputs(content: Optional[ImageLike], texture: TextureArg,
                config: TransferConfig, download: bool = False, content_mask=None,
                texture_masks=None) -> Inputs:
    """Every check of a transfer on its photos and settings, without running it (prepare()'s,
    the plan's included): the Inputs read, or NSTError with one line on the first problem."""
    return prepare(Request(content, texture, config, content_mask, texture_masks),
                   download=download).inputs
