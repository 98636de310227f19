"""Same pictures before and after a change of the code's shape: a fixed set of short transfers.

    python bench/same_pictures.py record OUT_DIR [--weights FILE]
    python bench/same_pictures.py compare BEFORE_DIR AFTER_DIR

`record` runs every case below with fixed seeds through the public API only (nst_tf.transfer and
TransferConfig), so the same script runs on any version of the library, and writes one PNG per
case plus `pictures.json` (each case's settings and the SHA-256 of its pixels). `compare` prints,
per case, whether the pixels are the same bytes and else the largest difference in levels and how
many pixels differ; it exits 1 when any case differs by more than one level, or is missing.

The cases cover every way the objective is evaluated: per-tile statistics (a 2x2 split), global
statistics untiled and tiled in small tiles (several textures, a texture scale), every mode, Adam,
L-BFGS and SGD, coarse-to-fine, the luminance-only colours; with random weights, and with a real
weights file when one is given (--weights, or NST_TF_REAL_WEIGHTS).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXAMPLES = ROOT / "examples"

# name -> (content size (h, w) or None, texture count, settings). Sizes are small so that the
# whole set runs in a few minutes on 2 cores; steps are few but enough for Adam's moments and
# L-BFGS' curvature estimate to matter.
CASES = {
    "tile_2x2_adam": ((96, 128), 1, dict(split=(2, 2), max_dim=48, iterations=6,
                                          texture_weight=2e3)),
    "tile_raw_tv_coarse": ((96, 128), 1, dict(max_dim=64, iterations=5, raw_weight=0.5,
                                               tv_weight=1e-3, texture_weight=2e3,
                                               coarse_levels=1, coarse_iterations=3)),
    "tile_lbfgs": ((96, 128), 1, dict(max_dim=48, optimizer="lbfgs", iterations=6,
                                       texture_weight=2e3)),
    "tile_sgd": ((96, 128), 1, dict(max_dim=48, optimizer="sgd", iterations=5,
                                     learning_rate=1e3, texture_weight=2e3)),
    "tile_two_textures_colours": ((96, 128), 2, dict(max_dim=48, iterations=5,
                                                      texture_weight=2e3,
                                                      texture_blend=(2.0, 1.0),
                                                      original_colors=True)),
    "global_untiled": ((96, 128), 1, dict(statistics="global", max_dim=64, iterations=5,
                                           raw_weight=0.5, texture_weight=2e3)),
    "global_tiled": ((150, 200), 1, dict(max_dim=0, tile_size=64, start_dim=100, iterations=4,
                                          refine_iterations=2, raw_weight=0.5,
                                          texture_weight=2e3, tv_weight=1e-3)),
    "global_tiled_two_textures_scaled": ((150, 200), 2, dict(
        statistics="global", max_dim=160, tile_size=64, iterations=3, raw_weight=0.5,
        texture_weight=2e3, texture_scale=0.5)),
    "global_tiled_lbfgs": ((150, 200), 1, dict(statistics="global", max_dim=160, tile_size=64,
                                                optimizer="lbfgs", iterations=4,
                                                texture_weight=2e3)),
    "style": ((96, 128), 1, dict(mode="style", max_dim=64, iterations=5)),
    "style_tiled": ((150, 200), 1, dict(mode="style", statistics="global", max_dim=160,
                                         tile_size=64, iterations=3)),
    "synthesize": (None, 1, dict(mode="synthesize", size=(80, 48), max_dim=64, iterations=5)),
    "reconstruct": ((96, 128), 0, dict(mode="reconstruct", max_dim=64, iterations=5)),
}

# The cases run again with real weights (their normalized preset).
REAL_CASES = ("tile_2x2_adam", "global_tiled", "style", "tile_lbfgs")


def photos(size, count):
    """The shipped CC0 photos, resized: (content, [textures])."""
    from nst_tf import as_image
    from PIL import Image

    def loaded(name, shape):
        image = Image.fromarray(as_image(str(EXAMPLES / name)).astype(np.uint8))
        return np.asarray(image.resize((shape[1], shape[0]), Image.BILINEAR), np.float32)

    shape = size or (96, 128)
    content = loaded("cat.jpg", shape) if size else None
    textures = [loaded("gravel.jpg", (shape[0] + 8, shape[1] - 8)),
                loaded("cat.jpg", (shape[0] - 8, shape[1] + 8))][:count]
    return content, textures


def record(out_dir: Path, weights) -> None:
    import imageio.v3 as iio
    import nst_tf
    out_dir.mkdir(parents=True, exist_ok=True)
    runs = [(name, "random") for name in CASES]
    if weights:
        runs += [(name, weights) for name in REAL_CASES]
    summary = {}
    for name, weight in runs:
        size, count, settings = CASES[name]
        key = name if weight == "random" else name + "_real"
        if weight != "random" and settings.get("mode", "texture") == "texture":
            settings = dict(settings, texture_weight=settings["texture_weight"] * 1e3)
        config = nst_tf.TransferConfig(weights=weight, seed=3,
                                       preset="imagenet" if weight == "random" else "normalized",
                                       **settings)
        content, textures = photos(size, count)
        texture = (textures[0] if len(textures) == 1 else textures) if textures else None
        result = nst_tf.transfer(content, texture, config)
        iio.imwrite(out_dir / f"{key}.png", result)
        summary[key] = {"shape": list(result.shape),
                        "sha256": hashlib.sha256(result.tobytes()).hexdigest(),
                        "settings": {k: v for k, v in settings.items()}}
        print(f"{key}: {result.shape[1]}x{result.shape[0]} {summary[key]['sha256'][:12]}",
              flush=True)
    (out_dir / "pictures.json").write_text(json.dumps(summary, indent=1))


def compare(before: Path, after: Path) -> int:
    import imageio.v3 as iio
    cases = json.loads((before / "pictures.json").read_text())
    worst = 0
    for key in cases:
        path = after / f"{key}.png"
        if not path.is_file():
            print(f"{key}: missing")
            worst = max(worst, 256)
            continue
        a = iio.imread(before / f"{key}.png").astype(int)
        b = iio.imread(path).astype(int)
        if a.shape != b.shape:
            print(f"{key}: shape {a.shape} -> {b.shape}")
            worst = max(worst, 256)
            continue
        difference = np.abs(a - b)
        largest = int(difference.max())
        worst = max(worst, largest)
        print(f"{key}: " + ("same bytes" if largest == 0 else
                            f"differs by at most {largest} level(s) at "
                            f"{int((difference.max(-1) > 0).sum())} of {a.shape[0] * a.shape[1]} "
                            f"pixels"))
    return 0 if worst <= 1 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out_dir", type=Path)
    rec.add_argument("--weights", default=os.environ.get("NST_TF_REAL_WEIGHTS"))
    cmp = sub.add_parser("compare")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "record":
        record(args.out_dir, args.weights if args.weights and Path(args.weights).is_file()
               else None)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
