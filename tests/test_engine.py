"""One engine behind every front end: the plan, the checks, the network cache and the outcome
policies (nst_tf/run/engine.py), and the front ends agreeing through it."""
import json
import re
import threading

import imageio.v3 as iio
import numpy as np
import pytest

import nst_tf
from nst_tf.config import TransferConfig
from nst_tf.errors import NSTError, NonFiniteLoss
from nst_tf.run.engine import DONE, FAILED, STOPPED, Engine
from nst_tf.run.request import Request, prepare
from conftest import random_image, run_script

TINY = dict(weights="random", max_dim=48, iterations=2)


@pytest.mark.parametrize("settings,expected", [
    (dict(mode="texture"), (48, 36)),
    (dict(mode="texture", split=(2, 1)), (64, 48)),
    (dict(mode="style"), (48, 36)),
    (dict(mode="synthesize", size=(80, 48)), (80, 48)),  # the exact size, whatever max_dim
    (dict(mode="synthesize"), (48, 36)),
    (dict(mode="reconstruct"), (48, 36)),
    (dict(mode="texture", statistics="global", max_dim=64), (64, 48)),
])
def test_the_plan_is_the_results_size_in_every_mode(settings, expected):
    config = TransferConfig(**{**TINY, **settings})
    request = Request(random_image((72, 96), 1), random_image((50, 60), 2), config)
    prepared = prepare(request)
    assert prepared.plan.output == expected
    outcome = Engine().run(prepared)
    assert outcome.status == DONE and outcome.image.shape == (expected[1], expected[0], 3)
    assert outcome.steps == sum(prepared.plan.reported)


def test_the_start_line_the_pages_check_and_the_result_agree_on_the_size(tmp_path, server):
    # The case that drifted: synthesis at an exact size.
    texture = tmp_path / "texture.png"
    iio.imwrite(texture, random_image((50, 60), 2).astype(np.uint8))
    output = tmp_path / "out.png"
    done = run_script("transfer.py", "--mode=synthesize", "--size=80x48", f"--texture={texture}",
                      f"--output={output}", "--weights=random", "--iterations=1",
                      "--log_every=1")
    assert done.returncode == 0, done.stderr
    assert re.search(r" -> 80x48, ", done.stderr.splitlines()[0]), done.stderr
    assert iio.imread(output).shape == (48, 80, 3)
    config = TransferConfig(mode="synthesize", size=(80, 48), weights="random", iterations=1)
    assert server.queue.check(config, None, [random_image((50, 60), 2)]).plan.output == (80, 48)


def test_a_stop_keeps_the_best_image_and_an_early_stop_keeps_none():
    config = TransferConfig(**{**TINY, "iterations": 50})
    stop = threading.Event()
    seen = []

    def on_step(report):
        seen.append(report.step)
        if report.step == 2:
            stop.set()

    outcome = Engine().run(Request(random_image((72, 96), 1), random_image((50, 60), 2), config),
                           on_step, stop=stop)
    assert (outcome.status, outcome.stopped_by, seen) == (STOPPED, "stop", [0, 1, 2])
    assert outcome.image.shape == (36, 48, 3) and outcome.image.dtype == np.uint8
    stopped_first = Engine().run(Request(random_image((72, 96), 1), random_image((50, 60), 2),
                                         config), stop=stop)
    assert (stopped_first.status, stopped_first.image, stopped_first.steps) == (STOPPED, None, 0)


def test_bad_input_is_a_failed_outcome_with_one_line_and_no_image():
    outcome = Engine().run(Request(np.zeros((5, 5, 5)), random_image((50, 60), 2),
                                   TransferConfig(**TINY)))
    assert (outcome.status, outcome.stopped_by, outcome.image) == (FAILED, "input", None)
    assert outcome.message == "content: unsupported image shape (5, 5, 5)"
    assert isinstance(outcome.error, NSTError)


def test_the_engine_keeps_its_networks_and_drops_the_oldest():
    engine = Engine(networks_kept=2)
    configs = [TransferConfig(weights="random", seed=seed) for seed in (1, 2, 3)]
    first = engine.network(configs[0], None)
    assert engine.network(configs[0], None) is first  # kept
    engine.network(configs[1], None)
    engine.network(configs[2], None)  # the third drops the least recently used: seed 1
    assert engine.network(configs[0], None) is not first


def test_python_takes_paths_bytes_arrays_and_pil_images_and_names_a_wrong_argument(tmp_path):
    from PIL import Image
    from conftest import ROOT
    content = ROOT / "examples" / "cat.jpg"
    config = TransferConfig(**TINY)
    results = [nst_tf.transfer(source, ROOT / "examples" / "gravel.jpg", config)
               for source in (content, content.read_bytes(), np.asarray(Image.open(content)),
                              Image.open(content))]
    assert all(np.array_equal(results[0], result) for result in results[1:])
    with pytest.raises(NSTError, match=r"^texture: give a path, the file's bytes, a NumPy array "
                                       r"or a PIL image, not int$"):
        nst_tf.transfer(content, 7, config)
    with pytest.raises(NSTError, match=r"^config: give a TransferConfig, not dict$"):
        nst_tf.transfer(content, content, {"iterations": 2})
    nst_tf.save(tmp_path / "result.png", results[0])
    assert np.array_equal(iio.imread(tmp_path / "result.png"), results[0])


# --- A loss that stops being finite: one policy in every front end ------------------------------

def test_a_non_finite_loss_ends_the_same_in_every_front_end(tmp_path, server, image_files):
    from nst_tf.batch.jobs import Job
    from nst_tf.batch.runner import run_job
    content, texture = image_files
    # Weight 1e38: the pixel loss overflows float32 once the image leaves the content.
    config = TransferConfig(weights="random", max_dim=64, iterations=10, direct_weight=1e38)

    # The engine: failed, the best image before it kept.
    outcome = Engine().run(Request(str(content), str(texture), config))
    assert (outcome.status, outcome.stopped_by) == (FAILED, "non-finite")
    expected = re.match(r"the direct loss became (inf|nan) at step 3", outcome.message).group()
    assert outcome.message == (f"{expected}; the best image before it is kept (lower the loss "
                               "weights or the learning rate)")
    assert outcome.image.shape == (48, 64, 3)
    # Python: raised, with that image.
    with pytest.raises(NonFiniteLoss) as raised:
        nst_tf.transfer(str(content), str(texture), config)
    assert np.array_equal(raised.value.image, outcome.image)
    # The command line: the image written, exit 1.
    output = tmp_path / "cli.png"
    done = run_script("transfer.py", f"--content={content}", f"--texture={texture}",
                      f"--output={output}", "--weights=random", "--max_dim=64", "--iterations=10",
                      "--direct_weight=1e38", "--log_every=0")
    assert done.returncode == 1
    assert done.stderr.strip() == (f"error: {expected}; wrote the best image before it to "
                                   f"{output} (lower the loss weights or the learning rate)")
    assert np.array_equal(iio.imread(output), outcome.image)
    # The batch: the image written, the job failed with the same message.
    job = Job("batch.png", str(content), str(texture), str(tmp_path / "batch.png"), config)
    line, batch_outcome = run_job(job)
    assert (line["status"], line["error"]) == ("failed", outcome.message)
    assert np.array_equal(iio.imread(tmp_path / "batch.png"), outcome.image)
    assert json.loads(json.dumps(line))["status"] == "failed"  # a report line
    # The web page: failed, the same message, the image kept.
    from nst_tf.web.runs import Run
    queue = server.queue
    plan = queue.check(config, random_image((72, 96), 1), [random_image((50, 60), 2)]).plan
    size, steps = plan.output, plan.reported
    run = queue.submit(Run(config, iio.imread(content).astype(np.float32),
                           [iio.imread(texture).astype(np.float32)], {}, "", size, steps))
    with queue.changed:
        assert queue.changed.wait_for(lambda: run.state in ("done", "stopped", "failed"),
                                      timeout=240)
    assert (run.state, run.message) == ("failed", outcome.message)
    assert np.array_equal(run.result, outcome.image)


def test_a_request_made_where_it_runs_fails_as_bad_input_in_the_engine():
    """A batch job's files are read on its worker: the engine takes the function that makes its
    Request, and that function's NSTError is the outcome's, as any bad input."""
    def load():
        raise NSTError("content: the job's file is gone")

    outcome = Engine().run(load)
    assert (outcome.status, outcome.stopped_by, outcome.image) == (FAILED, "input", None)
    assert outcome.message == "content: the job's file is gone"
    content, texture = random_image((40, 56), 1), random_image((40, 40), 2)
    config = TransferConfig(weights="random", max_dim=48, iterations=1)
    made = Engine().run(lambda: prepare(Request(content, texture, config)))
    assert made.status == DONE and made.image.shape == (34, 48, 3) and made.plan.output == (48, 34)


@pytest.mark.quick
def test_every_ending_is_mapped_in_one_place():
    from nst_tf.run.engine import ending, outcome_of
    assert ending(KeyboardInterrupt()) == (STOPPED, "interrupt",
                                           "interrupted: the best image so far is kept")
    assert ending(NSTError("split 9x9 leaves tiles of 7x5 px")) == (
        FAILED, "input", "split 9x9 leaves tiles of 7x5 px")
    assert ending(MemoryError("out of memory\nmore")) == (
        FAILED, "error", "internal error (MemoryError: out of memory)")
    assert ending(NonFiniteLoss(3, "direct", float("nan"))) == (FAILED, "non-finite", (
        "the direct loss became nan at step 3; the best image before it is kept (lower the loss "
        "weights or the learning rate)"))
    refused = outcome_of(NSTError("clip.mp4: no such file"), 0.5)
    assert (refused.status, refused.stopped_by, refused.message, refused.seconds) == (
        FAILED, "input", "clip.mp4: no such file", 0.5)


def test_a_clip_that_cannot_be_read_is_an_outcome_not_an_exception(tmp_path):
    from nst_tf.video.settings import VideoSettings
    from nst_tf.video.transfer import run_video
    outcome = run_video(tmp_path / "missing.mp4", random_image((40, 40), 2),
                        tmp_path / "out.mp4", TransferConfig(weights="random"), VideoSettings())
    assert (outcome.status, outcome.stopped_by) == (FAILED, "input")
    assert "missing.mp4" in outcome.message and "\n" not in outcome.message
    assert not (tmp_path / "out.mp4").exists()
