"""The tiled evaluation of global statistics: exact against the untiled objective, no seams."""

import numpy as np
import pytest
import tensorflow as tf

from conftest import random_image
from nst_tf.objective.whole import WholeObjective
from nst_tf.objective.tiled import TiledObjective
from nst_tf.objective.grid import core_spans, footprint, halo, tile_span, tiling
from nst_tf.network.vgg import FeatureExtractor, preprocess

CONTENT_LAYERS = ("block1_conv1", "block5_conv2")
WEIGHTS = (5.0, 1.0, 3.0, 0.1)  # every part on, of comparable size with random weights


def test_receptive_fields_and_halos_of_vgg19():
    # VGG19's receptive fields: 24 px at block3_conv1, 188 px at block5_conv2.
    for layer, field in (("block3_conv1", 24), ("block5_conv2", 188)):
        stride, lo, hi = footprint(layer)
        assert hi - lo + 1 == field
    assert footprint("block3_conv1")[0] == 4 and footprint("block5_conv2")[0] == 16
    # The gray branch needs 10 px (on a 4 px grid: 12); the colour branch 86 (on 16: 96).
    assert halo(("block1_conv1", "block2_conv1", "block3_conv1")) == 12
    assert halo(CONTENT_LAYERS) == 96


@pytest.mark.parametrize("length,tile", [(341, 128), (2160, 1024), (100, 512), (5464, 1024)])
@pytest.mark.parametrize("halo_px", [0, 12, 96])
def test_cores_cover_the_picture_on_the_stride_grid(length, tile, halo_px):
    spans = core_spans(length, tile, halo_px)
    assert spans[0][0] == 0 and spans[-1][1] == length
    assert all(a[1] == b[0] for a, b in zip(spans[:-1], spans[1:]))
    assert all(start % 16 == 0 for start, _ in spans)
    assert max(b - a for a, b in spans) <= tile + 16  # at most a tile, rounded to the grid
    tiles = [min(length, b + halo_px) - max(0, a - halo_px) for a, b in spans]
    if len(spans) > 1 and tile >= 8 * halo_px:  # balanced: each end within half a grid step
        assert max(tiles) - min(tiles) <= 32, tiles  # of its ideal, each tile within a step


def test_a_4k_pictures_tiles_have_one_shape_per_branch():
    for halo_px, grid in ((96, 16), (12, 4)):
        tiles = tiling((2160, 3840), 1024, halo_px, grid)
        assert len(tiles) == 12
        assert len({(b[1] - b[0], b[3] - b[2]) for _, _, b in tiles}) == 1
    # Balanced cores: the colour tiles are smaller than the clipped tiles of equal cores
    # (an inner tile of 960x720 cores: 1152x912).
    assert {(b[1] - b[0], b[3] - b[2]) for _, _, b in tiling((2160, 3840), 1024, 96, 16)} == {
        (848, 1104)}


@pytest.mark.parametrize("length,tile,halo_px,grid", [
    (2160, 1024, 96, 16), (3840, 1024, 96, 16), (5464, 1024, 96, 16), (421, 64, 96, 16),
    (3840, 1024, 12, 4), (3640, 1024, 12, 4), (341, 128, 12, 4), (100, 512, 96, 16),
    (150, 64, 96, 16)])
def test_tiles_hold_core_and_halo_and_share_one_length(length, tile, halo_px, grid):
    spans = core_spans(length, tile, halo_px)
    want = max(min(length, b + halo_px) - max(0, a - halo_px) for a, b in spans)
    tiles = [tile_span(core, length, want, halo_px, grid) for core in spans]
    for (a, b), (start, stop) in zip(spans, tiles):
        assert 0 <= start <= max(0, a - halo_px) and min(length, b + halo_px) <= stop <= length
        assert start % grid == 0  # on the branch's stride grid
    lengths = {stop - start for start, stop in tiles}
    assert len(lengths) == 1 and want <= lengths.pop() < want + grid


def _untiled(extractor, content, texture, start):
    graph = WholeObjective(extractor, content[None], texture[None], WEIGHTS)
    _, gradient, parts = graph.value_and_gradient(tf.Variable(preprocess(start[None])))
    return gradient.numpy(), {k: float(v) for k, v in parts.items()}


@pytest.mark.parametrize("texture_layers,size,tile_sizes", [
    (("block1_conv1", "block2_conv1", "block3_conv1"), (117, 150), (64, 96, 512)),
    (("block1_conv1", "block4_conv1"), (83, 129), (64,)),
    # Large enough that inner tiles carry their full halo on every side (96 px cores: 5x5
    # colour tiles; 64 px, 7x7 of them, took twice as long and tests nothing more).
    pytest.param(("block1_conv1", "block2_conv1", "block3_conv1"), (400, 421), (96,),
                 marks=pytest.mark.slow),  # a minute on 2 cores; the 64 px tiles test the rest
])
def test_tiled_loss_and_gradient_equal_the_untiled_ones(random_vgg, texture_layers, size,
                                                        tile_sizes):
    extractor = FeatureExtractor(random_vgg, texture_layers, CONTENT_LAYERS)
    content, texture, start = (random_image(size, seed) for seed in (1, 2, 3))
    gradient, parts = _untiled(extractor, content, texture, start)
    assert all(parts[name] > 0 for name in ("direct", "content", "raw", "texture"))
    for tile in tile_sizes:
        objective = TiledObjective(extractor, content, texture, texture, WEIGHTS, tile_size=tile)
        assert objective.gray_tile_size == min(tile, max(tile // 2 // 16 * 16,
                                                        8 * objective.gray_halo))
        for tiles, halo_px, length in (
                (objective.colour_tiles, objective.colour_halo, tile),
                (objective.gray_tiles, objective.gray_halo, objective.gray_tile_size)):
            expected = (len(core_spans(size[0], length, halo_px))
                        * len(core_spans(size[1], length, halo_px)))
            assert len(tiles) == expected
        if size[0] > 300:  # some colour tile is not the whole picture: its halo counts
            assert any(bounds != (0, size[0], 0, size[1])
                       for _, _, bounds in objective.colour_tiles), tile
        total, tiled_gradient, tiled_parts = objective.value_and_gradient(
            preprocess(start[None]))
        for name, value in parts.items():
            assert tiled_parts[name] == pytest.approx(value, rel=1e-4), (tile, name)
        assert total == pytest.approx(parts["total"], rel=1e-4)
        error = np.abs(tiled_gradient.numpy() - gradient).max() / np.abs(gradient).max()
        assert error <= 1e-3, (tile, error)


def test_a_gram_target_of_another_size_is_that_pictures_gram(random_vgg):
    extractor = FeatureExtractor(random_vgg, ("block1_conv1", "block3_conv1"), CONTENT_LAYERS)
    content, texture = random_image((70, 90), 1), random_image((70, 90), 2)
    larger = random_image((131, 170), 4)
    tiled = TiledObjective(extractor, content, texture, larger, WEIGHTS, tile_size=64)
    whole = WholeObjective(extractor, content[None], texture[None], WEIGHTS,
                                 gram_texture_tiles=larger[None])
    for ours, theirs in zip(tiled.gram_targets, whole.gram_targets):
        np.testing.assert_allclose(ours.numpy(), theirs[0].numpy(), rtol=1e-4, atol=1e-6)


def test_tiled_equals_untiled_in_style_mode_with_a_blend_and_tv(random_vgg):
    # Colour texture branch, two textures blended (raw and Gram), and the TV part.
    extractor = FeatureExtractor(random_vgg, ("block1_conv1", "block2_conv1"), CONTENT_LAYERS)
    content, first, second, start = (random_image((83, 101), seed) for seed in (1, 2, 5, 3))
    weights = WEIGHTS + (0.5,)
    options = dict(gray_texture=False, blend=(0.25, 0.75))
    graph = WholeObjective(extractor, content[None], [first[None], second[None]], weights,
                                 **options)
    _, gradient, parts = graph.value_and_gradient(tf.Variable(preprocess(start[None])))
    assert all(float(parts[name]) > 0 for name in ("direct", "content", "raw", "texture", "tv"))
    objective = TiledObjective(extractor, content, [first, second], [first, second], weights,
                               tile_size=64, **options)
    total, tiled_gradient, tiled_parts = objective.value_and_gradient(preprocess(start[None]))
    for name, value in parts.items():
        assert tiled_parts[name] == pytest.approx(float(value), rel=1e-4), name
    gradient = gradient.numpy()
    assert np.abs(tiled_gradient.numpy() - gradient).max() / np.abs(gradient).max() <= 1e-3


def test_tiled_synthesis_runs_without_a_content_branch(random_vgg):
    extractor = FeatureExtractor(random_vgg, ("block1_conv1", "block2_conv1"), CONTENT_LAYERS)
    texture, start = random_image((70, 90), 2), random_image((70, 90), 3)
    weights = (0.0, 0.0, 0.0, 1.0, 0.0)
    graph = WholeObjective(extractor, np.zeros((1, 70, 90, 3), np.float32), texture[None],
                                 weights, gray_texture=False)
    _, gradient, parts = graph.value_and_gradient(tf.Variable(preprocess(start[None])))
    objective = TiledObjective(extractor, np.zeros((70, 90, 3), np.float32), texture, texture,
                               weights, tile_size=64, gray_texture=False)
    assert not objective.runs_colour_step and objective.stored_targets == {}
    total, tiled_gradient, _ = objective.value_and_gradient(preprocess(start[None]))
    assert total == pytest.approx(float(parts["total"]), rel=1e-4)
    gradient = gradient.numpy()
    assert np.abs(tiled_gradient.numpy() - gradient).max() / np.abs(gradient).max() <= 1e-3


def test_the_temporal_part_is_exact_over_tiles_and_is_ruders_weighted_distance(random_vgg):
    # Two anchors (a short- and a long-term target) with weights in [0, 1].
    extractor = FeatureExtractor(random_vgg, ("block1_conv1", "block2_conv1"), CONTENT_LAYERS)
    content, texture, start = (random_image((83, 101), seed) for seed in (1, 2, 3))
    rng = np.random.default_rng(0)
    anchors = [(random_image((83, 101), 6 + k), (rng.random((83, 101)) > 0.3 * (k + 1))
                .astype(np.float32) * (0.5 + 0.5 * k)) for k in range(2)]
    weights = WEIGHTS + (0.0, 2.0)
    graph = WholeObjective(extractor, content[None], texture[None], weights,
                           anchors=[(t[None], w[None, ..., None]) for t, w in anchors])
    _, gradient, parts = graph.value_and_gradient(tf.Variable(preprocess(start[None])))
    x = preprocess(start).numpy()
    expected = sum((w[..., None] * (x - preprocess(t).numpy()) ** 2).sum() / x.size
                   for t, w in anchors)
    assert float(parts["temporal"]) == pytest.approx(2.0 * expected, rel=1e-5)
    objective = TiledObjective(extractor, content, texture, texture, weights, tile_size=64,
                               anchors=anchors)
    total, tiled_gradient, tiled_parts = objective.value_and_gradient(preprocess(start[None]))
    for name, value in parts.items():
        assert tiled_parts[name] == pytest.approx(float(value), rel=1e-4), name
    gradient = gradient.numpy()
    assert np.abs(tiled_gradient.numpy() - gradient).max() / np.abs(gradient).max() <= 1e-3
