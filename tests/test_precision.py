"""bfloat16 convolutions (network/precision.py, network/vgg.py): when `auto` takes them, and how
far their features and runs are from float32's."""
import math

import numpy as np
import pytest

from nst_tf.config import TransferConfig
from nst_tf.errors import NSTError
from nst_tf.network import precision
from conftest import random_image

# bfloat16 keeps 8 significant bits: a value rounded to it is off by at most 2**-9 of itself,
# and one multiply-add chain rounded on the way in and out by about 2**-8 (BFLOAT16_UNIT).
BFLOAT16_UNIT = 2.0 ** -8
# Convolutions from the input to each layer, inclusive (VGG19).
CONVOLUTIONS = {"block1_conv1": 1, "block2_conv1": 3, "block3_conv1": 5, "block4_conv1": 9,
                "block5_conv2": 14}


def test_auto_takes_bfloat16_where_the_device_has_it_and_never_for_the_2018_loop(monkeypatch):
    monkeypatch.delenv(precision.OVERRIDE, raising=False)
    precision.cpu_has_fast_bfloat16.cache_clear()
    for flags, fast in ((set(), False), ({"avx2", "avx512f"}, False), ({"avx512_bf16"}, True),
                        ({"amx_bf16", "amx_tile"}, True), ({"asimd", "bf16"}, True)):
        monkeypatch.setattr(precision, "_cpu_flags", lambda flags=flags: flags)
        precision.cpu_has_fast_bfloat16.cache_clear()
        assert precision.fast_bfloat16() is fast, flags
        expected = "bfloat16" if fast else "float32"
        assert TransferConfig(weights="random").compute_precision == expected
        assert TransferConfig(weights="random", faithful=True).compute_precision == "float32"
        assert TransferConfig(weights="random", optimizer="lbfgs").compute_precision == "float32"
        assert TransferConfig(weights="random", precision="bfloat16").compute_precision == \
            "bfloat16"
        assert TransferConfig(weights="random", precision="float32").compute_precision == \
            "float32"
    monkeypatch.setenv(precision.OVERRIDE, "1")
    assert precision.fast_bfloat16() is True  # the override wins over the flags
    precision.cpu_has_fast_bfloat16.cache_clear()
    with pytest.raises(NSTError, match="^precision must be one of auto, float32, bfloat16, got "
                                       "'half'$"):
        TransferConfig(precision="half")


@pytest.mark.parametrize("weights", ["random", "real"])
def test_bfloat16_features_are_float32_and_within_its_rounding(weights, random_vgg, request):
    from nst_tf.network.vgg import FeatureExtractor, preprocess
    if weights == "real":
        from conftest import SHARED_WEIGHTS
        if not SHARED_WEIGHTS.is_file():
            pytest.skip("real weights not present")
        network = request.getfixturevalue("real_vgg")
    else:
        network = random_vgg
    layers = tuple(CONVOLUTIONS)
    exact = FeatureExtractor(network, layers, ("block5_conv2",))
    fast = FeatureExtractor(network, layers, ("block5_conv2",), "bfloat16")
    images = preprocess(random_image((48, 64), 3)[None])
    for name, a, b in zip(layers, exact.features(images, layers), fast.features(images, layers)):
        assert b.dtype.name == "float32" and b.shape == a.shape
        relative = float(np.linalg.norm(a.numpy() - b.numpy()) / np.linalg.norm(a.numpy()))
        # Each convolution's rounding adds up like independent errors (measured: 0.3-0.7% for
        # 1 to 14 convolutions, with random and real weights).
        assert relative < 2 * BFLOAT16_UNIT * math.sqrt(CONVOLUTIONS[name]), (name, relative)
    # The targets' path (no gradient) is the features' path in bfloat16.
    outputs = fast.outputs(images, ("block2_conv1",))[0]
    np.testing.assert_array_equal(outputs.numpy(), fast.features(images, ("block2_conv1",))[0])


def test_a_bfloat16_run_follows_the_float32_run(image_files):
    """The engine's run in each precision from the same start: every step's objective within
    bfloat16's rounding of float32's; the picture is float32 throughout (uint8 out)."""
    from nst_tf.run.engine import DONE, Engine
    from nst_tf.run.request import Request
    content, texture = image_files
    engine = Engine()
    runs = {}
    for name in ("float32", "bfloat16"):
        reports = []
        config = TransferConfig(weights="random", preset="normalized", max_dim=48,
                                iterations=6, precision=name)
        outcome = engine.run(Request(content, texture, config), reports.append)
        assert outcome.status == DONE, outcome.message
        assert outcome.image.dtype == np.uint8 and outcome.image.shape == (36, 48, 3)
        runs[name] = np.array([r.total for r in reports])
    assert len(runs["bfloat16"]) == 6
    # The objective sums squared feature differences: its relative error is about twice the
    # features' at the deepest layer used (block5_conv2: 2 x 2 x 2**-8 x sqrt(14)); measured
    # 0.2% at every step of this run.
    relative = np.abs(runs["bfloat16"] - runs["float32"]) / runs["float32"]
    assert relative.max() < 4 * BFLOAT16_UNIT * math.sqrt(14), relative
