"""How far a picture's texture is from a texture photo, by measures no run optimises: for
comparing texture losses (Gram against sliced Wasserstein) without letting either grade itself.

- `sliced`: the sliced Wasserstein distance at block1_conv1 to block4_conv1 (one layer deeper
  than the runs' texture layers), on HELD_OUT_DIRECTIONS x the layer's channels random
  directions drawn from HELD_OUT_SEED (a run draws as many as the channels, from its --seed),
  each layer's distance over the texture's own spread along those directions, averaged.
- `gram`: |G - G_texture|^2 / |G_texture|^2 at the same layers, averaged (LookMeasure's form).
- `histogram`: the colours' distance: per RGB channel, the root mean squared difference of the
  two pictures' sorted pixel values (the 1-D Wasserstein-2 distance of the channel's
  histograms), averaged, in gray levels (0..255).

The texture meets the picture's size as the run met it (`fit`): resized to it (the texture and
style modes: the original resizes the texture to the content), or cropped and mirror-extended
(mirror_fit: synthesis keeps the texture's own scale, so a synthesis is compared with the piece
of texture it was made from, not with the whole photo shrunk), or only cropped ('piece': the
photo's top left, the picture's size or the whole photo where that is smaller; a photo shorter
than the picture is compared as it is, without the mirror seams an extension would add to it).
Features are taken in colour. 0 is the texture itself (its fitted copy) on every measure.

`edges`: what the network sees beyond the picture's edges. 'zero': its zero padding, as a run
without seamless; 'mirror': the picture (and the texture) mirror-extended by the layers' halo
and the features cropped back to the picture's own positions, so that no position sees a frame;
'interior': only the positions at least the halo inside every edge, which are the same
whatever lies beyond; 'valid': every position that sees only the picture against every position
that sees only the texture (the texture's interior): on an axis the picture wraps around
(`wrap`, a seamless picture's) that is every position, the picture continued by itself; on
another, its interior. A small picture's statistics are largely its edges' (at 128 px,
block4_conv1's positions within its halo of the edge are most of them): the zero frame favours
a run whose target had it (synthesis without seamless), the mirrored edges one whose target was
mirror-extended (seamless synthesis until December 2026), the interior a run whose middle is
sheltered from its edges (synthesis without seamless: its edges take the frame's statistics),
and 'valid' neither: each picture as it is laid, against the texture with no edge of its own.
"""
from __future__ import annotations

from typing import Dict, Sequence

import keras
import numpy as np
import tensorflow as tf

from nst_tf.io.images import mirror_fit, resize
from nst_tf.network.vgg import preprocess
from nst_tf.objective.grid import footprint, halo
from nst_tf.objective.terms import gram, projection_directions, quantiles, sorted_projections

DISTANCE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")
# A seed no run uses by default (runs draw from --seed, 0 unless given), and four times the
# directions a run draws: the measure sees the distribution along directions the run never saw.
HELD_OUT_SEED = 20210607
HELD_OUT_DIRECTIONS = 4
FITS = {"resize": lambda texture, size: resize(texture, size, antialias=True),
        "crop": mirror_fit,
        "piece": lambda texture, size: texture[:size[0], :size[1]]}
EDGES = ("zero", "mirror", "interior", "valid")


class TextureDistances:
    """distances(image, wrap) -> {'sliced', 'gram', 'histogram'} against one texture photo.

    model: a VGG19 (keras.applications layout); texture: RGB (h, w, 3) 0..255, any size;
    fit: 'resize', 'crop' or 'piece' (FITS), how the texture meets the picture's size; edges:
    'zero', 'mirror', 'interior' or 'valid' (EDGES), what the network sees beyond the edges and
    which positions count; wrap (rows, columns): the axes the picture repeats along ('valid'
    only)."""

    def __init__(self, model: keras.Model, texture: np.ndarray,
                 layers: Sequence[str] = DISTANCE_LAYERS, fit: str = "resize",
                 edges: str = "zero"):
        if fit not in FITS or edges not in EDGES:
            raise ValueError(f"fit {fit!r} or edges {edges!r}: fit is one of {sorted(FITS)}, "
                             f"edges one of {EDGES}")
        self.layers = tuple(layers)
        self.fit, self.edges = FITS[fit], edges
        self.margin = 0 if edges == "zero" else halo(self.layers)
        self.strides = [footprint(name)[0] for name in self.layers]
        self.texture = np.asarray(texture, np.float32)
        self.extractor = keras.Model(model.input, [model.get_layer(n).output for n in self.layers])
        channels = [model.get_layer(n).output.shape[-1] for n in self.layers]
        self.directions = [
            tf.concat([projection_directions(c, (HELD_OUT_SEED, index * 16 + k))
                       for k in range(HELD_OUT_DIRECTIONS)], axis=1)
            for index, c in enumerate(channels)]
        self._targets = {}

    def features(self, image: np.ndarray, wrap=(False, False)):
        """[layer] (positions, channels): the picture's own positions ('interior', and
        'valid' on an axis that does not wrap: those the halo inside its edges)."""
        margin, image = self.margin, np.asarray(image, np.float32)
        inner = [self.edges == "interior" or (self.edges == "valid" and not wraps)
                 for wraps in wrap]
        if any(inner[axis] and image.shape[axis] <= 2 * margin for axis in (0, 1)):
            raise ValueError(f"a {image.shape[1]}x{image.shape[0]} picture has no positions "
                             f"{margin} px inside its edges")
        if self.edges in ("mirror", "valid"):
            # Mirrored on both axes, or ('valid') continued by itself on a wrapped axis: the
            # crop below keeps the picture's own positions there, and its interior elsewhere.
            pads = [(margin, margin) if self.edges == "mirror" or wraps else (0, 0)
                    for wraps in wrap]
            image = np.pad(image, (*pads, (0, 0)),
                           mode="symmetric" if self.edges == "mirror" else "wrap")
        found = self.extractor(preprocess(image)[None], training=False)
        found = found if isinstance(found, (list, tuple)) else [found]
        cropped = []
        for f, stride in zip(found, self.strides):
            cut = margin // stride  # the halo is a multiple of the deepest stride
            cropped.append(f[:, cut:f.shape[1] - cut, cut:f.shape[2] - cut])
        return [tf.reshape(f, [-1, f.shape[-1]]) for f in cropped]

    def _target(self, size):
        if size not in self._targets:  # a comparison scores many pictures of one size
            texture = self.fit(self.texture, size)
            features = self.features(texture)
            self._targets[size] = (
                texture, [sorted_projections(f, d).numpy().astype(np.float64)
                          for f, d in zip(features, self.directions)],
                [gram(tf.reshape(f, [1, -1, 1, f.shape[-1]]))[0].numpy().astype(np.float64)
                 for f in features])
        return self._targets[size]

    def __call__(self, image: np.ndarray, wrap=(False, False)) -> Dict[str, float]:
        image = np.asarray(image, np.float32)
        if any(wrap) and self.edges != "valid":
            raise ValueError(f"wrap {tuple(wrap)}: only the edges 'valid' continue a picture "
                             "by itself")
        texture, sorted_targets, grams = self._target(tuple(image.shape[:2]))
        features = self.features(image, wrap)
        sliced, gram_distance = [], []
        for f, d, target, target_gram in zip(features, self.directions, sorted_targets, grams):
            # Another count ('valid': all of a wrapped picture's positions against the
            # texture's interior): compared quantile by quantile, as the runs' distance does.
            ours = np.asarray(quantiles(sorted_projections(f, d).numpy().astype(np.float64),
                                        target.shape[0]))
            spread = np.mean(np.square(target - target.mean(axis=0)))
            sliced.append(np.mean(np.square(ours - target)) / spread)
            ours_gram = gram(tf.reshape(f, [1, -1, 1, f.shape[-1]]))[0].numpy().astype(
                np.float64)
            gram_distance.append(np.sum((ours_gram - target_gram) ** 2)
                                 / np.sum(target_gram ** 2))
        return {"sliced": float(np.mean(sliced)), "gram": float(np.mean(gram_distance)),
                "histogram": histogram_distance(image, texture)}


def histogram_distance(image: np.ndarray, texture: np.ndarray) -> float:
    """Per RGB channel, the root mean squared difference of the sorted pixel values (a
    texture of another size compared quantile by quantile, as the sliced distance is),
    averaged: gray levels."""
    theirs = np.sort(np.asarray(texture, np.float64).reshape(-1, 3), axis=0)
    ours = np.asarray(quantiles(np.sort(np.asarray(image, np.float64).reshape(-1, 3), axis=0),
                                theirs.shape[0]))
    return float(np.mean(np.sqrt(np.mean(np.square(ours - theirs), axis=0))))
