import imageio.v3 as iio
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from nst_tf.errors import NSTError
from nst_tf.io.images import gray3, read_image, write_image
from nst_tf.io.tiles import from_tile_batch, join_tiles, split_tiles, tile_bounds, tile_size, to_tile_batch


@pytest.mark.parametrize("height,width,split", [
    (40, 60, (1, 1)), (41, 67, (2, 2)), (97, 101, (3, 4)), (100, 99, (4, 1)), (33, 70, (7, 3))])
def test_tiles_round_trip_every_pixel(height, width, split):
    image = np.arange(height * width * 3, dtype=np.float32).reshape(height, width, 3)
    tiles = split_tiles(image, split)
    assert len(tiles) == split[0] * split[1]
    assert sum(t.shape[0] * t.shape[1] for t in tiles) == height * width
    np.testing.assert_array_equal(join_tiles(tiles, split), image)


def test_tiles_are_row_major_and_near_equal():
    image = np.zeros((10, 7, 1))
    for row, (top, bottom) in enumerate(tile_bounds(10, 3)):
        for column, (left, right) in enumerate(tile_bounds(7, 2)):
            image[top:bottom, left:right] = 10 * row + column
    tiles = split_tiles(image, (2, 3))
    assert [int(t[0, 0, 0]) for t in tiles] == [0, 1, 10, 11, 20, 21]
    assert tile_bounds(10, 3) == [(0, 3), (3, 6), (6, 10)]
    assert tile_bounds(600, 1) == [(0, 600)]


@pytest.mark.parametrize("size,split,max_dim,expected", [
    ((400, 600), (1, 1), 512, (341, 512)),   # CatCrack: 600x400 -> 512x341
    ((625, 1000), (2, 2), 512, (320, 512)),  # CrocoLeaf: output 1024x640
    ((500, 800), (2, 2), 512, (320, 512)),   # sand_block
    ((171, 256), (1, 1), 64, (43, 64)),
])
def test_tile_size_matches_the_originals_geometry(size, split, max_dim, expected):
    assert tile_size(size, split, max_dim) == expected


def test_tile_batch_shape_and_stitching():
    image = np.random.default_rng(0).uniform(0, 255, (67, 91, 3)).astype(np.float32)
    size = tile_size(image.shape[:2], (2, 2), 48)
    batch = to_tile_batch(image, (2, 2), size)
    assert batch.shape == (4,) + size + (3,)
    assert from_tile_batch(batch, (2, 2)).shape == (2 * size[0], 2 * size[1], 3)
    # Resizing a tile to its own size changes nothing: the original's tiles when nothing is lost.
    same = to_tile_batch(image[:66, :90], (2, 2), (33, 45))
    np.testing.assert_allclose(from_tile_batch(same, (2, 2)), image[:66, :90], atol=1e-4)


def test_split_leaving_small_tiles_is_refused():
    with pytest.raises(NSTError, match=r"^the content photo is 1x1 px; it must be at least 32 "
                                       r"px on each side$"):
        tile_size((1, 1), (1, 1), 512)
    with pytest.raises(NSTError, match=r"split 4x4 of a 100x100 image leaves tiles of 25x25 px"):
        tile_size((100, 100), (4, 4), 512)
    with pytest.raises(NSTError, match=r"max_dim 40 makes tiles of 40x13 px"):
        tile_size((100, 300), (1, 1), 40)


def test_gray3_is_luma_in_three_channels():
    rgb = np.random.default_rng(1).uniform(0, 255, (2, 5, 4, 3)).astype(np.float32)
    expected = rgb @ np.array([0.2989, 0.5870, 0.1140])
    gray = gray3(rgb).numpy()
    assert gray.shape == rgb.shape
    for channel in range(3):
        np.testing.assert_allclose(gray[..., channel], expected, rtol=1e-5)
    np.testing.assert_allclose(gray[..., :1], tf.image.rgb_to_grayscale(rgb).numpy(), rtol=1e-5)


def test_read_accepts_gray_rgba_16bit_and_palette(tmp_path):
    gray = np.arange(0, 240, dtype=np.uint8).reshape(12, 20)
    iio.imwrite(tmp_path / "gray.png", gray)
    image = read_image(tmp_path / "gray.png")
    assert image.shape == (12, 20, 3) and image.dtype == np.float32
    np.testing.assert_array_equal(image[..., 1], gray)

    # Alpha is composited over white: transparent -> white, opaque -> the colour, half between.
    rgba = np.dstack([np.full((8, 9), v, np.uint8) for v in (10, 20, 30, 0)])
    rgba[0, 1, 3], rgba[0, 2, 3] = 255, 51
    iio.imwrite(tmp_path / "rgba.png", rgba)
    composited = read_image(tmp_path / "rgba.png")
    np.testing.assert_array_equal(composited[0, 0], [255, 255, 255])
    np.testing.assert_array_equal(composited[0, 1], [10, 20, 30])
    np.testing.assert_allclose(composited[0, 2], [206, 208, 210], atol=0.01)

    deep = np.full((6, 7), 65535, np.uint16)
    deep[0, 0], deep[0, 1] = 0, 32896
    iio.imwrite(tmp_path / "deep.png", deep)
    image16 = read_image(tmp_path / "deep.png")
    np.testing.assert_allclose(image16[0, :2, 0], [0, 128], atol=0.01)
    assert image16.max() == pytest.approx(255.0)

    palette = Image.new("P", (5, 4))
    palette.putpalette([200, 100, 50] + [0, 0, 0] * 255)
    palette.save(tmp_path / "palette.png")
    np.testing.assert_array_equal(read_image(tmp_path / "palette.png")[3, 4], [200, 100, 50])


def test_read_errors_are_one_line(tmp_path):
    with pytest.raises(NSTError, match=r"nope\.png: no such file$"):
        read_image(tmp_path / "nope.png")
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(NSTError, match=r"notes\.png: not an image, or a format this tool cannot read"):
        read_image(tmp_path / "notes.png")
    with pytest.raises(NSTError, match="is a directory"):
        read_image(tmp_path)


def test_write_is_atomic_and_leaves_no_temporary(tmp_path):
    image = np.random.default_rng(2).integers(0, 255, (9, 11, 3), dtype=np.uint8)
    write_image(tmp_path / "out.png", image)
    np.testing.assert_array_equal(iio.imread(tmp_path / "out.png"), image)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]
    with pytest.raises(NSTError, match="unsupported output format '.xyz'"):
        write_image(tmp_path / "out.xyz", image)
    with pytest.raises(NSTError, match="cannot write there"):
        write_image(tmp_path / "missing_dir" / "out.png", image)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]


@pytest.mark.parametrize("fmt,size,options", [("WEBP", (4000, 3000), {"lossless": True}),
                                              ("TIFF", (5100, 6600), {"compression": "group4"})])
def test_flat_pictures_in_formats_that_compress_without_bound_are_read(tmp_path, fmt, size,
                                                                       options):
    """A flat lossless WebP (over 20,000 pixels a byte) or a blank page in TIFF Group 4 is an
    honest file: the pixels-a-byte rule is for formats whose compression is bounded."""
    mode = "1" if fmt == "TIFF" else "RGB"
    path = tmp_path / f"flat.{fmt.lower()}"
    Image.new(mode, size, 1 if mode == "1" else (200, 180, 160)).save(path, fmt, **options)
    assert size[0] * size[1] > 10_000 * path.stat().st_size  # past the rule, were it applied
    assert read_image(path).shape == (size[1], size[0], 3)


def test_a_small_jpeg_claiming_a_huge_picture_is_refused_before_decoding(tmp_path):
    from fuzz_inputs import set_dimensions
    small = tmp_path / "small.jpg"
    Image.new("L", (16, 16), 128).save(small, "JPEG")
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(set_dimensions(small.read_bytes(), "jpeg", 12000, 12000))
    with pytest.raises(NSTError, match=r"bomb\.jpg: its header says 12000x12000 px \(144 MP\) "
                                       r"in \d+ bytes, more than 10000 pixels a byte"):
        read_image(bomb)


def test_gray3s_gradient_transposes_no_integers():
    # tf.repeat's gradient transposed int32 indices, and TensorFlow's oneDNN layer logged an
    # error line about it into every tiled run on some CPUs (an AMD Zen 4). The gray copy's
    # values and gradient are the repeat's, with no such op.
    rgb = tf.constant(np.random.default_rng(0).uniform(0, 255, (1, 6, 5, 3)), tf.float32)

    @tf.function
    def gray_and_gradient(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            gray = gray3(x)
            total = tf.reduce_sum(gray * tf.constant([1.0, 2.0, 3.0]))
        return gray, tape.gradient(total, x)

    gray, gradient = gray_and_gradient(rgb)
    from nst_tf.io.images import LUMA_WEIGHTS
    luma = rgb.numpy() @ np.array(LUMA_WEIGHTS, np.float32)
    np.testing.assert_allclose(gray.numpy(), np.repeat(luma[..., None], 3, -1), rtol=1e-6)
    np.testing.assert_allclose(gradient.numpy(),
                               np.broadcast_to(6.0 * np.array(LUMA_WEIGHTS),
                                               (1, 6, 5, 3)), rtol=1e-6)
    graph = gray_and_gradient.get_concrete_function(rgb).graph
    assert [op.name for op in graph.get_operations()
            if op.type == "Transpose" and op.get_attr("T") == tf.int32] == []
