"""What the picture-settled stopping rule would give at each fraction, from runs recorded with
the rule reading but not stopping (reproduce_examples.py --every N --settle_every N
--settle_fraction 1e-9): a run stopped at fraction F ends after the first reading below F times
the largest before it, and its picture is then the one checked at that step (the run is
deterministic; the rule only cuts it).

    python bench/scripts/stopping_table.py --fractions 0.5,0.4 medium_runs/*/comparison.json
"""
import argparse
import json

from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # bench
from bench.reproduce import LOOK_RATIO_BAR, SSIM_SLACK, to_the_look  # noqa: E402
from nst_tf.optimize.stopping import earliest_stop, settled  # noqa: E402


# The momentum of the runs recorded with the rule reading (the calibrated loop of 2026-12-01).
RECORDED_BETA_1 = 0.99


def stopped_at(row, threshold, beta_1: float = RECORDED_BETA_1):
    """(the check where a rule of fraction `threshold` stops the run, True), or (its last check, False)
    when the rule does not stop it within the recorded steps; beta_1: the run's momentum."""
    every = row["checks"][0]["step"]
    by_step = {c["step"]: c for c in row["checks"]}
    after = earliest_stop(beta_1)
    changes = row["changes"] or []  # none recorded: the rule was off
    for k in range(len(changes)):
        if ((k + 1) * every >= after and settled(changes[:k + 1], threshold)
                and (k + 1) * every in by_step):
            return by_step[(k + 1) * every], True
    return row["checks"][-1], False


TILES = {(1, 1): ["the picture"], (2, 2): ["top left", "top right", "bottom left", "bottom right"]}


def print_markdown(rows, fraction):
    """The runs stopped at `fraction`: steps, seconds, the time to the look, look, SSIM, layout."""
    print("| example, tile (d, c, r, t) | steps | s | to the look: step, s | look ours / original "
          "| SSIM ours (bar) | layout ours / original |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        check, stopped = stopped_at(row, fraction)
        tile = TILES[tuple(row["split"]) if row["tile"] is None else (2, 2)][row["tile"] or 0] \
            if row["example"] != "CatCrack" else ("left" if row["weighting"][0] == 5 else "right")
        reached = to_the_look(row["checks"], row["ssim_original"] - SSIM_SLACK, check["step"])
        how = "" if stopped else f" ({row['stopped_by'] or 'budget'})"
        if not stopped and row["stopped_by"]:  # ended before the rule: the run's own end
            check = {"step": row["steps_run"], "seconds": row["seconds"],
                     "ratio": row["look_ours"] / row["look_original"], "ssim": row["ssim_ours"],
                     "layout": row["layout_ours"]}
        weights = ", ".join(f"{w:g}" for w in row["weighting"])
        print(f"| {row['example']}, {tile} ({weights}) | {check['step']}{how} | "
              f"{check['seconds']:.0f} | "
              f"{'-' if reached is None else str(reached['step']) + ', ' + format(reached['seconds'], '.0f')} | "
              f"**{check['ratio']:.2f}x** | {check['ssim']:.3f} "
              f"({row['ssim_original'] - SSIM_SLACK:.3f}) | "
              f"{check['layout']:.2f} / {row['layout_original']:.2f} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("comparisons", nargs="+", help="comparison.json files")
    parser.add_argument("--fractions", default="0.5,0.4,0.35,0.3")
    parser.add_argument("--markdown", action="store_true",
                        help="One markdown table of the runs at the first fraction.")
    args = parser.parse_args()
    rows = [row for path in args.comparisons for row in json.loads(Path(path).read_text())]
    if args.markdown:
        print_markdown(rows, float(args.fractions.split(",")[0]))
        return
    for threshold in [float(t) for t in args.fractions.split(",")]:
        held, steps, seconds, full = 0, 0, 0.0, 0.0
        print(f"fraction {threshold:g} of the largest change")
        for row in rows:
            check, stopped = stopped_at(row, threshold)
            bar = row["ssim_original"] - SSIM_SLACK
            ok = check["ratio"] <= LOOK_RATIO_BAR and check["ssim"] >= bar
            held += ok
            steps += check["step"]
            seconds += check["seconds"]
            full += row["checks"][-1]["seconds"]
            print(f"  {row['example']:20s} tile {row['tile']} w{row['weighting'][3]:g}: step "
                  f"{check['step']:4d} {check['seconds']:6.0f} s look {check['ratio']:.2f}x "
                  f"SSIM {check['ssim']:.3f} (bar {bar:.3f}) {'holds' if ok else 'MISSES'}"
                  f"{'' if stopped else ' (not stopped by the rule: ' + (row['stopped_by'] or 'the recorded steps ran out') + ')'}")
        print(f"  {held}/{len(rows)} hold; {steps} steps, {seconds:.0f} s "
              f"(the recorded runs: {full:.0f} s)")


if __name__ == "__main__":
    main()
