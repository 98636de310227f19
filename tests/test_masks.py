"""Spatial control (masks, a texture per region) and colour control: guided Gram matrices exact
over tiles, a mask of 1 is no mask, a mask of 0 keeps the texture away, bad masks in one line."""
import numpy as np
import pytest
import tensorflow as tf

import nst_tf
from conftest import (built, ROOT, SHARED_WEIGHTS, needs_shared_weights, random_image,
                      region_texture_distances)
from nst_tf import NSTError, TransferConfig
from nst_tf.io.masks import region_masks, texture_region_masks
from nst_tf.network.vgg import FeatureExtractor, preprocess
from nst_tf.objective.terms import gram, guided_gram, pooled
from nst_tf.objective.tiled import TiledObjective
from nst_tf.objective.whole import WholeObjective
from nst_tf.run.colours import matched_colours

CONTENT_LAYERS = ("block1_conv1", "block5_conv2")
WEIGHTS = (5.0, 1.0, 3.0, 0.1)


def test_guided_gram_of_a_full_mask_is_the_gram_and_of_a_half_the_halfs():
    features = tf.constant(np.random.default_rng(0).normal(size=(1, 6, 8, 5)), tf.float32)
    ones = tf.ones((1, 6, 8, 1))
    np.testing.assert_allclose(guided_gram(features, ones), gram(features), rtol=1e-6)
    left = np.zeros((1, 6, 8, 1), np.float32)
    left[:, :, :4] = 1
    np.testing.assert_allclose(guided_gram(features, left), gram(features[:, :, :4]), rtol=1e-5)
    # A mask pools as the network does: 2x2 averages.
    assert pooled(left, 4).shape == (1, 1, 2, 1) and np.allclose(pooled(left, 4), [[[[1], [0]]]])


def _objectives(extractor, content, textures, masks, texture_masks, tile):
    whole = WholeObjective(extractor, content[None], [t[None] for t in textures], WEIGHTS,
                           region_masks=[m[None, ..., None] for m in masks],
                           texture_region_masks=[None if m is None else m[None, ..., None]
                                                 for m in texture_masks])
    tiled = TiledObjective(extractor, content, textures, textures, WEIGHTS, tile_size=tile,
                           region_masks=masks, texture_region_masks=texture_masks)
    return whole, tiled


def test_guided_gram_over_tiles_equals_untiled(random_vgg):
    # An odd size; region A lies inside the first tile's core, region B is the rest with a soft
    # border; texture 2's statistics come from its right half only.
    extractor = FeatureExtractor(random_vgg, ("block1_conv1", "block2_conv1", "block3_conv1"),
                                 CONTENT_LAYERS)
    size = (83, 129)
    content, first, second, start = (random_image(size, seed) for seed in (1, 2, 5, 3))
    inside = np.zeros(size, np.float32)
    inside[8:40, 8:44] = 1.0
    rest = 1.0 - inside
    rest[:, 100:] *= np.linspace(1.0, 0.2, 29)  # soft
    right = np.zeros(size, np.float32)
    right[:, 64:] = 1.0
    whole, tiled = _objectives(extractor, content, [first, second], [inside, rest],
                               [None, right], tile=64)
    # A lies inside the texture branch's first core
    assert len(tiled.gray_tiles) == 6 and tiled.gray_tiles[0][0] == (0, 48, 0, 48)
    _, gradient, parts = whole.value_and_gradient(tf.Variable(preprocess(start[None])))
    total, tiled_gradient, tiled_parts = tiled.value_and_gradient(preprocess(start[None]))
    assert all(float(parts[name]) > 0 for name in ("direct", "content", "raw", "texture"))
    for name, value in parts.items():  # the exactness tolerances of tests/test_tiled.py
        assert tiled_parts[name] == pytest.approx(float(value), rel=1e-4), name
    gradient = gradient.numpy()
    assert np.abs(tiled_gradient.numpy() - gradient).max() / np.abs(gradient).max() <= 1e-3


def test_a_mask_of_0_keeps_the_texture_terms_away(random_vgg):
    # Raw and texture parts only: where the mask is 0, farther than the gray branch's receptive
    # field (block3_conv1 sees 10 px to the left, 13 to the right; on its 4 px grid: 16), the
    # gradient is exactly 0.
    extractor = FeatureExtractor(random_vgg, ("block1_conv1", "block2_conv1", "block3_conv1"),
                                 CONTENT_LAYERS)
    content, texture, start = (random_image((64, 96), seed) for seed in (1, 2, 3))
    mask = np.ones((64, 96), np.float32)
    mask[:, :48] = 0.0
    objective = WholeObjective(extractor, content[None], texture[None], (0, 0, 1.0, 1.0),
                               region_masks=[mask[None, ..., None]])
    _, gradient, _ = objective.value_and_gradient(tf.Variable(preprocess(start[None])))
    gradient = np.abs(gradient.numpy()[0])
    assert gradient[:, :48 - 16].max() == 0.0
    assert gradient[:, 48:].max() > 0.0


def _run(config, **masks):
    return nst_tf.transfer(random_image((64, 96), 1), random_image((60, 70), 2), config, **masks)


def test_a_mask_of_1_gives_the_same_bytes_as_no_mask():
    config = TransferConfig(weights="random", max_dim=64, iterations=3, texture_weight=1e7)
    np.testing.assert_array_equal(_run(config), _run(config, content_mask=np.ones((10, 20))))


def test_a_mask_of_0_leaves_the_content_terms_alone():
    config = TransferConfig(weights="random", max_dim=64, iterations=1, texture_weight=1e7)
    black_left = np.ones((32, 48))
    black_left[:, :24] = 0
    job = built(random_image((64, 96), 1), random_image((60, 70), 2), config,
                          content_mask=black_left)
    reports = []
    job.run(reports.append)
    assert reports[0].direct == 0.0 and reports[0].content == 0.0 and reports[0].texture > 0


@pytest.mark.parametrize("mask,textures,colours,message", [
    (np.zeros((8, 8)), 1, (), "content_mask: the mask is all black: no place takes the texture"),
    (np.full((8, 8, 3), 255, np.uint8), 2, ("#ff0000",), "region_colors has 1 colours for 2 "
     "textures; give one per texture"),
    (np.full((8, 8, 3), 255, np.uint8), 1, ("#ff0000",), "content_mask: region colour #ff0000 "
     "is not in the label image"),
    (np.full((8, 8, 3), (255, 0, 0), np.uint8), 2, ("#ff0000", "#00ff00"),
     "region colour #00ff00 is not in the label image"),
    (np.full((8, 8), 0.5), 2, (), "2 textures and one gray content_mask: give --region_colors"),
])
def test_bad_masks_say_what_is_wrong_in_one_line(mask, textures, colours, message):
    with pytest.raises(NSTError) as failure:
        region_masks(mask, textures, colours)
    assert message in str(failure.value) and "\n" not in str(failure.value)


def test_a_label_colour_with_no_texture_is_named_with_its_place():
    labels = np.zeros((8, 8, 3), np.uint8)
    labels[:, :4] = (255, 0, 0)
    labels[5, 6] = (0, 0, 255)
    with pytest.raises(NSTError, match=r"label colour #0000ff \(at x=6, y=5\) has no texture"):
        region_masks(labels, 1, ("#ff0000",))
    masks = region_masks(labels[:, :4], 1, ("#ff0000",))  # only red: one region of 1s -> none
    assert masks is None
    with pytest.raises(NSTError, match="texture_masks has 2 masks for 1 textures"):
        texture_region_masks([np.ones((4, 4)), np.ones((4, 4))], 1)


def test_histogram_colour_transfer_matches_mean_and_covariance():
    rng = np.random.default_rng(0)
    style = np.clip(rng.normal(90, 25, (50, 60, 3)) @ np.array([[1, .3, 0], [0, 1, .2], [.1, 0, 1]]),
                    0, 255)
    content = np.clip(rng.normal(150, 12, (40, 30, 3)), 0, 255)
    matched = matched_colours(style, content).reshape(-1, 3).astype(np.float64)
    target = content.reshape(-1, 3)
    # float32 storage of values up to 255: 255 * 2^-24 per value, far below 1e-3.
    np.testing.assert_allclose(matched.mean(0), target.mean(0), atol=1e-3)
    np.testing.assert_allclose(np.cov(matched, rowvar=False), np.cov(target, rowvar=False),
                               atol=1e-2)


def test_colour_transfer_settings():
    assert TransferConfig(original_colors=True).color_transfer == "luminance"
    assert TransferConfig(mode="style", color_transfer="luminance").gray_texture is True
    with pytest.raises(NSTError, match="original_colors is color_transfer luminance"):
        TransferConfig(original_colors=True, color_transfer="histogram")
    # The command line passes its default 'none' beside --original_colors: the alias wins.
    assert TransferConfig(original_colors=True, color_transfer="none").color_transfer == "luminance"
    with pytest.raises(NSTError, match="texture_blend and content_mask do not go together"):
        TransferConfig(content_mask="m.png", texture_blend=(1, 2))



@needs_shared_weights
@pytest.mark.parametrize("statistics", ["tile", "global"])
def test_two_regions_take_their_own_textures(real_vgg, statistics):
    # The cat, gravel on the left half and bricks on the right, 40 Adam steps at 96x64 with the
    # normalized preset, untiled ('tile') and tiled in 64 px tiles ('global'). Each region's gray
    # Gram matrices at the texture layers (guided by the region) end nearer its own texture's
    # than the other's: measured 0.11 vs 0.67 (gravel) and 0.24 vs 0.53 (bricks) in both runs,
    # relative to the texture's Gram norm; the content started at 0.53 vs 0.58 and 0.61 vs 0.61.
    from nst_tf.io.images import resize
    cat, gravel, brick = (nst_tf.as_image(str(ROOT / "examples" / f"{name}.jpg"))
                          for name in ("cat", "gravel", "brick"))
    size = (64, 96)
    content = resize(cat, size, antialias=True)
    labels = np.zeros(size + (3,), np.uint8)
    labels[:, :48] = (255, 0, 0)
    labels[:, 48:] = (0, 255, 0)
    settings = (dict(max_dim=96) if statistics == "tile" else
                dict(max_dim=96, statistics="global", tile_size=64))
    config = TransferConfig(weights=str(SHARED_WEIGHTS), preset="normalized", iterations=40,
                            content_mask="labels.png", region_colors=("#ff0000", "#00ff00"),
                            **settings)
    job = built(content, [gravel, brick], config, content_mask=labels,
                          network=real_vgg)
    result = job.run().astype(np.float32)
    assert type(job.objective).__name__ == ("WholeObjective" if statistics == "tile"
                                           else "TiledObjective")
    left = np.zeros(size, np.float32)
    left[:, :48] = 1.0
    distances = region_texture_distances(real_vgg, result, (gravel, brick), (left, 1.0 - left))
    for own, to in enumerate(distances):
        to_own, to_other = to[own], to[1 - own]
        assert to_own < 0.7 * to_other, (own, to_own, to_other)


def test_masks_on_the_command_line(tmp_path, image_files):
    import imageio.v3 as iio
    from conftest import run_script
    content, texture = image_files  # 96x72 and 60x50
    labels = np.zeros((36, 48, 3), np.uint8)
    labels[:, :24] = (255, 0, 0)
    labels[:, 24:] = (0, 255, 0)
    iio.imwrite(tmp_path / "labels.png", labels)
    iio.imwrite(tmp_path / "black.png", np.zeros((10, 10), np.uint8))
    output = tmp_path / "out.png"
    tiny = ["--weights=random", "--max_dim=48", "--iterations=2", "--noprogress"]
    done = run_script("transfer.py", f"--content={content}", f"--texture={texture},{content}",
                      f"--content_mask={tmp_path / 'labels.png'}",
                      "--region_colors=#ff0000,#00ff00", "--color_transfer=histogram",
                      f"--output={output}", *tiny)
    assert done.returncode == 0, done.stderr
    assert iio.imread(output).shape == (36, 48, 3)
    for flags, message in (
            ([f"--content_mask={tmp_path / 'black.png'}"],
             f"error: {tmp_path / 'black.png'}: the mask is all black: no place takes the "
             "texture"),
            ([f"--content_mask={tmp_path / 'labels.png'}", "--region_colors=#ff0000"],
             f"error: {tmp_path / 'labels.png'}: label colour #00ff00 (at x=24, y=0) has no "
             "texture; list it in --region_colors or paint it black"),
            ([f"--content_mask={tmp_path / 'nothere.png'}"], "nothere.png")):
        bad = run_script("transfer.py", f"--content={content}", f"--texture={texture}",
                         f"--output={tmp_path / 'bad.png'}", *flags, *tiny)
        assert bad.returncode == 2, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1 and message in bad.stderr, bad.stderr
        assert not (tmp_path / "bad.png").exists()


@pytest.mark.parametrize("mode", ["style", "synthesize"])
def test_a_mask_acts_in_the_other_modes(random_vgg, mode):
    # A mask that keeps the texture to the right half: on the left quarter, beyond the texture
    # layers' reach, the objective's gradient is the one without any texture term (style: its
    # content and TV terms; synthesis: nothing at all). Shallow texture layers, since the modes'
    # own deepest, block5_conv1, sees the whole of a 64 px picture.
    size = (48, 64)
    content = None if mode == "synthesize" else random_image(size, 1)
    config = TransferConfig(mode=mode, weights="random", max_dim=64, iterations=1, seed=2,
                            size=(64, 48) if mode == "synthesize" else (0, 0),
                            texture_layers=("block1_conv1", "block2_conv1"),
                            texture_layer_weights=(), texture_weight=1e6)
    right = np.zeros(size, np.float32)
    right[:, 32:] = 1.0

    def gradient(settings, **masks):
        job = built(content, random_image(size, 2), settings, network=random_vgg,
                              **masks)
        image = tf.Variable(job.image + tf.random.stateless_normal(job.image.shape, (1, 2)) * 20)
        return job.objective.value_and_gradient(image)[1].numpy()[0]

    masked = gradient(config, content_mask=right)
    textureless = gradient(config.replace(texture_weight=0.0))
    free = gradient(config)
    scale = np.abs(free).max()
    assert np.abs(masked[:, 32:] - textureless[:, 32:]).max() > 1e-3 * scale  # acts on the right
    np.testing.assert_allclose(masked[:, :16], textureless[:, :16], atol=1e-5 * scale)
    assert np.abs(free[:, :16] - textureless[:, :16]).max() > 1e-3 * scale  # which a mask stops


def test_a_label_border_becomes_soft_at_the_pictures_size():
    from nst_tf.io.masks import at_size
    labels = np.zeros((8, 8, 3), np.uint8)
    labels[:, :4] = (255, 0, 0)
    labels[:, 4:] = (0, 255, 0)
    left, right = (at_size(m, (32, 32)) for m in region_masks(labels, 2, ("#ff0000", "#00ff00")))
    np.testing.assert_allclose(left + right, 1.0, atol=1e-6)  # the regions share every pixel
    assert left[:, 0].min() == 1.0 and left[:, -1].max() == 0.0
    border = left[0, 12:20]
    assert ((border > 0.01) & (border < 0.99)).sum() >= 2  # a ramp, not a step
    assert np.all(np.diff(left[0]) <= 1e-6)  # falling from left to right
