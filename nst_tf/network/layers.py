"""The layers of the frozen networks, input to output, and the names other tools give them.

No TensorFlow here: the settings check layer names against these tables before the network is
built.
"""
from __future__ import annotations

import re
from typing import Tuple


def _vgg_layers(convs_per_block) -> Tuple[str, ...]:
    return tuple(f"block{block}_{kind}" for block, convs in enumerate(convs_per_block, start=1)
                 for kind in [f"conv{i}" for i in range(1, convs + 1)] + ["pool"])


# The layers of Keras' VGG19 and VGG16 without their classifiers, input to output. VGG16 has
# three convolutions in blocks 3 to 5 where VGG19 has four; the names otherwise agree.
VGG19_LAYERS = _vgg_layers((2, 2, 4, 4, 4))
VGG16_LAYERS = _vgg_layers((2, 2, 3, 3, 3))
NETWORK_LAYERS = {"vgg19": VGG19_LAYERS, "vgg16": VGG16_LAYERS}
NETWORKS = tuple(NETWORK_LAYERS)

# The first convolution of each block: the style and synthesis modes' texture layers.
ALL_CONV1 = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")


def keras_layer_name(name: str) -> str:
    """A VGG layer in Keras' spelling (block4_conv2) from the Caffe/Torch spelling the other
    neural-style tools use (relu4_2, conv4_2, pool4); Keras' names pass through. Keras' conv
    layers include their ReLU, so relu4_2 and conv4_2 are both block4_conv2's output."""
    match = re.fullmatch(r"(?:relu|conv)(\d)_(\d)", name.strip().lower())
    if match:
        return f"block{match.group(1)}_conv{match.group(2)}"
    match = re.fullmatch(r"pool(\d)", name.strip().lower())
    if match:
        return f"block{match.group(1)}_pool"
    return name.strip()
