"""Seamless pictures (--seamless): the network's windows, the total variation and the tiles'
halos wrap around the picture's edges, so the picture is one period of a picture repeated
without end."""
import importlib.util
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from conftest import ROOT, needs_shared_weights, random_image
from nst_tf.errors import NSTError
from nst_tf.network.vgg import FeatureExtractor, conv_relu_wrapped, preprocess, wrapped_pad
from nst_tf.objective.terms import total_variation
from nst_tf.objective.tiled import TiledObjective
from nst_tf.objective.whole import WholeObjective

SYNTHESIS_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1",
                    "block5_conv1")
GRAY_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1")
SYNTHESIS = (0.0, 0.0, 0.0, 1e3, 0.0)  # the synthesis preset's weights: the Gram part only
EVERY_PART = (5.0, 1.0, 3.0, 0.1, 2.0)  # direct, content, raw, texture, tv


def _benchmark():
    """bench/scripts/seamless_benchmark.py as a module (its seam measure)."""
    path = ROOT / "bench" / "scripts" / "seamless_benchmark.py"
    spec = importlib.util.spec_from_file_location("seamless_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _relative(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.abs(a - b).max() / np.abs(b).max())


@pytest.mark.parametrize("wrap", [(True, True), (True, False), (False, True)])
def test_wrapped_features_are_those_of_the_picture_repeated(random_vgg, wrap):
    # The middle copy of the picture repeated 7 times along each wrapped axis, through the
    # network as Keras runs it, sees no edge within block4_conv1's reach (its field: 92 px).
    layers = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1")
    picture = random_image((32, 48), seed=4)[None]
    wrapped = FeatureExtractor(random_vgg, layers, ("block1_conv1",), wrap=wrap)
    repeats = (1, 7 if wrap[0] else 1, 7 if wrap[1] else 1, 1)
    plain = FeatureExtractor(random_vgg, layers, ("block1_conv1",))
    for ours, repeated in zip(wrapped.features(preprocess(picture), layers),
                              plain.features(preprocess(np.tile(picture, repeats)), layers)):
        height, width = ours.shape[1:3]
        top, left = 3 * height * wrap[0], 3 * width * wrap[1]
        middle = repeated[:, top:top + height, left:left + width]
        assert _relative(ours, middle) <= 1e-5
    # outputs() (the targets) takes the same path when wrapping.
    assert _relative(wrapped.outputs(preprocess(picture), layers[-1:])[0],
                     wrapped.features(preprocess(picture), layers[-1:])[0]) == 0.0


@pytest.mark.parametrize("wrap", [(True, True), (True, False), (False, True), (False, False)])
def test_the_wrapped_convolutions_gradient_is_tensorflows(wrap):
    # Against TensorFlow differentiating through the padding and a 'valid' convolution.
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(1, 10, 12, 4)), tf.float32)
    kernel = tf.constant(rng.normal(size=(3, 3, 4, 5)), tf.float32)
    bias = tf.constant(rng.normal(size=5), tf.float32)
    upstream = tf.constant(rng.normal(size=(1, 10, 12, 5)), tf.float32)

    def value_and_gradient(convolution):
        with tf.GradientTape() as tape:
            tape.watch(x)
            value = tf.reduce_sum(convolution(x) * upstream)
        return float(value), tape.gradient(value, x)

    ours = value_and_gradient(lambda image: conv_relu_wrapped(image, kernel, bias, wrap))
    theirs = value_and_gradient(lambda image: tf.nn.relu(tf.nn.bias_add(
        tf.nn.conv2d(wrapped_pad(image, wrap), kernel, 1, "VALID"), bias)))
    assert ours[0] == pytest.approx(theirs[0], rel=1e-6)
    assert _relative(ours[1], theirs[1]) <= 1e-5  # the design's bound for conv_relu
    # The wrapped contributions reach the other edge: the first column's gradient (away from
    # the rows' ends, which the rows' wrap reaches) differs from the zero-padded
    # convolution's exactly when the columns wrap, the first row's when the rows do.
    same = value_and_gradient(lambda image: tf.nn.relu(tf.nn.bias_add(
        tf.nn.conv2d(image, kernel, 1, "SAME"), bias)))
    assert (_relative(ours[1][:, 2:-2, 0], same[1][:, 2:-2, 0]) > 1e-3) == wrap[1]
    assert (_relative(ours[1][:, 0, 2:-2], same[1][:, 0, 2:-2]) > 1e-3) == wrap[0]


def test_bfloat16_wraps_as_float32_does(random_vgg):
    picture = preprocess(random_image((32, 32), seed=5)[None])
    full = FeatureExtractor(random_vgg, GRAY_LAYERS, ("block1_conv1",), wrap=(True, True))
    half = FeatureExtractor(random_vgg, GRAY_LAYERS, ("block1_conv1",), "bfloat16",
                            wrap=(True, True))
    image = tf.Variable(picture)
    with tf.GradientTape() as tape:
        features = half.features(image, GRAY_LAYERS)
        total = tf.add_n([tf.reduce_sum(f) for f in features])
    assert all(f.dtype == tf.float32 for f in features)
    gradient = tape.gradient(total, image)
    assert gradient.shape == picture.shape and np.isfinite(gradient.numpy()).all()
    for ours, exact in zip(features, full.features(picture, GRAY_LAYERS)):
        # bfloat16 keeps 8 bits of mantissa: about 2^-8 a convolution, over 5 of them.
        assert _relative(ours, exact) <= 0.05
    # A roll on the pooling grid moves the features with it, in bfloat16 too.
    rolled = half.features(tf.roll(picture, (16, 8), (1, 2)), GRAY_LAYERS)[-1]
    assert _relative(rolled, tf.roll(features[-1], (4, 2), (1, 2))) <= 0.02


def test_the_wrapped_total_variation_counts_the_edges_as_neighbours():
    picture = np.random.default_rng(1).normal(size=(1, 5, 7, 3)).astype(np.float32)
    down = np.concatenate([picture[:, 1:], picture[:, :1]], 1) - picture
    right = np.concatenate([picture[:, :, 1:], picture[:, :, :1]], 2) - picture
    expected = np.mean(down ** 2) + np.mean(right ** 2)
    assert float(total_variation(picture, (True, True))[0]) == pytest.approx(expected, rel=1e-5)
    only_x = np.mean(np.diff(picture, axis=1) ** 2) + np.mean(right ** 2)
    assert float(total_variation(picture, (False, True))[0]) == pytest.approx(only_x, rel=1e-5)
    plain = np.mean(np.diff(picture, axis=1) ** 2) + np.mean(np.diff(picture, axis=2) ** 2)
    assert float(total_variation(picture)[0]) == pytest.approx(plain, rel=1e-5)


def _synthesis(vgg, wrap, layers=SYNTHESIS_LAYERS):
    texture = random_image((48, 64), seed=2)
    extractor = FeatureExtractor(vgg, layers, ("block1_conv1",), wrap=wrap)
    return WholeObjective(extractor, texture[None], texture[None], SYNTHESIS,
                          gray_texture=False, compiled=False)


def _value_and_gradient(objective, picture):
    value, gradient, _ = objective.value_and_gradient(tf.Variable(preprocess(picture[None])))
    return float(value), gradient.numpy()[0]


def test_a_rolled_picture_has_the_same_loss_when_seamless(random_vgg):
    picture = random_image((48, 64), seed=3)
    # On VGG's 16 px pooling grid: the same loss and the gradient rolled with the picture,
    # down to float32's rounding (every feature is the same number, only elsewhere).
    seamless, plain = _synthesis(random_vgg, (True, True)), _synthesis(random_vgg, (False, False))
    value, gradient = _value_and_gradient(seamless, picture)
    plain_value, _ = _value_and_gradient(plain, picture)
    for shift in ((16, 32), (-16, 16), (32, -48), (0, 16)):
        rolled = np.roll(picture, shift, (0, 1))
        rolled_value, rolled_gradient = _value_and_gradient(seamless, rolled)
        assert rolled_value == pytest.approx(value, rel=1e-5), shift
        assert _relative(rolled_gradient, np.roll(gradient, shift, (0, 1))) <= 1e-4, shift
        # Without wrapping the edges are zero padding: the loss is another one.
        assert abs(_value_and_gradient(plain, rolled)[0] / plain_value - 1) > 1e-3, shift
    # By any number of pixels at the layers before the first pooling: a 2x2 pooling of a
    # picture rolled by an odd number pairs other pixels, so deeper layers see another
    # sampling of the same picture (1-8% on the real network: the measurement page).
    shallow = _synthesis(random_vgg, (True, True), ("block1_conv1", "block1_conv2"))
    shallow_plain = _synthesis(random_vgg, (False, False), ("block1_conv1", "block1_conv2"))
    value, plain_value = _value_and_gradient(shallow, picture)[0], _value_and_gradient(
        shallow_plain, picture)[0]
    for shift in ((1, 0), (0, 3), (5, 11), (-7, 29)):
        rolled = np.roll(picture, shift, (0, 1))
        assert _value_and_gradient(shallow, rolled)[0] == pytest.approx(value, rel=1e-5), shift
        assert abs(_value_and_gradient(shallow_plain, rolled)[0] / plain_value - 1) > 1e-3


@needs_shared_weights
def test_on_the_real_network_any_roll_changes_the_seamless_loss_little(real_vgg):
    # Off the pooling grid the loss is not exact, but far closer than without wrapping
    # (measured on these rolls: within 5.8% against 21-32% without).
    picture = random_image((64, 96), seed=3)
    texture = random_image((80, 120), seed=2)[:64, :96]
    changes = {}
    for wrap in ((True, True), (False, False)):
        extractor = FeatureExtractor(real_vgg, SYNTHESIS_LAYERS, ("block1_conv1",), wrap=wrap)
        objective = WholeObjective(extractor, picture[None], texture[None], SYNTHESIS,
                                   gray_texture=False, compiled=False)
        value = _value_and_gradient(objective, picture)[0]
        changes[wrap] = max(abs(_value_and_gradient(objective, np.roll(
            picture, shift, (0, 1)))[0] / value - 1) for shift in ((1, 0), (0, 3), (5, 11)))
    assert changes[(True, True)] < 0.1 < 0.15 < changes[(False, False)], changes


def test_the_seam_measure_improves_in_a_short_synthesis():
    import nst_tf
    seam_ratio = _benchmark().seam_ratio
    texture = random_image((64, 64), seed=2)
    ratios = {}
    for seamless in ("off", "xy"):
        config = nst_tf.TransferConfig(mode="synthesize", size=(32, 48), weights="random",
                                       iterations=15, seamless=seamless)
        ratios[seamless] = seam_ratio(nst_tf.transfer(None, texture, config))
    # Measured 2.26 and 1.00: the wrap's differences are like the neighbours' inside.
    assert ratios["xy"] < 1.25 and ratios["off"] > 1.5 * ratios["xy"], ratios


@pytest.mark.parametrize("old,new,method,antialias,wrap", [
    ((16, 24), (32, 48), "lanczos5", False, (True, True)),  # a level up (upsampled_onto)
    ((32, 48), (16, 24), "bilinear", True, (True, True)),  # its back-projection's way down
    ((48, 32), (80, 40), "bilinear", False, (True, False)),  # 5/3 on the wrapped rows only
    ((24, 40), (24, 17), "bilinear", True, (False, True))])  # sides with no common factor
def test_a_wrapped_resize_is_the_repeated_pictures(old, new, method, antialias, wrap):
    from nst_tf.io.images import periodic_resize
    picture = random_image(old, seed=3)[None]
    repeats = (5 if wrap[0] else 1, 5 if wrap[1] else 1)
    repeated = tf.image.resize(np.tile(picture, (1, *repeats, 1)),
                               (new[0] * repeats[0], new[1] * repeats[1]), method=method,
                               antialias=antialias).numpy()
    top, left = (2 * new[0] if wrap[0] else 0), (2 * new[1] if wrap[1] else 0)
    middle = repeated[:, top:top + new[0], left:left + new[1]]
    ours = periodic_resize(tf.constant(picture), new, method, antialias, wrap).numpy()
    assert ours.shape == (1, *new, 3)
    # The two resizes' scales are one ratio computed from other lengths: float32 puts their
    # samples up to a few ulps of 400 px apart (about 2e-4 px), on slopes under 255 a pixel.
    np.testing.assert_allclose(ours, middle, atol=0.05)
    plain = tf.image.resize(picture, new, method=method, antialias=antialias).numpy()
    assert np.abs(plain - middle).max() > 1.0  # clamped edges are not the repeated picture's


def test_the_next_levels_start_of_a_periodic_picture_is_periodic():
    from nst_tf.io.images import upsampled_onto
    picture, content_small = (random_image((16, 24), seed=s)[None] for s in (4, 5))
    content_large = random_image((32, 48), seed=6)[None]

    def rolled(array, shift):
        return np.roll(array, shift, axis=(1, 2))

    for wrap, commutes in (((True, True), True), ((False, False), False)):
        start = upsampled_onto(picture, content_small, content_large, wrap=wrap).numpy()
        start_of_rolled = upsampled_onto(rolled(picture, (3, 5)), rolled(content_small, (3, 5)),
                                         rolled(content_large, (6, 10)), wrap=wrap).numpy()
        difference = np.abs(start_of_rolled - rolled(start, (6, 10))).max()
        # Eleven resizes of values within 0..255 in float32: rounding stays under 1e-2.
        assert (difference < 1e-2) == commutes, (wrap, difference)


def test_adams_moments_go_up_a_level_periodic_when_seamless():
    from nst_tf.optimize.adam import Adam
    rng = np.random.default_rng(7)
    small = Adam(tf.Variable(np.zeros((1, 16, 24, 3), np.float32)), 1.0, 0.9, 0.999, 1e-8)
    small.m.assign(rng.normal(size=(1, 16, 24, 3)).astype(np.float32))
    small.v.assign(rng.uniform(size=(1, 16, 24, 3)).astype(np.float32))
    large = Adam(tf.Variable(np.zeros((1, 32, 48, 3), np.float32)), 1.0, 0.9, 0.999, 1e-8)
    for wrap, commutes in (((True, True), True), ((False, False), False)):
        large.carry_from(small, 1.0, wrap)
        moments = [large.m.numpy(), large.v.numpy()]
        rolled = Adam(tf.Variable(small.variable), 1.0, 0.9, 0.999, 1e-8)
        rolled.m.assign(tf.roll(small.m, (3, 5), (1, 2)))
        rolled.v.assign(tf.roll(small.v, (3, 5), (1, 2)))
        large.carry_from(rolled, 1.0, wrap)
        for carried, moment in zip([large.m.numpy(), large.v.numpy()], moments):
            difference = np.abs(carried - np.roll(moment, (6, 10), axis=(1, 2))).max()
            assert (difference < 1e-5) == commutes, (wrap, difference)


def test_a_coarse_to_fine_seamless_synthesis_has_no_line_at_the_wrap():
    import nst_tf
    seam_ratio = _benchmark().seam_ratio
    config = nst_tf.TransferConfig(mode="synthesize", size=(64, 64), weights="random",
                                   seamless="xy", max_dim=0, start_dim=32, iterations=10,
                                   refine_iterations=2)
    result = nst_tf.transfer(None, random_image((64, 64), seed=2), config)
    # A picture upsampled 2x differs more between its pixel pairs than within them, so the
    # wrap is measured against the same phase inside: the middle rolled to the wrap.
    inside = seam_ratio(np.roll(result, (32, 32), axis=(0, 1)))
    # Measured 1.13 against 1.40 inside; 1.88 against 1.38 when the levels' upsampling
    # clamped the edges.
    assert seam_ratio(result) < 1.2 * inside, (seam_ratio(result), inside)


def test_the_seam_measure():
    seam_ratio = _benchmark().seam_ratio
    ramp = np.tile(np.arange(16, dtype=np.float32)[None, :, None], (8, 1, 3))
    # Columns 1 apart inside (rows 0), 15 across the wrap: 15 / (15 * 8 * 1 / (15*8 + 7*16)).
    inside = (15 * 8 * 1.0 + 7 * 16 * 0.0) / (15 * 8 + 7 * 16)
    across = (8 * 15.0 + 16 * 0.0) / (8 + 16)
    assert seam_ratio(ramp) == pytest.approx(across / inside)
    assert seam_ratio(ramp, "x") == pytest.approx(15.0)
    # Means of 2x2 blocks: columns 0.5, 2.5, ..., 14.5: 2 apart inside, 14 across.
    assert seam_ratio(ramp, "x", block=2) == pytest.approx(7.0)


@pytest.mark.parametrize("wrap,content_layers,gram_size,texture_loss", [
    # a tile longer than the picture
    ((True, True), ("block1_conv1", "block4_conv1"), None, "gram"),
    # a Gram texture of another size, and the sliced distance
    ((False, True), ("block1_conv1",), (83, 129), "gram"),
    ((True, False), ("block1_conv1",), None, "sliced_wasserstein")])
def test_tiled_equals_untiled_when_seamless(random_vgg, wrap, content_layers, gram_size,
                                            texture_loss):
    extractor = FeatureExtractor(random_vgg, GRAY_LAYERS, content_layers, wrap=wrap)
    content, texture, start = (random_image((64, 96), seed) for seed in (1, 2, 3))
    gram_texture = texture if gram_size is None else random_image(gram_size, seed=4)
    whole = WholeObjective(extractor, content[None], texture[None], EVERY_PART, compiled=False,
                           gram_texture_tiles=None if gram_size is None else gram_texture[None],
                           texture_loss=texture_loss)
    _, gradient, parts = whole.value_and_gradient(tf.Variable(preprocess(start[None])))
    tiled = TiledObjective(extractor, content, texture, gram_texture, EVERY_PART, tile_size=64,
                           texture_loss=texture_loss)
    assert len(tiled.gray_tiles) == 2 and any(min(bounds[0], bounds[2]) < 0 for _, _, bounds
                                              in tiled.gray_tiles)  # a halo across the edge
    total, tiled_gradient, tiled_parts = tiled.value_and_gradient(preprocess(start[None]))
    for name in ("direct", "content", "raw", "texture", "tv", "total"):
        assert tiled_parts[name] == pytest.approx(float(parts[name]), rel=1e-4), name
    assert _relative(tiled_gradient, gradient) <= 1e-4


def test_tiled_equals_untiled_with_regions_when_seamless(random_vgg):
    extractor = FeatureExtractor(random_vgg, GRAY_LAYERS, ("block1_conv1",), wrap=(True, True))
    content, texture, other, start = (random_image((64, 96), seed) for seed in (1, 2, 4, 3))
    mask = np.zeros((64, 96), np.float32)
    mask[:, :40] = 1.0
    mask[10:30, 60:] = 1.0
    masks = [mask, 1.0 - mask]
    # Gram textures of their own: one too short for block3_conv1 to keep a few positions that
    # see no edge (mirror-extended first), and its mask of the part its statistics come from.
    short, longer = random_image((30, 96), seed=6), random_image((70, 150), seed=7)
    short_mask = np.zeros((30, 96), np.float32)
    short_mask[:, 20:80] = 1.0
    whole = WholeObjective(extractor, content[None], [texture[None], other[None]], EVERY_PART,
                           compiled=False, region_masks=[m[None, ..., None] for m in masks],
                           gram_texture_tiles=[short[None], longer[None]],
                           texture_region_masks=[short_mask[None, ..., None], None])
    _, gradient, parts = whole.value_and_gradient(tf.Variable(preprocess(start[None])))
    tiled = TiledObjective(extractor, content, [texture, other], [short, longer], EVERY_PART,
                           tile_size=64, region_masks=masks,
                           texture_region_masks=[short_mask, None])
    _, tiled_gradient, tiled_parts = tiled.value_and_gradient(
        tf.Variable(preprocess(start[None])))  # a variable is cut across the edge too
    for name in ("raw", "texture", "total"):
        assert tiled_parts[name] == pytest.approx(float(parts[name]), rel=1e-4), name
    assert _relative(tiled_gradient, gradient) <= 1e-4


@pytest.mark.parametrize("wrap,edge_free", [
    ((True, True), [(43, 68), (18, 31), (5, 12)]),
    ((False, True), [(45, 68), (22, 31), (11, 12)])])
def test_a_textures_statistics_are_its_positions_that_see_no_edge(random_vgg, wrap, edge_free):
    # Neither the zero padding a picture without edges never has, nor mirror images of the
    # texture: on a wrapped axis only the positions whose receptive field lies inside the
    # texture count, found here as those that do not change when the texture is framed by
    # other pixels on that axis; on the other, every position, zero padding as without
    # seamless.
    content, texture = random_image((48, 64), seed=1), random_image((45, 70), seed=2)
    wrapped = FeatureExtractor(random_vgg, GRAY_LAYERS, ("block1_conv1",), wrap=wrap)
    assert wrapped.unwrapped.wrap == (False, False) and wrapped.unwrapped.model is wrapped.model
    objective = WholeObjective(wrapped, content[None], content[None], SYNTHESIS,
                               gram_texture_tiles=texture[None], gray_texture=False,
                               compiled=False)  # (the raw texture: aligned with the picture)
    rows, columns = (16 if w else 0 for w in wrap)
    framed = random_image((45 + 2 * rows, 70 + 2 * columns), seed=5)
    framed[rows:rows + 45, columns:columns + 70] = texture
    plain = FeatureExtractor(random_vgg, GRAY_LAYERS, ("block1_conv1",))
    for target, own, seen, stride, count in zip(
            objective.gram_targets, plain.features(preprocess(texture[None]), GRAY_LAYERS),
            plain.features(preprocess(framed[None]), GRAY_LAYERS), (1, 2, 4), edge_free):
        own = own.numpy()[0]
        seen = seen.numpy()[0, rows // stride:rows // stride + own.shape[0],
                            columns // stride:columns // stride + own.shape[1]]
        same = np.abs(own - seen).max(axis=-1) <= 1e-4 * np.abs(own).max()
        kept = np.argwhere(same)
        assert tuple(kept.max(axis=0) - kept.min(axis=0) + 1) == count == (
            tuple(np.count_nonzero(same, axis=axis).max() for axis in (0, 1)))
        flat = own[same]
        assert len(flat) == count[0] * count[1]
        np.testing.assert_allclose(target[0], flat.T @ flat / len(flat), rtol=1e-4, atol=1e-5)


def test_a_texture_too_short_for_a_layer_is_mirror_extended_to_leave_it_a_few_positions():
    from nst_tf.objective.edge_free import (EDGE_FREE_POSITIONS, edge_free_weights, extended,
                                            inner_span, minimum_length)
    # block5_conv1 sees pixels [16 p - 70, 16 p + 85]: position 5 is the first inside; on 256
    # px the last is 10 (16 * 10 + 85 = 245 <= 255, 261 is not).
    assert inner_span(256, "block5_conv1") == (5, 11)
    assert inner_span(128, "block5_conv1") == (5, 5)  # none
    assert inner_span(45, "block1_conv1") == (1, 44)
    need = minimum_length(SYNTHESIS_LAYERS)
    assert need == (EDGE_FREE_POSITIONS - 1 + 5) * 16 + 86 == 214
    assert inner_span(need, "block5_conv1") == (5, 5 + EDGE_FREE_POSITIONS)
    assert inner_span(need - 1, "block5_conv1") == (5, 5 + EDGE_FREE_POSITIONS - 1)
    texture = random_image((48, 300), seed=2)
    longer = extended(texture, (True, True), SYNTHESIS_LAYERS)
    assert longer.shape == (214, 300, 3)  # only the short axis
    np.testing.assert_array_equal(longer[:48], texture)
    np.testing.assert_array_equal(longer[48:96], texture[::-1])  # its mirror image
    assert extended(texture, (False, True), SYNTHESIS_LAYERS) is texture
    weights = edge_free_weights((214, 300), (True, False), SYNTHESIS_LAYERS)
    assert [w.shape for w in weights] == [(1, 214, 300, 1), (1, 107, 150, 1), (1, 53, 75, 1),
                                          (1, 26, 37, 1), (1, 13, 18, 1)]
    assert weights[-1][0, :, 0, 0].tolist() == [0.0] * 5 + [1.0] * 4 + [0.0] * 4
    assert weights[-1][0, 6].min() == 1.0  # every column: that axis does not wrap


def test_a_seamless_synthesis_takes_its_statistics_from_its_piece_or_more_of_the_photo(
        random_vgg):
    from nst_tf.io.images import mirror_fit, resize
    from nst_tf.network.vgg import FeatureExtractor as Extractor
    from nst_tf.run.regimes import TexturePhotos
    photo, mask = random_image((400, 300), seed=2), np.ones((400, 300), np.float32)
    mask[200:] = 0.0
    extractor = Extractor(random_vgg, SYNTHESIS_LAYERS, ("block1_conv1",), wrap=(True, True))
    photos = TexturePhotos([photo], [mask])
    # The picture's own piece (mirror_fit's, as without seamless) when it leaves block5_conv1
    # four positions that see no edge (214 px)...
    (texture,), (cut,) = photos.at((256, 224), (256, 224), extractor, (True, True))
    np.testing.assert_array_equal(texture, photo[:256, :224])
    np.testing.assert_array_equal(cut, mask[:256, :224])
    # ... else 214 px of the photo on a wrapped axis, the picture's length on the other.
    (texture,), (cut,) = photos.at((128, 128), (128, 128), extractor, (True, True))
    np.testing.assert_array_equal(texture, photo[:214, :214])
    np.testing.assert_array_equal(cut, mask[:214, :214])
    (texture,), _ = photos.at((128, 128), (128, 128), extractor, (False, True))
    np.testing.assert_array_equal(texture, photo[:128, :214])
    # A picture longer than the photo: the photo itself on a wrapped axis (no mirror seams),
    # mirror_fit's piece on the other.
    (texture,), (cut,) = photos.at((512, 512), (512, 512), extractor, (True, True))
    np.testing.assert_array_equal(texture, photo)
    np.testing.assert_array_equal(cut, mask)
    (texture,), _ = photos.at((512, 512), (512, 512), extractor, (True, False))
    np.testing.assert_array_equal(texture, mirror_fit(photo, (400, 512)))
    # A coarser level: the photo scaled as the picture's piece is (by half), then cut: its 150
    # columns whole, shorter than 214 (the objective extends them, after any texture scale).
    (texture,), _ = photos.at((64, 64), (128, 128), extractor, (True, True))
    np.testing.assert_allclose(texture, resize(photo, (200, 150), antialias=True), atol=1e-4)
    # A texture scale: as much of the photo as leaves 214 px once scaled (428 px at 0.5: all
    # 400x300 of it, never its mirror images; 107 at 2: the picture's own 128).
    (texture,), _ = photos.at((128, 128), (128, 128), extractor, (True, True), 0.5)
    np.testing.assert_array_equal(texture, photo)
    (texture,), _ = photos.at((128, 128), (128, 128), extractor, (True, True), 2.0)
    np.testing.assert_array_equal(texture, photo[:128, :128])


def test_an_odd_wrapped_side_is_refused_at_the_pooling(random_vgg):
    extractor = FeatureExtractor(random_vgg, GRAY_LAYERS, ("block1_conv1",), wrap=(False, True))
    with pytest.raises(NSTError, match="block1_pool pools a wrapped width of 33, which is odd"):
        extractor.features(preprocess(random_image((32, 33), 1)[None]), GRAY_LAYERS)
    extractor.features(preprocess(random_image((33, 32), 1)[None]), GRAY_LAYERS)  # rows: plain


def test_the_sheet_shows_the_result_repeated():
    from nst_tf.report.sheet import contact_sheet, seamless_panels
    result = random_image((20, 30), seed=1).astype(np.uint8)
    assert seamless_panels("off", result) == []
    (caption, repeated), = seamless_panels("xy", result)
    assert caption == "repeated 2x2" and repeated.shape == (40, 60, 3)
    np.testing.assert_array_equal(repeated[20:, 30:], result)
    sheet = contact_sheet([("result", result)] + seamless_panels("x", result), height=40)
    assert sheet.shape[1] == 60 + 60 + 3 * 8  # 30x20 and 60x40, both at 40 px; three gaps


def _transfer(*args, timeout=120):
    """nst_tf.cli.transfer in a fresh Python; the last line of stdout: 'EXIT <code> TF <was
    TensorFlow imported>'."""
    code = ("import sys\n"
            "from nst_tf.cli.transfer import main\n"
            "try:\n"
            "    main(['transfer.py', *sys.argv[1:]])\n"
            "    code = 0\n"
            "except SystemExit as stop:\n"
            "    code = stop.code if isinstance(stop.code, int) else int(stop.code is not None)\n"
            "print('EXIT', code, 'TF', 'tensorflow' in sys.modules)\n")
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ, PYTHONPATH=str(ROOT)))


@pytest.mark.parametrize("flags,message", [
    (["--seamless", "--split=2x2"],
     "seamless makes one picture that repeats; split 2x2 with per-tile statistics makes 4 "
     "tiles, each its own: use split 1x1, or statistics global"),
    (["--split=1x2", "--seamless"],  # bare, last
     "seamless makes one picture that repeats; split 1x2 with per-tile statistics makes 2 "
     "tiles, each its own: use split 1x1, or statistics global"),
    (["--seamless=y", "--mode=reconstruct"],
     "seamless does not go with mode reconstruct: it remakes the content photo itself, whose "
     "edges do not meet (synthesize makes a tile)"),
    (["--seamless", "x", "--mode=synthesize", "--size=100x96"],
     "seamless x needs the wrapped sides in multiples of 16 px (VGG's poolings must pair the "
     "same pixels across the edge), got size 100x96"),
    (["--seamless=diagonal"], "--seamless takes one of off, xy, x, y, got 'diagonal'"),
])
def test_bad_combinations_are_one_line_before_tensorflow(tmp_path, image_files, flags, message):
    content, texture = image_files
    done = _transfer(f"--content={content}", f"--texture={texture}", "--weights=random",
                     f"--output={tmp_path / 'out.png'}", *flags)
    assert done.stdout.splitlines()[-1] == "EXIT 2 TF False", (done.stdout, done.stderr)
    assert done.stderr.startswith(f"error: {message}") and done.stderr.count("\n") == 1, (
        done.stderr)
    assert not (tmp_path / "out.png").exists()


def test_a_picture_off_the_pooling_grid_is_one_line_before_the_network():
    # The 96x72 content at max_dim 96 stays 96x72: 72 rows are not a multiple of 16. The
    # run's plan says so before the network is built (the command line: one line, exit 2).
    import nst_tf
    content, texture = random_image((72, 96), seed=1), random_image((50, 60), seed=2)
    config = nst_tf.TransferConfig(max_dim=96, seamless="y", weights="random", iterations=1)
    with pytest.raises(NSTError) as refused:
        nst_tf.transfer(content, texture, config)
    assert str(refused.value) == (
        "seamless y needs the picture's height in multiples of 16 px (VGG's poolings must pair "
        "the same pixels across the edge), got 96x72: give --size WxH in multiples of 16 "
        "(synthesize), or a content (or --max_dim) that scales to such a size")
    nst_tf.load_inputs(content, texture, config.replace(seamless="x"))  # 96 columns: fine


def test_a_seamless_synthesis_on_the_command_line_writes_its_sheet(tmp_path, image_files):
    import imageio.v3 as iio
    _, texture = image_files
    output, sheet = tmp_path / "tile.png", tmp_path / "sheet.png"
    done = _transfer(f"--texture={texture}", "--mode=synthesize", "--size=32x48",
                     "--weights=random", "--iterations=2", f"--output={output}",
                     f"--sheet={sheet}", "--seamless", "--log_every=1")
    assert done.stdout.splitlines()[-1] == "EXIT 0 TF True", (done.stdout, done.stderr)
    # The bare flag is xy, and the start line says so.
    assert done.stderr.splitlines()[0] == (
        "transfer: synthesize mode, 32x48 (synthesized) -> 32x48 seamless xy, 2 lbfgs "
        "evaluations, untrained weights, preset imagenet, float32, on CPU"), done.stderr
    assert iio.imread(output).shape == (48, 32, 3)
    # texture (60x50), result (32x48) and the result repeated 2x2 (64x96), each 320 px high.
    widths = [round(60 * 320 / 50), round(32 * 320 / 48), round(64 * 320 / 96)]
    assert iio.imread(sheet).shape[1] == sum(widths) + 4 * 8


@pytest.mark.parametrize("seamless,named", [("off", ""), ("x", " seamless x"),
                                            ("y", " seamless y")])
def test_the_start_line_names_the_wrapped_edges(seamless, named):
    from nst_tf.cli.transfer import start_line
    from nst_tf.config import TransferConfig
    from nst_tf.run.request import Request, prepare
    config = TransferConfig(mode="synthesize", size=(64, 48), seamless=seamless,
                            weights="random", iterations=3)
    line = start_line(config, prepare(Request(None, random_image((50, 60), seed=2), config)),
                      "CPU")
    assert line == (f"transfer: synthesize mode, 64x48 (synthesized) -> 64x48{named}, 3 lbfgs "
                    "evaluations, untrained weights, preset imagenet, float32, on CPU")


@pytest.mark.parametrize("command", ["transfer", "batch"])
def test_the_help_says_a_bare_seamless_is_xy(command):
    done = subprocess.run([sys.executable, "-m", "nst_tf", command, "--help"],
                          capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("  --seamless="))
    shown = " ".join(" ".join(lines[first:first + 3]).split())
    assert shown.startswith("--seamless=off|xy|x|y A picture that repeats without a seam: xy, "
                            "x or y wrap the network's windows around those edges; off: as VGG "
                            "was trained. A bare --seamless is xy. [off]"), shown


def test_a_jobs_csv_takes_a_seamless_column(tmp_path):
    import imageio.v3 as iio
    from nst_tf.batch.jobs import read_jobs
    from nst_tf.config import TransferConfig
    for name, seed in (("a.png", 1), ("t.png", 2)):
        iio.imwrite(tmp_path / name, random_image((48, 64), seed).astype(np.uint8))
    jobs = tmp_path / "jobs.csv"
    jobs.write_text("content,texture,output,seamless\na.png,t.png,xy.png,xy\n"
                    "a.png,t.png,x.png,x\na.png,t.png,off.png,\n")
    base = TransferConfig(weights="random", max_dim=64)
    assert [job.config.seamless for job in read_jobs(jobs, tmp_path / "out", base)] == [
        "xy", "x", "off"]
    jobs.write_text("content,texture,mode,seamless\na.png,t.png,reconstruct,y\n")
    with pytest.raises(NSTError) as refused:
        read_jobs(jobs, tmp_path / "out", base)
    assert str(refused.value) == (
        f"{jobs}: row 2, column seamless: seamless does not go with mode reconstruct: it "
        "remakes the content photo itself, whose edges do not meet (synthesize makes a tile)")


@pytest.mark.parametrize("statistics", ["auto", "global"])  # the per-tile and picture regimes
def test_a_seamless_synthesis_objective_takes_the_photo_beyond_its_piece(statistics):
    import nst_tf
    from nst_tf.run.regimes import whole_objective
    from nst_tf.run.request import Request, prepare
    from nst_tf.run.texture_transfer import TextureTransfer
    photo = random_image((150, 260), seed=2)
    config = nst_tf.TransferConfig(mode="synthesize", size=(64, 48), weights="random",
                                   seamless="xy", statistics=statistics, iterations=1)
    transfer = TextureTransfer(prepare(Request(None, photo, config)))
    # The picture's own piece is 48x64 (mirror_fit); its statistics come from more of the
    # photo: 214 px where it reaches (the 214 columns of 260), all of it where not (150 rows).
    assert transfer.textures[0].shape == (48, 64, 3)
    expected = whole_objective(transfer.extractor, transfer.content[None],
                               [transfer.textures[0][None]], config,
                               [photo[None, :, :214]])
    for ours, theirs in zip(transfer.objective.gram_targets, expected.gram_targets):
        np.testing.assert_allclose(np.asarray(ours).reshape(theirs.shape), theirs, rtol=1e-5,
                                   atol=1e-6)
    # Not the piece's: its statistics are other numbers.
    piece = whole_objective(transfer.extractor, transfer.content[None],
                            [transfer.textures[0][None]], config)
    assert _relative(piece.gram_targets[0], expected.gram_targets[0]) > 0.01
