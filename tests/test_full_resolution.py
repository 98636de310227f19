"""Full resolution and global statistics: the plan and objective of a run (the engine's
transfer), whole runs through nst_tf.transfer and the command line."""

import numpy as np
import pytest

import nst_tf
from conftest import built, SHARED_EXAMPLES, random_image
from bench.look import luma, seam_ratio
from nst_tf.io.images import mirror_fit, read_image, resize, split_pair, upsampled_onto
from nst_tf.objective.tiled import TiledObjective

QUICK = dict(weights="random", raw_weight=1e3, texture_weight=1e3)


def test_max_dim_0_runs_coarse_to_fine_up_to_the_odd_full_size():
    content, texture = random_image((75, 141), 1), random_image((40, 50), 2)
    config = nst_tf.TransferConfig(max_dim=0, start_dim=64, iterations=3, refine_iterations=2,
                                   **QUICK)
    assert config.global_statistics
    reports = []
    outcome = nst_tf.Engine().run(nst_tf.Request(content, texture, config), on_step=reports.append)
    plan, result = outcome.plan, outcome.image
    assert outcome.status == "done" and plan.sizes == [(34, 64), (68, 128), (75, 141)]
    assert result.shape == (75, 141, 3) and result.dtype == np.uint8
    assert plan.steps == [3] + [2] * (len(plan.sizes) - 1)
    assert [r.level for r in reports] == sum(
        ([level] * steps for level, steps in enumerate(plan.steps)), [])
    assert {r.levels for r in reports} == {len(plan.sizes)}
    assert reports[0].remaining_s is None and reports[-1].remaining_s == pytest.approx(0, abs=1e-6)
    assert all(r.remaining_s >= 0 for r in reports[1:])


def test_first_level_is_start_dim_and_levels_double():
    content, texture = random_image((300, 500), 1), random_image((30, 30), 2)
    config = nst_tf.TransferConfig(max_dim=0, start_dim=100, iterations=1, refine_iterations=1,
                                   **QUICK)
    job = built(content, texture, config)
    assert job.plan.sizes == [(60, 100), (120, 200), (240, 400), (300, 500)]
    assert job.run().shape == (300, 500, 3)


def test_statistics_auto_is_global_at_full_resolution_only():
    assert nst_tf.TransferConfig(max_dim=0).global_statistics
    assert not nst_tf.TransferConfig(max_dim=512).global_statistics
    assert nst_tf.TransferConfig(max_dim=512, statistics="global").global_statistics
    assert not nst_tf.TransferConfig(max_dim=0, statistics="tile").global_statistics


def test_split_with_global_statistics_is_one_picture():
    content, texture = random_image((64, 100), 1), random_image((64, 100), 2)
    config = nst_tf.TransferConfig(split=(2, 1), max_dim=48, statistics="global", iterations=2,
                                   **QUICK)
    job = built(content, texture, config)
    assert tuple(job.image.shape) == (1, 48, 76, 3)  # two 38x48 tiles side by side, one picture
    assert job.run().shape == (48, 76, 3)


def test_a_large_picture_gets_the_tiled_objective():
    content, texture = random_image((90, 150), 1), random_image((90, 150), 2)
    config = nst_tf.TransferConfig(max_dim=0, tile_size=64, start_dim=150, iterations=1, **QUICK)
    job = built(content, texture, config)
    assert isinstance(job.objective, TiledObjective) and job.plan.tiled
    assert len(job.objective.colour_tiles) == 6  # 2 x 3 cores of 64 px
    # The plan's cores (what the web page draws) are the objective's colour cores.
    assert list(job.plan.cores) == [tuple(core) for core, _, _ in job.objective.colour_tiles]
    assert len(job.objective.gray_tiles) == 2 * 3  # its tiles are not cut under 8 halos
    assert job.run().shape == (90, 150, 3)


def test_every_level_of_a_run_tiled_at_full_size_is_tiled():
    from nst_tf.objective.whole import WholeObjective
    content, texture = random_image((90, 150), 1), random_image((90, 150), 2)
    config = nst_tf.TransferConfig(max_dim=0, tile_size=96, start_dim=64, iterations=1,
                                   refine_iterations=1, **QUICK)
    job = built(content, texture, config)
    assert job.plan.sizes[0] == (38, 64) and isinstance(job.objective, TiledObjective)
    small = built(content[:60, :90], texture, config)  # no level over one tile
    assert isinstance(small.objective, WholeObjective)
    assert (small.plan.tiled, small.plan.cores) == (False, ())


def test_an_interrupt_at_a_coarse_level_leaves_the_full_size_image():
    content, texture = random_image((80, 120), 1), random_image((80, 120), 2)
    config = nst_tf.TransferConfig(max_dim=0, start_dim=60, iterations=5, **QUICK)
    reports = []

    def interrupt(report):
        reports.append(report)
        if report.step == 2:
            raise KeyboardInterrupt

    outcome = nst_tf.Engine().run(nst_tf.Request(content, texture, config), on_step=interrupt)
    image = outcome.image
    assert (outcome.status, outcome.stopped_by) == ("stopped", "interrupt")
    assert reports[-1].level == 0 and image.shape == (80, 120, 3)
    # The content's own detail comes back at full size: far closer to it than a blur would be.
    assert np.abs(image.astype(float) - content).mean() < 10


def test_going_up_a_level_keeps_the_picture_below():
    """Downscaled, the next level's starting picture is the level below's (back-projection),
    where plain upsampling of the change blurs the texture's grain away."""
    from nst_tf.network.vgg import deprocess, preprocess
    content, texture = random_image((96, 160), 1), random_image((96, 160), 2)
    job = built(content, texture, nst_tf.TransferConfig(max_dim=0, start_dim=80, **QUICK))
    assert job.plan.sizes == [(48, 80), (96, 160)]
    below = deprocess(job.image)[0].numpy()  # the content at 80x48, as the run starts
    job.image.assign(preprocess(np.clip(below + random_image((48, 80), 3) / 4 - 32, 0, 255)[None]))
    below = deprocess(job.image)[0].numpy()  # a grain of +-32 levels on every pixel
    content_small = resize(content, (48, 80), antialias=True)[None]

    def error(up):
        return np.abs(resize(np.asarray(up)[0], (48, 80), antialias=True) - below).mean()

    kept = error(deprocess(job.regime.upsampled(job.image, (96, 160))).numpy())
    plain = error(upsampled_onto(below[None], content_small, content[None], rounds=0,
                                 method="bilinear"))
    # white noise is the hardest case (all of it at the level below's finest scale): measured
    # 0.50 levels left with back-projection, 3.24 without
    assert kept < 1.0 and plain > 3 * kept


def phase_modulation(picture, period=15):
    """How much the mean step between neighbouring pixels varies with the column's position in
    a `period` (max - min over the mean): a resampling grid shows as a large value."""
    steps = np.abs(np.diff(luma(picture), axis=1)).mean(axis=0)
    by_phase = np.array([steps[k::period].mean() for k in range(period)])
    return (by_phase.max() - by_phase.min()) / by_phase.mean()


@pytest.mark.skipif(not SHARED_EXAMPLES.exists(), reason="needs ../shared/medium_examples")
def test_upsampling_by_15_8_leaves_no_resampling_grid():
    """Back-projection sharpens; a bilinear kernel's sharpness depends on where a pixel falls
    between the pixels below, so at a ratio of 15/8 (2048 to 3840 px) it drew a faint 15 px
    grid. The kernel used is nearly phase-independent: measured 0.18 against bilinear's 0.32
    here (on the 4K peebles run, 0.08 against 0.38; the content: 0.01)."""
    content, _ = split_pair(read_image(SHARED_EXAMPLES / "peebles_under_water_in.jpg"))
    content = resize(content, (540, 960), antialias=True)
    below = resize(read_image(SHARED_EXAMPLES / "peebles_under_water_out.jpg"), (288, 512),
                   antialias=True)  # a textured picture, as a first level makes one
    content_small = resize(content, (288, 512), antialias=True)[None]
    ours = phase_modulation(np.clip(upsampled_onto(below[None], content_small, content[None])
                                    .numpy()[0], 0, 255))
    bilinear = phase_modulation(np.clip(upsampled_onto(below[None], content_small, content[None],
                                                       method="bilinear").numpy()[0], 0, 255))
    assert ours < 0.2 and bilinear > 1.5 * ours


def test_texture_scale_resizes_the_gram_target_only():
    content, texture = random_image((64, 96), 1), random_image((64, 96), 2)
    base = nst_tf.TransferConfig(max_dim=0, iterations=1, **QUICK)
    same = built(content, texture, base).objective
    scaled = built(content, texture, base.replace(texture_scale=2.0)).objective
    assert same.raw_targets[0].shape == scaled.raw_targets[0].shape
    assert not np.allclose(same.gram_targets[0].numpy(), scaled.gram_targets[0].numpy())


def test_mirror_fit_crops_and_mirrors():
    image = np.arange(2 * 3 * 1).reshape(2, 3, 1)
    assert mirror_fit(image, (1, 2)).tolist() == [[[0], [1]]]
    grown = mirror_fit(image, (5, 7))
    assert grown.shape == (5, 7, 1)
    assert grown[:, :3].tolist()[:2] == image.tolist() and grown[2, 0, 0] == image[1, 0, 0]


@pytest.mark.parametrize("changes,message", [
    (dict(tile_size=100), "tile_size must be 0 or a multiple of 16 of at least 64, got 100"),
    (dict(texture_scale=0.0), "texture_scale must be > 0, got 0.0"),
    (dict(statistics="both"), "statistics must be one of auto, global, tile, got 'both'"),
    (dict(start_dim=8), "start_dim must be at least 32 px, got 8"),
])
def test_bad_full_resolution_knobs_are_one_line(changes, message):
    with pytest.raises(nst_tf.NSTError, match=message.replace("(", r"\(")):
        nst_tf.TransferConfig(**changes)


def _seam_run(size, tile, steps, seed=0):
    content, texture = random_image(size, 1), random_image(size, 2)
    config = nst_tf.TransferConfig(max_dim=0, start_dim=max(size), tile_size=tile,
                                   iterations=steps, seed=seed, **QUICK)
    return built(content, texture, config).run().astype(np.float64)


def test_tiles_leave_no_seams_small():
    # The quick version of the slow test below: 10 steps, 160x112, 64 px tiles (6 tiles).
    tiled, whole = _seam_run((112, 160), 64, 10), _seam_run((112, 160), 0, 10)
    assert np.abs(tiled - whole).mean() <= 1.0
    assert np.abs(tiled - whole).max() <= 4.0


@pytest.mark.slow
def test_tiles_leave_no_seams_at_512x341():
    tiled, whole = _seam_run((341, 512), 128, 20), _seam_run((341, 512), 0, 20)
    assert np.abs(tiled - whole).mean() <= 1.0


def test_seam_ratio_sees_tile_borders():
    rng = np.random.default_rng(0)
    smooth = np.repeat(np.linspace(0, 200, 90)[None, :, None], 60, 0).repeat(3, 2)
    smooth = smooth + rng.normal(0, 2, smooth.shape)
    assert seam_ratio(smooth, (2, 2)) == pytest.approx(1.0, abs=0.3)
    seamed = smooth.copy()
    seamed[:, 45:] += 30  # a step at the column border
    seamed[30:] -= 20  # and one at the row border
    assert seam_ratio(seamed, (2, 2)) > 5


@pytest.mark.skipif(not (SHARED_EXAMPLES / "sand_block_out.jpg").is_file(),
                    reason="shared examples not present")
def test_the_originals_tiled_result_shows_its_seams():
    original = read_image(SHARED_EXAMPLES / "sand_block_out.jpg")
    content, _ = split_pair(read_image(SHARED_EXAMPLES / "sand_block_in.jpg"))
    # One result, made from 2x2 tiles: its borders step far more than the content's do there.
    assert seam_ratio(original, (2, 2)) > 1.5 * seam_ratio(content, (2, 2))


def test_adam_sees_the_gradient_of_the_originals_tiles():
    # A global picture is optimised as the sum over the 512 px tiles it covers: at max_dim 0 a
    # 1024x576 level is 4 such tiles, the full 2048x1152 picture 16; on tiles nothing changes.
    content, texture = random_image((1152, 2048), 1), random_image((32, 32), 2)
    job = built(content, texture, nst_tf.TransferConfig(
        max_dim=0, start_dim=64, iterations=1, refine_iterations=1, **QUICK))
    assert job.regime.gradient_scale((576, 1024)) == pytest.approx(4.0)
    assert job.regime.gradient_scale((1152, 2048)) == pytest.approx(16.0)
    tiles = built(content, texture, nst_tf.TransferConfig(
        split=(2, 2), max_dim=64, iterations=1, **QUICK))
    assert tiles.regime.gradient_scale(tiles.plan.sizes[0]) == 1.0
    global_split = built(content, texture, nst_tf.TransferConfig(
        split=(2, 2), max_dim=64, statistics="global", iterations=1, **QUICK))
    assert global_split.regime.gradient_scale(global_split.plan.sizes[0]) == pytest.approx(4.0)


def test_evaluation_rows_each_in_a_fresh_process():
    from nst_tf.config import TransferConfig
    from bench.evaluation_rows import evaluation_rows
    from conftest import random_image
    # The baseline row comes first even when not asked for first (a small one here).
    rows = evaluation_rows(random_image((90, 120), 1), random_image((90, 120), 2),
                           TransferConfig(weights="random"), [((96, 128), 64)], steps=2,
                           baseline=((48, 64), 0))
    assert [(r["width"], r["height"], r["tile_size"]) for r in rows] == [(64, 48, 0),
                                                                          (128, 96, 64)]
    assert rows[0]["tiles"] == 1 and rows[0]["per_mp_ratio"] == 1.0
    assert rows[1]["tiles"] == 4
    assert rows[1]["per_mp_ratio"] == rows[1]["seconds_per_mp"] / rows[0]["seconds_per_mp"]
    for row in rows:
        assert row["seconds_per_evaluation"] > 0
        assert row["seconds_per_mp"] == row["seconds_per_evaluation"] / row["megapixels"]
