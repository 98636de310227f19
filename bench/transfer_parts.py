"""The engine's internal transfer (nst_tf/run/texture_transfer.py) built as the engine builds it,
for measurements and tests of its parts: the plan, the regime, the objective, the image between
steps. Whole runs go through what users call (nst_tf.transfer, an Engine)."""
from __future__ import annotations


def built(content, texture, config=None, network=None, build_objective=None, download=False,
          **request):
    """prepare() on a Request of these (request: content_mask, texture_masks, init, anchors),
    then the transfer of its levels, ready to run: NSTError with one line on bad input."""
    from nst_tf.config import TransferConfig
    from nst_tf.run.request import Request, prepare
    from nst_tf.run.texture_transfer import TextureTransfer
    prepared = prepare(Request(content, texture, config or TransferConfig(), **request),
                       download=download)
    return TextureTransfer(prepared, network, build_objective)
