"""The frozen networks a process has built, kept for its next runs.

A VGG19 is 80 MB of weights and a second of building, and a batch, a server or a video seldom
needs more than one or two at a time; every engine of a process and every run share one cache
(shared_networks()) unless given their own.
"""
from __future__ import annotations

import collections
import threading
from typing import Optional

# Networks a cache keeps built: the least recently used goes first.
NETWORKS_KEPT = 2
# Feature extractors kept (a network's layers for a mode, in a precision): a few per network.
EXTRACTORS_KEPT = 8


class NetworkCache:
    """Networks by (network, weights file, seed for random weights, derived or not), the
    `kept` most recently used of them."""

    def __init__(self, kept: int = NETWORKS_KEPT):
        self.kept = kept
        self._networks: "collections.OrderedDict[tuple, object]" = collections.OrderedDict()
        self._extractors: "collections.OrderedDict[tuple, object]" = collections.OrderedDict()
        self._lock = threading.Lock()

    def network(self, config, weights_path: Optional[str]):
        """The frozen network for `config` (a TransferConfig) and its resolved weights file
        (None: random weights, which depend on the seed); built once and kept."""
        from nst_tf.network.vgg import vgg
        derive = config.network_choice.derive
        key = (config.network, weights_path, config.seed if weights_path is None else None,
               derive)
        with self._lock:
            if key in self._networks:
                self._networks.move_to_end(key)
                return self._networks[key]
            while len(self._networks) >= self.kept:
                self._networks.popitem(last=False)
            model = vgg(config.network, weights_path, config.seed, derive)
            self._networks[key] = model
            return model

    def extractor(self, network, texture_layers, content_layers, precision: str = "float32"):
        """The FeatureExtractor of `network` for these layers and precision, made once and kept
        with the network (it holds Keras models of its own and the weights cast to the
        precision: a run that made them anew would leave them behind)."""
        from nst_tf.network.vgg import FeatureExtractor
        key = (network, tuple(texture_layers), tuple(content_layers), precision)
        with self._lock:
            if key in self._extractors:
                self._extractors.move_to_end(key)
                return self._extractors[key]
            while len(self._extractors) >= EXTRACTORS_KEPT:
                self._extractors.popitem(last=False)
            extractor = FeatureExtractor(network, texture_layers, content_layers, precision)
            self._extractors[key] = extractor
            return extractor


_SHARED = None
_SHARED_LOCK = threading.Lock()


def shared_networks() -> NetworkCache:
    """This process's cache of networks."""
    global _SHARED
    with _SHARED_LOCK:
        if _SHARED is None:
            _SHARED = NetworkCache()
        return _SHARED
