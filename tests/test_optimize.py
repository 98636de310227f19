import re
import keras
import numpy as np
import pytest
import tensorflow as tf

import nst_tf
from nst_tf.config import TransferConfig
from nst_tf.optimize.adam import Adam
from nst_tf.optimize.schedules import PlateauSchedule
from nst_tf.optimize.stopping import PictureSettled, earliest_stop, settled
from nst_tf.network.vgg import PIXEL_MAX, PIXEL_MIN
from conftest import built, random_image


def test_adam_matches_keras_adam():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(2, 3, 3)).astype(np.float32)
    ours = tf.Variable(start)
    theirs = keras.Variable(start)
    adam = Adam(ours, 10.0, beta_1=0.99, beta_2=0.999, epsilon=0.1)
    reference = keras.optimizers.Adam(learning_rate=10.0, beta_1=0.99, beta_2=0.999, epsilon=0.1)
    for step in range(6):
        gradient = rng.normal(size=start.shape).astype(np.float32)
        if step == 3:  # a schedule's change must reach the update
            adam.learning_rate.assign(2.5)
            reference.learning_rate.assign(2.5)
        adam.apply(tf.constant(gradient))
        reference.apply_gradients([(tf.constant(gradient), theirs)])
        np.testing.assert_allclose(ours.numpy(), keras.ops.convert_to_numpy(theirs), rtol=1e-5, atol=1e-5)
    assert not np.allclose(ours.numpy(), start)


def test_plateau_schedule_decays_only_after_step_10_and_stops():
    schedule = PlateauSchedule(10.0, window=5, after=10, tolerance=1e-4, decay=0.75, min_rate=5e-6)
    rates = [schedule.update(step, 100.0) for step in range(11)]  # flat loss, but step <= 10
    assert rates == [10.0] * 11 and not schedule.stopped
    assert schedule.update(11, 100.0) == pytest.approx(7.5)
    step = 11
    while not schedule.stopped:
        step += 1
        schedule.update(step, 100.0)
    # 10 * 0.75**k < 5e-6 first at k = 51 decays: steps 11..61.
    assert step == 61
    assert schedule.learning_rate == pytest.approx(10 * 0.75 ** 51)


def test_plateau_schedule_holds_while_the_loss_moves():
    schedule = PlateauSchedule(10.0, window=5, after=10, tolerance=1e-4, decay=0.75, min_rate=5e-6)
    for step in range(40):
        schedule.update(step, 1000.0 * 0.99 ** step)  # 1% change a step: no plateau
    assert schedule.learning_rate == 10.0
    # A change of 5e-5 per step is a plateau.
    for step in range(40, 45):
        schedule.update(step, 500.0 * (1 - 5e-5) ** step)
    assert schedule.learning_rate < 10.0


@pytest.fixture(scope="module")
def small_job():
    config = TransferConfig(max_dim=48, iterations=6, weights="random", split=(2, 1),
                            optimizer="adam", texture_weight=1e3)
    return built(random_image((48, 80), 1), random_image((40, 40), 2), config)


def test_step_is_traced_once_clips_and_lowers_the_loss(small_job):
    reports = []
    result = small_job.run(reports.append)
    assert [r.step for r in reports] == list(range(6))
    # One trace of the objective's value and gradient and one of the update, for all six steps.
    from nst_tf.objective.compiled import shared_evaluations
    kept = shared_evaluations()
    assert kept.function(small_job.objective).experimental_get_tracing_count() == 1
    assert kept.function(small_job.optimization,
                         "_keep_and_update").experimental_get_tracing_count() == 1
    image = small_job.image.numpy()
    assert image.shape == (2, 48, 40, 3)
    assert np.all(image >= np.array(PIXEL_MIN) - 1e-4) and np.all(image <= np.array(PIXEL_MAX) + 1e-4)
    assert reports[0].direct == 0.0 and reports[0].content == 0.0
    assert reports[-1].texture < 0.9 * reports[0].texture
    assert reports[-1].total < 0.9 * reports[0].total
    for report in reports:
        assert report.total == pytest.approx(report.direct + report.content + report.raw + report.texture,
                                             rel=1e-5)
    assert result.shape == (48, 80, 3)
    np.testing.assert_array_equal(result, small_job.result())


def test_a_later_run_of_the_same_shape_makes_no_new_graph_and_the_same_picture():
    """The compiled evaluation and update are kept per structure: a second run of the same
    shape and settings (another content: new targets) traces nothing and computes exactly
    what a fresh process would; another size makes its own graphs."""
    from nst_tf.objective.compiled import CompiledEvaluations, shared_evaluations
    from nst_tf.objective import compiled
    config = TransferConfig(max_dim=40, iterations=3, weights="random", texture_weight=1e3)
    textures = random_image((40, 40), 2)

    def run(content_seed, size=40):
        job = built(random_image((size, size), content_seed), textures,
                                     config.replace(max_dim=size))
        reports = []
        job.run(reports.append)
        return job, [r.total for r in reports]

    run(1)  # the graphs of this structure, made once
    made = shared_evaluations().made
    job, totals = run(7)
    assert shared_evaluations().made == made  # no new graph for a new content
    evaluation = shared_evaluations().function(job.objective)
    assert evaluation.experimental_get_tracing_count() == 1
    # The same numbers as graphs made for it alone.
    previous = compiled._SHARED
    try:
        compiled._SHARED = CompiledEvaluations()
        fresh_job, fresh_totals = run(7)
    finally:
        compiled._SHARED = previous
    assert totals == fresh_totals
    np.testing.assert_array_equal(job.result(), fresh_job.result())
    run(7, size=48)
    assert shared_evaluations().made == made + 2  # its evaluation and its update


def test_reported_step_0_is_the_loss_at_the_initial_image():
    config = TransferConfig(max_dim=40, iterations=2, weights="random", texture_weight=1e7,
                            init="noise", seed=3, optimizer="adam")
    job = built(random_image((40, 40), 4), random_image((40, 40), 5), config)
    before = {k: float(tf.reduce_mean(v)) for k, v in job.objective.loss_parts(job.image).items()}
    reports = []
    job.run(reports.append)
    for name, value in before.items():
        assert getattr(reports[0], name) == pytest.approx(value, rel=1e-5)
    assert reports[0].direct > 0  # noise is far from the content


def test_learning_rate_decay_reaches_the_optimizer():
    # A tolerance no change can beat makes every step after step 2 a plateau.
    config = TransferConfig(max_dim=32, iterations=8, weights="random", optimizer="adam",
                            plateau_after=2, plateau_window=2, plateau_tolerance=1e9, plateau_decay=0.5)
    job = built(random_image((32, 32), 6), random_image((32, 32), 7), config)
    reports = []
    job.run(reports.append)
    assert [r.lr for r in reports] == [10.0, 10.0, 10.0, 10.0, 5.0, 2.5, 1.25, 0.625]
    assert float(job.optimization.adam.learning_rate) == pytest.approx(0.3125)


def test_stops_when_the_learning_rate_is_spent():
    config = TransferConfig(max_dim=32, iterations=100, weights="random", optimizer="adam",
                            plateau_after=0, plateau_window=2, plateau_tolerance=1e9, plateau_decay=0.1,
                            min_learning_rate=1e-3)
    job = built(random_image((32, 32), 6), random_image((32, 32), 7), config)
    reports = []
    job.run(reports.append)
    # Decays at steps 1..5 take 10 to 1e-4 < 1e-3: five updates after step 0, then stop.
    assert len(reports) == 6


def test_picture_settled_reads_the_mean_change_every_few_steps():
    image = tf.Variable(np.zeros((1, 4, 5, 3), np.float32))
    rule = PictureSettled(image, fraction=0.5, every=3)
    readings = []
    for updates in range(1, 13):
        image.assign_add(tf.fill(image.shape, (0.1, 0.3, 0.2, 0.05)[(updates - 1) // 3]))
        readings.append(rule.update(updates))
    # Readings at 3, 6, 9, 12: 0.3, 0.9, 0.6, 0.15 levels. Only the last is under half the
    # largest before it (0.9); the first, small as Adam's slow start is, ends nothing.
    assert readings == [False] * 11 + [True]
    np.testing.assert_allclose(rule.changes, [0.3, 0.9, 0.6, 0.15], rtol=1e-5)
    assert not settled([0.1], 0.5) and not settled([0.1, 0.2], 0.5)
    assert settled([0.1, 1.0, 0.49], 0.5) and not settled([1.0, 0.5], 0.5)


def test_the_rule_waits_two_spans_of_adams_momentum():
    assert earliest_stop(0.99) == 200 and earliest_stop(0.9) == 20 and earliest_stop(0.0) == 0
    image = tf.Variable(np.zeros((1, 2, 2, 3), np.float32))
    rule = PictureSettled(image, fraction=0.5, every=1, after=4)
    readings = []
    for step_size in (1.0, 0.1, 0.1, 0.1, 0.1):  # settled from the second reading on
        image.assign_add(tf.fill(image.shape, step_size))
        readings.append(rule.update(len(readings) + 1))
    assert readings == [False, False, False, True, True]


def test_stops_once_the_picture_has_settled_and_says_why():
    # A learning rate that decays by 0.7 each step: the change over 4 steps soon falls below a
    # tenth of its largest, long before the 200 steps or the plateau's minimum rate. A tiny
    # epsilon makes Adam's first steps about the rate itself even with a random network's
    # small gradients.
    config = TransferConfig(max_dim=32, iterations=200, weights="random", optimizer="adam",
                            plateau_after=0, plateau_window=2, plateau_tolerance=1e9,
                            plateau_decay=0.7, min_learning_rate=1e-9, settle_fraction=0.1,
                            settle_every=4, epsilon=1e-8, beta_1=0.9)
    job = built(random_image((32, 32), 6), random_image((32, 32), 7), config)
    reports = []
    job.run(reports.append)
    rule = job.optimization.settled
    assert job.optimization.stopped_by == "settled"
    assert len(reports) == job.optimization.updates == 4 * len(rule.changes) < 200
    # Not before two spans of the momentum, 2 / (1 - 0.9) = 20 steps; then at the first reading
    # under a tenth of the largest.
    assert rule.after == 20 and len(reports) >= 20
    assert [4 * k >= 20 and settled(rule.changes[:k], 0.1)
            for k in range(1, len(rule.changes) + 1)] == [False] * (len(rule.changes) - 1) + [True]


def test_stopping_rule_off_runs_every_step():
    config = TransferConfig(max_dim=32, iterations=7, weights="random", optimizer="adam",
                            settle_fraction=0.0)
    job = built(random_image((32, 32), 6), random_image((32, 32), 7), config)
    assert job.optimization is None
    job.run()
    assert job.optimization.settled is None and job.optimization.updates == 7
    assert job.optimization.stopped_by is None


def test_no_rule_where_it_could_not_stop_the_run():
    # Ten steps (full resolution's refinement levels) end before the rule's earliest stop (200
    # at beta_1 0.99): it keeps no image-sized copy there.
    config = TransferConfig(max_dim=32, iterations=10, weights="random", optimizer="adam",
                            settle_fraction=0.5)
    job = built(random_image((32, 32), 6), random_image((32, 32), 7), config)
    job.run()
    assert job.optimization.settled is None and job.optimization.updates == 10


def test_the_end_line_says_why_the_run_stopped(tmp_path, image_files):
    from conftest import run_script
    content, texture = image_files
    output = tmp_path / "out.png"
    done = run_script("scripts/transfer.py", f"--content={content}", f"--texture={texture}",
                      f"--output={output}", "--weights=random", "--max_dim=48",
                      "--iterations=200", "--settle_fraction=0.1", "--settle_every=4",
                      "--epsilon=1e-8", "--beta_1=0.9", "--plateau_after=0",
                      "--plateau_window=2", "--plateau_tolerance=1e9", "--plateau_decay=0.7",
                      "--min_learning_rate=1e-9", timeout=600)
    assert done.returncode == 0, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert re.search(r"\(stopped after \d+ steps: the picture had settled\)$", last), last
