"""The graph against an independent NumPy computation on a random-weight VGG19."""
import numpy as np
import pytest
import tensorflow as tf

from nst_tf.presets import DEFAULT_CONTENT_LAYERS, DEFAULT_TEXTURE_LAYERS
from nst_tf.objective.whole import WholeObjective
from nst_tf.objective.terms import gram
from nst_tf.network.vgg import FeatureExtractor, deprocess, preprocess
from conftest import random_image

MEANS = np.array([103.939, 116.779, 123.68])
LUMA = np.array([0.2989, 0.5870, 0.1140])


def np_features(model, images, layer_names):
    """VGG19 forward pass in float64 NumPy: 3x3 'same' convolutions + ReLU, 2x2 max pools."""
    x = np.asarray(images, np.float64)
    wanted = {}
    for layer in model.layers[1:]:
        if "conv" in layer.name:
            kernel, bias = (np.asarray(w, np.float64) for w in layer.get_weights())
            padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
            height, width = x.shape[1:3]
            out = sum(padded[:, dy:dy + height, dx:dx + width] @ kernel[dy, dx]
                      for dy in range(3) for dx in range(3))
            x = np.maximum(out + bias, 0.0)
        else:
            n, height, width, c = x.shape
            x = x[:, :height // 2 * 2, :width // 2 * 2].reshape(
                n, height // 2, 2, width // 2, 2, c).max(axis=(2, 4))
        wanted[layer.name] = x
        if all(name in wanted for name in layer_names):
            break
    return [wanted[name] for name in layer_names]


def np_preprocess(rgb):
    return rgb[..., ::-1] - MEANS


def np_gray_of_preprocessed(x):
    rgb = np.clip((x + MEANS)[..., ::-1], 0, 255)
    return np_preprocess(np.repeat((rgb @ LUMA)[..., None], 3, -1))


def np_gram(f):
    n, h, w, c = f.shape
    flat = f.reshape(n, h * w, c)
    return np.einsum("npi,npj->nij", flat, flat) / (h * w)


def np_loss(a, b):
    return ((a - b) ** 2).reshape(len(a), -1).mean(axis=1)


def np_loss_parts(model, content, texture, image, weights, texture_layers, content_layers):
    """Per-tile weighted parts of docs/design.md, computed from scratch."""
    content_pre = np_preprocess(content)
    gray_texture = np_preprocess(np.repeat((texture @ LUMA)[..., None], 3, -1))
    colour_targets = np_features(model, content_pre, content_layers)
    raw_targets = np_features(model, gray_texture, texture_layers)
    gray_image = np_gray_of_preprocessed(image)
    colour = np_features(model, image, content_layers)
    raw = np_features(model, gray_image, texture_layers)
    parts = {
        "direct": np_loss(image, content_pre),
        "content": np.mean([np_loss(t, f) for t, f in zip(colour_targets, colour)], axis=0),
        "raw": np.mean([np_loss(t, f) for t, f in zip(raw_targets, raw)], axis=0),
        "texture": np.mean([np_loss(np_gram(t), np_gram(f)) for t, f in zip(raw_targets, raw)], axis=0),
    }
    parts = {k: w * parts[k] for k, w in zip(("direct", "content", "raw", "texture"), weights)}
    parts["total"] = sum(parts.values())
    return parts


def tiles(seed, n=2, shape=(32, 40)):
    return np.stack([random_image(shape, seed=seed + k) for k in range(n)])


def test_gram_matches_numpy():
    features = np.random.default_rng(0).normal(size=(3, 5, 7, 4)).astype(np.float32)
    result = gram(features).numpy()
    assert result.shape == (3, 4, 4)
    np.testing.assert_allclose(result, np_gram(features.astype(np.float64)), rtol=1e-5)


def test_preprocess_round_trip_and_channel_order():
    rgb = np.array([[[10.0, 20.0, 30.0]]])
    np.testing.assert_allclose(preprocess(rgb).numpy(), [[[30 - 103.939, 20 - 116.779, 10 - 123.68]]],
                               rtol=1e-6)
    np.testing.assert_allclose(deprocess(preprocess(rgb)).numpy(), rgb, atol=1e-4)
    np.testing.assert_array_equal(deprocess(np.full((1, 1, 3), 500.0)).numpy(), [[[255, 255, 255]]])


def test_truncated_branches_equal_the_full_network(random_vgg):
    extractor = FeatureExtractor(random_vgg, DEFAULT_TEXTURE_LAYERS, DEFAULT_CONTENT_LAYERS)
    assert extractor.texture_model.layers[-1].name == "block3_conv1"
    assert len(extractor.texture_model.layers) == 8  # input + 7 layers, nothing past block3_conv1
    images = preprocess(tiles(3))
    full = extractor.all_features(images)
    split = extractor.texture_features(images) + extractor.content_features(images)
    for a, b in zip(full, split):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("compiled", [False, True])
def test_the_convolutions_backward_pass_gives_kerass_gradient(random_vgg, compiled):
    # conv_relu's gradient (a forward convolution with the kernel turned) against TensorFlow's
    # own through the Keras model, on an odd-sized batch, every branch.
    extractor = FeatureExtractor(random_vgg, DEFAULT_TEXTURE_LAYERS, DEFAULT_CONTENT_LAYERS)
    images = preprocess(tiles(2)[:, :37, :45])
    applied = []
    apply = extractor.apply
    extractor.apply = lambda name, x: applied.append(name) or apply(name, x)

    def loss_and_gradient(features_of):
        with tf.GradientTape() as tape:
            tape.watch(images)
            loss = tf.add_n([tf.reduce_mean(tf.square(f - 0.3)) for f in features_of(images)])
        return loss, tape.gradient(loss, images)

    for ours, keras_model in ((extractor.texture_features, extractor.texture_model),
                              (extractor.content_features, extractor.content_model)):
        run = tf.function(loss_and_gradient) if compiled else loss_and_gradient
        loss, gradient = run(ours)
        expected_loss, expected = run(lambda x: extractor._as_list(keras_model(x, training=False)))
        assert float(loss) == pytest.approx(float(expected_loss), rel=1e-6)
        error = np.abs(gradient.numpy() - expected.numpy()).max() / np.abs(expected.numpy()).max()
        assert error < 1e-5
    # The gray branch stops at block3_conv1: 7 layers; the colour one at block5_conv2: 18.
    assert applied[:7][-1] == "block3_conv1" and applied[7:25][-1] == "block5_conv2"
    assert len(applied) == 25


@pytest.mark.parametrize("texture_layers,content_layers", [
    (DEFAULT_TEXTURE_LAYERS, DEFAULT_CONTENT_LAYERS),
    (("block2_conv2", "block4_conv1"), ("block3_conv3",)),
])
def test_loss_parts_match_numpy(random_vgg, texture_layers, content_layers):
    content, texture = tiles(10), tiles(20)
    # Random weights make small features; weights chosen so every part is of similar size.
    weights = (5.0, 1e3, 1e3, 1e7)
    extractor = FeatureExtractor(random_vgg, texture_layers, content_layers)
    graph = WholeObjective(extractor, content, texture, weights)
    image = np_preprocess(tiles(30))
    parts = {k: v.numpy() for k, v in graph.loss_parts(tf.constant(image, tf.float32)).items()}
    expected = np_loss_parts(random_vgg, content.astype(np.float64), texture.astype(np.float64),
                             image, weights, texture_layers, content_layers)
    for name, value in expected.items():
        assert parts[name].shape == (2,)
        assert np.all(value > 0), name
        np.testing.assert_allclose(parts[name], value, rtol=2e-4, err_msg=name)


def test_loss_is_zero_for_the_content_in_everything_but_texture(random_vgg):
    content = tiles(40)
    extractor = FeatureExtractor(random_vgg, DEFAULT_TEXTURE_LAYERS, DEFAULT_CONTENT_LAYERS)
    graph = WholeObjective(extractor, content, tiles(50), (5.0, 1.0, 1.0, 1.0))
    parts = graph.loss_parts(preprocess(content))
    np.testing.assert_allclose(parts["direct"].numpy(), 0.0, atol=1e-9)
    np.testing.assert_allclose(parts["content"].numpy(), 0.0, atol=1e-9)
    assert np.all(parts["texture"].numpy() > 0)


def test_gradient_matches_finite_differences(random_vgg):
    extractor = FeatureExtractor(random_vgg, DEFAULT_TEXTURE_LAYERS, DEFAULT_CONTENT_LAYERS)
    content, texture = tiles(60, n=1, shape=(32, 32)), tiles(70, n=1, shape=(32, 32))
    graph = WholeObjective(extractor, content, texture, (5.0, 1e3, 1e3, 1e7))
    image = tf.constant(np_preprocess(np.clip(content + 20.0 * np.sin(np.arange(32))[:, None, None],
                                              5, 250)), tf.float32)

    def total(x):
        return tf.reduce_sum(graph.loss_parts(x)["total"])

    with tf.GradientTape() as tape:
        tape.watch(image)
        value = total(image)
    gradient = tape.gradient(value, image).numpy().astype(np.float64)
    rng = np.random.default_rng(0)
    for _ in range(3):
        direction = rng.normal(size=image.shape)
        direction /= np.linalg.norm(direction)
        epsilon = 0.5
        step = tf.constant(epsilon * direction, tf.float32)
        numeric = (float(total(image + step)) - float(total(image - step))) / (2 * epsilon)
        analytic = float(np.sum(gradient * direction))
        assert abs(numeric - analytic) <= 2e-2 * abs(analytic) + 1e-6, (numeric, analytic)


def test_texture_layer_weights_scale_each_layers_gram_loss(random_vgg):
    content, texture, image = tiles(80), tiles(81), preprocess(tiles(82))
    layers = DEFAULT_TEXTURE_LAYERS
    extractor = FeatureExtractor(random_vgg, layers, DEFAULT_CONTENT_LAYERS)
    weights = (0.0, 0.0, 0.0, 1e7)
    per_layer = []
    for layer in layers:  # each layer alone: the texture part of a one-layer graph
        alone = WholeObjective(FeatureExtractor(random_vgg, (layer,), DEFAULT_CONTENT_LAYERS),
                                     content, texture, weights)
        per_layer.append(alone.loss_parts(image)["texture"].numpy())
    weighted = WholeObjective(extractor, content, texture, weights, (1.0, 4.0, 0.5))
    expected = (1.0 * per_layer[0] + 4.0 * per_layer[1] + 0.5 * per_layer[2]) / 3.0
    np.testing.assert_allclose(weighted.loss_parts(image)["texture"].numpy(), expected, rtol=1e-5)
    equal = WholeObjective(extractor, content, texture, weights)
    np.testing.assert_allclose(equal.loss_parts(image)["texture"].numpy(),
                               sum(per_layer) / 3.0, rtol=1e-5)


def test_layer_names_in_the_caffe_and_torch_spelling():
    from nst_tf.config import TransferConfig
    from nst_tf.network.layers import keras_layer_name
    from nst_tf.errors import NSTError
    assert [keras_layer_name(n) for n in ("relu4_2", "conv1_1", "pool5", "RELU2_1", "block3_conv1")] \
        == ["block4_conv2", "block1_conv1", "block5_pool", "block2_conv1", "block3_conv1"]
    config = TransferConfig(texture_layers=("relu1_1", "conv2_1", "block3_conv1"),
                            content_layers=("relu4_2",))
    assert config.texture_layers == ("block1_conv1", "block2_conv1", "block3_conv1")
    assert config.content_layers == ("block4_conv2",)
    assert config == TransferConfig(texture_layers=config.texture_layers, content_layers=("block4_conv2",))
    with pytest.raises(NSTError, match=r"unknown VGG19 layer 'relu9_1'; choose from block1_conv1, .* "
                                       r"\(or relu4_2, conv4_2, pool4: the Caffe/Torch spelling\)"):
        TransferConfig(texture_layers=("relu9_1",))
