"""The fast paths compute the reference's objective; L-BFGS and coarse-to-fine behave; the
benchmark's quick mode writes every column."""
import json

import numpy as np
import pytest
import tensorflow as tf

import nst_tf
from nst_tf.benchmark import conv_flops, step_flops
from nst_tf.config import TransferConfig
from nst_tf.vgg import PIXEL_MAX, PIXEL_MIN
from conftest import SHARED_WEIGHTS, needs_shared_weights, random_image, run_script


def loss_on_both_paths(config, seed):
    content, texture = random_image((56, 72), seed), random_image((40, 50), seed + 1)
    fast = nst_tf.TextureTransfer(content, texture, config)
    reference = nst_tf.TextureTransfer(content, texture, config.replace(optimizer="adam"),
                                       reference=True)
    image = tf.constant(np.clip(fast.image.numpy() + np.random.default_rng(seed).normal(
        0, 20, fast.image.shape), PIXEL_MIN, PIXEL_MAX), tf.float32)
    return fast.graph.loss_parts(image), reference.graph.loss_parts(image)


def assert_same_losses(fast, reference):
    for name in ("total", "direct", "content", "raw", "texture"):
        a, b = fast[name].numpy(), reference[name].numpy()
        assert np.all(np.abs(b) > 0), name
        np.testing.assert_allclose(a, b, rtol=1e-4, err_msg=name)


def test_fast_path_computes_the_reference_loss_random_weights():
    config = TransferConfig(max_dim=56, split=(2, 1), weights="random", raw_weight=1e3,
                            content_weight=1e3, texture_weight=1e7)
    assert_same_losses(*loss_on_both_paths(config, 11))


@needs_shared_weights
def test_fast_path_computes_the_reference_loss_real_weights():
    config = TransferConfig(max_dim=64, weights=str(SHARED_WEIGHTS), raw_weight=1.0,
                            texture_weight=1e3)
    assert_same_losses(*loss_on_both_paths(config, 21))


def test_flop_count_of_vgg19():
    # block1_conv1 on 224x224: 224*224*9*3*64 multiply-adds.
    assert conv_flops((224, 224), "block1_conv1", 1) == 2 * 224 * 224 * 9 * 3 * 64
    # The whole convolutional VGG19 at 224 px is about 19.6 GFLOPs (2 x 9.8 G multiply-adds).
    assert conv_flops((224, 224), "block5_conv4", 1) == pytest.approx(39.0e9, rel=0.01)
    config = TransferConfig()
    fast, reference = (step_flops(config, (64, 64), 1, r) for r in (False, True))
    assert reference == 2 * 2 * conv_flops((64, 64), "block5_conv2", 1)
    assert fast == 2 * (conv_flops((64, 64), "block5_conv2", 1) + conv_flops((64, 64), "block3_conv1", 1))


def test_lbfgs_lowers_the_loss_within_bounds_and_counts_evaluations():
    config = TransferConfig(max_dim=40, weights="random", optimizer="lbfgs", iterations=7,
                            texture_weight=1e7)
    job = nst_tf.TextureTransfer(random_image((40, 40), 3), random_image((40, 40), 4), config)
    reports = []
    job.run(reports.append)
    assert [r.step for r in reports] == list(range(7))
    assert all(r.lr is None for r in reports)
    assert min(r.total for r in reports) < 0.5 * reports[0].total
    image = job.image.numpy()
    assert np.all(image >= np.array(PIXEL_MIN) - 1e-3) and np.all(image <= np.array(PIXEL_MAX) + 1e-3)
    # The image ends at the best point evaluated.
    best = float(tf.reduce_mean(job.graph.loss_parts(job.image)["total"]))
    assert best == pytest.approx(min(r.total for r in reports), rel=1e-4)


def test_lbfgs_interrupted_keeps_the_best_image():
    config = TransferConfig(max_dim=40, weights="random", optimizer="lbfgs", iterations=50,
                            texture_weight=1e7)
    job = nst_tf.TextureTransfer(random_image((40, 40), 3), random_image((40, 40), 4), config)
    reports = []

    def interrupt_at_step_5(report):
        reports.append(report)
        if report.step == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        job.run(interrupt_at_step_5)
    assert len(reports) == 6
    best = float(tf.reduce_mean(job.graph.loss_parts(job.image)["total"]))
    assert best == pytest.approx(min(r.total for r in reports), rel=1e-4)
    assert best < reports[0].total


def test_coarse_to_fine_reports_full_resolution_steps_only():
    config = TransferConfig(max_dim=96, weights="random", iterations=3, coarse_levels=2,
                            coarse_iterations=2)
    job = nst_tf.TextureTransfer(random_image((64, 96), 5), random_image((64, 64), 6), config)
    assert job.levels == [(32, 48), (64, 96)]  # the 16x24 level is under 32 px: left out
    assert job.result().shape == (64, 96, 3)  # at a coarse level the result is upsampled
    reports = []
    result = job.run(reports.append)
    assert result.shape == (64, 96, 3) and job.image.shape == (1, 64, 96, 3)
    assert [r.step for r in reports] == [0, 1, 2]
    # Step 0 already starts from the coarse level's work, not from the content.
    assert reports[0].direct > 0


def test_benchmark_quick_mode_json_has_every_column(tmp_path):
    out = tmp_path / "bench.json"
    done = run_script("benchmark.py", "--size=48", "--steps=2", "--weights=random",
                      "--paths=reference,adam,lbfgs", "--memory_sizes=48", f"--json={out}")
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["meta"]["device"] == "CPU" and result["meta"]["steps"] == 2
    assert [p["path"] for p in result["paths"]] == ["reference", "adam", "lbfgs"]
    columns = {"path", "steps", "seconds_per_step", "ratio_to_reference", "gflops_per_second",
               "peak_memory_mb", "final_total", "target_total", "time_to_quality_s",
               "steps_to_quality", "time_to_quality_ratio", "wall_s", "final_look",
               "final_ssim", "time_to_look_s", "steps_to_look", "time_to_look_ratio", "estimated"}
    for row in result["paths"]:
        assert set(row) == columns
        assert row["seconds_per_step"] > 0 and row["gflops_per_second"] > 0
        assert row["peak_memory_mb"] > 100
    assert result["paths"][0]["ratio_to_reference"] == 1.0
    assert result["paths"][0]["steps_to_quality"] == 2
    assert result["memory"][0]["max_dim"] == 48 and result["memory"][0]["peak_memory_mb"] > 100
    assert "| reference |" in done.stdout and "| lbfgs |" in done.stdout


def test_benchmark_time_to_look_with_a_short_reference(tmp_path):
    out = tmp_path / "bench.json"
    done = run_script("benchmark.py", "--size=48", "--steps=4", "--weights=random",
                      "--paths=adam,reference,lbfgs", "--memory_sizes=", "--look_every=2",
                      "--reference_steps=2", f"--json={out}")
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    first, reference, lbfgs = result["paths"]
    target = result["meta"]["look_target"]
    assert target["look"] == pytest.approx(1.1 * first["final_look"])
    assert target["ssim"] == pytest.approx(first["final_ssim"] - 0.05)
    assert first["steps_to_look"] == 4 and first["steps"] == 5
    # The reference ran 3 steps; its time for 4 is estimated, and ratios are taken to it.
    assert reference["estimated"] and reference["steps"] == 3
    assert reference["time_to_look_ratio"] == 1.0 and result["meta"]["ratios_to"] == "reference"
    assert reference["time_to_look_s"] > 4 * reference["seconds_per_step"]
    assert lbfgs["final_look"] >= 0 and 0 < lbfgs["final_ssim"] <= 1
    assert "| reference* |" in done.stdout and "look target: look <=" in done.stdout


def test_faithful_adam_gives_the_reference_paths_images():
    content, texture = random_image((56, 72), 21), random_image((40, 50), 22)
    config = TransferConfig(max_dim=56, split=(2, 1), weights="random", optimizer="adam",
                            iterations=5, raw_weight=1e3, content_weight=1e3, texture_weight=1e7)
    fast = nst_tf.TextureTransfer(content, texture, config)
    reference = nst_tf.TextureTransfer(content, texture, config, reference=True)
    fast.run()
    reference.run()
    moved = np.abs(fast.image.numpy() - fast.graph.content.numpy()).max()
    assert moved > 10.0  # five steps at learning rate 10 moved pixels
    np.testing.assert_allclose(fast.image.numpy(), reference.image.numpy(), atol=1e-2)
    # uint8 rounding may split a float difference of 1e-3 across a boundary: at most one level.
    difference = np.abs(fast.result().astype(int) - reference.result().astype(int))
    assert difference.max() <= 1 and difference.mean() < 0.01


def test_coarse_to_fine_adam_carries_its_moments_scaled_to_the_larger_image():
    from nst_tf.optimize import Adam
    small = tf.Variable(tf.zeros((1, 8, 8, 3)))
    coarse = Adam(small, 10.0, 0.99, 0.999, 0.1)
    coarse.apply(tf.ones((1, 8, 8, 3)))
    coarse.learning_rate.assign(5.0)
    fine = Adam(tf.Variable(tf.zeros((1, 16, 16, 3))), 10.0, 0.99, 0.999, 0.1)
    fine.carry_from(coarse)
    # One step of gradient 1: m = 0.01, v = 0.001; 4x the pixels: m / 4, v / 16.
    np.testing.assert_allclose(fine.m.numpy(), 0.01 / 4, rtol=1e-5)
    np.testing.assert_allclose(fine.v.numpy(), 0.001 / 16, rtol=1e-5)
    assert float(fine.iterations) == 1.0 and float(fine.learning_rate) == 5.0
