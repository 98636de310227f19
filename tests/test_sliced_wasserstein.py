"""The sliced Wasserstein texture loss (Heitz et al. 2021): the distance against a numpy
reference, its gradient (each position pulled to the target's value of its rank), zero for the
same distribution, a run in every mode that has a texture with directions drawn from the seed,
masks, and the tiled evaluation equal to the untiled one (the sort over the whole picture's
projections, then the tiles' gradients)."""
import numpy as np
import pytest
import tensorflow as tf

from conftest import built, random_image
from nst_tf import NSTError, TransferConfig
from nst_tf.objective.terms import (positions_of, projection_directions, quantiles,
                                    sliced_wasserstein, sorted_projections)


def reference(positions, target_positions, directions):
    """numpy: sort both projections, resample the target at the P midpoint quantiles."""
    ours = np.sort(positions @ directions, axis=0)
    theirs = np.sort(target_positions @ directions, axis=0)
    count, size = len(positions), len(target_positions)
    index = np.minimum(((np.arange(count) + 0.5) * size / count).astype(int), size - 1)
    return float(np.mean((ours - theirs[index]) ** 2)), ours, theirs[index]


def test_the_distance_and_its_gradient_match_numpy():
    rng = np.random.default_rng(0)
    positions = rng.normal(size=(50, 8)).astype(np.float32)
    target = (2.0 * rng.normal(size=(80, 8)) + 1.0).astype(np.float32)
    directions = projection_directions(8, (3, 1))
    d = directions.numpy()
    assert d.shape == (8, 8) and np.allclose(np.linalg.norm(d, axis=0), 1.0, atol=1e-6)
    expected, ours, matched = reference(positions, target, d)
    x = tf.Variable(positions)
    with tf.GradientTape() as tape:
        value = sliced_wasserstein(x, sorted_projections(tf.constant(target), directions),
                                   directions)
    # float32 sums of 400 squares of order 10: a few units in the 7th digit.
    assert float(value) == pytest.approx(expected, rel=1e-5)
    # The gradient: each projection pulled to the target's value of its rank, 2 (p - t) / (P k),
    # carried back along the directions.
    projections = positions @ d
    pulled = np.zeros_like(projections)
    for j in range(8):
        order = np.argsort(projections[:, j])
        pulled[order, j] = 2.0 * (ours[:, j] - matched[:, j]) / (50 * 8)
    np.testing.assert_allclose(tape.gradient(value, x).numpy(), pulled @ d.T, rtol=1e-4,
                               atol=1e-6)


def test_the_same_distribution_is_at_zero_and_quantiles_keep_a_sample_of_its_own_size():
    rng = np.random.default_rng(1)
    positions = tf.constant(rng.normal(size=(64, 4)).astype(np.float32))
    directions = projection_directions(4, (0, 0))
    shuffled = tf.random.shuffle(positions, seed=2)
    assert float(sliced_wasserstein(shuffled, sorted_projections(positions, directions),
                                    directions)) == 0.0
    values = sorted_projections(positions, directions)
    assert quantiles(values, 64) is values
    assert quantiles(values, 16).shape == (16, 4)
    assert float(sliced_wasserstein(tf.zeros((0, 4)), values, directions)) == 0.0
    features = tf.reshape(tf.range(24, dtype=tf.float32), (1, 2, 3, 4))
    guidance = tf.constant([[[[1.0], [0.4], [0.6]], [[0.0], [0.5], [1.0]]]])
    assert positions_of(features).shape == (6, 4)
    np.testing.assert_array_equal(positions_of(features, guidance).numpy()[:, 0],
                                  [0.0, 8.0, 16.0, 20.0])


def test_directions_come_from_the_seed():
    a, b = projection_directions(16, (0, 1)), projection_directions(16, (0, 1))
    c = projection_directions(16, (1, 1))
    assert np.array_equal(a.numpy(), b.numpy()) and not np.allclose(a.numpy(), c.numpy())


@pytest.mark.parametrize("mode", ["texture", "style", "synthesize"])
def test_a_run_lowers_the_texture_part_and_is_deterministic(random_vgg, mode):
    content, texture = random_image((40, 56), 1), random_image((48, 48), 2)
    config = TransferConfig(mode=mode, weights="random", texture_loss="sliced_wasserstein",
                            max_dim=48, iterations=12, optimizer="adam", size=(48, 32),
                            texture_weight=100.0, seed=5)
    jobs, firsts = [], []
    for _ in range(2):
        reports = []
        job = built(content, texture, config, network=random_vgg)
        job.run(callback=reports.append)
        assert job.objective.weighting.sliced and len(job.objective.directions) == len(
            config.texture_layers)
        first, last = reports[0].texture, reports[-1].texture
        assert np.isfinite(first) and last < first, (mode, first, last)
        jobs.append(job)
        firsts.append(first)
    # The same seed draws the same directions, so the same start has the same distance (to
    # float32 rounding: the CPU's threads may sum in another order).
    for ours, theirs in zip(*(job.objective.directions for job in jobs)):
        assert np.array_equal(ours.numpy(), theirs.numpy())
    assert firsts[0] == pytest.approx(firsts[1], rel=1e-5)


def test_masks_and_two_textures_take_the_sliced_distance_per_region(random_vgg):
    content = random_image((32, 48), 3)
    textures = [random_image((40, 40), 4), random_image((40, 40), 5) * 0.3]
    labels = np.zeros((32, 48, 3), np.uint8)
    labels[:, :24] = (255, 0, 0)
    labels[:, 24:] = (0, 255, 0)
    config = TransferConfig(weights="random", texture_loss="sliced_wasserstein", max_dim=48,
                            iterations=6, optimizer="adam", content_mask="labels.png",
                            region_colors=("#ff0000", "#00ff00"), texture_weight=100.0)
    reports = []
    job = built(content, textures, config, content_mask=labels, network=random_vgg)
    result = job.run(callback=reports.append)
    assert result.shape == (32, 48, 3) and reports[-1].texture < reports[0].texture
    blended = TransferConfig(weights="random", texture_loss="sliced_wasserstein", max_dim=48,
                             iterations=3, optimizer="adam", texture_blend=(1, 3))
    assert built(content, textures, blended, network=random_vgg).run().shape == (
        32, 48, 3)


def test_the_setting_is_checked_and_named_on_the_command_line():
    with pytest.raises(NSTError, match="texture_loss must be one of gram, sliced_wasserstein"):
        TransferConfig(texture_loss="wasserstein")
    assert TransferConfig.parse_field("texture_loss", "sliced_wasserstein") == (
        "sliced_wasserstein")
    assert TransferConfig().texture_loss == "gram"  # the default stays the original's


def _compare(whole, tiled, start):
    from nst_tf.network.vgg import preprocess
    _, gradient, parts = whole.value_and_gradient(tf.Variable(preprocess(start[None])))
    total, tiled_gradient, tiled_parts = tiled.value_and_gradient(preprocess(start[None]))
    assert float(parts["texture"]) > 0
    for name, value in parts.items():
        assert tiled_parts[name] == pytest.approx(float(value), rel=1e-4), name
    gradient = gradient.numpy()
    error = np.abs(tiled_gradient.numpy() - gradient).max() / np.abs(gradient).max()
    assert error <= 1e-3, error
    return tiled


@pytest.mark.parametrize("blend", [None, (0.25, 0.75)])
def test_tiled_equals_untiled(random_vgg, blend):
    # Every part, the sliced texture part's value and gradient, over 64 px tiles: the same
    # tolerances as the Gram part's exactness tests (tests/test_tiled.py).
    from nst_tf.network.vgg import FeatureExtractor
    from nst_tf.objective.tiled import TiledObjective
    from nst_tf.objective.whole import WholeObjective
    extractor = FeatureExtractor(random_vgg, ("block1_conv1", "block2_conv1", "block3_conv1"),
                                 ("block1_conv1", "block5_conv2"))
    content, first, second, start = (random_image((117, 150), seed) for seed in (1, 2, 5, 3))
    textures = [first] if blend is None else [first, second]
    weights = (5.0, 1.0, 3.0, 100.0, 0.0)
    options = dict(blend=blend or (), texture_loss="sliced_wasserstein", seed=7)
    whole = WholeObjective(extractor, content[None], [t[None] for t in textures], weights,
                           **options)
    tiled = _compare(whole, TiledObjective(extractor, content, textures, textures, weights,
                                           tile_size=64, **options), start)
    assert len(tiled.gray_tiles) > 1 and tiled.weighting.sliced and tiled.gram_targets == []
    for ours, theirs in zip(tiled.directions, whole.directions):
        assert np.array_equal(ours.numpy(), theirs.numpy())


def test_tiled_equals_untiled_with_regions_and_a_texture_mask(random_vgg):
    from nst_tf.network.vgg import FeatureExtractor
    from nst_tf.objective.tiled import TiledObjective
    from nst_tf.objective.whole import WholeObjective
    extractor = FeatureExtractor(random_vgg, ("block1_conv1", "block2_conv1"),
                                 ("block1_conv1",))
    content, first, second, start = (random_image((96, 130), seed) for seed in (1, 2, 5, 3))
    left = np.zeros((96, 130), np.float32)
    left[:, :70] = 1.0
    part = np.zeros((96, 130), np.float32)
    part[20:80, 10:100] = 1.0
    regions, texture_masks = [left, 1.0 - left], [part, None]
    weights = (0.0, 1.0, 0.0, 100.0, 0.0)
    options = dict(texture_loss="sliced_wasserstein", gray_texture=False)
    whole = WholeObjective(extractor, content[None], [first[None], second[None]], weights,
                           region_masks=[m[None, ..., None] for m in regions],
                           texture_region_masks=[None if m is None else m[None, ..., None]
                                                 for m in texture_masks], **options)
    _compare(whole, TiledObjective(extractor, content, [first, second], [first, second],
                                   weights, tile_size=64, region_masks=regions,
                                   texture_region_masks=texture_masks, **options), start)


def test_sorted_projections_read_back_from_their_file_what_was_written(tmp_path, monkeypatch):
    import tempfile
    from nst_tf.objective.sorted_projections import SortedProjections
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    values = np.random.default_rng(0).normal(size=(1001, 5)).astype(np.float32)
    kept, spilled = SortedProjections(values.copy()), SortedProjections(values.copy(), True)
    values.sort(axis=0)
    assert not kept.in_file and spilled.in_file and (spilled.count, spilled.directions) == (
        1001, 5)
    for direction in (4, 0, 2):  # in any order, each direction whole and exact
        column = spilled.column(direction)
        assert column.dtype == np.float32 and column.flags.c_contiguous
        assert np.array_equal(column, values[:, direction])
        assert np.array_equal(kept.column(direction), values[:, direction])
        assert kept.column(direction).flags.c_contiguous
    # The file has no name in the temporary folder: nothing is left behind, even on a kill.
    assert list(tmp_path.iterdir()) == []
    spilled.close()
    assert not spilled.in_file


def test_tiled_sorted_projections_from_a_file_give_the_same_evaluation(random_vgg, monkeypatch):
    # Past SORTED_PROJECTIONS_IN_MEMORY_BYTES the texture's sorted projections are read from a
    # temporary file, a direction at a time: the same numbers, so the same value and gradient
    # to the bit.
    from nst_tf.network.vgg import FeatureExtractor, preprocess
    from nst_tf.objective import tiled as tiled_module
    extractor = FeatureExtractor(random_vgg, ("block1_conv1", "block2_conv1"), ("block1_conv1",))
    content, first, second, start = (random_image((80, 100), seed) for seed in (1, 2, 5, 3))
    options = dict(blend=(0.25, 0.75), texture_loss="sliced_wasserstein", seed=3, tile_size=64)
    weights = (5.0, 1.0, 3.0, 100.0, 0.0)
    evaluations = []
    for limit in (1 << 40, 0):
        monkeypatch.setattr(tiled_module, "SORTED_PROJECTIONS_IN_MEMORY_BYTES", limit)
        objective = tiled_module.TiledObjective(extractor, content, [first, second],
                                                [first, second], weights, **options)
        assert all(layer.in_file == (limit == 0) for texture in objective.sorted_targets
                   for layer in texture)
        evaluations.append(objective.value_and_gradient(preprocess(start[None])))
    (total, gradient, parts), (spilled_total, spilled_gradient, spilled_parts) = evaluations
    assert parts["texture"] > 0 and spilled_parts == parts and spilled_total == total
    assert np.array_equal(spilled_gradient.numpy(), gradient.numpy())


def test_increasing_order_is_the_stable_argsort():
    from nst_tf.objective.terms import increasing_order
    rng = np.random.default_rng(4)
    values = rng.normal(size=5000).astype(np.float32)
    values[:300] = 0.0
    values[300:600] = -0.0  # equal to 0.0: the ties keep their order across both
    values[600:700] = values[700:800]  # more ties
    values[800:810] = [np.inf, -np.inf, np.finfo(np.float32).max, -np.finfo(np.float32).max,
                       np.finfo(np.float32).tiny, -np.finfo(np.float32).tiny, 1e-45, -1e-45,
                       1.0, -1.0]
    rng.shuffle(values)
    order = increasing_order(values)
    assert order.dtype == np.intp and order.shape == (5000,)
    assert np.array_equal(order, np.argsort(values, kind="stable"))
    assert increasing_order(np.zeros(0, np.float32)).shape == (0,)
