"""A batch job as bytes (nst_tf.batch.payload), without Ray: decoding in memory gives what
read_image gives, encoding gives write_image's bytes, the masks of a CSV row travel and resolve
from the CSV's folder, and a shipped weights file is written once per process."""
import os

import imageio.v3 as iio
import numpy as np
import pytest

from conftest import random_image, run_script
from nst_tf.batch import payload
from nst_tf.batch.jobs import jobs_from_folder, read_jobs
from nst_tf.config import TransferConfig
from nst_tf.errors import NSTError
from nst_tf.io.images import read_image, write_image


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "photos").mkdir()
    iio.imwrite(tmp_path / "photos" / "cat.png", random_image((40, 56), 1).astype(np.uint8))
    iio.imwrite(tmp_path / "photos" / "dog.jpg", random_image((40, 56), 2).astype(np.uint8))
    iio.imwrite(tmp_path / "cracks.png", random_image((30, 30), 9).astype(np.uint8))
    mask = np.zeros((20, 28), np.uint8)
    mask[:, 14:] = 255
    (tmp_path / "masks").mkdir()
    iio.imwrite(tmp_path / "masks" / "half.png", mask)
    iio.imwrite(tmp_path / "masks" / "top.png", np.full((10, 10), 255, np.uint8))
    return tmp_path


def test_decoding_bytes_is_reading_the_file(folder):
    for path in (folder / "photos" / "cat.png", folder / "photos" / "dog.jpg"):
        decoded = payload.decode_image(path.read_bytes(), str(path))
        assert np.array_equal(decoded, read_image(path))
    for data, message in ((b"", "x.png: empty file (0 bytes), not an image"),
                          (b"not a picture", "x.png: not an image, or a format this tool cannot "
                                             "read")):
        with pytest.raises(NSTError) as failure:
            payload.decode_image(data, "x.png")
        assert str(failure.value) == message
    truncated = (folder / "photos" / "cat.png").read_bytes()[:200]
    with pytest.raises(NSTError, match=r"^x\.png: truncated or corrupt PNG data"):
        payload.decode_image(truncated, "x.png")


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
def test_encoding_gives_write_images_bytes(tmp_path, suffix):
    from nst_tf.io.images import encode_image
    image = random_image((33, 47), 3).astype(np.uint8)
    write_image(tmp_path / f"a{suffix}", image)
    assert encode_image(image, suffix) == (tmp_path / f"a{suffix}").read_bytes()


def test_mask_columns_resolve_from_the_csvs_folder_and_are_checked_first(folder, monkeypatch):
    jobs_csv = folder / "jobs.csv"
    jobs_csv.write_text("content,texture,content_mask,texture_masks\n"
                        "photos/cat.png,cracks.png,masks/half.png,masks/top.png\n"
                        "photos/dog.jpg,cracks.png,,\n")
    monkeypatch.chdir(folder / "photos")  # the command line's paths: from the current folder
    iio.imwrite(folder / "photos" / "all.png", np.full((8, 8), 255, np.uint8))
    jobs = read_jobs(jobs_csv, folder / "out", TransferConfig(weights="random",
                                                               content_mask="all.png"))
    assert jobs[0].config.content_mask == str(folder / "masks" / "half.png")
    assert jobs[0].config.texture_masks == (str(folder / "masks" / "top.png"),)
    assert jobs[1].config.content_mask == str(folder / "photos" / "all.png")  # the flag's
    assert payload.JobFiles.of(jobs[0]).paths == {
        "content": str(folder / "photos" / "cat.png"), "texture": str(folder / "cracks.png"),
        "content_mask": str(folder / "masks" / "half.png"),
        "texture_mask:0": str(folder / "masks" / "top.png")}
    jobs_csv.write_text("content,texture,texture_masks\nphotos/cat.png,cracks.png,masks/no.png\n")
    with pytest.raises(NSTError) as failure:
        read_jobs(jobs_csv, folder / "out", TransferConfig(weights="random"))
    assert str(failure.value) == f"{jobs_csv}: row 2, column texture_masks: no such file masks/no.png"
    with pytest.raises(NSTError, match=r"^--content_mask: no such file gone\.png$"):
        jobs_from_folder(folder / "photos", folder / "cracks.png", folder / "out",
                         TransferConfig(weights="random", content_mask="gone.png"))
    jobs_csv.write_text("content,texture,content_mask,output\n"
                        "photos/cat.png,cracks.png,masks/half.png,../masks/half.png\n")
    with pytest.raises(NSTError, match=r"column output: .* would overwrite --content_mask"):
        read_jobs(jobs_csv, folder / "masks", TransferConfig(weights="random"))


def test_a_mask_column_that_names_no_file_exits_2_before_any_work(folder):
    (folder / "jobs.csv").write_text("content,texture,content_mask\n"
                                     "photos/cat.png,cracks.png,\n"
                                     "photos/dog.jpg,cracks.png,masks/nowhere.png\n")
    done = run_script("batch.py", f"--jobs={folder / 'jobs.csv'}", f"--output_dir={folder / 'o'}",
                      "--weights=random")
    assert done.returncode == 2
    assert done.stderr.strip() == (f"error: {folder / 'jobs.csv'}: row 3, column content_mask: "
                                   "no such file masks/nowhere.png")
    assert not (folder / "o").exists()


def test_the_payload_inputs_are_load_inputs_on_the_files(folder):
    from nst_tf.run.request import load_inputs
    jobs_csv = folder / "jobs.csv"
    jobs_csv.write_text("content,texture,content_mask,texture_masks\n"
                        "photos/cat.png,cracks.png,masks/half.png,masks/top.png\n")
    job = read_jobs(jobs_csv, folder / "out", TransferConfig(weights="random"))[0]
    data = {role: open(path, "rb").read() for role, path in payload.JobFiles.of(job).paths.items()}
    shipped = payload.load_payload_request(job, data, None).inputs
    local = load_inputs(job.content, job.texture, job.config)
    assert np.array_equal(shipped.content, local.content)
    assert np.array_equal(shipped.textures[0], local.textures[0])
    assert all(np.array_equal(a, b) for a, b in zip(shipped.region_masks, local.region_masks))
    assert all(np.array_equal(a, b) for a, b in zip(shipped.texture_masks, local.texture_masks))
    # A mask's problem names the driver's file, as a local run does.
    iio.imwrite(folder / "masks" / "black.png", np.zeros((8, 8), np.uint8))
    jobs_csv.write_text("content,texture,content_mask\nphotos/cat.png,cracks.png,masks/black.png\n")
    job = read_jobs(jobs_csv, folder / "out", TransferConfig(weights="random"))[0]
    data = {role: open(path, "rb").read() for role, path in payload.JobFiles.of(job).paths.items()}
    with pytest.raises(NSTError) as shipped_error:
        payload.load_payload_request(job, data, None).inputs
    with pytest.raises(NSTError) as local_error:
        load_inputs(job.content, job.texture, job.config)
    assert str(shipped_error.value) == str(local_error.value)


def test_a_shipped_weights_file_is_written_once_per_process():
    fetched = []

    def fetch():
        fetched.append(1)
        return b"weights"

    path = payload.local_weights("key-for-this-test", ".h5", fetch)
    assert payload.local_weights("key-for-this-test", ".h5", fetch) == path
    assert fetched == [1] and open(path, "rb").read() == b"weights"
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"  # private to this user
    payload._remove_weights_files()
    assert not os.path.exists(path)
    payload._WEIGHTS_FILES.clear()


def test_an_init_image_travels_too(folder):
    from nst_tf.run.request import load_inputs
    jobs_csv = folder / "jobs.csv"
    jobs_csv.write_text("content,texture,init\nphotos/cat.png,cracks.png,photos/dog.jpg\n"
                        "photos/dog.jpg,cracks.png,cracks.png\n")
    jobs = read_jobs(jobs_csv, folder / "out", TransferConfig(weights="random"))
    assert jobs[0].config.init == str(folder / "photos" / "dog.jpg")
    for job in jobs:
        paths = payload.JobFiles.of(job).paths
        assert paths["init"] == job.config.init
        data = {role: open(path, "rb").read() for role, path in paths.items()}
        try:
            local = load_inputs(job.content, job.texture, job.config)
        except NSTError as error:  # the second: the init's size is not the content's
            with pytest.raises(NSTError) as shipped_error:
                payload.load_payload_request(job, data, None).inputs
            assert str(shipped_error.value) == str(error)
            continue
        shipped = payload.load_payload_request(job, data, None).inputs
        assert np.array_equal(shipped.init, local.init)


def test_a_weights_column_resolves_from_the_csvs_folder_and_is_checked_first(folder):
    from conftest import legacy_weights_file
    from nst_tf.network.weights import kernel_shapes
    (folder / "w").mkdir()
    legacy_weights_file(folder / "w" / "zeros.h5", kernel_shapes("vgg19"))
    jobs_csv = folder / "jobs.csv"
    jobs_csv.write_text("content,texture,weights\nphotos/cat.png,cracks.png,w/zeros.h5\n"
                        "photos/dog.jpg,cracks.png,\n")
    jobs = read_jobs(jobs_csv, folder / "out", TransferConfig(weights="random"))
    assert [job.config.weights for job in jobs] == [str(folder / "w" / "zeros.h5"), "random"]
    jobs_csv.write_text("content,texture,weights\nphotos/cat.png,cracks.png,w/nope.h5\n")
    done = run_script("batch.py", f"--jobs={jobs_csv}", f"--output_dir={folder / 'o'}",
                      "--weights=random")
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {folder / 'w' / 'nope.h5'}: no such weights file")
    assert not (folder / "o").exists()
