"""Property-based tests (hypothesis): tiling and image files, over sizes and splits no one would
list by hand."""
import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st
from PIL import Image

from nst_tf.io.images import read_image, write_image
from nst_tf.io.tiles import join_tiles, split_tiles, tile_bounds

# Files are written to a fresh folder per example; the default deadline is tight for file I/O.
FILES = settings(max_examples=40, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


@given(length=st.integers(1, 5000), pieces=st.integers(1, 64))
def test_tile_bounds_cover_every_position_once_near_equally(length, pieces):
    if pieces > length:
        pieces = length
    bounds = tile_bounds(length, pieces)
    assert len(bounds) == pieces
    assert bounds[0][0] == 0 and bounds[-1][1] == length
    assert all(stop == start for (_, stop), (start, _) in zip(bounds, bounds[1:]))
    widths = [stop - start for start, stop in bounds]
    assert max(widths) - min(widths) <= 1 and min(widths) >= 1


@given(height=st.integers(1, 60), width=st.integers(1, 60), columns=st.integers(1, 6),
       rows=st.integers(1, 6), channels=st.sampled_from([1, 3]), seed=st.integers(0, 2 ** 16))
def test_tiles_put_back_give_the_image(height, width, columns, rows, channels, seed):
    columns, rows = min(columns, width), min(rows, height)
    image = np.random.default_rng(seed).integers(0, 256, (height, width, channels), np.uint8)
    tiles = split_tiles(image, (columns, rows))
    assert len(tiles) == columns * rows
    assert sum(tile.shape[0] * tile.shape[1] for tile in tiles) == height * width
    np.testing.assert_array_equal(join_tiles(tiles, (columns, rows)), image)


images = st.tuples(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2 ** 16)).map(
    lambda a: np.random.default_rng(a[2]).integers(0, 256, (a[0], a[1], 3), np.uint8))


@FILES
@given(image=images, suffix=st.sampled_from([".png", ".bmp", ".tif", ".webp"]))
def test_lossless_files_give_back_the_pixels_written(tmp_path_factory, image, suffix):
    path = tmp_path_factory.mktemp("io") / f"image{suffix}"
    if suffix == ".webp":  # lossless WebP through Pillow; write_image's WebP is lossy by default
        Image.fromarray(image).save(path, lossless=True)
    else:
        write_image(path, image)
    read = read_image(path)
    assert read.dtype == np.float32 and read.shape == image.shape
    np.testing.assert_array_equal(read, image.astype(np.float32))


@FILES
@given(shape=st.tuples(st.integers(1, 30), st.integers(1, 30)), seed=st.integers(0, 2 ** 16))
def test_16_bit_png_keeps_its_precision(tmp_path_factory, shape, seed):
    deep = np.random.default_rng(seed).integers(0, 65536, shape, dtype=np.uint16)
    path = tmp_path_factory.mktemp("io") / "deep.png"
    Image.fromarray(deep).save(path)
    read = read_image(path)
    np.testing.assert_allclose(read[..., 0], deep / np.float32(257), atol=1e-3)
    np.testing.assert_array_equal(read[..., 0], read[..., 2])


@FILES
@given(shape=st.tuples(st.integers(1, 30), st.integers(1, 30)), seed=st.integers(0, 2 ** 16))
def test_alpha_is_composited_over_white(tmp_path_factory, shape, seed):
    rgba = np.random.default_rng(seed).integers(0, 256, shape + (4,), dtype=np.uint8)
    path = tmp_path_factory.mktemp("io") / "alpha.png"
    Image.fromarray(rgba).save(path)
    alpha = rgba[..., 3:].astype(np.float32) / 255
    expected = rgba[..., :3] * alpha + 255 * (1 - alpha)
    np.testing.assert_allclose(read_image(path), expected, atol=1e-3)
