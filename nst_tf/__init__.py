"""nst_tf: Neural Texture Transfer in TensorFlow/Keras.

    import nst_tf
    result = nst_tf.transfer("cat.jpg", "cracks.jpg")
    nst_tf.save("cat_cracked.png", result)

`result` is a uint8 RGB array. An Engine runs Requests to Outcomes as every front end does: a
callback after each step, a stop signal, and how the run ended with its picture (the best so far
after a stop or Ctrl-C).

Importing the package does not start TensorFlow (a run starts it), so the configuration and the
input checks (nst_tf.load_inputs) answer in a fraction of a second.
"""
from __future__ import annotations

from nst_tf import tensorflow_quietly  # noqa: F401 (TensorFlow's C++ log lines stay quiet)
from nst_tf.config import TransferConfig
from nst_tf.fields import parse_split
from nst_tf.errors import NSTError, NonFiniteLoss
from nst_tf.io.images import write_image as save
from nst_tf.io.inputs import as_image
from nst_tf.run.engine import Engine, Outcome, default_engine
from nst_tf.run.request import Request, load_inputs
from nst_tf.steps import Callback, StepReport

__all__ = ["TransferConfig", "StepReport", "Callback", "NSTError", "NonFiniteLoss",
           "transfer", "video", "save", "parse_split", "as_image", "load_inputs", "Engine", "Request",
           "Outcome", "default_engine"]



def video(content, texture, output, config: TransferConfig = None, callback=None, **settings):
    """nst_tf.video("clip.mp4", "gravel.jpg", "clip_gravel.mp4"): the clip with the texture,
    steady from frame to frame (nst_tf.video.transfer.video; settings: frames='A:B', every,
    temporal_weight, temporal_frames, later_steps, max_frames, fps). Needs the video extra: pip install 'nst-tf[video]'
    (in a checkout: pip install '.[video]')."""
    from nst_tf.video.transfer import video as make_video
    return make_video(content, texture, output, config, callback, **settings)


def transfer(content, texture, config: TransferConfig = None, callback=None,
             content_mask=None, texture_masks=None, init=None):
    """Puts the texture of `texture` into `content` (config.mode: or makes a style transfer, a
    synthesis, a reconstruction); returns uint8 RGB of size (rows * tile_height,
    columns * tile_width, 3) (at --max_dim 0: the content's size). content: a path, the file's
    bytes, an array or a PIL image (None for synthesis); texture: one, a list of them (blended
    by config.texture_blend), or None for reconstruction. callback(StepReport) follows each
    step. content_mask, texture_masks: spatial control; init: a start image (the same kinds).

    Every input is checked before TensorFlow starts: NSTError with one line. When the loss
    stops being finite, NonFiniteLoss is raised with the best image before it as its `image`;
    Ctrl-C raises KeyboardInterrupt. nst_tf.save(path, image) writes the result.
    """
    outcome = default_engine().run(
        Request(content, texture, TransferConfig() if config is None else config, content_mask,
                texture_masks, init), on_step=callback, download=True)
    if outcome.status == "done":
        return outcome.image
    if isinstance(outcome.error, NonFiniteLoss):
        outcome.error.image = outcome.image
    raise outcome.error
