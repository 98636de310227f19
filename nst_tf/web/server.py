"""The web page's server: the standard library's ThreadingHTTPServer, JSON endpoints, server-sent
events for progress, photos sent as the raw bytes of a request's body.

    server = make_server(weights="random", port=0)      # 127.0.0.1, any free port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(server.url)
    ...
    server.close()                                      # stops the run, keeps its best image

Endpoints (JSON unless named otherwise; POSTs need the header X-Requested-With: nst-tf, which a
page of another site cannot send without the browser asking first, and with --token also the
token, as the header X-Token or the cookie the page gets when opened with ?token=):

    GET  /                          the page (page.html, page.js, page.css)
    GET  /api/info                  the settings (from TransferConfig), the examples, the limits
    GET  /examples/NAME             a shipped example photo (examples/cat.jpg, gravel.jpg)
    POST /api/uploads               body: the photo's bytes; X-Filename: its name; X-Role: what
                                    it is for (content: refused under MIN_TILE_PX a side; mask:
                                    kept apart from the photos) -> {id, ...}
    GET  /api/uploads/ID            an upload as PNG (the page shows it again after a reload)
    POST /api/clips                 body: a clip's bytes; X-Filename: its name -> {id, frames,
                                    fps, width, height, audio, ...}
    GET  /api/clips/ID              the clip's first frame as PNG
    POST /api/check                 {content, texture, mask, settings} -> the result's size and
                                    an estimate of the time, or error; texture: one photo or a
                                    list of up to three, mask: the regions painted (a label
                                    image in REGION_COLORS, or gray with one texture);
                                    content {clip: id} makes a clip, with video: {frames:
                                    'A:B', every: N}
    POST /api/runs                  the same -> {id, ...}: the run joins the line
    GET  /api/runs/ID               its status with every step's report
    GET  /api/runs/ID/events        server-sent events: the status whenever it changes
    POST /api/runs/ID/stop          stop (keeps the best image so far) or leave the line
    GET  /api/runs/ID/preview.jpg   the latest live picture
    GET  /api/runs/ID/result.png    the result; sheet.png: the contact sheet; mask.png: its mask;
                                    result.mp4: a clip's run's clip
    GET  /api/runs/ID/command.txt   the run as a command line

Bad input is answered with status 400 and {"error": one line}; nothing a user sends is used as
a path, and only a clip is written to disk (ffmpeg reads files): into a private temporary folder
removed when the server stops (nst_tf.web.clips).
"""
from __future__ import annotations

import collections
import dataclasses
import hmac
import io
import ipaddress
import json
import secrets
import select
import socket
import threading
import time
import urllib.parse
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Optional

import numpy as np

from nst_tf.config import SEAMLESS_MODES, TransferConfig
from nst_tf.errors import NSTError
from nst_tf.io.images import encode_image
from nst_tf.limits import MIN_TILE_PX
from nst_tf.presets import VIDEO_MAX_FRAMES
from nst_tf.web.clips import ClipStore
from nst_tf.web.runs import FINISHED, Run, RunQueue
from nst_tf.web.settings import (MASK_NAME, MAX_TEXTURES, PREVIEW_SIZE, REGION_COLORS,
                                 command_line, config_from_form, form_fields,
                                 video_command_line, where_to_run)
from nst_tf.web.uploads import MB, decode_photo, display_name

STATIC = Path(__file__).resolve().parent / "static"
# The sample photos of a checkout (CC0, examples/LICENSE.md); an installed package has none.
EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples"
EXAMPLES = ("cat.jpg", "gravel.jpg", "astronaut.jpg", "brick.jpg")
# Content and texture the page offers together, in one click.
EXAMPLE_PAIRS = (("cat.jpg", "gravel.jpg"), ("astronaut.jpg", "brick.jpg"),
                 ("cat.jpg", "brick.jpg"))

DEFAULT_PORT = 8000
DEFAULT_MAX_MEGAPIXELS = 40.0  # a 12-24 MP phone or camera photo fits; a bomb does not
DEFAULT_MAX_UPLOAD_MB = 30.0
DEFAULT_MAX_CLIP_MB = 200.0  # a minute of phone video at 1080p; the frames take far longer
MAX_JSON_MB = 1.0
# Uploads kept in memory (their bytes, at most --max_upload_mb each) for runs to come; older
# ones are forgotten (the page then asks for the photo again). Painted masks are kept apart (a
# page sends one after each stroke), so that painting does not push the photos out.
KEEP_UPLOADS = 16
KEEP_MASKS = 16
UPLOAD_ROLES = ("content", "texture", "mask")
# Decoded photos kept for the checks made while settings are typed (a content and a texture).
KEEP_DECODED = 4
TOKEN_COOKIE = "nst_tf_token"
POST_HEADER = ("X-Requested-With", "nst-tf")
_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".jpg": "image/jpeg", ".png": "image/png",
          ".mp4": "video/mp4"}
# Under load (docs/guide/web.md, "Under load"). Connections served at once, a thread each; more
# wait in the listen queue, which holds as many again (the standard library's holds 5: a crowd
# of clients met resets and 1 s retries).
MAX_CONNECTIONS = 200
LISTEN_QUEUE = 256
# A request's line and headers must come within HEADER_SECONDS of the connection being taken,
# so a client that sends half a request (or a byte now and then) frees its thread. A body or an
# answer may pause at most IDLE_SECONDS and must go at least MIN_BYTES_PER_SECOND on the whole
# (a 30 MB photo over a slow phone link fits; a trickle does not).
HEADER_SECONDS = 10.0
IDLE_SECONDS = 30.0
MIN_BYTES_PER_SECOND = 16 * 1024
# Event streams open at once: beyond, the oldest ends (its page's EventSource opens it again), so
# open pages cannot take every connection. A stream looks every GONE_SECONDS whether its page
# has gone, and says it is still there every HEARTBEAT_SECONDS when nothing changes.
MAX_EVENT_STREAMS = 64
GONE_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
_CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")


@dataclasses.dataclass
class Asked:
    """What a check or a start asks for, read and checked: the config, the photos (uint8), the
    painted mask (None: none), names for the page, the command line (with the line saying where
    to run it), the result's (width, height), the steps per level, and the request as sent (a
    reloaded page restores its photos and settings from it); a photo's run keeps the engine's
    Prepared request, checked once."""

    config: TransferConfig
    content: Optional[np.ndarray]
    textures: list
    mask: Optional[np.ndarray]
    names: dict
    command: str
    size: tuple
    steps: list
    echo: dict
    tiles: list
    clip: object = None  # a clip's run: its ClipUpload, VideoSettings and frame count
    video: object = None
    frames: int = 0
    prepared: object = None  # a photo's run: the request as checked and planned, run as it is


def tiles_of(plan) -> list:
    """Where a run cuts its full-size level (the plan's cores: the content branch's; the texture
    branch's are half as long), [[left, top, right, bottom]] in the result's pixels; [] for a
    run in one piece."""
    return [[left, top, right, bottom] for top, bottom, left, right in plan.cores]


def video_available() -> bool:
    """Whether this install makes clips: the video extra's packages (pip install nst-tf[video])."""
    import importlib.util
    return all(importlib.util.find_spec(name) is not None for name in ("imageio_ffmpeg", "cv2"))


def video_settings_of(spec) -> "VideoSettings":
    """The VideoSettings a clip's run asks for: the page's video fields ({frames: 'A:B',
    every: N}, any of the table's but max_frames, the server's limit, as text), empty ones at
    their defaults (the temporal weight is a transfer setting, in the settings form)."""
    from nst_tf.video.settings import VideoSettings
    spec = spec if isinstance(spec, dict) else {}
    names = {field.name for field in dataclasses.fields(VideoSettings)} - {"max_frames"}
    return VideoSettings(**{name: str(value).strip() for name, value in spec.items()
                            if name in names and value is not None and str(value).strip()})


class HttpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class Upload:
    def __init__(self, data: bytes, name: str, width: int, height: int, role: str = ""):
        self.id = secrets.token_urlsafe(12)
        self.data, self.name, self.width, self.height = data, name, width, height
        self.role = role


def too_small(name: str, width: int, height: int, what: str = "the photo") -> Optional[str]:
    """The message for a content smaller than the library takes (MIN_TILE_PX a side, with no
    split: nst_tf.io.tiles.tile_size), in the user's words; None when it is large enough."""
    if min(width, height) >= MIN_TILE_PX:
        return None
    return (f"{name}: {what} is {width}x{height} px; it must be at least {MIN_TILE_PX} px on "
            "each side")


class NstServer(ThreadingHTTPServer):
    """The HTTP server, its run queue and its uploads (make_server builds one)."""

    daemon_threads = True  # an open page (its event stream) does not keep the process alive
    block_on_close = False  # close() does not wait for the connections' threads (daemons)
    allow_reuse_address = True
    request_queue_size = LISTEN_QUEUE

    def __init__(self, address, weights: str, weights_path: Optional[str], preset: Optional[str],
                 token: Optional[str], max_megapixels: float, max_upload_mb: float,
                 network: str = "vgg19", preview_seconds: float = 1.0, max_waiting: int = 20,
                 log=None, max_clip_mb: float = DEFAULT_MAX_CLIP_MB, engine=None):
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        self.stopping = False
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.streams: "collections.OrderedDict[int, threading.Event]" = collections.OrderedDict()
        self._streams_lock = threading.Lock()
        super().__init__(address, Handler)
        self.weights, self.weights_preset, self.token = weights, preset, token or None
        self.max_megapixels, self.max_upload_mb = float(max_megapixels), float(max_upload_mb)
        self.max_clip_mb = float(max_clip_mb)
        self.clips = ClipStore()
        self.network = network
        self.queue = RunQueue(weights_path, network, preview_seconds, max_waiting, log, engine)
        self.log = self.queue.log
        self.uploads = collections.OrderedDict()
        self._decoded = collections.OrderedDict()
        self.uploads_lock = threading.Lock()
        self.loopback = is_loopback(address[0])
        self.fields = form_fields()

    @property
    def host(self) -> str:
        return self.server_address[0]

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        """The page's address (with the token, when there is one)."""
        host = self.host
        if host in ("0.0.0.0", "::"):
            host = socket.gethostname()
        elif ":" in host:
            host = f"[{host}]"
        query = f"?token={urllib.parse.quote(self.token)}" if self.token else ""
        return f"http://{host}:{self.port}/{query}"

    def allowed_hosts(self) -> set:
        """Host headers accepted on a loopback address: a page of another site whose name
        resolves to 127.0.0.1 (DNS rebinding) sends its own name, and is refused."""
        names = ("127.0.0.1", "localhost", "[::1]")
        hosts = {f"{name}:{self.port}" for name in names}
        return hosts | set(names) if self.port == 80 else hosts

    def keep_upload(self, upload: Upload) -> None:
        """Keeps `upload`; beyond KEEP_UPLOADS photos (KEEP_MASKS masks) the oldest goes."""
        with self.uploads_lock:
            self.uploads[upload.id] = upload
            masks = upload.role == "mask"
            same = [key for key, kept in self.uploads.items() if (kept.role == "mask") == masks]
            for key in same[:max(0, len(same) - (KEEP_MASKS if masks else KEEP_UPLOADS))]:
                del self.uploads[key]

    def decoded(self, key, source):
        """The photo `source()` gives as (bytes, name), decoded (uint8 RGB, read-only); the
        last few are kept, so that checking the settings as they are typed decodes nothing."""
        with self.uploads_lock:
            if key in self._decoded:
                self._decoded.move_to_end(key)
                return self._decoded[key]
        data, name = source()
        image = decode_photo(data, name, self.max_megapixels)
        image.flags.writeable = False
        with self.uploads_lock:
            self._decoded[key] = image
            while len(self._decoded) > KEEP_DECODED:
                self._decoded.popitem(last=False)
        return image

    def process_request(self, request, client_address) -> None:
        """A thread for the connection once one of MAX_CONNECTIONS is free; until then it waits
        (and the next ones in the listen queue)."""
        while not self._slots.acquire(timeout=0.5):
            if self.stopping:
                self.shutdown_request(request)
                return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def open_stream(self) -> threading.Event:
        """An event stream begins: the Event that tells it to end (set for the oldest one when
        more than MAX_EVENT_STREAMS are open)."""
        ended = threading.Event()
        with self._streams_lock:
            self.streams[id(ended)] = ended
            while len(self.streams) > MAX_EVENT_STREAMS:
                self.streams.popitem(last=False)[1].set()
        return ended

    def close_stream(self, ended: threading.Event) -> None:
        with self._streams_lock:
            self.streams.pop(id(ended), None)

    def close(self) -> Optional[Run]:
        """Stops the running run (keeping its best image), ends the worker, closes the socket;
        returns the run it stopped, if any. Call from another thread than serve_forever's."""
        self.stopping = True
        stopped = self.queue.close()
        self.shutdown()
        self.server_close()
        self.clips.close()
        return stopped


def make_server(weights: str = "imagenet", host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                token: Optional[str] = None, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS,
                max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, preset: Optional[str] = None,
                network: str = "vgg19", preview_seconds: float = 1.0, max_waiting: int = 20,
                log=None, max_clip_mb: float = DEFAULT_MAX_CLIP_MB, engine=None) -> NstServer:
    """A server on host:port (port 0: any free port; server.url says which), not yet serving
    (call serve_forever). weights: 'imagenet' (found, or downloaded once), a notop .h5 file, or
    'random'; preset: the loss weights' preset when the page names none (default: the one the
    weights call for); engine: what runs the runs (default: the process's). NSTError with one
    line for bad weights or limits."""
    from nst_tf.network.choice import choose_network
    from nst_tf.network.weights import resolve_weights
    for name, value in (("max_megapixels", max_megapixels), ("max_upload_mb", max_upload_mb),
                        ("max_clip_mb", max_clip_mb)):
        if not value > 0:
            raise NSTError(f"{name} must be > 0, got {value:g}")
    weights_path = resolve_weights(weights, network=network)
    preset = preset or choose_network(weights, network).preset
    return NstServer((host, port), weights, weights_path, preset, token, max_megapixels,
                     max_upload_mb, network, preview_seconds, max_waiting, log, max_clip_mb,
                     engine)


class TimedReader(io.RawIOBase):
    """A connection's reading side with a deadline: each read waits at most IDLE_SECONDS, and
    none goes past the deadline (socket.timeout then), so a slow client frees its thread."""

    def __init__(self, connection: socket.socket):
        self.connection = connection
        self.deadline = float("inf")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("the request took too long")
        self.connection.settimeout(min(IDLE_SECONDS, left))
        return self.connection.recv_into(buffer)


class Handler(BaseHTTPRequestHandler):
    server: NstServer
    server_version = "nst-tf"
    sys_version = ""

    def log_message(self, format, *args):  # quiet: the runs are logged by the queue
        pass

    # -- plumbing ------------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the socket's own file, replaced by one with deadlines
        self.reader = TimedReader(self.connection)
        self.rfile = io.BufferedReader(self.reader)

    def handle_one_request(self) -> None:
        self.reader.deadline = time.monotonic() + HEADER_SECONDS
        super().handle_one_request()

    def _may_take(self, size: int) -> None:
        """The next `size` bytes, in or out, may take IDLE_SECONDS and MIN_BYTES_PER_SECOND."""
        seconds = IDLE_SECONDS + size / MIN_BYTES_PER_SECOND
        self.reader.deadline = time.monotonic() + seconds
        self.connection.settimeout(seconds)  # a send's timeout is for the whole send

    def _send(self, status: int, body: bytes, content_type: str, headers=None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", _CSP)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self._may_take(len(body))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, value, status: int = 200) -> None:
        self._send(status, json.dumps(value).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self.close_connection = True
        self._json({"error": message}, status)

    def _route(self, method: str) -> None:
        try:
            url = urllib.parse.urlsplit(self.path)
            self._check_host()
            query = urllib.parse.parse_qs(url.query)
            if method == "GET" and url.path in ("/", "/index.html"):
                return self._page(query)
            self._check_token()
            if method == "POST":
                if self.headers.get(POST_HEADER[0]) != POST_HEADER[1]:
                    raise HttpError(403, f"a request from the page needs the header "
                                         f"{POST_HEADER[0]}: {POST_HEADER[1]}")
            parts = [urllib.parse.unquote(p) for p in url.path.strip("/").split("/")]
            handler = self._handler(method, parts)
            if handler is None:
                raise HttpError(404, f"no such page: {url.path}")
            handler(*parts[2:3] if parts[:2] == ["api", "runs"] and len(parts) > 2 else ())
        except HttpError as error:
            self._error(error.status, str(error))
        except NSTError as error:
            self._error(400, str(error))
        except socket.timeout:  # too slow: the connection goes, with a line if it can
            try:
                self._error(408, "the request took too long")
            except OSError:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as error:  # a bug: the log gets the traceback, the page one line
            import traceback
            traceback.print_exc()
            try:
                self._error(500, f"internal error ({type(error).__name__}); see the server's log")
            except OSError:
                pass

    def _handler(self, method: str, parts):
        if method == "GET":
            if len(parts) == 1 and parts[0] in ("page.js", "page.css"):
                return lambda: self._static(parts[0])
            if parts == ["api", "info"]:
                return self._info
            if len(parts) == 2 and parts[0] == "examples":
                return lambda: self._example(parts[1])
            if len(parts) == 3 and parts[:2] == ["api", "uploads"]:
                return lambda: self._upload_png(parts[2])
            if len(parts) == 3 and parts[:2] == ["api", "clips"]:
                return lambda: self._clip_png(parts[2])
            if len(parts) == 3 and parts[:2] == ["api", "runs"]:
                return self._status
            if len(parts) == 4 and parts[:2] == ["api", "runs"]:
                return {"events": self._events, "preview.jpg": self._preview,
                        "result.png": self._result, "sheet.png": self._sheet,
                        "mask.png": self._mask, "command.txt": self._command,
                        "result.mp4": self._clip_made}.get(parts[3])
        if method == "POST":
            if parts == ["api", "uploads"]:
                return self._upload
            if parts == ["api", "clips"]:
                return self._clip_upload
            if parts == ["api", "check"]:
                return self._check
            if parts == ["api", "runs"]:
                return self._submit
            if len(parts) == 4 and parts[:2] == ["api", "runs"] and parts[3] == "stop":
                return self._stop
        return None

    def do_GET(self):
        self._route("GET")

    def do_HEAD(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def _check_host(self) -> None:
        if self.server.loopback:
            host = (self.headers.get("Host") or "").lower()
            if host not in self.server.allowed_hosts():
                raise HttpError(403, f"this server answers only to 127.0.0.1:{self.server.port} "
                                     f"or localhost:{self.server.port}, not {host or 'no host'}")

    def _given_token(self, query=None) -> Optional[str]:
        token = self.headers.get("X-Token")
        if token is None and self.headers.get("Cookie"):
            cookie = SimpleCookie()
            try:
                cookie.load(self.headers["Cookie"])
            except Exception:
                cookie = {}
            if TOKEN_COOKIE in cookie:
                token = cookie[TOKEN_COOKIE].value
        if token is None and query and query.get("token"):
            token = query["token"][0]
        return token

    def _token_ok(self, query=None) -> bool:
        expected = self.server.token
        if expected is None:
            return True
        given = self._given_token(query)
        return given is not None and hmac.compare_digest(given.encode(), expected.encode())

    def _check_token(self) -> None:
        if not self._token_ok():
            raise HttpError(401, "this server needs its token: open the address it printed "
                                 "(…/?token=…)")

    def _body(self, limit_mb: float, what: str) -> bytes:
        length = self.headers.get("Content-Length")
        if length is None:
            raise HttpError(411, "the request needs a Content-Length")
        try:
            length = int(length)
        except ValueError:
            raise HttpError(400, "bad Content-Length") from None
        if length > limit_mb * MB:
            raise HttpError(413, f"{what} is {length / MB:.1f} MB, more than the "
                                 f"{limit_mb:g} MB this server takes")
        self._may_take(length)
        data = self.rfile.read(length)
        if len(data) != length:
            raise HttpError(400, "the request ended early")
        return data

    def _json_body(self) -> dict:
        try:
            value = json.loads(self._body(MAX_JSON_MB, "the request") or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise HttpError(400, "the request is not JSON") from None
        if not isinstance(value, dict):
            raise HttpError(400, "the request is not a JSON object")
        return value

    def _run(self, run_id: str) -> Run:
        run = self.server.queue.get(run_id)
        if run is None:
            raise HttpError(404, "no such run (finished runs are forgotten after a while, and "
                                 "all of them when the server restarts)")
        return run

    # -- pages ---------------------------------------------------------------------------------

    def _page(self, query) -> None:
        if not self._token_ok(query):
            body = ("<!doctype html><meta charset=utf-8><title>nst-tf</title>"
                    "<p>This server needs its token: open the address it printed "
                    "(http://…/?token=…).</p>").encode()
            return self._send(401, body, _TYPES[".html"])
        headers = {}
        if self.server.token and query.get("token"):
            cookie = SimpleCookie()
            cookie[TOKEN_COOKIE] = self.server.token
            cookie[TOKEN_COOKIE]["httponly"] = True
            cookie[TOKEN_COOKIE]["samesite"] = "Strict"
            cookie[TOKEN_COOKIE]["path"] = "/"
            headers["Set-Cookie"] = cookie[TOKEN_COOKIE].OutputString()
        self._send(200, (STATIC / "page.html").read_bytes(), _TYPES[".html"], headers)

    def _static(self, name: str) -> None:
        self._send(200, (STATIC / name).read_bytes(), _TYPES[Path(name).suffix])

    def _example(self, name: str) -> None:
        if name not in EXAMPLES or not (EXAMPLES_DIR / name).is_file():
            raise HttpError(404, f"no example {name!r}")
        self._send(200, (EXAMPLES_DIR / name).read_bytes(), _TYPES[".jpg"],
                   {"Cache-Control": "max-age=3600"})

    def _info(self) -> None:
        server = self.server
        self._json({
            "fields": server.fields,
            "examples": [name for name in EXAMPLES if (EXAMPLES_DIR / name).is_file()],
            "example_pairs": [pair for pair in EXAMPLE_PAIRS
                              if all((EXAMPLES_DIR / name).is_file() for name in pair)],
            "region_colors": list(REGION_COLORS), "max_textures": MAX_TEXTURES,
            "preview_size": PREVIEW_SIZE,
            "max_megapixels": server.max_megapixels, "max_upload_mb": server.max_upload_mb,
            "max_clip_mb": server.max_clip_mb, "video": video_available(),
            "max_frames": VIDEO_MAX_FRAMES,
            "weights": server.weights, "preset": server.weights_preset or "imagenet",
            "network": server.network, "seamless_modes": list(SEAMLESS_MODES),
        })

    # -- photos and runs -----------------------------------------------------------------------

    def _upload(self) -> None:
        name = display_name(urllib.parse.unquote(self.headers.get("X-Filename", "")))
        role = (self.headers.get("X-Role") or "").strip().lower()
        if role and role not in UPLOAD_ROLES:
            raise HttpError(400, f"X-Role must be one of {', '.join(UPLOAD_ROLES)}, not {role!r}")
        data = self._body(self.server.max_upload_mb, name)
        image = decode_photo(data, name, self.server.max_megapixels)  # checks it all
        if role == "content":  # refused now, not when Start is pressed
            message = too_small(name, image.shape[1], image.shape[0])
            if message:
                raise NSTError(message)
        upload = Upload(data, name, image.shape[1], image.shape[0], role)
        self.server.keep_upload(upload)
        self._json({"id": upload.id, "name": name, "width": upload.width,
                    "height": upload.height})

    def _upload_of(self, spec, role: str) -> Upload:
        """The upload {'upload': id} names; NSTError when it is not one, or forgotten."""
        if not isinstance(spec, dict):
            raise NSTError(f"the {role} must be given as an upload")
        with self.server.uploads_lock:
            upload = self.server.uploads.get(str(spec.get("upload")))
        if upload is None:
            raise NSTError(f"the {role} is no longer on the server; choose it again")
        return upload

    def _photo(self, spec, role: str):
        """(uint8 array, name for the command line, where it comes from: 'example' or
        'upload') of {'upload': id} or {'example': name}."""
        if not isinstance(spec, dict):
            raise NSTError(f"choose a {role} photo")
        if "example" in spec:
            name = spec["example"]
            if name not in EXAMPLES or not (EXAMPLES_DIR / name).is_file():
                raise NSTError(f"no example {name!r}")
            return self.server.decoded(("example", name), lambda: (
                (EXAMPLES_DIR / name).read_bytes(), name)), name, "example"
        upload = self._upload_of(spec, role + " photo")
        return self.server.decoded(("upload", upload.id),
                                   lambda: (upload.data, upload.name)), upload.name, "upload"

    def _asked(self) -> "Asked":
        """The run a check or a start asks for; NSTError with one line when it cannot run."""
        server = self.server
        body = self._json_body()
        settings = body.get("settings") or {}
        if not isinstance(settings, dict):
            raise NSTError("settings must be a JSON object")
        config = config_from_form(settings, server.weights, server.weights_preset,
                                  server.network)
        content = mask = clip = video = None
        files, names = [], {"content": None, "texture": None}
        frames = 0
        if isinstance(body.get("content"), dict) and "clip" in body["content"]:
            if config.mode == "synthesize":
                raise NSTError("mode: synthesize makes a picture from the texture alone; a "
                               "clip needs texture, style or reconstruct")
            clip = server.clips.get(body["content"]["clip"])
            if clip is None:
                raise NSTError("the clip is no longer on the server; choose it again")
            video = video_settings_of(body.get("video"))
            content, names["content"] = clip.first, clip.name
            files.append((clip.name, "upload"))
        elif config.mode != "synthesize" or (config.size == (0, 0) and body.get("content")):
            content, names["content"], kind = self._photo(body.get("content"), "content")
            files.append((names["content"], kind))
        if content is not None:  # before the plan's message, which speaks of a split
            message = too_small(names["content"], content.shape[1], content.shape[0],
                                "the content " + ("clip" if clip is not None else "photo"))
            if message:
                raise NSTError(message)
        textures, texture_names = [], []
        if config.mode != "reconstruct":
            specs = body.get("texture")
            specs = specs if isinstance(specs, list) else [specs]
            if not 1 <= len(specs) <= MAX_TEXTURES:
                raise NSTError(f"give one to {MAX_TEXTURES} textures, not {len(specs)}")
            for number, spec in enumerate(specs, 1):
                role = "texture" if len(specs) == 1 else f"texture {number}"
                texture, name, kind = self._photo(spec, role)
                textures.append(texture)
                texture_names.append(name)
                if name not in [file for file, _ in files]:
                    files.append((name, kind))
            names["texture"] = " + ".join(texture_names)
            if content is None and config.size == (0, 0):  # synthesis at the texture's size
                message = too_small(texture_names[0], textures[0].shape[1], textures[0].shape[0],
                                    "the texture (which sets the size here)")
                if message:
                    raise NSTError(message)
        if body.get("mask") is not None:
            if content is None or not textures:
                raise NSTError("a painted mask needs a content and a texture")
            upload = self._upload_of(body["mask"], "painted mask")
            mask = server.decoded(("upload", upload.id), lambda: (upload.data, upload.name))
            # One texture: a gray mask (soft edges); several: a label image, a colour each.
            colours = REGION_COLORS[:len(textures)] if len(textures) > 1 else ()
            config = config.replace(content_mask=MASK_NAME, region_colors=colours)
            files.append((MASK_NAME, "mask"))
        elif len(textures) > 1:
            raise NSTError("several textures need a painted mask: paint where each one goes")
        prepared = server.queue.check(config, content, textures, mask)
        size, steps = prepared.plan.output, list(prepared.plan.reported)
        if size[0] * size[1] > server.max_megapixels * 1e6:
            raise NSTError(f"max_dim {config.max_dim} makes the result {size[0]}x{size[1]} px "
                           f"({size[0] * size[1] / 1e6:.1f} MP), more than the "
                           f"{server.max_megapixels:g} MP this server makes; lower it")
        if clip is not None:
            frames = len(self._clip_plan(clip, config, video).numbers)
            command = video_command_line(config, clip.name, texture_names, video)
        else:
            command = command_line(config, names["content"], texture_names)
        command = where_to_run(files) + "\n" + command
        echo = {key: body.get(key) for key in ("content", "texture", "mask", "settings", "video")}
        return Asked(config, content, textures, mask, names, command, size, steps, echo,
                     tiles_of(prepared.plan), clip, video, frames,
                     prepared if clip is None else None)

    def _clip_plan(self, clip, config: TransferConfig, video) -> "VideoPlan":
        """A clip run's plan: the video command's checks (nst_tf.video.transfer.plan_clip), in
        the page's words: the names the user sent, never the server's paths, and the server's
        limit on frames, which the page cannot raise."""
        from nst_tf.video.transfer import TooManyFrames, plan_clip
        output = self.server.clips.folder / "result.mp4"
        try:
            return plan_clip(clip.clip, output, config, video)
        except TooManyFrames as error:
            raise NSTError(f"frames: {error.count} frames to make, more than the {error.limit} "
                           "this server makes; take a part (A:B) or every N-th") from None
        except NSTError as error:
            raise NSTError(str(error).replace(str(output), output.name).replace(
                str(clip.clip.path), clip.name)) from None

    def _all_steps(self, asked: "Asked") -> list:
        """The steps of the run, level by level; a clip's first frame's, then each later one's."""
        if asked.clip is None:
            return asked.steps
        return asked.steps + [asked.video.later_steps] * (asked.frames - 1)

    def _check(self) -> None:
        asked = self._asked()
        queue = self.server.queue
        self._json({"ok": True, "width": asked.size[0], "height": asked.size[1],
                    "steps": asked.steps, "command": asked.command,
                    "optimizer": asked.config.optimizer, "tiles": len(asked.tiles),
                    "frames": asked.frames,
                    "later_steps": asked.video.later_steps if asked.video else None,
                    "estimate_seconds": queue.estimate(asked.size, self._all_steps(asked),
                                                       builds=max(1, asked.frames)),
                    "building_seconds": queue.building(asked.size)})

    def _submit(self) -> None:
        asked = self._asked()
        queue, clips = self.server.queue, self.server.clips
        clip = asked.clip
        if clip is not None:  # kept until the run no longer needs it (Run.let_go)
            clips.hold(clip.id)
        run = Run(asked.config, asked.content, asked.textures, asked.names, asked.command,
                  asked.size, asked.steps, content_mask=asked.mask, asked=asked.echo,
                  tiles=asked.tiles, clip=clip, video=asked.video, frames=asked.frames,
                  folder_for=None if clip is None else clips.run_folder,
                  release=None if clip is None else lambda: clips.release(clip.id),
                  prepared=asked.prepared)
        try:
            queue.submit(run)
        except NSTError:
            run.let_go()
            run.remove_folder()
            raise
        with queue.changed:
            status = queue.status(run)
        self.server.log(f"run {run.id}: queued, place {status['position']}")
        self._json(status)

    def _status(self, run_id: str) -> None:
        run = self._run(run_id)
        queue = self.server.queue
        with queue.changed:
            self._json(queue.status(run))

    def _stop(self, run_id: str) -> None:
        queue = self.server.queue
        run = queue.stop(run_id)
        if run is None:
            raise HttpError(404, "no such run")
        with queue.changed:
            self._json(queue.status(run))

    def _events(self, run_id: str) -> None:
        """Server-sent events: the status (with the reports not sent yet) whenever the run
        changes, a comment every HEARTBEAT_SECONDS otherwise; ends when the run has finished,
        the page has gone (a closed tab leaves the run as it is), or newer streams push it out
        (MAX_EVENT_STREAMS)."""
        run = self._run(run_id)
        self.close_connection = True
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Accel-Buffering", "no")
        self.end_headers()
        ended = self.server.open_stream()
        try:
            self._stream(run, ended)
        finally:
            self.server.close_stream(ended)

    def _stream(self, run: Run, ended: threading.Event) -> None:
        queue = self.server.queue
        sent, seen, spoke = 0, -1, time.monotonic()
        while not ended.is_set():
            with queue.changed:
                if run.version == seen and not queue.closing:
                    queue.changed.wait(GONE_SECONDS)
                news = run.version != seen or queue.closing
                if news:
                    seen = run.version
                    status = queue.status(run, since=sent)
                    sent = status["count"]
                    finished = run.state in FINISHED or queue.closing
            if news:
                self._write_event(b"data: " + json.dumps(status).encode() + b"\n\n")
                spoke = time.monotonic()
                with queue.changed:
                    if finished and seen == run.version:
                        return
                time.sleep(0.05)  # at most 20 messages a second; the reports between are batched
            elif self._page_gone():
                return
            elif time.monotonic() - spoke >= HEARTBEAT_SECONDS:
                self._write_event(b": still here\n\n")
                spoke = time.monotonic()

    def _write_event(self, message: bytes) -> None:
        self.connection.settimeout(IDLE_SECONDS)  # a page that stops reading is let go
        self.wfile.write(message)
        self.wfile.flush()

    def _page_gone(self) -> bool:
        """Whether the page closed the connection (an event stream's page sends nothing)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True

    def _preview(self, run_id: str) -> None:
        run = self._run(run_id)
        with self.server.queue.changed:
            preview = run.preview
        if preview is None:
            raise HttpError(404, "no picture yet")
        self._send(200, preview, _TYPES[".jpg"])

    def _download(self, run_id: str, what: str, filename: str) -> None:
        run = self._run(run_id)
        data = run.png(what)
        if data is None:
            raise HttpError(404, "no result yet: wait for the run to end, or stop it")
        self._send(200, data, _TYPES[".png"],
                   {"Content-Disposition": f'attachment; filename="{filename}"'})

    def _result(self, run_id: str) -> None:
        self._download(run_id, "result", "result.png")

    def _sheet(self, run_id: str) -> None:
        self._download(run_id, "sheet", "sheet.png")

    def _mask(self, run_id: str) -> None:
        run = self._run(run_id)
        if run.mask_png is None:
            raise HttpError(404, "this run has no painted mask")
        self._send(200, run.mask_png, _TYPES[".png"],
                   {"Content-Disposition": f'attachment; filename="{MASK_NAME}"'})

    def _upload_png(self, upload_id: str) -> None:
        upload = self._upload_of({"upload": upload_id}, "photo")
        image = self.server.decoded(("upload", upload.id), lambda: (upload.data, upload.name))
        self._send(200, encode_image(image, ".png"), _TYPES[".png"])

    def _clip_upload(self) -> None:
        name = display_name(urllib.parse.unquote(self.headers.get("X-Filename", "")),
                            "clip.mp4")
        data = self._body(self.server.max_clip_mb, name)
        clip = self.server.clips.add(data, name)  # checks it all
        self._json({"id": clip.id, "name": name, "frames": clip.clip.frames,
                    "fps": clip.clip.fps, "width": clip.clip.size[0],
                    "height": clip.clip.size[1], "audio": clip.clip.audio})

    def _clip_png(self, clip_id: str) -> None:
        clip = self.server.clips.get(clip_id)
        if clip is None:
            raise HttpError(404, "the clip is no longer on the server; choose it again")
        self._send(200, encode_image(clip.first, ".png"), _TYPES[".png"])

    def _clip_made(self, run_id: str) -> None:
        run = self._run(run_id)
        with self.server.queue.changed:
            path = run.video_file
        if path is None or not path.is_file():
            raise HttpError(404, "no clip yet: wait for the run to end, or stop it")
        self._send(200, path.read_bytes(), _TYPES[".mp4"],
                   {"Content-Disposition": 'attachment; filename="result.mp4"'})

    def _command(self, run_id: str) -> None:
        run = self._run(run_id)
        self._send(200, (run.command + "\n").encode(), "text/plain; charset=utf-8",
                   {"Content-Disposition": 'attachment; filename="transfer-command.txt"'})
