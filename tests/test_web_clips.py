"""A clip through the web page's server: the upload checked and kept in a private folder, the
run frame by frame with its progress, the clip made (also by a Stop), the command line, and
nothing left on disk when the server stops. Tiny synthetic clips (64x48, random weights)."""
import shutil
import stat
import time
import urllib.parse

import pytest

pytest.importorskip("cv2")
pytest.importorskip("imageio_ffmpeg")

from conftest import ROOT, encoded_clip, panned, run_as_given  # noqa: E402
from nst_tf.video.clip import open_clip  # noqa: E402
from nst_tf.web import make_server  # noqa: E402
from test_web import Client, finished  # noqa: E402

SETTINGS = {"max_dim": "64", "iterations": "3"}
GRAVEL = {"example": "gravel.jpg"}


@pytest.fixture
def client(server):
    return Client(server)


def upload_clip(client, data, name):
    return client.post("/api/clips", data, {"X-Filename": urllib.parse.quote(name)})


@pytest.fixture
def clip_bytes(tmp_path):
    return encoded_clip(tmp_path / "source.mp4", panned(count=6)).read_bytes()


def test_a_clip_runs_frame_by_frame_and_gives_its_clip_and_a_command_that_runs(
        client, server, clip_bytes, tmp_path):
    status, clip = upload_clip(client, clip_bytes, "my walk.mp4")
    assert status == 200, clip
    assert (clip["frames"], clip["fps"], clip["width"], clip["height"], clip["audio"]) == (
        6, 10.0, 64, 48, True)
    folder = server.clips.folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # this user's only
    assert [p.name for p in folder.iterdir()] == [f"clip_{clip['id']}.mp4"]  # not its name
    status, first = client.get(f"/api/clips/{clip['id']}")
    assert status == 200 and first[:8] == b"\x89PNG\r\n\x1a\n"

    asked = {"content": {"clip": clip["id"]}, "texture": GRAVEL, "settings": SETTINGS,
             "video": {"frames": "1:4"}}
    status, plan = client.post("/api/check", asked)
    assert status == 200, plan
    assert (plan["width"], plan["height"], plan["frames"]) == (64, 48, 3)
    assert plan["later_steps"] == 20 and plan["estimate_seconds"] > 0
    status, run = client.post("/api/runs", asked)
    assert status == 200, run
    # The time left while it runs: never "-" again once a step is made, a new frame's
    # building included (it goes on from the frame before's pace).
    seen, deadline = [], time.time() + 300
    while not finished(status := client.status(run["id"])) and time.time() < deadline:
        if status["state"] == "running":
            seen.append((status["clip"]["done"], status["count"], status["seconds_left"]))
        time.sleep(0.05)
    done = client.status(run["id"])
    assert done["state"] == "done", done["message"]
    assert [left for _, _, left in seen if left is None] == [], seen
    assert {frame for frame, _, _ in seen} >= {1, 2}, seen  # the later frames were watched
    assert all(left > 0 for frame, _, left in seen if frame < 2), seen
    assert done["clip"] == {"frames": 3, "done": 3, "later_steps": 20, "video": True}
    # every frame's steps were reported: the first frame's 3, then 20 for each later one
    assert done["count"] == 3 + 2 * 20
    status, made = client.get(f"/api/runs/{run['id']}/result.mp4")
    assert status == 200 and made[4:8] == b"ftyp"
    (tmp_path / "made.mp4").write_bytes(made)
    out = open_clip(tmp_path / "made.mp4")
    assert (out.frames, out.fps, out.size, out.audio) == (3, 10.0, (64, 48), True)
    status, picture = client.get(f"/api/runs/{run['id']}/result.png")
    assert status == 200 and picture[:4] == b"\x89PNG"

    where, command = done["command"].split("\n")
    assert where == ("# Run in a folder holding my walk.mp4 and gravel.jpg (the example from "
                     "nst-tf's examples/ folder):")
    assert command == ("nst-tf video '--content=my walk.mp4' --texture=gravel.jpg "
                       "--output=result.mp4 --frames=1:4 --max_dim=64 --iterations=3 "
                       "--weights=random")
    # Run as given, in a folder holding those files (`nst-tf`: the console script pip
    # installs; here python -m nst_tf from this checkout).
    photos, tools = tmp_path / "photos", tmp_path / "bin"
    photos.mkdir()
    tools.mkdir()
    (photos / "my walk.mp4").write_bytes(clip_bytes)
    shutil.copy(ROOT / "examples" / "gravel.jpg", photos / "gravel.jpg")
    ran = run_as_given(done["command"], photos, tools)
    assert ran.returncode == 0, ran.stderr[-2000:]
    again = open_clip(photos / "result.mp4")
    assert (again.frames, again.size) == (3, (64, 48))


def test_stop_keeps_the_finished_frames_as_a_shorter_clip(client, clip_bytes, tmp_path):
    status, clip = upload_clip(client, clip_bytes, "walk.mp4")
    assert status == 200, clip
    status, run = client.post("/api/runs", {"content": {"clip": clip["id"]}, "texture": GRAVEL,
                                            "settings": SETTINGS})
    assert status == 200, run
    client.wait(run["id"], lambda s: s["clip"]["done"] >= 1 or finished(s), timeout=300)
    client.post(f"/api/runs/{run['id']}/stop")
    stopped = client.wait(run["id"], finished, timeout=300)
    done = stopped["clip"]["done"]
    assert stopped["state"] == "stopped" and 1 <= done < 6, stopped
    assert stopped["message"].endswith(
        f"; the clip has the {done} finished frame{'s' if done > 1 else ''}")
    assert stopped["clip"]["video"] and stopped["result"]
    status, made = client.get(f"/api/runs/{run['id']}/result.mp4")
    assert status == 200
    (tmp_path / "made.mp4").write_bytes(made)
    assert open_clip(tmp_path / "made.mp4").frames == done


@pytest.mark.parametrize("data, name, message", [
    (b"not a video at all" * 100, "holiday.mp4", "holiday.mp4: not a video this tool can read"),
    (b"\x89PNG\r\n\x1a\n", "photo.png", "photo.png: send a clip as .mp4, .mov, .mkv, .webm, "
                                         ".avi, .m4v, .gif"),
], ids=["not a video", "a photo"])
def test_a_file_that_is_not_a_clip_is_one_line_and_leaves_nothing(client, server, data, name,
                                                                   message):
    before = set(server.clips.folder.iterdir())
    status, answer = upload_clip(client, data, name)
    assert status == 400 and answer["error"].startswith(message), answer
    assert "\n" not in answer["error"] and str(server.clips.folder) not in answer["error"]
    assert set(server.clips.folder.iterdir()) == before


def test_a_clips_frames_and_mode_are_checked_before_it_joins_the_line(client, clip_bytes):
    clip = upload_clip(client, clip_bytes, "walk.mp4")[1]
    asked = {"content": {"clip": clip["id"]}, "texture": GRAVEL, "settings": SETTINGS}
    for video, settings, message in [
            ({"frames": "4:2"}, SETTINGS, "--frames 4:2 selects no frame of the clip's 6"),
            ({"every": "two"}, SETTINGS, "every takes a whole number, got 'two'"),
            ({}, {**SETTINGS, "mode": "synthesize"}, "mode: synthesize makes a picture from "
             "the texture alone; a clip needs texture, style or reconstruct"),
            ({}, {"max_dim": "63", "iterations": "3"}, "result.mp4: the frames would be 63x47 "
             "px")]:
        status, answer = client.post("/api/check", {**asked, "video": video,
                                                    "settings": settings})
        assert status == 400 and answer["error"].startswith(message), answer
    status, answer = client.post("/api/check", {**asked, "content": {"clip": "forgotten"}})
    assert status == 400 and answer["error"] == ("the clip is no longer on the server; choose "
                                                 "it again")


def test_the_server_takes_clips_up_to_its_limit_and_removes_them_when_it_stops(clip_bytes):
    import threading
    server = make_server(weights="random", port=0, max_clip_mb=len(clip_bytes) / 2 ** 20)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = Client(server)
        status, clip = upload_clip(client, clip_bytes, "walk.mp4")
        assert status == 200, clip
        status, answer = upload_clip(client, clip_bytes + b"\0", "long.mp4")
        assert status == 413 and answer["error"].startswith("long.mp4 is ")
        folder = server.clips.folder
        assert folder.is_dir()
        info = client.get("/api/info")[1]
        assert info["video"] is True and info["max_clip_mb"] == pytest.approx(
            len(clip_bytes) / 2 ** 20)
    finally:
        server.close()
    assert not folder.exists()


def test_a_clip_run_is_checked_by_the_video_plan_in_the_pages_words(client, clip_bytes,
                                                                    monkeypatch):
    import dataclasses

    import nst_tf.web.server as web_server
    clip = upload_clip(client, clip_bytes, "walk.mp4")[1]
    asked = {"content": {"clip": clip["id"]}, "texture": GRAVEL, "settings": SETTINGS}
    # The limit is the server's: a page asking for a lower (or higher) one is not heard.
    status, plan = client.post("/api/check", {**asked, "video": {"max_frames": "1"}})
    assert status == 200 and plan["frames"] == 6, plan
    own = web_server.video_settings_of
    monkeypatch.setattr(web_server, "video_settings_of",
                        lambda spec: dataclasses.replace(own(spec), max_frames=2))
    status, answer = client.post("/api/check", asked)
    assert status == 400 and answer["error"] == (
        "frames: 6 frames to make, more than the 2 this server makes; take a part (A:B) or "
        "every N-th")
    status, plan = client.post("/api/check", {**asked, "video": {"frames": "1:3"}})
    assert status == 200 and plan["frames"] == 2, plan
