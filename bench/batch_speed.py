"""Photos per minute for one batch three ways: separate transfer.py runs, the local batch, Ray.

Each way runs as its own fresh process(es), one after another on the same machine, so their
times are comparable; the outputs of the three are compared byte for byte.
"""
from __future__ import annotations

import dataclasses
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Sequence

from nst_tf.io.images import read_image, write_image

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def make_photos(source, folder, count: int = 12, size=(192, 256)) -> List[Path]:
    """`count` different photos of `size` (height, width) cut from `source` at spread offsets,
    every other one mirrored."""
    image = read_image(source)
    height, width = size
    if image.shape[0] < height or image.shape[1] < width:
        raise ValueError(f"{source} is smaller than {width}x{height}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for k in range(count):
        top = (k * 37) % (image.shape[0] - height + 1)
        left = (k * 53) % (image.shape[1] - width + 1)
        crop = image[top:top + height, left:left + width]
        path = folder / f"photo{k:02d}.png"
        write_image(path, crop[:, ::-1] if k % 2 else crop)
        photos.append(path)
    return photos


@dataclasses.dataclass
class Way:
    name: str
    seconds: float
    photos: int

    @property
    def photos_per_minute(self) -> float:
        return 60.0 * self.photos / self.seconds


def _run(command: Sequence[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *map(str, command)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def compare_ways(photos: List[Path], texture, work, flags: Sequence[str],
                 ray_flags: Sequence[str]) -> List[Way]:
    """Times (a) one transfer.py per photo, (b) batch.py, (c) batch.py on a local Ray instance;
    raises if their outputs differ."""
    work = Path(work)
    separate = work / "separate"
    separate.mkdir(parents=True, exist_ok=True)
    seconds = sum(_run([SCRIPTS / "transfer.py", f"--content={photo}", f"--texture={texture}",
                        f"--output={separate / (photo.stem + '.png')}", *flags])
                  for photo in photos)
    ways = [Way("separate transfer.py runs", seconds, len(photos))]
    folder = photos[0].parent
    for name, extra, out in (("local batch", [], work / "local"),
                             ("Ray, local instance", list(ray_flags), work / "ray")):
        ways.append(Way(name, _run([SCRIPTS / "batch.py", f"--content_dir={folder}",
                                    f"--texture={texture}", f"--output_dir={out}", *flags,
                                    *extra]), len(photos)))
    for photo in photos:
        outputs = [(work / way / (photo.stem + ".png")).read_bytes()
                   for way in ("separate", "local", "ray")]
        if not outputs[0] == outputs[1] == outputs[2]:
            raise RuntimeError(f"{photo.name}: the three ways gave different bytes")
    return ways


def table(ways: List[Way]) -> str:
    base = ways[0].seconds
    rows = ["| way | seconds | photos per minute | time vs separate runs |", "|---|---|---|---|"]
    rows += [f"| {w.name} | {w.seconds:.1f} | {w.photos_per_minute:.2f} | "
             f"{w.seconds / base:.2f} |" for w in ways]
    local, ray = ways[1], ways[2]
    rows.append(f"\nRay's overhead: {(ray.seconds - local.seconds) / ray.photos:+.2f} s per job "
                f"over the local batch ({ray.seconds - local.seconds:+.1f} s in all, its start-up "
                "included)")
    return "\n".join(rows)
