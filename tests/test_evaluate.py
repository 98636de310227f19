"""The look measure on cases whose answer is known, and per-layer texture weights."""
import numpy as np
import pytest
import tensorflow as tf

from bench.look import LOOK_LAYERS, LookMeasure, layout_correlation
from nst_tf.io.images import read_image, resize
from conftest import ROOT, SHARED_EXAMPLES, needs_shared_weights, random_image

GRAVEL = ROOT / "examples" / "gravel.jpg"



def blur(image, passes=6):
    """A 5x5 box blur applied `passes` times: the texture's layout kept, its grain gone."""
    kernel = tf.ones((5, 5, 1, 1)) / 25.0
    x = tf.transpose(tf.constant(image, tf.float32), (2, 0, 1))[..., None]
    for _ in range(passes):
        x = tf.nn.conv2d(tf.pad(x, [[0, 0], [2, 2], [2, 2], [0, 0]], "REFLECT"), kernel, 1, "VALID")
    return tf.transpose(x[..., 0], (1, 2, 0)).numpy()


def test_the_texture_itself_scores_zero_and_a_flat_image_badly(random_vgg):
    texture = random_image((96, 128), seed=3)
    look = LookMeasure(random_vgg, texture)
    assert look.layers == LOOK_LAYERS == ("block4_conv1", "block5_conv1")
    assert look(texture) == pytest.approx(0.0, abs=1e-9)
    flat = np.full_like(texture, 128.0)
    assert look(flat) > 0.5
    # Evaluated at the picture's size: the texture is resized to it first.
    assert look(resize(texture, (48, 64), antialias=True)) == pytest.approx(0.0, abs=1e-9)


@needs_shared_weights
def test_look_ranks_texture_crop_scaled_copy_blur_and_flat(real_vgg):
    gravel = read_image(GRAVEL)
    height, width = gravel.shape[:2]
    half = (height // 2, width // 2)
    look = LookMeasure(real_vgg, gravel[:half[0], :half[1]])
    other_crop = gravel[height - half[0]:, width - half[1]:]
    scaled = resize(gravel[:int(half[0] * 0.8), :int(half[1] * 0.8)], half, antialias=True)
    blurred = blur(other_crop)
    flat = np.full_like(other_crop, other_crop.mean())
    scores = {name: look(image) for name, image in [
        ("crop", other_crop), ("scaled", scaled), ("blurred", blurred), ("flat", flat)]}
    print(scores)
    # Another crop of the same texture has nearly its statistics; a blur keeps the layout
    # but loses the look; a flat image has none of it.
    assert scores["crop"] < 0.15
    assert scores["scaled"] < scores["blurred"] < scores["flat"]
    assert scores["flat"] > 0.9


def test_layout_correlation_sees_a_copied_layout_and_not_statistics():
    gravel = read_image(GRAVEL)
    height, width = gravel.shape[:2]
    texture = gravel[:, :width // 2]
    other = gravel[:, width - width // 2:]  # same statistics, other layout
    assert layout_correlation(texture, texture) == pytest.approx(1.0)
    assert abs(layout_correlation(other, texture)) < 0.1
    photo = random_image(texture.shape[:2], seed=5)
    blend = 0.5 * photo + 0.5 * texture  # a content with the texture copied over it
    assert layout_correlation(blend, texture) > 0.5
    assert layout_correlation(np.full_like(texture, 90.0), texture) == 0.0
    # The texture is resized to the picture: a smaller picture of the same texture still matches.
    assert layout_correlation(resize(texture, (height // 2, width // 4), antialias=True),
                              texture) > 0.8


@pytest.mark.skipif(not (SHARED_EXAMPLES / "peebles_under_water_out.jpg").is_file(),
                    reason="shared examples not present")
def test_published_results_layout_says_which_used_the_raw_loss():
    from nst_tf.io.images import split_pair
    folder = SHARED_EXAMPLES
    scores = {}
    for name, suffix in (("CatCrack", "jpg"), ("CrocoLeaf", "jpeg"), ("sand_block", "jpg"),
                         ("peebles_under_water", "jpg")):
        _, texture = split_pair(read_image(folder / f"{name}_in.{suffix}"))
        original = read_image(folder / f"{name}_out.jpg")
        if name == "CatCrack":
            original = original[:, :original.shape[1] // 2]
        scores[name] = layout_correlation(original, texture)
    # Measured: CatCrack 0.00, CrocoLeaf 0.36, sand_block 0.31, peebles_under_water 0.57.
    assert abs(scores["CatCrack"]) < 0.05
    assert min(scores["CrocoLeaf"], scores["sand_block"], scores["peebles_under_water"]) > 0.25


def test_texture_distances_are_zero_for_the_texture_and_order_a_copy_before_a_flat_picture(
        random_vgg):
    from bench.texture_distances import HELD_OUT_SEED, TextureDistances, histogram_distance
    texture = random_image((64, 80), seed=3)
    distances = TextureDistances(random_vgg, texture)
    assert HELD_OUT_SEED != 0 and distances.directions[0].shape == (64, 4 * 64)
    same = distances(texture)
    assert same == pytest.approx({"sliced": 0.0, "gram": 0.0, "histogram": 0.0}, abs=1e-9)
    shuffled = texture.reshape(-1, 3)[np.random.default_rng(0).permutation(64 * 80)].reshape(
        texture.shape)  # the same colours, none of the structure
    flat = np.full_like(texture, 128.0)
    near, far = distances(shuffled), distances(flat)
    assert near["histogram"] == pytest.approx(0.0, abs=1e-9)
    assert 0 < near["sliced"] < far["sliced"] and far["gram"] > 0.1
    # The histogram distance of two constant pictures is their difference in levels.
    assert histogram_distance(np.full((4, 4, 3), 10.0), np.full((4, 4, 3), 13.0)) == 3.0


def test_texture_distances_meet_a_synthesis_at_its_scale_and_can_leave_out_the_zero_frame(
        random_vgg):
    from bench.texture_distances import TextureDistances
    from nst_tf.io.images import mirror_fit
    from nst_tf.objective.grid import halo
    texture = random_image((96, 112), seed=5)
    piece = texture[:64, :64]  # what a 64x64 synthesis is made from: its own scale
    cropped = TextureDistances(random_vgg, texture, fit="crop")
    assert cropped(piece) == pytest.approx({"sliced": 0.0, "gram": 0.0, "histogram": 0.0},
                                           abs=1e-9)
    assert np.array_equal(cropped._target((64, 64))[0], mirror_fit(texture, (64, 64)))
    assert TextureDistances(random_vgg, texture)(piece)["sliced"] > 0.01  # the photo shrunk
    # 'piece': cropped, never extended: a picture larger than the photo meets the photo itself.
    pieces = TextureDistances(random_vgg, texture, fit="piece")
    assert np.array_equal(pieces._target((64, 64))[0], piece)
    assert np.array_equal(pieces._target((128, 128))[0], texture)
    # Other counts compare quantile by quantile: each value of the photo four times is it.
    assert pieces(np.tile(texture, (2, 2, 1)))["histogram"] == pytest.approx(0.0, abs=1e-9)
    assert pieces(np.tile(texture, (2, 2, 1)) * 0.5)["histogram"] > 10.0
    # Mirrored edges: the picture's own positions; inside the halo's reach of every edge they
    # are the zero-padded network's, at the edge they are not.
    layers = ("block1_conv1", "block3_conv1")
    zero = TextureDistances(random_vgg, texture, layers=layers)
    mirror = TextureDistances(random_vgg, texture, layers=layers, edges="mirror")
    assert mirror.margin == halo(layers) > 0
    for stride, plain, mirrored in zip((1, 4), zero.features(piece), mirror.features(piece)):
        side = 64 // stride
        plain, mirrored = (np.reshape(f, (side, side, -1)) for f in (plain, mirrored))
        inner = halo(layers) // stride
        np.testing.assert_allclose(mirrored[inner:-inner, inner:-inner],
                                   plain[inner:-inner, inner:-inner], rtol=1e-4, atol=1e-3)
        assert np.abs(mirrored[0] - plain[0]).max() > 1e-2
    assert mirror(piece[:64, :64]) != zero(piece[:64, :64])
    # The interior: only those positions, whatever lies beyond the edges.
    interior = TextureDistances(random_vgg, texture, layers=layers, edges="interior")
    for stride, plain, inner_only in zip((1, 4), zero.features(piece), interior.features(piece)):
        side, inner = 64 // stride, halo(layers) // stride
        np.testing.assert_allclose(np.reshape(inner_only, (side - 2 * inner,) * 2 + (-1,)),
                                   np.reshape(plain, (side, side, -1))[inner:-inner, inner:-inner],
                                   rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="a 24x64 picture has no positions 12 px inside"):
        interior(texture[:64, :24])
    with pytest.raises(ValueError, match="edges one of"):
        TextureDistances(random_vgg, texture, edges="wrap")


def test_texture_distances_valid_take_a_wrapped_picture_whole_and_the_texture_inside(
        random_vgg):
    from bench.texture_distances import TextureDistances
    from nst_tf.objective.grid import halo
    layers = ("block1_conv1", "block3_conv1")
    inner = halo(layers)
    texture = random_image((64, 64), seed=7)
    valid = TextureDistances(random_vgg, texture, layers=layers, fit="crop", edges="valid")
    interior = TextureDistances(random_vgg, texture, layers=layers, fit="crop",
                                edges="interior")
    # Not wrapped: the interior exactly, the texture's target included.
    assert valid(texture) == pytest.approx({"sliced": 0.0, "gram": 0.0, "histogram": 0.0},
                                           abs=1e-9)
    picture = random_image((64, 64), seed=8)
    assert valid(picture) == pytest.approx(interior(picture), rel=1e-6)
    # Wrapped: every position, each seeing the picture continued by itself; the same as the
    # interior of the picture tiled 3x3 and cut to its middle copy with the halo around it.
    for wrap in ((True, True), (False, True)):
        found = valid.features(picture, wrap)
        tiled = np.tile(picture, (3, 3, 1))
        rows = (64 - inner, 128 + inner) if wrap[0] else (64, 128)
        middle = tiled[rows[0]:rows[1], 64 - inner:128 + inner]
        for stride, f, expected in zip((1, 4), found, interior.features(middle)):
            side = (64 if wrap[0] else 64 - 2 * inner) // stride
            assert f.shape == (side * (64 // stride), f.shape[-1])
            np.testing.assert_allclose(f, expected, rtol=1e-4, atol=1e-3)
    # All of a wrapped picture's positions against the texture's fewer: compared quantile by
    # quantile (the counts differ, and the sliced distance still runs).
    wrapped = valid(picture, (True, True))
    assert wrapped["sliced"] > 0 and wrapped["sliced"] != pytest.approx(valid(picture)["sliced"])
    with pytest.raises(ValueError, match="only the edges 'valid' continue a picture"):
        interior(picture, (True, False))
    with pytest.raises(ValueError, match="a 64x24 picture has no positions 12 px inside"):
        valid(picture[:24], (False, True))
