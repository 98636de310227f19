"""A batch's jobs: from a CSV file or a folder of photos, every one checked before any work.

A job is one transfer: content, texture, where its output goes, and its settings (the batch's
settings with the job's own overrides). The files its settings name (the masks of spatial
control, a start image) are resolved and checked here too: a CSV cell's from the CSV's folder,
the command line's from the current folder. Nothing here imports TensorFlow.
"""
from __future__ import annotations

import csv
import dataclasses
import os
from pathlib import Path
from typing import Dict, List, Optional

from nst_tf.config import FILE_SETTINGS, TransferConfig, names_file
from nst_tf.errors import NSTError
from nst_tf.io.files import check_apart
from nst_tf.io.images import WRITABLE_SUFFIXES, upright_size
from nst_tf.video.settings import VideoSettings

# The columns of a jobs CSV that are not transfer settings.
JOB_COLUMNS = ("content", "texture", "output")
# A clip's job may set the video's settings too, by their flag names.
VIDEO_COLUMNS = tuple(field.name for field in dataclasses.fields(VideoSettings))
# What --content_dir picks up: photos, and clips (a video job: nst_tf.video).
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")
CLIP_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v")
OUTPUT_SUFFIX = ".png"
CLIP_OUTPUT_SUFFIX = ".mp4"
# The clips written (nst_tf.video.clip.WRITE_CODECS).
CLIP_WRITABLE_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm")


def is_clip(path) -> bool:
    """Whether a job's content is a video file: the job makes a clip (nst_tf.video)."""
    return Path(path).suffix.lower() in CLIP_SUFFIXES


@dataclasses.dataclass(frozen=True)
class Job:
    """One transfer of a batch. `name` is its key in the report: its output's file name."""

    name: str
    content: str
    texture: str
    output: str
    config: TransferConfig
    # A clip's job: its video settings' cells as written ({setting: text}; VideoSettings).
    video: Dict[str, str] = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"name": self.name, "content": self.content, "texture": self.texture,
                "output": self.output, "config": dataclasses.asdict(self.config),
                "video": dict(self.video)}

    def video_settings(self) -> VideoSettings:
        """A clip job's VideoSettings: its cells over the defaults."""
        return VideoSettings(**self.video)

    @classmethod
    def from_dict(cls, values: dict) -> "Job":
        return cls(**{**values, "config": TransferConfig.from_dict(values["config"])})


def read_jobs(csv_path, output_dir, base: TransferConfig,
              texture: Optional[str] = None) -> List[Job]:
    """The jobs of a CSV file: a header row, then one job per row.

    Columns: content, texture (optional when `texture` is given for all), output (optional: the
    content's name with .png), and any transfer setting by its flag name, whose non-empty cells
    override `base` for that row. Relative paths are taken from the CSV file's folder; outputs
    land in output_dir. Raises NSTError naming the row and the column on the first problem.
    """
    csv_path = Path(csv_path)
    try:
        with open(csv_path, newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError as error:
        raise NSTError(f"{csv_path}: cannot read ({error.strerror or error})") from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise NSTError(f"{csv_path}: not a CSV text file ({error})") from None
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise NSTError(f"{csv_path}: empty; the first row names the columns "
                       f"(content, texture, output, and any transfer flag)")
    header = [cell.strip() for cell in rows[0]]
    settings = {field.name for field in dataclasses.fields(TransferConfig)}
    for column, name in enumerate(header, start=1):
        if name not in JOB_COLUMNS and name not in settings and name not in VIDEO_COLUMNS:
            raise NSTError(f"{csv_path}: row 1, column {column} {name!r}: not a job column "
                           f"({', '.join(JOB_COLUMNS)}) nor a transfer or video flag")
    if "content" not in header or ("texture" not in header and texture is None):
        raise NSTError(f"{csv_path}: row 1: needs a content column and a texture column "
                       "(or --texture for every job)")
    folder = csv_path.parent
    jobs = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not jobs
        if len(row) > len(header):
            raise NSTError(f"{csv_path}: row {number}: {len(row)} cells, the header names "
                           f"{len(header)}")
        cells = dict(zip(header, (cell.strip() for cell in row)))
        where = f"{csv_path}: row {number}"
        jobs.append(_job(where, cells, folder, Path(output_dir), base, texture))
    _check_outputs_distinct(jobs, csv_path)
    return jobs


def _input_path(where: str, column: str, value: str, folder: Path) -> str:
    if not value:
        raise NSTError(f"{where}, column {column}: empty")
    path = Path(value).expanduser()
    path = path if path.is_absolute() else folder / path
    if not os.path.isfile(path):  # False, not OSError, for a name too long
        raise NSTError(f"{where}, column {column}: no such file {value}")
    return str(path)


def _job(where: str, cells: Dict[str, str], folder: Path, output_dir: Path,
         base: TransferConfig, texture: Optional[str]) -> Job:
    content = _input_path(where, "content", cells.get("content", ""), folder)
    texture_cell = cells.get("texture", "")
    texture = (_input_path(where, "texture", texture_cell, folder) if texture_cell
               else _input_path(where, "texture", texture or "", Path.cwd()))
    config = base
    clip = is_clip(content)
    video = {column: text for column, text in cells.items() if column in VIDEO_COLUMNS and text}
    if video and not clip:
        raise NSTError(f"{where}, column {next(iter(video))}: a video setting, and the content "
                       "is not a clip")
    try:
        VideoSettings(**video)
    except NSTError as error:
        raise NSTError(f"{where}, column {str(error).split()[0]}: {error}") from None
    for column, text in cells.items():
        if column in JOB_COLUMNS or column in VIDEO_COLUMNS or not text:
            continue
        try:
            config = config.replace(**{column: TransferConfig.parse_field(column, text)})
        except NSTError as error:
            raise NSTError(f"{where}, column {column}: {error}") from None
    for column, users in config.unused_settings([c for c, text in cells.items() if text]):
        raise NSTError(f"{where}, column {column}: for optimizer {' or '.join(users)}; this "
                       f"row's optimizer {config.optimizer} does not use it")
    config = _config_files(where, config, cells, folder)
    name = cells.get("output") or Path(content).stem + (CLIP_OUTPUT_SUFFIX if clip
                                                        else OUTPUT_SUFFIX)
    formats = CLIP_WRITABLE_SUFFIXES if clip else WRITABLE_SUFFIXES
    if Path(name).suffix.lower() not in formats:
        raise NSTError(f"{where}, column output: unsupported format {Path(name).suffix!r} for "
                       f"{'a clip' if clip else 'a picture'}; use one of {', '.join(formats)}")
    output = output_dir / name
    try:
        check_apart({"output": output}, {"content": content, "texture": texture,
                                         **_config_inputs(config)})
    except NSTError as error:
        raise NSTError(f"{where}, column output: {error}") from None
    return Job(name=name, content=content, texture=texture, output=str(output), config=config,
               video=video)


def _config_files(where: str, config: TransferConfig, cells: Dict[str, str],
                  folder: Path) -> TransferConfig:
    """config with the files its settings name (FILE_SETTINGS) resolved, from the CSV's folder
    for the row's own cells, and checked to exist; NSTError naming the row and the column (or
    the flag). A weights file's layout is checked by the command line, once per file."""
    changes = {}
    for setting in FILE_SETTINGS:
        value = getattr(config, setting)
        own = bool(cells.get(setting))
        place, base = (where if own else None), (folder if own else Path.cwd())
        if setting == "texture_masks":
            if value:
                changes[setting] = tuple(_setting_path(place, setting, mask, base)
                                         if names_file(setting, mask) else mask
                                         for mask in value)
        elif setting == "weights":
            if own and names_file(setting, value) and not Path(value).expanduser().is_absolute():
                changes[setting] = str(folder / value)
        elif names_file(setting, value):
            changes[setting] = _setting_path(place, setting, value, base)
    return config.replace(**changes) if changes else config


def _setting_path(where: Optional[str], column: str, value: str, folder: Path) -> str:
    path = Path(value).expanduser()
    path = path if path.is_absolute() else folder / path
    if not os.path.isfile(path):  # False, not OSError, for a name too long
        place = f"{where}, column {column}" if where else f"--{column}"
        raise NSTError(f"{place}: no such file {value}")
    return str(path)


def _config_inputs(config: TransferConfig) -> dict:
    """The files a job's settings read but its weights, {setting: path}, for check_apart."""
    return {name: path for name, path in config.named_files().items() if name != "weights"}


def check_photos(jobs: List[Job]) -> None:
    """Every photo and mask the jobs read, checked from its header before any job runs (and
    before TensorFlow starts): NSTError with one line for the first that is not an image. Each
    file once, a few milliseconds each; a photo damaged past its header fails its own job.
    Then each job's plan, from its content's size (plan_for): NSTError naming the first job
    that cannot run (a size its seamless or split refuses), before hours of the others."""
    seen, sizes = set(), {}
    for job in jobs:
        files = [job.content, job.texture] + [path for name, path in
                                              job.config.named_files().items()
                                              if name != "weights"]
        for path in files:
            if path in seen:
                continue
            seen.add(path)
            try:
                if is_clip(path):
                    from nst_tf.video.clip import open_clip
                    width, height = open_clip(path).size
                    sizes[path] = (height, width)
                else:
                    sizes[path] = upright_size(path, str(path))
            except OSError as error:
                raise NSTError(f"{path}: cannot read it ({error.strerror or error})") from None
    from nst_tf.run.request import plan_for
    for job in jobs:
        width, height = job.config.size  # a synthesis of an explicit size is that size
        size = (height, width) if job.config.mode == "synthesize" and width else sizes[
            job.content]
        try:
            plan_for(size, job.config)
        except NSTError as error:
            raise NSTError(f"job {job.name}: {error}") from None


def _check_outputs_distinct(jobs: List[Job], source) -> None:
    seen = {}
    for job in jobs:
        if job.output in seen:
            raise NSTError(f"{source}: jobs {seen[job.output]} and {job.name} both write "
                           f"{job.output}; give them different outputs")
        seen[job.output] = job.name


def jobs_from_folder(content_dir, texture: str, output_dir, base: TransferConfig) -> List[Job]:
    """One job per image in content_dir (by file name, sorted), each with `texture`; outputs
    named after the photos (cat.jpg -> cat.png; cat_jpg.png when two photos share a name)."""
    content_dir = Path(content_dir)
    if not os.path.isdir(content_dir):
        raise NSTError(f"{content_dir}: no such folder")
    if not os.path.isfile(texture):
        raise NSTError(f"{texture}: no such file (--texture)")
    photos = sorted(p for p in content_dir.iterdir()
                    if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES + CLIP_SUFFIXES)
    if not photos:
        raise NSTError(f"{content_dir}: no images or clips in it "
                       f"({', '.join(IMAGE_SUFFIXES + CLIP_SUFFIXES)})")
    stems = [p.stem for p in photos]
    base = _config_files(str(content_dir), base, {}, content_dir)
    jobs = []
    for photo in photos:
        suffix = CLIP_OUTPUT_SUFFIX if is_clip(photo) else OUTPUT_SUFFIX
        name = photo.stem + suffix
        if stems.count(photo.stem) > 1:
            name = f"{photo.stem}_{photo.suffix.lstrip('.').lower()}{suffix}"
        output = Path(output_dir) / name
        check_apart({"output": output}, {"content": photo, "texture": texture,
                                         **_config_inputs(base)})
        jobs.append(Job(name=name, content=str(photo), texture=str(texture), output=str(output),
                        config=base))
    _check_outputs_distinct(jobs, content_dir)
    return jobs
