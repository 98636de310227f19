"""The frozen VGG19 feature extractor and its Caffe-style pre/de-processing.

VGG19 was trained on BGR images with the ImageNet mean subtracted, values 0..255; the texture
transfer optimises its image in that space.
"""
from __future__ import annotations

import copy
from typing import List, Optional, Sequence, Tuple

from nst_tf.tensorflow_quietly import keras, tf  # started without its C++ log lines

from nst_tf.errors import NSTError

BGR_MEANS = (103.939, 116.779, 123.68)
# The valid pixel range in preprocessed (BGR, mean-subtracted) space, per channel.
PIXEL_MIN = tuple(-m for m in BGR_MEANS)
PIXEL_MAX = tuple(255.0 - m for m in BGR_MEANS)


def preprocess(rgb):
    """RGB 0..255 -> BGR minus the ImageNet means (what VGG19 expects). Any leading shape."""
    rgb = tf.convert_to_tensor(rgb, tf.float32)
    return rgb[..., ::-1] - tf.constant(BGR_MEANS)


def deprocess(bgr):
    """Inverse of preprocess, clipped to the valid range 0..255 RGB."""
    bgr = tf.convert_to_tensor(bgr, tf.float32)
    return tf.clip_by_value((bgr + tf.constant(BGR_MEANS))[..., ::-1], 0.0, 255.0)


def vgg(network: str, weights_path: Optional[str], seed: int = 0,
        derive: bool = False) -> keras.Model:
    """Keras' VGG19 or VGG16 (`network`) without its classifier, frozen.

    weights_path: a notop .h5 file of that network, or None for random (untrained) weights
    drawn from `seed`. derive: the file is a per-channel rescaling of Gatys' normalized VGG19
    (Keras' ImageNet file is): the network built is the normalized one, derived from it
    (nst_tf.network.calibration; NSTError when the file is not such a rescaling).
    """
    if weights_path is None or derive:
        keras.utils.set_random_seed(seed)
    build = {"vgg19": keras.applications.VGG19, "vgg16": keras.applications.VGG16}[network]
    if derive:
        from nst_tf.network.calibration import derived_layers
        layers = derived_layers(weights_path, network)
        model = build(include_top=False, weights=None)
        for name, kernel, bias in layers:
            model.get_layer(name).set_weights([kernel, bias])
        model.trainable = False
        return model
    try:
        model = build(include_top=False, weights=weights_path)
    except Exception as error:  # Keras raises ValueError, OSError or KeyError for a wrong file
        reason = str(error).splitlines()[0][:160] if str(error) else type(error).__name__
        raise NSTError(f"{weights_path}: not a {network.upper()} notop weights file "
                       f"({reason})") from None
    model.trainable = False
    return model


def vgg19(weights_path: Optional[str], seed: int = 0, derive: bool = False) -> keras.Model:
    """Keras' VGG19 without its classifier, frozen (vgg('vgg19', ...))."""
    return vgg("vgg19", weights_path, seed, derive)


def _is_plain_conv(layer) -> bool:
    """A 3x3, stride-1, 'same', ReLU convolution: the only kind VGG has."""
    return (isinstance(layer, keras.layers.Conv2D) and tuple(layer.kernel_size) == (3, 3)
            and tuple(layer.strides) == (1, 1) and tuple(layer.dilation_rate) == (1, 1)
            and layer.padding == "same" and layer.data_format == "channels_last"
            and layer.use_bias and layer.activation is keras.activations.relu)


@tf.custom_gradient
def conv_relu(x, kernel, bias):
    """relu(conv(x, kernel) + bias) of a 3x3 stride-1 'same' convolution with a frozen kernel.

    Its gradient to x is the backward convolution written as a forward one, with the kernel
    turned half a turn and its in/out channels swapped: the same numbers as TensorFlow's
    Conv2DBackpropInput (to 4e-7 of the largest), which on the CPUs measured here costs 2.6x a
    forward convolution at 704x704x64 where the forward form costs 1.2x. Only the ReLU's mask is
    kept for the backward pass, not the input. No gradient flows to the kernel or the bias: the
    network is frozen.
    """
    y = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, kernel, 1, "SAME"), bias))
    active = y > 0

    def gradient(dy):
        turned = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])
        return tf.nn.conv2d(tf.where(active, dy, 0.0), turned, 1, "SAME"), None, None

    return y, gradient


def conv_relu_wrapped(x, kernel, bias, wrap):
    """relu(conv(x, kernel) + bias) of a 3x3 stride-1 convolution with a frozen kernel whose
    window wraps around the picture's edges on the wrapped axes (wrap: (rows, columns)
    booleans) and sees zeros past the others, as 'same' does: a 'valid' convolution of
    wrapped_pad(x), x's shape again.

    Its gradient to x is the same operation on the masked upstream gradient with the kernel
    turned half a turn and its in/out channels swapped (the adjoint of a circular convolution
    is the circular correlation, as zero padding's is zero padding's): one padding and one
    convolution, where differentiating through the padding's slices and concatenations costs
    a scattered copy of x's size per slice, and their sum. No gradient flows to the kernel or
    the bias: the network is frozen."""
    wrap = (bool(wrap[0]), bool(wrap[1]))

    @tf.custom_gradient
    def convolve(x, kernel, bias):
        y = tf.nn.relu(tf.nn.bias_add(
            tf.nn.conv2d(wrapped_pad(x, wrap), kernel, 1, "VALID"), bias))
        active = y > 0

        def gradient(dy):
            turned = tf.transpose(tf.reverse(kernel, [0, 1]), [0, 1, 3, 2])
            masked = tf.where(active, dy, tf.zeros_like(dy))
            return tf.nn.conv2d(wrapped_pad(masked, wrap), turned, 1, "VALID"), None, None

        return y, gradient

    return convolve(x, kernel, bias)


def wrapped_pad(x, wrap):
    """x (n, h, w, c) with one pixel more on every side: taken from the opposite edge on the
    wrapped axes (wrap: (rows, columns) booleans: circular padding), zeros on the others."""
    for axis, wraps in ((1, wrap[0]), (2, wrap[1])):
        if wraps:
            first = x[:, :1] if axis == 1 else x[:, :, :1]
            last = x[:, -1:] if axis == 1 else x[:, :, -1:]
            x = tf.concat([last, x, first], axis)
        else:
            paddings = [[0, 0], [0, 0], [0, 0], [0, 0]]
            paddings[axis] = [1, 1]
            x = tf.pad(x, paddings)
    return x


class FeatureExtractor:
    """Post-ReLU features of named VGG19 layers, running the network no deeper than needed.

    Two truncated models share the frozen VGG19's layers: the gray branch stops at the deepest
    texture layer, the colour branch at the deepest content layer. precision: the convolutions'
    ('float32', or 'bfloat16': the images cast down on the way in, every feature cast back to
    float32 on the way out, so what follows is float32; network/precision.py).

    wrap: (rows, columns), which axes of the picture wrap around (seamless): every 3x3
    convolution's input is padded by one pixel taken from the opposite edge on a wrapped axis
    (zeros on the other) and convolved 'valid', so the features are those of the picture
    repeated without end. VGG's 2x2 stride-2 poolings then pair the same pixels as in the
    repeated picture only when the size is even at each of them: a wrapped axis must be a
    multiple of 2 at every pooling (NSTError otherwise; the run asks for a multiple of 16 up
    front). (False, False), the default, is the network as Keras runs it.
    """

    def __init__(self, model: keras.Model, texture_layers: Sequence[str],
                 content_layers: Sequence[str], precision: str = "float32",
                 wrap: Tuple[bool, bool] = (False, False)):
        self.model = model
        self.texture_layers = tuple(texture_layers)
        self.content_layers = tuple(content_layers)
        self.precision = precision
        self.wrap = (bool(wrap[0]), bool(wrap[1]))
        self.dtype = tf.bfloat16 if precision == "bfloat16" else tf.float32
        self.texture_model = self._outputs(self.texture_layers)
        self.content_model = self._outputs(self.content_layers)
        self.all_layers_model = self._outputs(self.texture_layers + self.content_layers)
        # False: the convolutions as Keras runs them, with TensorFlow's own backward pass, for
        # side-by-side measurement (benchmark path adam_tf_backward); the features are the same.
        self.turned_backward = True
        self._models = {}
        # Each convolution's kernel and bias in the compute precision, made once (eager
        # constants that every graph of the run captures).
        self._weights = {layer.name: (tf.cast(layer.kernel, self.dtype),
                                      tf.cast(layer.bias, self.dtype))
                         for layer in model.layers[1:] if _is_plain_conv(layer)}

    @property
    def wraps(self) -> bool:
        """Whether any axis wraps around (seamless)."""
        return any(self.wrap)

    def wrapped(self, wrap: Tuple[bool, bool]) -> "FeatureExtractor":
        """This extractor with `wrap` (the same network, models and weights, shared: a shallow
        copy, or itself when it already wraps so): a kept extractor (network/cache.py) made
        seamless for one run."""
        wrap = (bool(wrap[0]), bool(wrap[1]))
        if wrap == self.wrap:
            return self
        twin = copy.copy(self)
        twin.wrap = wrap
        return twin

    @property
    def unwrapped(self) -> "FeatureExtractor":
        """This extractor without wrapping: for what is not a tile of the picture (a texture
        photo's statistics, mirror-extended instead), and for the tiles of a tiled evaluation,
        whose halos are cut from the repeated picture instead."""
        return self.wrapped((False, False))

    @property
    def layer_names(self) -> tuple:
        """The network's own layers (VGG19's or VGG16's), input to output."""
        return tuple(layer.name for layer in self.model.layers[1:])

    def _outputs(self, layer_names: Sequence[str]) -> keras.Model:
        # A functional model runs only the layers between its input and its outputs.
        return keras.Model(self.model.input, [self.model.get_layer(n).output for n in layer_names])

    @staticmethod
    def _as_list(outputs) -> List[tf.Tensor]:
        return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]

    def apply(self, layer_name: str, x):
        """One layer of the network on x; its convolutions through conv_relu (a faster gradient,
        the same numbers) unless turned_backward is off, anything else as Keras runs it (in
        bfloat16, VGG's only other layer, max pooling, through tf.nn: a Keras layer would cast
        its input back to float32)."""
        layer = self.model.get_layer(layer_name)
        if self.wraps:
            return self._apply_wrapped(layer, x)
        if self.turned_backward and layer_name in self._weights:
            return conv_relu(x, *self._weights[layer_name])
        if self.dtype != tf.float32 and isinstance(layer, keras.layers.MaxPooling2D):
            return tf.nn.max_pool2d(x, layer.pool_size, layer.strides, layer.padding.upper())
        return layer(x)

    def _apply_wrapped(self, layer, x):
        """One layer on x with the wrapped axes wrapping around (wrap): a convolution on x
        padded by wrapped_pad, 'valid' (conv_relu_wrapped; without turned_backward, TensorFlow
        differentiates through the padding); a pooling checked to pair the same pixels as in the
        repeated picture."""
        if layer.name in self._weights:
            kernel, bias = self._weights[layer.name]
            if self.turned_backward:
                return conv_relu_wrapped(x, kernel, bias, self.wrap)
            padded = wrapped_pad(x, self.wrap)
            return tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(padded, kernel, 1, "VALID"), bias))
        if isinstance(layer, keras.layers.MaxPooling2D):
            for axis, name in ((1, "height"), (2, "width")):
                length = x.shape[axis]
                if self.wrap[axis - 1] and length is not None and length % 2:
                    raise NSTError(f"seamless: {layer.name} pools a wrapped {name} of "
                                   f"{length}, which is odd; the picture's wrapped sides must "
                                   "be multiples of 16")
            return tf.nn.max_pool2d(x, layer.pool_size, layer.strides, "VALID")
        return layer(x)

    def features(self, images, layer_names: Sequence[str]) -> List[tf.Tensor]:
        """Features of `layer_names` for a preprocessed batch, running the network layer by layer
        no deeper than the deepest of them; float32 whatever the precision."""
        wanted, found = set(layer_names), {}
        x = images if self.dtype == tf.float32 else tf.cast(images, self.dtype)
        for layer in self.model.layers[1:]:
            x = self.apply(layer.name, x)
            if layer.name in wanted:
                found[layer.name] = x if self.dtype == tf.float32 else tf.cast(x, tf.float32)
                if len(found) == len(wanted):
                    break
        return [found[name] for name in layer_names]

    def outputs(self, images, layer_names: Sequence[str]) -> List[tf.Tensor]:
        """Features of `layer_names` without a gradient (targets): in float32 through a
        truncated Keras model, as the network's file computes them; in bfloat16, or wrapping,
        as features() computes them, so the targets are made as the picture's features are."""
        if self.dtype != tf.float32 or self.wraps:
            return self.features(images, layer_names)
        key = tuple(layer_names)
        if key not in self._models:  # one model per set of layers, made at its first use
            self._models[key] = self._outputs(key)
        return self._as_list(self._models[key](images, training=False))

    def texture_features(self, images) -> List[tf.Tensor]:
        """Features of `texture_layers` for a preprocessed batch."""
        return self.features(images, self.texture_layers)

    def content_features(self, images) -> List[tf.Tensor]:
        """Features of `content_layers` for a preprocessed batch."""
        return self.features(images, self.content_layers)

    def all_features(self, images) -> List[tf.Tensor]:
        """texture_layers then content_layers, through one model: the original's single pass."""
        if self.dtype != tf.float32 or self.wraps:
            return self.features(images, self.texture_layers + self.content_layers)
        return self._as_list(self.all_layers_model(images, training=False))
