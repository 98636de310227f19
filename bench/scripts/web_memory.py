"""The web page's server over many runs: its resident memory after each, read from Linux's /proc
of the server's own process (`scripts/serve.py --port 0` of a checkout).

    python bench/scripts/web_memory.py --runs 200 --sizes 64,72,80,88,96,104,112 --steps 3
    python bench/scripts/web_memory.py --weights $NST_TF_REAL_WEIGHTS

Each run goes as from the page: the content photo sent (POST /api/uploads; the examples in
turn, so the sizes' shapes vary), the run asked for (POST /api/runs, max_dim from --sizes in
turn), its status read until it ends, then its result and contact sheet downloaded. Prints one
JSON line per run (run, size, seconds, rss_mib: VmRSS after it, hwm_mib: the peak so far, VmHWM)
and a summary: the memory at run 20 and at the last, and its range over those runs.
"""
import argparse
import http.client
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from web_load import POST, proc_status, start_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CONTENTS = ("cat.jpg", "astronaut.jpg", "gravel.jpg", "brick.jpg")


def call(port, method, path, body=None, headers=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        if response.getheader("Content-Type", "").startswith("application/json"):
            data = json.loads(data)
        return response.status, data
    finally:
        connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--sizes", default="64,72,80,88,96,104,112",
                        help="max_dim of the runs, taken in turn")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--weights", default="random")
    parser.add_argument("--serve_from", default=str(ROOT), help="the checkout whose server runs")
    args = parser.parse_args()
    checkout = Path(args.serve_from)
    process, port = start_server(checkout, ["--weights", args.weights])
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    try:
        for run in range(args.runs):
            size, name = sizes[run % len(sizes)], CONTENTS[run % len(CONTENTS)]
            began = time.perf_counter()
            status, upload = call(port, "POST", "/api/uploads",
                                  (checkout / "examples" / name).read_bytes(),
                                  {**POST, "X-Filename": name, "X-Role": "content"})
            assert status == 200, upload
            status, answer = call(port, "POST", "/api/runs", json.dumps({
                "content": {"upload": upload["id"]}, "texture": {"example": "gravel.jpg"},
                "settings": {"max_dim": str(size), "iterations": str(args.steps)}}).encode(),
                POST)
            assert status == 200, answer
            while answer["state"] not in ("done", "stopped", "failed", "cancelled"):
                time.sleep(0.1)
                answer = call(port, "GET", f"/api/runs/{answer['id']}")[1]
            if answer["state"] != "done":
                sys.exit(f"run {run + 1}: {answer['state']}: {answer['message']}")
            for what in ("result.png", "sheet.png"):
                assert call(port, "GET", f"/api/runs/{answer['id']}/{what}")[0] == 200
            row = {"run": run + 1, "size": size, "content": name,
                   "seconds": round(time.perf_counter() - began, 2),
                   "rss_mib": round(proc_status(process.pid, "VmRSS"), 1),
                   "hwm_mib": round(proc_status(process.pid, "VmHWM"), 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        process.terminate()
        process.wait(60)
    later = [row["rss_mib"] for row in rows[19:]]
    print(json.dumps({
        "runs": len(rows), "rss_mib_run_20": later[0] if later else None,
        "rss_mib_last": rows[-1]["rss_mib"], "hwm_mib_run_20": rows[19]["hwm_mib"]
        if len(rows) >= 20 else None, "hwm_mib_last": rows[-1]["hwm_mib"],
        "rss_mib_range_20_to_last": round(max(later) - min(later), 1) if later else None,
        "rss_mib_growth_20_to_last": round(later[-1] - later[0], 1) if later else None}))


if __name__ == "__main__":
    main()
