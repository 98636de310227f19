"""Runs after the first: many short transfers in one process, as a server, a batch or a video
makes them, with the time of each and the process's resident memory after each.

    python bench/scripts/reuse_benchmark.py --runs 200 --sizes 64,80,96,112,128 \
        --weights $NST_TF_REAL_WEIGHTS --steps 3

Prints one JSON line per run (run, size, seconds, building, rss_mib, graphs: the compiled
evaluations made so far) and a summary: the memory from run 20 to the last, the seconds of the
first run of each size against the later ones.
"""
import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.process_status import rss_mib  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--sizes", default="64,80,96,112,128",
                        help="max_dim of the runs, taken in turn")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--weights", default="random")
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--content", default=str(ROOT / "examples" / "cat.jpg"))
    parser.add_argument("--texture", default=str(ROOT / "examples" / "gravel.jpg"))
    args = parser.parse_args()
    from nst_tf.tensorflow_quietly import import_tensorflow_quietly
    import_tensorflow_quietly()
    from nst_tf.config import TransferConfig
    from nst_tf.objective.compiled import shared_evaluations
    from nst_tf.run.engine import default_engine
    from nst_tf.run.request import Request
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    for run in range(args.runs):
        size = sizes[run % len(sizes)]
        config = TransferConfig(weights=args.weights, max_dim=size, iterations=args.steps,
                                precision=args.precision)
        began = time.perf_counter()
        outcome = default_engine().run(Request(args.content, args.texture, config))
        if outcome.status != "done":
            sys.exit(f"run {run}: {outcome.message}")
        row = {"run": run + 1, "size": size, "seconds": round(time.perf_counter() - began, 3),
               "building": round(outcome.building, 3), "rss_mib": round(rss_mib(), 1),
               "graphs": shared_evaluations().made}
        rows.append(row)
        print(json.dumps(row), flush=True)
    first = {}
    for row in rows:
        first.setdefault(row["size"], row["seconds"])
    later = [r["seconds"] for r in rows[len(sizes):]]
    after_20 = [r["rss_mib"] for r in rows[19:]]
    print(json.dumps({
        "first_run_seconds_by_size": first,
        "later_runs_median_seconds": statistics.median(later) if later else None,
        "rss_mib_run_20": after_20[0] if after_20 else None,
        "rss_mib_last": rows[-1]["rss_mib"],
        "rss_mib_range_20_to_last": (round(max(after_20) - min(after_20), 1)
                                     if after_20 else None),
        "graphs": rows[-1]["graphs"]}))


if __name__ == "__main__":
    main()
