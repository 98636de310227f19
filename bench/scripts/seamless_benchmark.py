"""Seamless textures: texture synthesis with and without --seamless, on several textures, scored
by the seam across the picture's wrap, by measures no run optimises (bench/texture_distances.py)
and by the cost of a step.

    nice -n 5 python bench/scripts/seamless_benchmark.py --weights $NST_TF_REAL_WEIGHTS \
        --textures examples/gravel.jpg,examples/brick.jpg,skimage:grass,... \
        --skimage_dir skimage_wheel --size 128 --steps 100 --output_dir seamless \
        --pictures docs/measurements/seamless --shipped gravel,brick,grass,...

The seam ratio (seam_ratio): the mean absolute difference across the wrap (the last column
against the first, the last row against the first) over the mean absolute difference of
neighbouring columns and rows inside the picture, over the RGB levels. About 1: the picture's
edges meet as its neighbours inside do, and it repeats without a visible seam; well above 1: a
seam. Also on the means of BLOCK_PX x BLOCK_PX blocks (the structure's seam, under the pixel
noise a synthesis keeps).

A texture is a spec of bench/texture_specs.py: a path, `skimage:NAME` (a sample image of
scikit-image's wheel, unpacked into --skimage_dir), `medium:NAME` (the original's texture, for
measuring only) or `crop:PATH:WIDTHxHEIGHT+LEFT+TOP` (a part of a photo). Each is synthesized with
seamless off and xy from the same noise (seed 0), the synthesis preset's weights and optimiser,
and scored against the piece of texture it was made from (the texture at its own scale, and
no larger than the photo: TextureDistances' fit 'piece') under each of its `edges` (the zero
frame, mirrored edges, the interior, and 'valid': each picture as it is laid, a seamless one
continued by itself, against the texture's interior). Prints a Markdown table and writes
OUTPUT_DIR/NAME.png (texture | off, repeated 2x2 | xy, repeated 2x2), each seed's picture
(NAME_SETTING_seedK.png) and results.json;
with --pictures, the sheets of the textures named in --shipped (redistributable ones) as small
JPEGs there. With --settings xy, only the seamless pictures are made again (the others kept
from an earlier run in --output_dir). With --cost N, only the seconds of one evaluation
of the synthesis objective at --size, off against xy (step_cost). With --rescore, no synthesis:
every distance taken again from the pictures an earlier run left in --output_dir.
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SETTINGS = ("off", "xy")
BLOCK_PX = 4


def seam_ratio(image, axes: str = "xy", block: int = 1) -> float:
    """The mean absolute difference across the wrap over that of neighbours inside, along
    `axes` ('xy', 'x': columns, 'y': rows), over every channel: about 1 without a seam.
    block: first the means of block x block pixels (no block straddles the wrap when the sides
    are multiples of it), so that a seam of structure shows under the pixel-sized noise a
    synthesis keeps (a picture of noise: about 1 at any block)."""
    image = np.asarray(image, np.float64)
    if block > 1:
        height, width = image.shape[0] // block * block, image.shape[1] // block * block
        image = image[:height, :width].reshape(height // block, block, width // block, block,
                                               -1).mean(axis=(1, 3))
    across, inside = [], []
    if "x" in axes:
        across.append(np.abs(image[:, -1] - image[:, 0]).ravel())
        inside.append(np.abs(np.diff(image, axis=1)).ravel())
    if "y" in axes:
        across.append(np.abs(image[-1] - image[0]).ravel())
        inside.append(np.abs(np.diff(image, axis=0)).ravel())
    return float(np.concatenate(across).mean() / np.concatenate(inside).mean())


def _repeated(result: dict) -> str:
    """The 2x2 repeat's held-out sliced distance for the table ('-' when not measured)."""
    return "-" if result["repeated"] is None else f"{result['repeated']['sliced']:.3f}"


def step_cost(weights: str, size: int, repeats: int) -> dict:
    """Median seconds of one compiled value-and-gradient of the synthesis objective at size x
    size, with seamless off and xy, alternated in one process (the network and the texture
    alike; the first call of each, which traces the graph, left out)."""
    import time
    from nst_tf import TransferConfig
    from nst_tf.network.vgg import FeatureExtractor, preprocess, vgg19
    from nst_tf.objective.whole import WholeObjective
    from nst_tf.config import seamless_wrap
    from nst_tf.tensorflow_quietly import tf
    config = TransferConfig(mode="synthesize", weights=weights)
    network = vgg19(weights)
    rng = np.random.default_rng(0)
    texture = rng.uniform(0, 255, (1, size, size, 3)).astype(np.float32)
    image = tf.Variable(preprocess(rng.uniform(0, 255, (1, size, size, 3)).astype(np.float32)))
    objectives = {}
    for seamless in SETTINGS:
        extractor = FeatureExtractor(network, config.texture_layers, config.content_layers,
                                     wrap=seamless_wrap(seamless))
        objectives[seamless] = WholeObjective(extractor, texture, texture, config.loss_weights,
                                              config.texture_layer_weights,
                                              gray_texture=False)
        objectives[seamless].value_and_gradient(image)  # traced
    times = {seamless: [] for seamless in SETTINGS}
    for _ in range(repeats):
        for seamless, objective in objectives.items():
            began = time.perf_counter()
            objective.value_and_gradient(image)[1].numpy()
            times[seamless].append(time.perf_counter() - began)
    return {seamless: float(np.median(found)) for seamless, found in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", required=True)
    parser.add_argument("--textures", required=True)
    parser.add_argument("--skimage_dir", type=Path, default=Path("skimage_wheel"))
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--output_dir", type=Path, default=Path("seamless"))
    parser.add_argument("--pictures", type=Path, default=None,
                        help="write the sheets of the --shipped textures here as JPEGs")
    parser.add_argument("--shipped", default="",
                        help="comma-separated names of redistributable textures")
    parser.add_argument("--picture_height", type=int, default=160)
    parser.add_argument("--corner", type=int, default=0,
                        help="with --pictures: also NAME_SIZE_corner.jpg, the CORNER px square "
                             "where four copies meet, off | xy, at the pictures' own scale")
    parser.add_argument("--repeated_max", type=int, default=256,
                        help="the 2x2 repeat's distances only up to this --size (a 512 px "
                             "run's 1024 px repeat took over 20 GB in the held-out measure)")
    parser.add_argument("--seeds", type=int, default=1,
                        help="also synthesize from the noise of seeds 1..SEEDS-1 and record "
                             "their held-out distances: the spread a single seed's comparison "
                             "sits in")
    parser.add_argument("--settings", default=",".join(SETTINGS),
                        help="the settings to synthesize (comma-separated); another one's "
                             "row, seeds and pictures are kept from an earlier run in "
                             "--output_dir (when a change touches one setting only)")
    parser.add_argument("--rescore", action="store_true",
                        help="synthesize nothing: take every distance again from the pictures "
                             "an earlier run wrote into --output_dir (its results.json kept "
                             "otherwise), then print the tables")
    parser.add_argument("--cost", type=int, default=0,
                        help="only time this many evaluations at --size, off and xy alternated")
    args = parser.parse_args()
    from nst_tf.tensorflow_quietly import import_tensorflow_quietly
    import_tensorflow_quietly()
    if args.cost:
        cost = step_cost(args.weights, args.size, args.cost)
        print(f"{args.size}x{args.size}: seconds an evaluation (median of {args.cost}): "
              + ", ".join(f"{k} {v:.3f}" for k, v in cost.items())
              + f"; xy / off {cost['xy'] / cost['off']:.3f}")
        return
    args.output_dir.mkdir(parents=True, exist_ok=True)
    results_path = args.output_dir / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    results = rescored(args, results) if args.rescore else synthesized(args, results)
    results_path.write_text(json.dumps(results, indent=1))
    print_tables(results)


def synthesized(args, results: dict) -> dict:
    """results with each texture of --textures synthesized, off and xy, and scored (written to
    --output_dir's results.json after each texture, so that a stopped run keeps its rows)."""
    from bench.texture_specs import texture_of
    from nst_tf import TransferConfig
    from nst_tf.config import seamless_wrap
    from nst_tf.io.images import read_image, write_image
    from nst_tf.network.vgg import vgg19
    from nst_tf.report.sheet import contact_sheet, repeated
    from nst_tf.run.engine import default_engine
    from nst_tf.run.request import Request

    if args.pictures:
        args.pictures.mkdir(parents=True, exist_ok=True)
    shipped = {name for name in args.shipped.split(",") if name}
    chosen = [setting for setting in args.settings.split(",") if setting]
    if not chosen or set(chosen) - set(SETTINGS):
        raise SystemExit(f"--settings {args.settings!r}: choose from {', '.join(SETTINGS)}")
    measure_network = vgg19(args.weights)
    results_path = args.output_dir / "results.json"
    for spec in args.textures.split(","):
        name, texture = texture_of(spec, args.skimage_dir)
        # The synthesis is made from the texture at its own scale (mirror_fit): so is the
        # measure's reference; every edge treatment (the zero frame favours off, the mirrored
        # edges xy, the interior neither).
        distances = measures(measure_network, texture)
        row, panels, corners = {}, [("texture", texture)], []
        for seamless in SETTINGS:
            if seamless not in chosen:  # kept from the earlier run
                row[seamless] = results.get(name, {}).get(seamless)
                if row[seamless] is None:
                    raise SystemExit(f"{name} {seamless}: no earlier run's row in "
                                     f"{results_path}: add {seamless} to --settings")
                image = read_image(args.output_dir / f"{name}_{seamless}_seed0.png")
                _add_panels(panels, corners, seamless, image, args)
                continue
            config = TransferConfig(mode="synthesize", size=(args.size, args.size),
                                    weights=args.weights, iterations=args.steps,
                                    seamless=seamless)
            reports = []
            outcome = default_engine().run(Request(None, texture, config), reports.append)
            if outcome.status != "done":
                raise SystemExit(f"{name} {seamless}: {outcome.message}")
            # The steps' pace, the first step (which builds the graph) aside.
            pace = (reports[-1].seconds - reports[0].seconds) / max(1, len(reports) - 1)
            wrap = seamless_wrap(seamless)
            row[seamless] = {**scored(distances, outcome.image, wrap),
                             "seam": seam_ratio(outcome.image),
                             "seam_blocks": seam_ratio(outcome.image, block=BLOCK_PX),
                             "repeated": (distances["zero"](repeated(outcome.image))
                                          if args.size <= args.repeated_max else None),
                             "seconds_per_step": pace, "texture_part": reports[-1].texture,
                             "steps": len(reports)}
            write_image(args.output_dir / f"{name}_{seamless}_seed0.png", outcome.image)
            by_seed = [row[seamless]]
            for seed in range(1, args.seeds):
                other = default_engine().run(Request(None, texture, config.replace(seed=seed)))
                if other.status != "done":
                    raise SystemExit(f"{name} {seamless} seed {seed}: {other.message}")
                write_image(args.output_dir / f"{name}_{seamless}_seed{seed}.png", other.image)
                by_seed.append(scored(distances, other.image, wrap))
            row[seamless]["by_seed"] = [_recorded(seeded) for seeded in by_seed]
            _add_panels(panels, corners, seamless, outcome.image, args)
            print(name, seamless, row[seamless], flush=True)
        # The texture photo's own wrap, cropped to the picture's size: a photo's seam.
        crop = texture[:args.size, :args.size]
        row["photo_seam"] = seam_ratio(crop)
        row["photo_seam_blocks"] = seam_ratio(crop, block=BLOCK_PX)
        sheet = contact_sheet(panels, height=2 * args.size)
        write_image(args.output_dir / f"{name}.png", sheet)
        if args.pictures and name in shipped:
            write_image(args.pictures / f"{name}_{args.size}.jpg",
                        contact_sheet(panels, height=args.picture_height))
            if args.corner:
                write_image(args.pictures / f"{name}_{args.size}_corner.jpg",
                            contact_sheet(corners, height=args.corner))
        results[name] = row
        results_path.write_text(json.dumps(results, indent=1))
    return results


def _add_panels(panels: list, corners: list, seamless: str, image, args) -> None:
    """A setting's picture on the texture's sheet (repeated 2x2) and on its corner view (the
    --corner px square where four copies meet)."""
    from nst_tf.report.sheet import repeated
    panels.append((f"{seamless}, repeated 2x2", repeated(image)))
    middle, half = args.size, args.corner // 2
    corners.append((f"{seamless}: where four copies meet", repeated(image)[
        middle - half:middle + half, middle - half:middle + half]))


def print_tables(results: dict) -> None:
    """The Markdown table of every texture (each distance of seed 0), the means, each
    distance's xy / off over the textures, and with several seeds each one's spread."""
    from bench.texture_distances import EDGES
    print(f"| texture | the photo's seam ({BLOCK_PX} px blocks) | seam ratio: off / xy | "
          f"{BLOCK_PX} px blocks: off / xy | "
          + " | ".join(f"{edges}: sliced off / xy, Gram off / xy" for edges in EDGES)
          + " | 2x2 held-out sliced: off / xy | s a step: off / xy |")
    print("|---" * (6 + len(EDGES)) + "|")
    for name, row in results.items():
        off, xy = row["off"], row["xy"]
        print(f"| {name} | {row['photo_seam']:.2f} ({row['photo_seam_blocks']:.2f}) | "
              f"{off['seam']:.2f} / {xy['seam']:.2f} | "
              f"{off['seam_blocks']:.2f} / {xy['seam_blocks']:.2f} | "
              + " | ".join(f"{_distance(off, 'sliced', edges)} / {_distance(xy, 'sliced', edges)}"
                           f", {_distance(off, 'gram', edges)} / {_distance(xy, 'gram', edges)}"
                           for edges in EDGES)
              + f" | {_repeated(off)} / {_repeated(xy)} | "
              f"{off['seconds_per_step']:.3f} / {xy['seconds_per_step']:.3f} |")
    means = {setting: {key: float(np.mean([row[setting][key] for row in results.values()]))
                       for key in ("seam", "seam_blocks", "sliced", "gram", "histogram",
                                   "seconds_per_step")}
             for setting in SETTINGS}
    print("mean:", json.dumps(means))
    print("xy / off of each texture's mean over its seeds: the geometric mean over the "
          "textures, and how many are within 5% or nearer (xy / off <= 1.05)")
    for edges in EDGES:
        for measure in ("sliced", "gram"):
            ratios = [np.mean(_by_seed(row["xy"], measure, edges))
                      / np.mean(_by_seed(row["off"], measure, edges))
                      for row in results.values() if _by_seed(row["off"], measure, edges)]
            if ratios:
                print(f"  {edges} {measure}: {np.exp(np.mean(np.log(ratios))):.2f}, "
                      f"{sum(r <= 1.05 for r in ratios)} of {len(ratios)}")
    if any(len(row["off"].get("by_seed", [])) > 1 for row in results.values()):
        print("held-out distances over the seeds: mean (min-max), xy / off of the means")
        for name, row in results.items():
            for measure in ("sliced", "gram"):
                for edges in EDGES:
                    found = {setting: _by_seed(row[setting], measure, edges)
                             for setting in SETTINGS}
                    if not found["off"]:
                        continue
                    ratio = np.mean(found["xy"]) / np.mean(found["off"])
                    print(name, measure, edges, *(f"{setting} {_spread(found[setting])}"
                                                  for setting in SETTINGS), f"x{ratio:.3f}")


def _distance(result: dict, measure: str, edges: str) -> str:
    """One distance of seed 0 for the table, 3 significant digits ('-': not measured)."""
    found = result if edges == "zero" else result.get(edges)
    return "-" if found is None else f"{found[measure]:.3g}"


def scored(distances: dict, image, wrap) -> dict:
    """The zero frame's distances, and under each other edge treatment's name its own ('valid'
    with the picture continued by itself along the axes it wraps)."""
    return {**distances["zero"](image),
            **{edges: distances[edges](image, wrap if edges == "valid" else (False, False))
               for edges in distances if edges != "zero"}}


def measures(network, texture) -> dict:
    """One TextureDistances per edge treatment, against the piece of texture a synthesis is
    made from, or the whole photo where it is smaller than the picture (fit 'piece': not its
    mirror-extension, whose mirror seams are a device of plain synthesis, not the texture)."""
    from bench.texture_distances import EDGES, TextureDistances
    return {edges: TextureDistances(network, texture, fit="piece", edges=edges)
            for edges in EDGES}


def _recorded(seeded: dict) -> dict:
    """What results.json keeps of one seed's scores: the two held-out distances under every
    edge treatment."""
    from bench.texture_distances import EDGES
    return {key: seeded[key] for key in ("sliced", "gram", *EDGES[1:])}


def rescored(args, results: dict) -> dict:
    """results with every distance taken again from the pictures an earlier run wrote into
    --output_dir (NAME_SETTING_seedK.png, each seed it recorded): for a measure changed since;
    the seams, seconds and losses kept."""
    from bench.texture_specs import texture_of
    from nst_tf.config import seamless_wrap
    from nst_tf.io.images import read_image
    from nst_tf.network.vgg import vgg19
    measure_network = vgg19(args.weights)
    for spec in args.textures.split(","):
        name, texture = texture_of(spec, args.skimage_dir)
        if name not in results:
            raise SystemExit(f"{name}: no earlier run's results in {args.output_dir}")
        distances = measures(measure_network, texture)
        for seamless in SETTINGS:
            row = results[name][seamless]
            by_seed = [scored(distances, read_image(
                args.output_dir / f"{name}_{seamless}_seed{seed}.png"), seamless_wrap(seamless))
                for seed in range(len(row["by_seed"]))]
            row.update(by_seed[0])
            row["by_seed"] = [_recorded(seeded) for seeded in by_seed]
        print(name, "rescored", flush=True)
    return results


def _by_seed(result: dict, measure: str, edges: str) -> list:
    """A setting's held-out distance `measure` ('sliced', 'gram') with `edges` over its seeds
    (none when an earlier run did not measure those edges)."""
    return [(seeded if edges == "zero" else seeded[edges])[measure]
            for seeded in result.get("by_seed", []) if edges == "zero" or edges in seeded]


def _spread(values: list) -> str:
    """'mean (min-max)'."""
    return f"{np.mean(values):.3f} ({min(values):.3f}-{max(values):.3f})"


if __name__ == "__main__":
    main()
