"""The loss terms, each written once, and how they are weighted and summed.

Every term but the Gram distance is a sum over positions divided by a count known in advance
(the positions x channels of the whole picture, or of one tile of the original's split). That is
what lets the tiled evaluation (objective/tiled.py) add up each tile's core and get the whole
picture's value: it calls the same functions with a mask of the core and the picture's count,
where the whole-batch evaluation (objective/whole.py) calls them with no mask and each batch
entry's own count. The Gram distance is not a sum over positions; the tiled evaluation takes its
value from the accumulated Gram matrices through the same `gram_distance`, and its gradient from
`gram_surrogate`.

Shapes: a batch (n, h, w, c); a mask (n or 1, h, w, 1) of 0 and 1; a per-entry value (n,).
Images enter preprocessed (BGR, mean-subtracted).
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Sequence, Tuple

from nst_tf.tensorflow_quietly import tf  # started without its C++ log lines

from nst_tf.errors import NSTError
from nst_tf.io.images import gray3
from nst_tf.network.vgg import deprocess, preprocess
from nst_tf.steps import LOSS_PARTS


# --- distances -------------------------------------------------------------------------------
@tf.custom_gradient
def _masked_square_sum(features, target, mask):
    """Per entry, the sum over the positions where mask is 1 of |features - target|^2, with the
    gradient 2 mask (features - target) written out (target and mask are constants): no copy of
    a tile's core going forward and no padding back to the tile's shape coming back (on a 792 px
    gray tile that took the gray step from 3.71 to 2.80 s)."""
    difference = features - target
    value = tf.reduce_sum(tf.reduce_sum(tf.square(difference), -1, keepdims=True) * mask,
                          axis=[1, 2, 3])

    def gradient(upstream):
        return 2.0 * upstream[:, None, None, None] * mask * difference, None, None

    return value, gradient


def square_distance(a, b, count: Optional[float] = None, mask=None):
    """sum over positions (where mask is 1) and channels of (a - b)^2, divided by `count`
    (default: the positions x channels of one entry, so the value is their mean): (n,)."""
    if count is None:
        count = float(a.shape[1] * a.shape[2] * a.shape[3]) if a.shape.is_fully_defined() \
            else tf.cast(tf.reduce_prod(tf.shape(a)[1:]), a.dtype)
    if mask is None:
        return tf.reduce_sum(tf.square(a - b), axis=[1, 2, 3]) / count
    return _masked_square_sum(a, b, mask) / count


def gram_sums(features, weights=None):
    """(n, h, w, c) -> (n, c, c): sum over the positions of f f^T, each times its weight when
    `weights` (n or r, h, w, 1) are given (a guidance channel, a tile's core: (r, c, c) for r
    regions of one picture)."""
    shape = tf.shape(features)
    flat = tf.reshape(features, [shape[0], shape[1] * shape[2], shape[3]])
    if weights is None:
        return tf.matmul(flat, flat, transpose_a=True)
    weighted = features * weights
    weighted_shape = tf.shape(weighted)
    weighted = tf.reshape(weighted, [weighted_shape[0], shape[1] * shape[2], shape[3]])
    return tf.matmul(weighted, flat, transpose_a=True)


def guided_gram(features, guidance):
    """The Gram matrix of a region (Gatys et al. 2017, spatial control): sum over positions of
    g f f^T over the sum of g, with the region's guidance g (n, h, w, 1) in [0, 1] at the
    features' resolution: (n, c, c). A region with no weight in an entry gives 0 there."""
    weight = tf.reduce_sum(guidance, axis=[1, 2, 3])
    return gram_sums(features, guidance) / tf.maximum(weight, 1e-12)[:, None, None]


def pooled(mask, stride: int):
    """A mask (n, h, w, 1) carried to a layer of `stride` as the network pools: 2x2 averages,
    'valid', log2(stride) times."""
    mask = tf.convert_to_tensor(mask, tf.float32)
    while stride > 1:
        mask = tf.nn.avg_pool2d(mask, 2, 2, "VALID")
        stride //= 2
    return mask


def gram(features):
    """(n, h, w, c) -> (n, c, c): channel correlations averaged over the h*w positions."""
    shape = tf.shape(features)
    return gram_sums(features) / tf.cast(shape[1] * shape[2], features.dtype)


def gram_distance(grams, targets):
    """Mean over the c x c entries of (G - G_target)^2: (n,) for (n, c, c), a scalar for (c, c)."""
    return tf.reduce_mean(tf.square(grams - targets), axis=[-2, -1])


# --- the sliced Wasserstein distance (Heitz et al., CVPR 2021) ---------------------------------
def projection_directions(channels: int, seed: Tuple[int, int]):
    """(c, c) random unit directions, one per column, as many as the layer has channels:
    drawn from `seed` (the run's seed and the layer), so a run is deterministic."""
    directions = tf.random.stateless_normal([channels, channels], seed=seed)
    return directions / tf.norm(directions, axis=0, keepdims=True)


def layer_directions(channels: Sequence[int], seed: int) -> List:
    """One set of projection_directions per texture layer of these channel counts, from the
    run's seed and the layer's place: the whole and the tiled evaluations draw the same."""
    return [projection_directions(int(c), (int(seed), index)) for index, c in enumerate(channels)]


def assign_by_rank(values, target_sorted):
    """numpy: one direction's projections (P,) and a target's sorted ones (M,) -> (P,), each
    projection's target: the target's quantile of the projection's rank (what the sliced
    Wasserstein distance compares it with, and pulls it to). The tiled evaluation's sort over
    the whole picture, a direction at a time."""
    import numpy as np
    matched = quantiles(np.asarray(target_sorted, np.float32)[:, None], len(values))
    assigned = np.empty(len(values), np.float32)
    assigned[increasing_order(values)] = np.asarray(matched)[:, 0]
    return assigned


def increasing_order(values):
    """numpy: the indices that sort float32 values (P,), equal values in their own order: what
    np.argsort(kind='stable') gives, made by one sort of 64-bit integers (a value's bits made
    to sort as an unsigned integer, above its index), which NumPy sorts with SIMD: 6x faster
    on 20 million values, where each of block1_conv1's 64 directions sorts the whole picture.
    -0.0 counts as 0.0, as in a comparison."""
    import numpy as np
    values = np.asarray(values, np.float32)
    if len(values) >= 1 << 32:
        return np.argsort(values, kind="stable")  # the index would not fit beside the value
    bits = (values + np.float32(0.0)).view(np.uint32)  # -0.0 + 0.0 is +0.0
    # Negative numbers sort in reverse of their bits and below the positive ones.
    keys = np.where(bits >> np.uint32(31), ~bits, bits | np.uint32(1 << 31)).astype(np.uint64)
    del bits
    keys <<= np.uint64(32)
    keys |= np.arange(len(values), dtype=np.uint64)
    keys.sort()
    keys &= np.uint64(0xFFFFFFFF)
    return keys.astype(np.intp)


def sorted_projections(positions, directions):
    """(P, c) feature vectors -> (P, k): their projections on each direction, each column
    sorted: the empirical distribution of the features along each direction."""
    return tf.sort(tf.matmul(positions, directions), axis=0)


def quantiles(sorted_values, count):
    """(M, k) sorted columns -> (count, k): the values at the midpoints of `count` equal
    shares of the M samples, so that two distributions with different numbers of samples
    compare position by position."""
    if isinstance(count, int) and sorted_values.shape[0] == count:
        return sorted_values  # before tf.shape, which would copy a NumPy array into a tensor
    size = tf.shape(sorted_values)[0]
    index = tf.cast((tf.cast(tf.range(count), tf.float32) + 0.5)
                    * tf.cast(size, tf.float32) / tf.cast(count, tf.float32), tf.int32)
    return tf.gather(sorted_values, tf.minimum(index, size - 1))


def sliced_wasserstein(positions, target_sorted, directions):
    """The sliced Wasserstein distance of Heitz et al. (2021) between the feature vectors
    `positions` (P, c) and a target's sorted projections (M, k) on `directions` (c, k): the mean
    over the P quantiles and k directions of the squared difference of the sorted projections,
    a scalar; 0 when there is no position. The gradient flows through the sort (a
    permutation): each position is pulled to the target's value of its rank."""
    count = tf.shape(positions)[0]
    ours = sorted_projections(positions, directions)
    difference = ours - quantiles(target_sorted, count)
    return tf.math.divide_no_nan(tf.reduce_sum(tf.square(difference)),
                                 tf.cast(count * tf.shape(directions)[1], positions.dtype))


def positions_of(features, guidance=None):
    """One picture's features (1, h, w, c) as (P, c) feature vectors: every position, or those
    where the region's `guidance` (1, h, w, 1) is at least one half."""
    flat = tf.reshape(features, [-1, tf.shape(features)[-1]])
    if guidance is None:
        return flat
    return tf.boolean_mask(flat, tf.reshape(guidance, [-1]) >= 0.5)


@tf.custom_gradient
def _masked_quadratic_form(features, delta, mask):
    """sum over the positions p where mask is 1 of f_p^T delta f_p for one picture (1, h, w, c):
    (1,); delta (c, c) symmetric; the gradient 2 mask f delta written out (delta and mask are
    constants)."""
    delta = 0.5 * (delta + tf.transpose(delta))  # G - G_target, symmetric up to rounding
    product = tf.reshape(tf.matmul(tf.reshape(features, [-1, features.shape[-1]]), delta),
                         tf.shape(features))
    value = tf.reshape(tf.reduce_sum(tf.reduce_sum(product * features, -1, keepdims=True) * mask),
                       [1])

    def gradient(upstream):
        return 2.0 * upstream * mask * product, None, None

    return value, gradient


def gram_surrogate(features, delta, positions: float, mask):
    """A term whose gradient at every position equals that of gram_distance(G, G_target) when
    G is the Gram matrix of the whole picture (N = `positions`) and delta = G - G_target:
    `2 / (c^2 N) f^T delta f` summed over the masked positions, whose gradient is
    `4 / (c^2 N) delta f`. With G accumulated beforehand over every tile, each tile's share of
    the gradient is exact."""
    channels = features.shape[-1]
    return 2.0 / (channels ** 2 * positions) * _masked_quadratic_form(features, delta, mask)


def anchored_distance(images, anchors):
    """The temporal loss of Ruder et al. (2016, "Artistic style transfer for videos"): for each
    anchor (target, weights), a target picture (the previous frames' results warped to this
    one, preprocessed, shaped like `images`) and where it holds ((n, h, w, 1) in [0, 1]: 0 at
    disocclusions and motion boundaries), sum over positions and channels of weights x
    (images - target)^2, over the positions x channels; summed over the anchors: (n,)."""
    return tf.add_n([square_distance(images, target, mask=weights)
                     for target, weights in anchors])


def total_variation(images, wrap=(False, False)):
    """Mean squared difference of vertically, plus of horizontally, neighbouring pixels: (n,).
    wrap: (rows, columns), the axes that wrap around (seamless): there the last row (column)
    and the first are neighbours too, one difference per pixel."""
    if wrap[0]:
        down = tf.roll(images, -1, 1) - images
    else:
        down = images[:, 1:, :, :] - images[:, :-1, :, :]
    if wrap[1]:
        right = tf.roll(images, -1, 2) - images
    else:
        right = images[:, :, 1:, :] - images[:, :, :-1, :]
    return (tf.reduce_mean(tf.square(down), axis=[1, 2, 3])
            + tf.reduce_mean(tf.square(right), axis=[1, 2, 3]))


def layer_mean(values: Sequence, layer_weights: Sequence[float] = ()):
    """The per-layer values, each times its weight (1 when none are given), averaged over the
    layers: the normalisation every feature part shares."""
    layer_weights = tuple(layer_weights) or (1.0,) * len(values)
    return tf.add_n([w * v for w, v in zip(layer_weights, values)]) / float(len(values))


# --- textures --------------------------------------------------------------------------------
def gray(images):
    """Gray version of a preprocessed batch, still preprocessed; differentiable."""
    return preprocess(gray3(deprocess(images)))


def blend_weights(blend: Sequence[float], count: int) -> Tuple[float, ...]:
    """`count` weights summing to 1: `blend` normalised (empty: equal)."""
    blend = tuple(float(w) for w in blend) or (1.0,) * count
    if len(blend) != count:
        raise NSTError(f"texture_blend has {len(blend)} weights for {count} textures")
    return tuple(w / sum(blend) for w in blend)


def blended(per_texture: Sequence[Sequence], weights: Sequence[float]) -> List:
    """Layer by layer, the weighted sum over textures: per_texture[k][layer] -> [layer]. Gram
    targets blend this way; so do raw targets, which for weights summing to 1 gives the gradient
    of the weighted sum of the raw losses."""
    return [tf.add_n([w * term for w, term in zip(weights, layer)]) if len(weights) > 1
            else weights[0] * layer[0] for layer in zip(*per_texture)]


# --- weighting -------------------------------------------------------------------------------
def part_weights(loss_weights: Sequence[float]) -> Dict[str, float]:
    """{part: weight} from weights in LOSS_PARTS' order; parts left off (tv, for the original's
    four weights) weigh 0."""
    weights = tuple(float(w) for w in loss_weights)
    return dict(zip(LOSS_PARTS, weights + (0.0,) * (len(LOSS_PARTS) - len(weights))))


@dataclasses.dataclass(frozen=True)
class Weighting:
    """What an objective weighs and how the texture is seen, shared by every evaluation.

    weights: {part: weight}. layer_weights: one per texture layer for the texture part (all 1
    when none are given). gray_texture: the texture branch sees gray images, made before
    preprocessing, so the texture brings structure and no colour (the texture mode); else
    colour (style, synthesis). blend: one weight per texture, summing to 1. texture_loss:
    'gram' or 'sliced_wasserstein', the texture part's distance.
    """

    weights: Dict[str, float]
    layer_weights: Tuple[float, ...]
    gray_texture: bool
    blend: Tuple[float, ...]
    texture_loss: str = "gram"

    @classmethod
    def of(cls, loss_weights: Sequence[float], layer_weights: Sequence[float], layers: int,
           gray_texture: bool, blend: Sequence[float], textures: int,
           texture_loss: str = "gram") -> "Weighting":
        return cls(part_weights(loss_weights),
                   tuple(float(w) for w in layer_weights) or (1.0,) * layers,
                   bool(gray_texture), blend_weights(blend, textures), texture_loss)

    @property
    def sliced(self) -> bool:
        """Whether the texture part is the sliced Wasserstein distance (else Gram's)."""
        return self.texture_loss == "sliced_wasserstein"

    # A branch of the network whose parts all weigh 0 is never run.
    @property
    def uses_colour(self) -> bool:
        return self.weights["content"] > 0

    @property
    def uses_raw(self) -> bool:
        return self.weights["raw"] > 0

    @property
    def uses_gram(self) -> bool:
        return self.weights["texture"] > 0

    @property
    def uses_texture(self) -> bool:
        return self.uses_raw or self.uses_gram

    def texture_view(self, images):
        """A preprocessed batch as the texture branch sees it (gray, or as it is)."""
        return gray(images) if self.gray_texture else images

    def texture_view_of_rgb(self, rgb):
        """RGB 0..255 texture images as the texture branch sees them: preprocessed, gray or not."""
        return preprocess(gray3(rgb) if self.gray_texture else rgb)

    def weighted(self, unweighted: Dict[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
        """{part: weight * value} for every part (a part left out is 0), plus their sum as
        'total'. The one place where the parts are weighted and summed."""
        parts = {name: self.weights[name] * unweighted[name]
                 for name in LOSS_PARTS if name in unweighted}
        parts["total"] = tf.add_n(list(parts.values()))
        for name in LOSS_PARTS:
            parts.setdefault(name, tf.zeros_like(parts["total"]))
        return parts
