"""The engine's memory over many runs of varied sizes in one process (no server): resident
memory (VmRSS from /proc/self/status) after each run, and the TensorFlow graph objects Python
still reaches after a collection.

    python bench/scripts/run_memory.py --runs 200 --sizes 64,72,80,88,96,104,112 --steps 3
    python bench/scripts/run_memory.py --runs 30 --count_every 6 --holders

Each run is nst_tf.Engine().run(Request(content, "gravel.jpg", TransferConfig(weights="random",
max_dim=size, iterations=steps))), the content photos (examples/) in turn, max_dim from --sizes
in turn: 7 sizes and 4 proportions make 28 shapes, more than the compiled graphs kept, so runs
keep tracing anew, as a server's do. Prints one JSON line per run (run, size, content, seconds,
rss_mib, graphs_made: the compiled graphs made so far; with --count_every, after gc.collect()
the live FuncGraph, ConcreteFunction, Function and Operation objects) and a summary: the memory
at run 20 and at the last. --holders: after the last run, what refers to the oldest live
FuncGraph (the chain of referrers, by type), to find what keeps a dropped graph.
"""
import argparse
import gc
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.process_status import rss_mib  # noqa: E402
CONTENTS = ("cat.jpg", "astronaut.jpg", "gravel.jpg", "brick.jpg")
COUNTED = ("FuncGraph", "ConcreteFunction", "AtomicFunction", "Function", "Operation")


def live_counts() -> dict:
    """After a collection, the live objects of the COUNTED types, by type name."""
    gc.collect()
    counts = dict.fromkeys(COUNTED, 0)
    for obj in gc.get_objects():
        name = type(obj).__name__
        if name in counts:
            counts[name] += 1
    return counts


def holders(obj, depth: int = 8) -> list:
    """A chain of referrers from `obj` outwards, by type (and a dict's keys), skipping frames
    and this function's own lists: what keeps `obj` alive."""
    chain, seen = [], {id(obj)}
    for _ in range(depth):
        gc.collect()
        referrers = [r for r in gc.get_referrers(obj) if id(r) not in seen
                     and type(r).__name__ not in ("frame", "list_iterator")
                     and r is not chain]
        if not referrers:
            break
        described = []
        for r in referrers[:6]:
            what = type(r).__name__
            if isinstance(r, dict):
                keys = [k for k, v in r.items() if v is obj][:3]
                what += f" (key {keys!r:.80})"
            described.append(what)
        chain.append(described)
        obj = referrers[0]
        seen.add(id(obj))
    return chain


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--sizes", default="64,72,80,88,96,104,112",
                        help="max_dim of the runs, taken in turn")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--count_every", type=int, default=0,
                        help="count the live graph objects after every this many runs (0: never)")
    parser.add_argument("--holders", action="store_true",
                        help="after the last run, print what keeps the oldest FuncGraph alive")
    args = parser.parse_args()

    import nst_tf
    from nst_tf.objective.compiled import shared_evaluations
    sizes = [int(s) for s in args.sizes.split(",")]
    engine = nst_tf.Engine()
    rows = []
    for run in range(args.runs):
        size, name = sizes[run % len(sizes)], CONTENTS[run % len(CONTENTS)]
        began = time.perf_counter()
        outcome = engine.run(nst_tf.Request(
            str(ROOT / "examples" / name), str(ROOT / "examples" / "gravel.jpg"),
            nst_tf.TransferConfig(weights="random", max_dim=size, iterations=args.steps)))
        if outcome.status != "done":
            sys.exit(f"run {run + 1}: {outcome.status}: {outcome.message}")
        row = {"run": run + 1, "size": size, "content": name,
               "seconds": round(time.perf_counter() - began, 2),
               "rss_mib": round(rss_mib(), 1), "graphs_made": shared_evaluations().made}
        if args.count_every and (run + 1) % args.count_every == 0:
            row.update(live_counts())
        rows.append(row)
        print(json.dumps(row), flush=True)
    later = [row["rss_mib"] for row in rows[19:]]
    print(json.dumps({
        "runs": len(rows), "rss_mib_run_20": later[0] if later else None,
        "rss_mib_last": rows[-1]["rss_mib"],
        "rss_mib_growth_20_to_last": round(later[-1] - later[0], 1) if later else None,
        "mib_a_run_20_to_last": round((later[-1] - later[0]) / (len(later) - 1), 2)
        if len(later) > 1 else None}), flush=True)
    if args.holders:
        gc.collect()
        graphs = [o for o in gc.get_objects() if type(o).__name__ == "FuncGraph"]
        if graphs:
            print(json.dumps({"func_graphs": len(graphs), "oldest": graphs[0].name,
                              "held_by": holders(graphs[0])}), flush=True)


if __name__ == "__main__":
    main()
