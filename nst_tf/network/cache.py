"""The frozen networks a process has built, kept for its next runs.

A VGG19 is 80 MB of weights and a second of building, and a batch, a server or a video seldom
needs more than one or two at a time; every engine of a process and every run share one cache
(shared_networks()) unless given their own.
"""
from __future__ import annotations

from typing import Optional

from nst_tf.kept import Kept, once_per_process

# Networks a cache keeps built: the least recently used goes first.
NETWORKS_KEPT = 2
# Feature extractors kept (a network's layers for a mode, in a precision): a few per network.
EXTRACTORS_KEPT = 8


class NetworkCache:
    """Networks by (network, weights file, seed for random weights, derived or not), the
    `kept` most recently used of them, and their feature extractors."""

    def __init__(self, kept: int = NETWORKS_KEPT):
        self.kept = kept
        self._networks = Kept(kept)
        self._extractors = Kept(EXTRACTORS_KEPT)

    def network(self, config, weights_path: Optional[str]):
        """The frozen network for `config` (a TransferConfig) and its resolved weights file
        (None: random weights, which depend on the seed); built once and kept."""
        from nst_tf.network.vgg import vgg
        derive = config.network_choice.derive
        key = (config.network, weights_path, config.seed if weights_path is None else None,
               derive)
        return self._networks.get(
            key, lambda: vgg(config.network, weights_path, config.seed, derive))

    def extractor(self, network, texture_layers, content_layers, precision: str = "float32"):
        """The FeatureExtractor of `network` for these layers and precision, made once and kept
        with the network (it holds Keras models of its own and the weights cast to the
        precision: a run that made them anew would leave them behind)."""
        from nst_tf.network.vgg import FeatureExtractor
        key = (network, tuple(texture_layers), tuple(content_layers), precision)
        return self._extractors.get(key, lambda: FeatureExtractor(
            network, texture_layers, content_layers, precision))


@once_per_process
def shared_networks() -> NetworkCache:
    """This process's cache of networks."""
    return NetworkCache()
