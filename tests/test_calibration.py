"""Gatys' normalized VGG19 derived from any rescaling of it (Keras' file is one), offline.

Keras' ImageNet file cannot be downloaded here; its stand-in is the shared normalized file with
every convolution's output channels scaled by random positive factors and the next layer
compensated, which is what Keras' file is to the normalized one (docs/design.md).
"""
import numpy as np
import pytest

import nst_tf
from nst_tf.errors import NSTError
from nst_tf.network import calibration
from nst_tf.network.choice import choose_network
from nst_tf.network.weights import kernel_shapes
from conftest import built, ROOT, SHARED_WEIGHTS, needs_shared_weights, rescaled, run_script


@pytest.fixture(scope="module")
def normalized_layers():
    return calibration.read_layers(SHARED_WEIGHTS)


@pytest.fixture(scope="module")
def stand_in(keras_stand_in):
    """Keras' file's stand-in on disk (conftest.keras_stand_in)."""
    return keras_stand_in


def largest_relative_difference(a_layers, b_layers):
    """The largest |a - b| relative to the largest |b| of its array, over kernels and biases."""
    worst = 0.0
    for (_, a_kernel, a_bias), (_, b_kernel, b_bias) in zip(a_layers, b_layers):
        for a, b in ((a_kernel, b_kernel), (a_bias, b_bias)):
            worst = max(worst, float(np.abs(a - b).max() / np.abs(b).max()))
    return worst


def test_the_fingerprint_is_the_normalized_networks_5504_channels():
    reference = calibration.shipped_fingerprint()
    assert reference.shape == (3, 5504)
    assert sum(shape[-1] for shape in kernel_shapes("vgg19").values()) == 5504
    assert np.all(reference[0] > 0)  # every kernel has a norm, so every scale is defined


@needs_shared_weights
def test_the_normalized_file_is_recognised_as_it_is(normalized_layers):
    found = calibration.rescaling(normalized_layers)
    assert found.mismatch is None and found.is_normalized
    # Its own fingerprint, stored in float32: scales within float32 rounding of 1.
    assert max(float(np.abs(m - 1).max()) for m in found.scales) < 1e-6
    assert calibration.identify(SHARED_WEIGHTS) == ("normalized", "")


@needs_shared_weights
def test_a_rescaled_file_derives_back_to_the_normalized_file(normalized_layers, stand_in):
    assert calibration.identify(stand_in) == ("rescaled", "")
    derived = calibration.derived_layers(stand_in)
    assert [name for name, _, _ in derived] == list(calibration.conv_layers())
    # float32 storage of the stand-in: about 1e-7 of each array's largest value.
    assert largest_relative_difference(derived, normalized_layers) < 1e-5
    assert largest_relative_difference(calibration.read_layers(stand_in), normalized_layers) > 1


@needs_shared_weights
def test_download_weights_writes_the_normalized_network_beside_the_file(normalized_layers,
                                                                         stand_in, tmp_path):
    from nst_tf.io.download import file_hash
    folder = tmp_path / "weights"
    done = run_script("download_weights.py", f"--url={stand_in.as_uri()}",
                      f"--md5={file_hash(stand_in)}", f"--dest={folder}/", "--noprogress",
                      timeout=240)
    assert done.returncode == 0, done.stderr
    derived = folder / "vgg19_normalized_notop.h5"
    assert done.stdout.splitlines() == [
        f"{folder / stand_in.name} verified",
        f"{derived}: Gatys' normalized VGG19, derived from it"]
    assert largest_relative_difference(calibration.read_layers(derived),
                                       normalized_layers) < 1e-5
    assert calibration.identify(derived) == ("normalized", "")


@needs_shared_weights
@pytest.mark.parametrize("layer,amount", [("block1_conv1", 0.01), ("block3_conv1", 0.01),
                                          ("block5_conv4", 0.01)])
def test_a_perturbed_file_is_refused_naming_the_layer(normalized_layers, layer, amount, tmp_path):
    rng = np.random.default_rng(1)
    perturbed = [(name, (kernel * (1 + amount * rng.standard_normal(kernel.shape))
                         ).astype(np.float32) if name == layer else kernel, bias)
                 for name, kernel, bias in rescaled(normalized_layers)]
    found = calibration.rescaling(perturbed)
    # Measured: a 1% perturbation disagrees by 1.7e-3 to 6e-3, 17-60x the tolerance.
    assert found.mismatch is not None and found.mismatch.startswith(f"{layer}'s ")
    path = tmp_path / "perturbed.h5"
    calibration.write_layers(path, perturbed)
    with pytest.raises(NSTError, match=rf"^{path}: not a rescaling of VGG19's ImageNet weights "
                                       rf"\({layer}'s \w+ differ by [\d.e+-]+\); --faithful runs "
                                       "it as it is$"):
        calibration.derived_layers(path)


def random_layers(shapes, seed=0):
    """Glorot-uniform kernels and zero biases, as keras.applications.VGG19(weights=None)."""
    rng = np.random.default_rng(seed)
    layers = []
    for name, shape in shapes.items():
        limit = np.sqrt(6 / (9 * shape[2] + 9 * shape[3]))
        layers.append((name, rng.uniform(-limit, limit, shape).astype(np.float32),
                       np.zeros(shape[-1], np.float32)))
    return layers


def test_an_untrained_file_runs_with_the_2018_settings_and_says_why(tmp_path):
    path = tmp_path / "untrained.h5"
    calibration.write_layers(path, random_layers(kernel_shapes("vgg19")))
    kind, reason = calibration.identify(path)
    assert kind == "other"
    assert reason == ("not a rescaling of VGG19's ImageNet weights: block1_conv1's biases "
                      "differ by 1.0e+00")
    config = nst_tf.TransferConfig(weights=str(path))
    assert config.preset == "imagenet" and config.texture_weight == 5e-5
    assert not config.network_choice.derive
    assert config.network_choice.summary == f"the 2018 settings (untrained.h5: {reason})"


def test_a_vgg16_file_is_refused_by_the_check(tmp_path):
    layers = random_layers(kernel_shapes("vgg16"))
    assert calibration.rescaling(layers).mismatch == (
        "its 13 convolutions with 4224 channels are not VGG19's 16 with 5504")
    path = tmp_path / "vgg16.h5"
    calibration.write_layers(path, layers, network="vgg16")
    kind, reason = calibration.identify(path, "vgg19")
    assert kind == "unreadable" and reason == f"{path}: no block3_conv4 in it"
    assert calibration.identify(path, "vgg16") == (
        "other", "the calibration is VGG19's, not VGG16's")
    choice = choose_network(str(path), "vgg16")
    assert choice.preset == "imagenet" and not choice.derive


def test_keras_3_weights_files_are_read_in_the_networks_order(tmp_path):
    import keras
    from nst_tf.network.vgg import vgg19
    model = vgg19(None, seed=4)
    path = tmp_path / "untrained.weights.h5"
    model.save_weights(path)
    layers = calibration.read_layers(path)
    assert [name for name, _, _ in layers] == list(calibration.conv_layers())
    for name, kernel, bias in layers:
        np.testing.assert_array_equal(kernel, model.get_layer(name).kernel.numpy())
    assert calibration.identify(path)[0] == "other"
    assert isinstance(model, keras.Model)


def test_every_front_end_chooses_the_same_network_for_the_same_file():
    calibrated = nst_tf.TransferConfig()
    assert calibrated.preset == "normalized" and calibrated.network_choice.derive
    assert calibrated.network_choice.summary == (
        "the calibrated loop (Gatys' normalized VGG19, derived from Keras' file)")
    assert (calibrated.texture_weight, calibrated.beta_1, calibrated.epsilon,
            calibrated.steps) == (2500.0, 0.9, 0.001, 80)
    faithful = nst_tf.TransferConfig(faithful=True)
    assert faithful.preset == "imagenet" and not faithful.network_choice.derive
    assert (faithful.texture_weight, faithful.epsilon, faithful.settle_fraction) == (
        5e-5, 0.1, 0.0)
    # A preset not given follows the weights through replace(); a given one stays.
    assert calibrated.replace(weights="random").preset == "imagenet"
    assert calibrated.replace(weights="random").texture_weight == 5e-5
    assert nst_tf.TransferConfig(weights="random").replace(weights="imagenet").epsilon == 0.001
    assert nst_tf.TransferConfig(preset="normalized", weights="random").replace(
        weights="imagenet", faithful=False).preset == "normalized"
    with pytest.raises(NSTError, match="^faithful runs the 2018 computation"):
        nst_tf.TransferConfig(faithful=True, preset="normalized")
    # VGG16 has no calibration: Keras' VGG16 runs as it is.
    assert nst_tf.TransferConfig(network="vgg16").preset == "imagenet"


@needs_shared_weights
def test_the_library_follows_the_file_as_the_command_line_does(stand_in):
    from nst_tf.cli import common  # noqa: F401 (the flags are defined by the transfer command)
    for weights in (str(SHARED_WEIGHTS), str(stand_in)):
        config = nst_tf.TransferConfig(weights=weights)
        assert config.preset == "normalized" and config.texture_weight == 2500.0
        assert config.network_choice.derive == (weights == str(stand_in))


@needs_shared_weights
def test_a_run_from_the_rescaled_file_makes_the_normalized_files_picture(stand_in):
    from nst_tf.network.vgg import deprocess
    pictures, textures = [], []
    for weights in (SHARED_WEIGHTS, stand_in):
        config = nst_tf.TransferConfig(weights=str(weights), max_dim=64, iterations=20)
        job = built(ROOT / "examples" / "cat.jpg",
                                     ROOT / "examples" / "gravel.jpg", config)
        reports = []
        job.run(reports.append)
        pictures.append(deprocess(job.image).numpy())
        textures.append((reports[0].texture, reports[-1].texture))
        assert len(reports) == 20
    # The same objective at the start: the derived weights differ from the file's by float32
    # rounding (1e-7 relative), the features and their Gram matrices by a few times that.
    assert textures[1][0] == pytest.approx(textures[0][0], rel=1e-5)
    assert textures[0][1] < 0.7 * textures[0][0]  # the 20 steps moved the picture
    # After 20 Adam steps the pictures differ by a fraction of a level.
    difference = np.abs(pictures[0] - pictures[1]).max()
    assert difference < 1.0, difference


def test_offline_without_weights_is_one_line_naming_the_fixes(tmp_path, monkeypatch):
    from nst_tf.network import weights
    monkeypatch.setattr(weights, "KERAS_VGG19_NOTOP", weights.WeightsFile(
        "vgg19_notop.h5", "http://nst-tf-weights.invalid/vgg19_notop.h5", "0" * 32))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    with pytest.raises(NSTError) as raised:
        weights.resolve_weights("imagenet", tmp_path / "weights")
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"Keras' VGG19 weights are not in {tmp_path / 'weights'} and could "
                              "not be downloaded (no network: ")
    assert message.endswith("give --weights FILE (a VGG19 notop .h5), or run python "
                            "scripts/download_weights.py where there is internet")
