"""The web page's server under load: many clients at once, idle and half-sent requests, event
streams whose pages have gone. The server runs in its own process (`scripts/serve.py --port 0
--weights random` of a checkout), so that its threads and memory are its own.

    python bench/scripts/web_load.py --clients 20,100,200
    python bench/scripts/web_load.py --serve_from /tmp/older-checkout     # another version

Before the load, one run starts (64 px, random weights, as many steps as it takes) and goes on
throughout, and a second one waits in line behind it: the clients watch the waiting one, as
pages do (its stream has nothing new to say, so only the server's own care ends it when its
page goes). Each client, all released at once, sends a photo (POST /api/uploads), reads
GET /api/info, opens the waiting run's event stream, reads its first event and leaves. Every answer is timed; a reset, a timeout or a 5xx is an error. Then:

- idle: --idle connections that send nothing, as many that send half a request's headers, as
  many that send a body's first bytes only, and as many that send one header byte every 2 s;
  a fresh GET /api/info is timed among them, and each is watched until the server closes it
  (or --idle_seconds pass).
- streams: the server's thread count (Linux's /proc) before the clients came and after they
  left: a stream whose page has gone should end.

Prints one JSON line per measure, and the table's lines.
"""
import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POST = {"X-Requested-With": "nst-tf"}
sys.path.insert(0, str(ROOT))
from bench.process_status import proc_status  # noqa: E402


def start_server(checkout: Path, extra):
    """The server process of `checkout` on a free port: (process, port)."""
    process = subprocess.Popen(
        [sys.executable, str(checkout / "scripts" / "serve.py"), "--port", "0",
         "--weights", "random", *extra], cwd=checkout, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    line = process.stdout.readline()
    found = re.search(r"http://[^:]+:(\d+)/", line)
    if not found:
        process.kill()
        sys.exit(f"the server did not start: {line!r}")
    return process, int(found.group(1))


class Answer:
    def __init__(self, kind, seconds, status=None, error=None):
        self.kind, self.seconds, self.status, self.error = kind, seconds, status, error


def request(port, kind, method, path, body=None, headers=None, timeout=60.0) -> Answer:
    began = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        if kind == "events" and response.status == 200:
            while True:  # the first event, then the page goes
                line = response.fp.readline()
                if not line or line.startswith(b"data:"):
                    break
        else:
            response.read()
        return Answer(kind, time.perf_counter() - began, response.status)
    except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError,
            ConnectionAbortedError) as error:  # RemoteDisconnected is a ConnectionResetError
        return Answer(kind, time.perf_counter() - began, error="reset:" + type(error).__name__)
    except (socket.timeout, TimeoutError):
        return Answer(kind, time.perf_counter() - began, error="timeout")
    except (OSError, http.client.HTTPException) as error:
        return Answer(kind, time.perf_counter() - began, error=type(error).__name__)
    finally:
        connection.close()


def one_client(port, photo: bytes, run_id: str, start: threading.Barrier, answers: list):
    try:
        start.wait(60)
    except threading.BrokenBarrierError:
        pass
    mine = [request(port, "upload", "POST", "/api/uploads", photo,
                    {**POST, "X-Filename": "cat.jpg", "X-Role": "content"}),
            request(port, "info", "GET", "/api/info"),
            request(port, "events", "GET", f"/api/runs/{run_id}/events")]
    answers.extend(mine)


def clients_at_once(port, count: int, photo: bytes, run_id: str) -> dict:
    answers: list = []
    start = threading.Barrier(count)
    threads = [threading.Thread(target=one_client, args=(port, photo, run_id, start, answers))
               for _ in range(count)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = [a.seconds for a in answers if a.error is None]
    summary = {
        "clients": count, "requests": len(answers),
        "answered": sum(a.error is None for a in answers),
        "median_s": round(statistics.median(seconds), 3) if seconds else None,
        "worst_s": round(max(seconds), 3) if seconds else None,
        "resets": sum(bool(a.error and a.error.startswith("reset")) for a in answers),
        "timeouts": sum(a.error == "timeout" for a in answers),
        "other_errors": sum(bool(a.error and not a.error.startswith("reset")
                                 and a.error != "timeout") for a in answers),
        "5xx": sum(a.status is not None and a.status >= 500 for a in answers),
        "not_200": sum(a.status is not None and a.status != 200 for a in answers),
        "wall_s": round(time.perf_counter() - began, 2)}
    for kind in ("upload", "info", "events"):
        times = [a.seconds for a in answers if a.kind == kind and a.error is None]
        if times:
            summary[kind] = {"median_s": round(statistics.median(times), 3),
                             "worst_s": round(max(times), 3)}
    return summary


def held_connections(port, count: int, idle_seconds: float) -> dict:
    """count idle connections, count half headers, count half bodies, count tricklers; a fresh
    request among them; how long the server keeps each open."""
    host = f"127.0.0.1:{port}"
    kinds = {
        "idle": b"",
        "half_headers": f"GET /api/info HTTP/1.1\r\nHost: {host}\r\n".encode(),
        "half_body": (f"POST /api/uploads HTTP/1.1\r\nHost: {host}\r\nX-Requested-With: nst-tf"
                      f"\r\nX-Filename: a.jpg\r\nContent-Length: 100000\r\n\r\n").encode()
        + b"\xff" * 1000,
        "trickle": f"GET /api/info HTTP/1.1\r\nHost: {host}\r\nX-Slow: ".encode()}
    closed = {kind: [] for kind in kinds}
    opened = []
    began = time.perf_counter()
    for kind, first in kinds.items():
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            if first:
                sock.sendall(first)
            opened.append((kind, sock))
    fresh = request(port, "info", "GET", "/api/info", timeout=60)

    def watch(kind, sock):
        sock.settimeout(2.0)
        while time.perf_counter() - began < idle_seconds:
            try:
                if sock.recv(65536) == b"":
                    break
            except socket.timeout:
                if kind == "trickle":
                    try:
                        sock.sendall(b"x")
                    except OSError:
                        break
                continue
            except OSError:
                break
        else:
            return
        closed[kind].append(time.perf_counter() - began)

    watchers = [threading.Thread(target=watch, args=pair) for pair in opened]
    for thread in watchers:
        thread.start()
    for thread in watchers:
        thread.join()
    for _, sock in opened:
        sock.close()
    return {"held": count, "fresh_request_s": round(fresh.seconds, 3),
            "fresh_status": fresh.status, "fresh_error": fresh.error,
            **{f"{kind}_closed": len(times) for kind, times in closed.items()},
            **{f"{kind}_closed_after_s": round(max(times), 1) for kind, times in closed.items()
               if times}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="20,100,200", help="clients at once, in turn")
    parser.add_argument("--serve_from", default=str(ROOT), help="the checkout whose server runs")
    parser.add_argument("--idle", type=int, default=40, help="connections of each held kind")
    parser.add_argument("--idle_seconds", type=float, default=60.0)
    parser.add_argument("--photo", default=str(ROOT / "examples" / "cat.jpg"))
    args = parser.parse_args()
    photo = Path(args.photo).read_bytes()
    process, port = start_server(Path(args.serve_from), [])
    try:
        # One run going throughout: the clients watch it. TensorFlow starts with it.
        status = json.loads(_post(port, "/api/runs", {
            "content": {"example": "cat.jpg"}, "texture": {"example": "gravel.jpg"},
            "settings": {"max_dim": "64", "iterations": "100000"}}))
        running = status["id"]
        run_id = json.loads(_post(port, "/api/runs", {
            "content": {"example": "cat.jpg"}, "texture": {"example": "gravel.jpg"},
            "settings": {"max_dim": "64", "iterations": "3"}}))["id"]
        deadline = time.time() + 300
        while time.time() < deadline:
            seen = json.loads(_get(port, f"/api/runs/{running}"))
            if seen["count"] >= 5:
                break
            time.sleep(0.5)
        time.sleep(2.0)
        threads_before = proc_status(process.pid, "Threads")
        print(json.dumps({"server_threads": threads_before,
                          "server_rss_mib": round(proc_status(process.pid, "VmRSS"), 1)}),
              flush=True)
        rows = []
        for count in [int(c) for c in args.clients.split(",")]:
            row = clients_at_once(port, count, photo, run_id)
            after = []
            for wait in (1, 5, 40):  # the streams of the pages that went
                time.sleep(wait - (after[-1][0] if after else 0))
                after.append((wait, proc_status(process.pid, "Threads")))
            row["threads_after"] = {f"{wait}s": n - threads_before for wait, n in after}
            row["server_rss_mib"] = round(proc_status(process.pid, "VmRSS"), 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
        held = held_connections(port, args.idle, args.idle_seconds)
        print(json.dumps(held), flush=True)
        for run in (run_id, running):
            _post(port, f"/api/runs/{run}/stop", {})
        print("\n| clients at once | requests | answered | median s | worst s | resets | "
              "timeouts | 5xx |")
        print("|---|---|---|---|---|---|---|---|")
        for row in rows:
            print(f"| {row['clients']} | {row['requests']} | {row['answered']} | "
                  f"{row['median_s']} | {row['worst_s']} | {row['resets']} | "
                  f"{row['timeouts']} | {row['5xx']} |")
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def _post(port, path, value) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", path, json.dumps(value).encode(), POST)
        return connection.getresponse().read()
    finally:
        connection.close()


def _get(port, path) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        return connection.getresponse().read()
    finally:
        connection.close()


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
