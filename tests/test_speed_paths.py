"""The fast paths compute the reference's objective; L-BFGS and coarse-to-fine behave; the
benchmark's quick mode writes every column."""
import json

import numpy as np
import pytest
import tensorflow as tf

import nst_tf
from bench.reference import reference_transfer
from bench.speed import conv_flops, step_flops
from nst_tf.config import TransferConfig
from nst_tf.network.vgg import PIXEL_MAX, PIXEL_MIN
from conftest import built, SHARED_WEIGHTS, needs_shared_weights, random_image, run_script


def loss_on_both_paths(config, seed):
    content, texture = random_image((56, 72), seed), random_image((40, 50), seed + 1)
    fast = built(content, texture, config)
    reference = reference_transfer(content, texture, config.replace(optimizer="adam"))
    image = tf.constant(np.clip(fast.image.numpy() + np.random.default_rng(seed).normal(
        0, 20, fast.image.shape), PIXEL_MIN, PIXEL_MAX), tf.float32)
    return fast.objective.loss_parts(image), reference.objective.loss_parts(image)


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
    # At 64x64, counted by hand from VGG19's channels (in -> out) and each block's picture size:
    # block1 64x64: 3->64, 64->64; block2 32x32: 64->128, 128->128; block3 16x16: 128->256;
    # the rest of block3: 3 x 256->256; block4 8x8: 256->512, 3 x 512->512; block5 4x4:
    # 512->512 twice (to block5_conv2). Each: 2 x positions x 9 x in x out.
    def conv(positions, pairs):
        return sum(2 * positions * 9 * cin * cout for cin, cout in pairs)
    to_block3_conv1 = (conv(64 * 64, [(3, 64), (64, 64)]) + conv(32 * 32, [(64, 128), (128, 128)])
                       + conv(16 * 16, [(128, 256)]))
    to_block5_conv2 = (to_block3_conv1 + conv(16 * 16, [(256, 256)] * 3)
                       + conv(8 * 8, [(256, 512)] + [(512, 512)] * 3) + conv(4 * 4, [(512, 512)] * 2))
    assert conv_flops((64, 64), "block3_conv1", 1) == to_block3_conv1
    assert conv_flops((64, 64), "block5_conv2", 1) == to_block5_conv2
    config = TransferConfig()
    fast, reference = (step_flops(config, (64, 64), 1, r) for r in (False, True))
    # The reference runs content and gray batches through to block5_conv2; the fast path the
    # colour batch to block5_conv2 and the gray one to block3_conv1; a step is about 2 passes.
    assert reference == 2 * 2 * to_block5_conv2
    assert fast == 2 * (to_block5_conv2 + to_block3_conv1)


def test_lbfgs_lowers_the_loss_within_bounds_and_counts_evaluations():
    config = TransferConfig(max_dim=40, weights="random", optimizer="lbfgs", iterations=7,
                            texture_weight=1e7)
    job = built(random_image((40, 40), 3), random_image((40, 40), 4), config)
    reports = []
    job.run(reports.append)
    assert [r.step for r in reports] == list(range(7))
    assert all(r.lr is None for r in reports)
    assert min(r.total for r in reports) < 0.5 * reports[0].total
    image = job.image.numpy()
    assert np.all(image >= np.array(PIXEL_MIN) - 1e-3) and np.all(image <= np.array(PIXEL_MAX) + 1e-3)
    # The image ends at the best point evaluated.
    best = float(tf.reduce_mean(job.objective.loss_parts(job.image)["total"]))
    assert best == pytest.approx(min(r.total for r in reports), rel=1e-4)


def test_lbfgs_interrupted_keeps_the_best_image():
    config = TransferConfig(max_dim=40, weights="random", optimizer="lbfgs", iterations=50,
                            texture_weight=1e7)
    job = built(random_image((40, 40), 3), random_image((40, 40), 4), config)
    reports = []

    def interrupt_at_step_5(report):
        reports.append(report)
        if report.step == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        job.run(interrupt_at_step_5)
    assert len(reports) == 6
    best = float(tf.reduce_mean(job.objective.loss_parts(job.image)["total"]))
    assert best == pytest.approx(min(r.total for r in reports), rel=1e-4)
    assert best < reports[0].total


def test_coarse_to_fine_reports_full_resolution_steps_only():
    config = TransferConfig(max_dim=96, weights="random", iterations=3, coarse_levels=2,
                            coarse_iterations=2)
    job = built(random_image((64, 96), 5), random_image((64, 64), 6), config)
    assert job.plan.sizes == [(32, 48), (64, 96)]  # the 16x24 level is under 32 px: left out
    assert job.result().shape == (64, 96, 3)  # at a coarse level the result is upsampled
    reports = []
    result = job.run(reports.append)
    assert result.shape == (64, 96, 3) and job.image.shape == (1, 64, 96, 3)
    assert [r.step for r in reports] == [0, 1, 2]
    # Step 0 already starts from the coarse level's work, not from the content.
    assert reports[0].direct > 0


@pytest.mark.slow  # every path of the benchmark in a fresh process: a minute on 2 cores
def test_benchmark_quick_mode_json_has_every_column(tmp_path):
    out = tmp_path / "bench.json"
    done = run_script("bench/scripts/benchmark.py", "--size=48", "--steps=2", "--weights=random",
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
    assert result["paths"][0]["ratio_to_reference"] == 1.0
    assert result["paths"][0]["steps_to_quality"] == 2
    assert result["memory"][0]["max_dim"] == 48
    assert "| reference |" in done.stdout and "| lbfgs |" in done.stdout


def test_benchmark_time_to_look_with_a_short_reference(tmp_path):
    out = tmp_path / "bench.json"
    done = run_script("bench/scripts/benchmark.py", "--size=48", "--steps=4", "--weights=random",
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
    fast = built(content, texture, config)
    reference = reference_transfer(content, texture, config)
    fast.run()
    reference.run()
    moved = np.abs(fast.image.numpy() - fast.objective.content.numpy()).max()
    assert moved > 10.0  # five steps at learning rate 10 moved pixels
    # The two paths compute the same numbers in another float order (their convolutions'
    # backward passes, one network pass or two), so their gradients agree to float32 rounding;
    # Adam amplifies a gradient's rounding where the gradient is near 0 (a step's sensitivity
    # there is learning_rate / epsilon = 100 per unit of gradient). Half a level is what the
    # rounded picture can tell apart: below it, the uint8 results differ by at most one level.
    np.testing.assert_allclose(fast.image.numpy(), reference.image.numpy(), atol=0.5)
    # uint8 rounding may split a float difference of 1e-3 across a boundary: at most one level.
    difference = np.abs(fast.result().astype(int) - reference.result().astype(int))
    assert difference.max() <= 1 and difference.mean() < 0.01


def test_coarse_to_fine_adam_carries_its_moments_scaled_to_the_larger_image():
    from nst_tf.optimize.adam import Adam
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
