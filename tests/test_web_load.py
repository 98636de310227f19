"""The web page's server under load and over time: 100 clients at once, connections that send
half a request, event streams whose pages have gone, runs that fail. A stand-in engine (no
TensorFlow) holds a run open for the clients to watch; one test fails a real run inside
TensorFlow. The figures are bench/scripts/web_load.py's (docs/measurements/2026-12-under-load.md)."""
import http.client
import socket
import threading
import time

import numpy as np
import pytest

from conftest import serving
from test_web import Client, finished, png_bytes
import nst_tf.web.server as web_server

POST = {"X-Requested-With": "nst-tf"}
TINY = {"max_dim": "48", "iterations": "400"}
EXAMPLES = {"content": {"example": "cat.jpg"}, "texture": {"example": "gravel.jpg"}}


class StandInEngine:
    """Runs without TensorFlow: a run makes no step and ends when stopped, with no picture; a
    run whose settings ask for `fail_at` iterations raises, as a bug around the engine would."""

    fail_at = 13

    def network(self, config, weights_path):
        return None

    def run(self, request, on_step=None, stop=None, on_start=None, download=False):
        from nst_tf.run.engine import STOPPED, Outcome
        if request.request.config.iterations == self.fail_at:
            raise RuntimeError("a stand-in failure")
        while not stop.wait(0.05):
            pass
        return Outcome(STOPPED, None, "stopped: the best image so far is kept", "stop")


@pytest.fixture
def stand_in(monkeypatch):
    """A server with the stand-in engine (its warm-up starts no TensorFlow either)."""
    import nst_tf.tensorflow_quietly
    monkeypatch.setattr(nst_tf.tensorflow_quietly, "import_tensorflow_quietly", lambda: None)
    server = serving(engine=StandInEngine())
    yield server
    server.close()


def answer(port, method, path, body=None, headers=None, events=False):
    """(status, None) or (None, the exception's name): a reset or a timeout is an answer too."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        if events:
            line = b""
            while line is not None and not line.startswith(b"data:"):
                line = response.fp.readline() or None
        else:
            response.read()
        return response.status, None
    except OSError as error:
        return None, type(error).__name__
    finally:
        connection.close()


def test_100_clients_at_once_get_their_answers_and_their_streams_end_when_they_go(
        stand_in, monkeypatch):
    # Streams would also end at their next heartbeat's failed write; this one must see the
    # page go without writing.
    monkeypatch.setattr(web_server, "HEARTBEAT_SECONDS", 1e6)
    client = Client(stand_in)
    run = client.start(TINY, EXAMPLES)
    photo = png_bytes(np.random.default_rng(0).integers(0, 256, (48, 64, 3)))
    count, answers = 100, []
    start = threading.Barrier(count)

    def one():
        start.wait(120)
        answers.extend([
            answer(stand_in.port, "POST", "/api/uploads", photo,
                   {**POST, "X-Filename": "photo.png", "X-Role": "content"}),
            answer(stand_in.port, "GET", "/api/info"),
            answer(stand_in.port, "GET", f"/api/runs/{run['id']}/events", events=True)])

    clients = [threading.Thread(target=one) for _ in range(count)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(300)
    assert len(answers) == 3 * count
    assert sorted(set(answers)) == [(200, None)], [a for a in answers if a != (200, None)]
    deadline = time.time() + 60
    while stand_in.streams and time.time() < deadline:
        time.sleep(0.2)
    assert len(stand_in.streams) == 0
    assert client.status(run["id"])["state"] == "starting"  # the pages went; the run goes on
    client.post(f"/api/runs/{run['id']}/stop")
    assert client.wait(run["id"], finished)["state"] == "stopped"


def test_beyond_the_most_streams_the_oldest_ends(stand_in, monkeypatch):
    monkeypatch.setattr(web_server, "MAX_EVENT_STREAMS", 2)
    client = Client(stand_in)
    run = client.start(TINY, EXAMPLES)
    pages = []
    for _ in range(3):
        connection = http.client.HTTPConnection("127.0.0.1", stand_in.port, timeout=60)
        connection.request("GET", f"/api/runs/{run['id']}/events")
        response = connection.getresponse()
        assert response.status == 200 and response.fp.readline().startswith(b"data:")
        pages.append((connection, response))
    oldest = pages[0][1]
    assert oldest.fp.readline() == b"\n"  # the end of its first event, then the stream ends
    assert oldest.fp.readline() == b""
    assert len(stand_in.streams) == 2
    for connection, _ in pages:
        connection.close()
    client.post(f"/api/runs/{run['id']}/stop")


def test_half_sent_requests_time_out_and_do_not_block_a_fresh_one(monkeypatch):
    # Two connections at most, both taken by clients that send half a request: a fresh
    # request is answered once their time is up, and they are let go.
    monkeypatch.setattr(web_server, "HEADER_SECONDS", 1.0)
    monkeypatch.setattr(web_server, "IDLE_SECONDS", 1.0)
    monkeypatch.setattr(web_server, "MAX_CONNECTIONS", 2)
    server = serving()
    try:
        host = f"127.0.0.1:{server.port}"
        held = []
        for first in (f"GET /api/info HTTP/1.1\r\nHost: {host}\r\n".encode(),
                      f"POST /api/uploads HTTP/1.1\r\nHost: {host}\r\nX-Requested-With: nst-tf"
                      f"\r\nContent-Length: 100000\r\n\r\n".encode() + b"\xff" * 100):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
            sock.sendall(first)
            held.append(sock)
        assert answer(server.port, "GET", "/api/info") == (200, None)
        said = []
        for sock in held:
            data = b""
            while chunk := sock.recv(65536):  # the server closes it (a timeout here fails)
                data += chunk
            said.append(data)
            sock.close()
        assert said[0] == b""  # half a request's headers: no answer
        assert said[1].startswith(b"HTTP/1.0 408 ") and said[1].endswith(
            b'{"error": "the request took too long"}')
    finally:
        server.close()


def test_a_run_failing_around_the_engine_leaves_the_server_serving(stand_in):
    client = Client(stand_in)
    failing = client.start({"max_dim": "48", "iterations": str(StandInEngine.fail_at)},
                           EXAMPLES)
    failed = client.wait(failing["id"], finished)
    assert (failed["state"], failed["message"]) == (
        "failed", "internal error (RuntimeError); see the server's log")
    run = client.start(TINY, EXAMPLES)
    client.wait(run["id"], lambda s: s["state"] == "starting")
    assert client.get("/api/info")[0] == 200
    client.post(f"/api/runs/{run['id']}/stop")
    assert client.wait(run["id"], finished)["state"] == "stopped"


def test_a_run_failing_inside_tensorflow_leaves_the_server_serving(server, monkeypatch):
    import tensorflow as tf

    from nst_tf.run.texture_transfer import TextureTransfer
    original = TextureTransfer.run

    def failing(self, callback=None):
        def step(report):
            if callback is not None:
                callback(report)
            if report.step == 2:
                raise tf.errors.InternalError(None, None, "a forced failure")
        return original(self, step)

    monkeypatch.setattr(TextureTransfer, "run", failing)
    client = Client(server)
    failed = client.wait(client.start()["id"], finished)
    assert (failed["state"], failed["message"], failed["count"]) == (
        "failed", "internal error (InternalError); see the server's log", 3)
    monkeypatch.setattr(TextureTransfer, "run", original)
    done = client.wait(client.start({"max_dim": "48", "iterations": "3"})["id"], finished)
    assert (done["state"], done["count"]) == ("done", 3)
    assert client.get("/api/info")[0] == 200
