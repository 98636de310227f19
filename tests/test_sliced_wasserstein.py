"""The sliced Wasserstein texture loss (Heitz et al. 2021): the distance against a numpy
reference, its gradient (each position pulled to the target's value of its rank), zero for the
same distribution, a deterministic run in every mode that has a texture, masks, and the tiled
evaluation refused in one line until it has the sorted-projection pass."""
import numpy as np
import pytest
import tensorflow as tf

from conftest import random_image
from nst_tf import NSTError, TextureTransfer, TransferConfig
from nst_tf.objective.terms import (positions_of, projection_directions, quantiles,
                                    sliced_wasserstein, sorted_projections)
from nst_tf.run.levels import run_plan


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
    runs = []
    for _ in range(2):
        reports = []
        job = TextureTransfer(content, texture, config, network=random_vgg)
        runs.append(job.run(callback=reports.append))
        assert job.objective.weighting.sliced and len(job.objective.directions) == len(
            config.texture_layers)
        first, last = reports[0].texture, reports[-1].texture
        assert np.isfinite(first) and last < first, (mode, first, last)
    assert np.array_equal(runs[0], runs[1])


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
    job = TextureTransfer(content, textures, config, content_mask=labels, network=random_vgg)
    result = job.run(callback=reports.append)
    assert result.shape == (32, 48, 3) and reports[-1].texture < reports[0].texture
    blended = TransferConfig(weights="random", texture_loss="sliced_wasserstein", max_dim=48,
                             iterations=3, optimizer="adam", texture_blend=(1, 3))
    assert TextureTransfer(content, textures, blended, network=random_vgg).run().shape == (
        32, 48, 3)


def test_a_tiled_picture_is_refused_in_one_line_and_the_setting_checked():
    config = TransferConfig(max_dim=0, texture_loss="sliced_wasserstein")
    with pytest.raises(NSTError, match=r"^texture_loss sliced_wasserstein runs the 3000x2000 "
                                       r"picture untiled only: give --tile_size 0"):
        run_plan((2000, 3000), config)
    assert run_plan((2000, 3000), config.replace(tile_size=0)).output == (3000, 2000)
    assert run_plan((300, 451), config).output == (451, 300)  # one tile: untiled
    with pytest.raises(NSTError, match="texture_loss must be one of gram, sliced_wasserstein"):
        TransferConfig(texture_loss="wasserstein")
