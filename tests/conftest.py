"""Shared fixtures: small random-weight VGG19s, tiny images, the shared real weights, the CLI."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.transfer_parts import built  # noqa: F401 (the tests' way to the parts of a run)

ROOT = Path(__file__).resolve().parent.parent
# The suite's runs are float32 whatever the CPU (precision 'auto' would take bfloat16 on one
# with AMX or AVX512_BF16, and the exactness tests' tolerances are float32's); the tests of
# bfloat16 ask for it (tests/test_precision.py). Processes the tests start inherit it.
os.environ["NST_TF_FAST_BFLOAT16"] = "0"
# A real trained VGG19 (Gatys' normalized file, Keras notop layout) and the original's Medium
# example photos, for the tests that need them (docs/developing.md): from these variables, else
# from the shared folder beside the checkout; tests that need them skip when neither exists.
SHARED = ROOT.parent / "shared"
SHARED_WEIGHTS = Path(os.environ.get("NST_TF_REAL_WEIGHTS")
                      or SHARED / "weights" / "vgg19_normalized_notop.h5")
SHARED_EXAMPLES = Path(os.environ.get("NST_TF_MEDIUM_EXAMPLES") or SHARED / "medium_examples")

needs_shared_weights = pytest.mark.skipif(
    not SHARED_WEIGHTS.is_file(), reason=f"real weights not at {SHARED_WEIGHTS} (NST_TF_REAL_WEIGHTS)")


@pytest.fixture(scope="session")
def real_vgg():
    """The shared real VGG19 (Gatys' normalized file), built once for the whole run; tests that
    use it are marked needs_shared_weights."""
    from nst_tf.network.vgg import vgg19
    return vgg19(str(SHARED_WEIGHTS))


@pytest.fixture(scope="session")
def random_vgg():
    from nst_tf.network.vgg import vgg19
    return vgg19(None, seed=1)


def rescaled(layers, seed=5, low=-2.0, high=3.0):
    """`layers` with each output channel scaled by 10**U(low, high), compensated in the next
    layer's inputs: the same network up to a positive scale per channel, as Keras' ImageNet
    file is to Gatys' normalized one (docs/design.md)."""
    rng = np.random.default_rng(seed)
    out, previous = [], np.ones(3)
    for name, kernel, bias in layers:
        scale = 10 ** rng.uniform(low, high, kernel.shape[-1])
        kernel = kernel.astype(np.float64) * scale / previous[None, None, :, None]
        out.append((name, kernel.astype(np.float32), (bias * scale).astype(np.float32)))
        previous = scale
    return out


@pytest.fixture(scope="session")
def keras_stand_in(tmp_path_factory):
    """Keras' file's stand-in on disk (it cannot be downloaded here): the shared normalized file
    rescaled per channel. Tests that use it are marked needs_shared_weights."""
    from nst_tf.network import calibration
    path = tmp_path_factory.mktemp("weights") / "keras_stand_in.h5"
    calibration.write_layers(path, rescaled(calibration.read_layers(SHARED_WEIGHTS)))
    return path


def random_image(shape, seed=0):
    """float32 RGB 0..255 with some smooth structure, so features are not pure noise."""
    rng = np.random.default_rng(seed)
    height, width = shape
    y, x = np.mgrid[0:height, 0:width] / max(shape)
    smooth = np.stack([np.sin(6 * x + c) * np.cos(5 * y - c) for c in range(3)], -1)
    return np.clip(127.5 + 90 * smooth + rng.normal(0, 25, (height, width, 3)), 0, 255).astype(np.float32)


@pytest.fixture
def image_files(tmp_path):
    """A small content and texture on disk."""
    import imageio.v3 as iio
    content = tmp_path / "content.png"
    texture = tmp_path / "texture.png"
    iio.imwrite(content, random_image((72, 96), seed=1).astype(np.uint8))
    iio.imwrite(texture, random_image((50, 60), seed=2).astype(np.uint8))
    return content, texture


def interruptible():
    """Popen preexec_fn: the child takes Ctrl-C (SIGINT) again. A shell starts background jobs
    with SIGINT ignored, children inherit that, and Python then installs no KeyboardInterrupt
    handler: a test that sends SIGINT would wait for nothing (seen under CI run in the
    background with pytest-xdist's workers)."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_script(name, *args, timeout=300):
    """Runs scripts/NAME (or NAME relative to the checkout, when it has a folder: the bench
    scripts) with flags; returns the CompletedProcess (text output)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    path = ROOT / name if "/" in name else ROOT / "scripts" / name
    return subprocess.run([sys.executable, str(path), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env)


def region_texture_distances(vgg, result, textures, regions):
    """For each region (a float mask at the result's size) the texture distance of the result
    there to each texture: the gray Gram matrices at block1-3_conv1 guided by the region,
    against each texture's (resized to the result), relative to that texture's Gram norm,
    averaged over the layers. [[to texture 0, to texture 1, ...] per region]."""
    import tensorflow as tf
    from nst_tf.io.images import gray3, resize
    from nst_tf.network.vgg import FeatureExtractor, preprocess
    from nst_tf.objective.terms import gram, gram_distance, guided_gram, pooled
    size = result.shape[:2]
    extractor = FeatureExtractor(vgg, ("block1_conv1", "block2_conv1", "block3_conv1"),
                                 ("block1_conv1",))

    def grams(image, mask=None):
        features = extractor.texture_features(preprocess(gray3(
            np.asarray(image, np.float32)[None])))
        if mask is None:
            return [gram(f) for f in features]
        return [guided_gram(f, pooled(np.asarray(mask, np.float32)[None, ..., None], stride))
                for f, stride in zip(features, (1, 2, 4))]

    def distance(ours, target):
        return float(np.mean([float(gram_distance(a, b)[0] / tf.reduce_mean(tf.square(b)))
                              for a, b in zip(ours, target)]))

    targets = [grams(resize(np.asarray(t, np.float32), size, antialias=True))
               for t in textures]
    return [[distance(grams(result, region), target) for target in targets]
            for region in regions]


def serving(**options):
    """A web page server (nst_tf.web) on a free port of 127.0.0.1, random weights, serving from a
    daemon thread; options override make_server's. The caller closes it."""
    import threading
    from nst_tf.web import make_server
    server = make_server(**{"weights": "random", "port": 0, "preview_seconds": 0.2, **options})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def server():
    """One web page server per test module (tests/test_web.py, tests/test_web_browser.py)."""
    server = serving()
    yield server
    server.close()


def legacy_weights_file(path, shapes):
    """A Keras-2-layout notop file with these {layer: kernel shape} (zeros; only shapes matter)."""
    import h5py
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = [name.encode() for name in shapes]
        for name, shape in shapes.items():
            group = handle.create_group(name)
            group.attrs["weight_names"] = [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
            group.create_dataset(f"{name}/kernel:0", shape=shape, dtype="f4")
            group.create_dataset(f"{name}/bias:0", data=np.zeros(shape[-1], "f4"))


# The quick layer (`python -m pytest -q -m quick`): pure functions and small graphs in this
# process. A test is in it unless it starts a process (its source calls run_script or
# subprocess: each start imports TensorFlow again, several seconds) or it is one of these, which
# take longer than a few seconds on 2 cores: the largest exactness cases, the multi-level and
# seam runs, the real-weight runs of many steps, and whole clips and page runs (13-48 s each).
NOT_QUICK = {
    "test_tiled_loss_and_gradient_equal_the_untiled_ones", "test_tiles_leave_no_seams_small",
    "test_a_large_picture_gets_the_tiled_objective",
    "test_max_dim_0_runs_coarse_to_fine_up_to_the_odd_full_size",
    "test_each_modes_normalized_preset_lowers_its_objective",
    "test_evaluation_rows_each_in_a_fresh_process",
    "test_lbfgs_does_not_stall_on_peebles_under_water",
    "test_lbfgs_beats_adam_on_the_same_objective_and_budget",
    "test_adam_texture_falls_while_the_result_stays_the_content",
    "test_a_portrait_phone_photo_runs_upright", "test_same_inputs_and_seed_give_the_same_bytes",
    "test_a_loss_that_stops_being_finite_stops_the_run_and_keeps_the_image",
    "test_download_with_no_network_fails_within_30_s",
    "test_two_regions_take_their_own_textures",
    "test_a_full_resolution_clip_makes_its_later_frames_at_full_size_in_tiles",
    "test_a_clip_runs_frame_by_frame_and_gives_its_clip_and_a_command_that_runs",
    "test_the_temporal_loss_holds_a_later_frame_to_the_warped_result",
    "test_the_progress_line_counts_the_later_frames_at_their_share_of_the_steps",
    "test_two_textures_and_a_painted_mask_run_and_the_command_line_runs_as_given",
    "test_a_painted_two_region_mask_runs_and_each_region_takes_its_texture",
    "test_frames_are_written_as_made_and_a_rerun_goes_on_after_the_last",
    "test_a_clip_uploaded_runs_frame_by_frame_and_its_clip_downloads",
}


# What in a test's source, or in a fixture's it uses, starts another process: the quick layer
# runs none (each start imports TensorFlow again, several seconds; a Ray cluster, a minute).
STARTS_A_PROCESS = ("run_script(", "subprocess", "Popen(", "Cluster(", "ray.init(")


def _starts_a_process(item) -> bool:
    import inspect
    functions = [getattr(item, "function", None)]
    info = getattr(item, "_fixtureinfo", None)
    for definitions in (info.name2fixturedefs.values() if info is not None else ()):
        functions += [definition.func for definition in definitions]
    for function in functions:
        try:
            source = inspect.getsource(function) if function is not None else ""
        except (OSError, TypeError):
            continue
        if any(sign in source for sign in STARTS_A_PROCESS):
            return True
    return False


def pytest_collection_modifyitems(config, items):
    run_slow = os.environ.get("NST_TF_SLOW") == "1"
    for item in items:
        if item.get_closest_marker("slow") and not run_slow:
            item.add_marker(pytest.mark.skip(reason="slow: set NST_TF_SLOW=1"))
        if not (_starts_a_process(item) or item.originalname in NOT_QUICK
                or item.get_closest_marker("slow")):
            item.add_marker(pytest.mark.quick)


PAN_PX = 4  # panned(): the picture moves this many pixels left per frame


def panned(count=5, height=48, width=64, seed=1):
    """A wide picture seen through a window that moves PAN_PX right per frame: uint8 frames."""
    wide = random_image((height, width + PAN_PX * count), seed).astype(np.uint8)
    return [wide[:, PAN_PX * t:PAN_PX * t + width] for t in range(count)]


def encoded_clip(path, frames, fps=10, audio=True):
    """An H.264 clip of `frames` (with a sine tone when `audio`), made by the wheel's ffmpeg."""
    import imageio_ffmpeg
    height, width = frames[0].shape[:2]
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    command = [exe, "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s",
               f"{width}x{height}", "-r", str(fps), "-i", "-"]
    if audio:
        command += ["-f", "lavfi", "-i", f"sine=frequency=440:duration={len(frames) / fps}",
                    "-shortest", "-c:a", "aac"]
    command += ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-qp", "0", str(path)]
    subprocess.run(command, input=b"".join(f.tobytes() for f in frames), check=True)
    return path


def run_as_given(command: str, folder, tools):
    """Runs a command line as the web page gives it (`nst-tf ...`, the console script pip
    installs; here a shim running python -m nst_tf from this checkout) in `folder`; `tools`:
    an empty folder for the shim. Returns the CompletedProcess (text output)."""
    import shlex
    shim = Path(tools) / "nst-tf"
    shim.write_text(f"#!/bin/sh\nexec {shlex.quote(sys.executable)} -m nst_tf \"$@\"\n")
    shim.chmod(0o755)
    environment = dict(os.environ, PATH=f"{tools}{os.pathsep}{os.environ['PATH']}",
                       PYTHONPATH=str(ROOT))
    return subprocess.run(["bash", "-c", command], cwd=folder, env=environment,
                          capture_output=True, text=True, timeout=600)
