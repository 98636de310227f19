"""The web page in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright,
against a server this module starts (random weights, tiny pictures).

Needs `pip install playwright` and `apt-get install chromium` (Playwright's own browser
download is not used); the module is skipped without them. With NST_TF_SCREENSHOT=1 it also
rewrites examples/web/page.png and phone.png: the page mid-run on the shipped photos
examples/cat.jpg, gravel.jpg and brick.jpg, regions painted, at a desktop's width and a phone's
(with the real weights when NST_TF_REAL_WEIGHTS or the shared folder has them).
"""
import base64
import io
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

CHROMIUM = Path(os.environ.get("NST_TF_CHROMIUM", "/usr/bin/chromium"))
pytestmark = pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"no browser at {CHROMIUM} "
                                "(apt-get install chromium; NST_TF_CHROMIUM)")
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")

from conftest import (ROOT, SHARED_WEIGHTS, needs_shared_weights, random_image,  # noqa: E402
                      region_texture_distances, serving)

SCREENSHOT = ROOT / "examples" / "web" / "page.png"  # and phone.png beside it
# Two shared cores under load: each check of the page may wait for a step of the run.
sync_api.expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM),
                                             args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    context.set_default_timeout(60_000)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(server.url)
    page.wait_for_selector("#setting-max_dim")
    yield page
    context.close()
    assert errors == []


def write_png(path, image):
    Image.fromarray(np.asarray(image, np.uint8)).save(path)
    return path


def wait_until(condition, timeout=120.0, what="the page"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} never got there")


def start_a_run_that_goes_on(page, plan):
    """Starts 5000 steps at 48 px with no early end on a plateau (a run that is stopped, not
    finished), once the page shows `plan`; returns when it is running."""
    page.fill("#setting-max_dim", "48")
    page.fill("#setting-iterations", "5000")
    page.click("#more summary")
    page.fill("#setting-min_learning_rate", "0")
    sync_api.expect(page.locator("#plan")).to_contain_text(plan)
    page.click("#start")
    sync_api.expect(page.locator("#run-state")).to_contain_text("running", timeout=120_000)


def test_upload_start_watch_stop_and_download(page, tmp_path):
    content = write_png(tmp_path / "content.png", random_image((40, 56), 1))
    texture = write_png(tmp_path / "texture.png", random_image((50, 50), 2))
    page.set_input_files("#content-file", str(content))
    page.set_input_files("#texture-file", str(texture))
    sync_api.expect(page.locator("#content-name")).to_contain_text("content.png (56×40)")
    sync_api.expect(page.locator("#texture-name")).to_contain_text("texture.png (50×50)")
    assert page.locator("#clip-fields").is_hidden()  # a clip's Frames and Every: a photo has none
    page.fill("#setting-max_dim", "48")
    page.fill("#setting-iterations", "2000")
    page.fill("#setting-texture_weight", "100")  # random weights: a texture part that moves pixels
    page.click("#more summary")  # the rest of the settings: no early end on a plateau
    page.fill("#setting-min_learning_rate", "0")
    sync_api.expect(page.locator("#plan")).to_have_text(re.compile(
        r"Result: 48×34 px, up to 2000 adam steps \(about \d+ (s|min \d\d s)\)\."))
    page.focus("#start")
    page.keyboard.press("Enter")  # Start by keyboard: the focus goes on to Stop
    sync_api.expect(page.locator("#run-state")).to_contain_text("running", timeout=120_000)
    assert focused(page) == "stop"
    pictures, live = {}, page.locator("#live")

    def two_pictures():  # each new live picture as the page shows it
        source = live.get_attribute("src")
        if source and source not in pictures and live.evaluate("e => e.complete"):
            pictures[source] = live.screenshot()
        return len(set(pictures.values())) >= 2
    wait_until(two_pictures, what="two different live pictures")
    assert live.evaluate("e => [e.naturalWidth, e.naturalHeight]") == [48, 34]
    assert re.fullmatch(r"\d+ / 2000", page.locator("#stat-step").inner_text())
    assert page.locator("#losses tbody tr").count() >= 2  # the total and its parts
    assert page.locator("#plot polyline").count() >= 1
    page.keyboard.press("Enter")  # Stop, by keyboard: at the end the focus is on the result
    sync_api.expect(page.locator("#run-state")).to_have_text("– stopped", timeout=60_000)
    sync_api.expect(page.locator("#download-result")).to_be_focused()
    # A photo's run without painted regions: no clip and no mask to download.
    assert page.locator("#download-video").is_hidden() and page.locator("#download-mask").is_hidden()
    assert page.locator("#download-sheet").is_visible() and page.locator("#clip-fields").is_hidden()
    with page.expect_download() as download:
        page.click("#download-result")
    path = download.value.path()
    with Image.open(path) as result:
        assert (result.format, result.size) == ("PNG", (48, 34))
    assert page.locator("#command").inner_text().startswith(
        "# Run in a folder holding content.png and texture.png:\n"
        "nst-tf transfer --content=content.png --texture=texture.png")
    # Before and after: the content photo over the result, up to the slider, by keyboard too.
    before = page.locator("#before")
    assert before.is_hidden()
    page.focus("#compare-position")
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    sync_api.expect(before).to_be_visible()
    assert before.evaluate("e => getComputedStyle(e).clipPath") == "inset(0px 95% 0px 0px)"
    page.keyboard.press("End")
    assert before.evaluate("e => getComputedStyle(e).clipPath") == "inset(0px 0% 0px 0px)"
    assert page.locator("#texture-shown").is_visible()


def focused(page):
    return page.evaluate("document.activeElement && document.activeElement.id")


def painted(page):
    """The share of the painting canvas's pixels with paint on them."""
    return page.evaluate("""() => { const c = document.getElementById('paint-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) n += d[i] > 0;
        return n / (c.width * c.height); }""")


def test_refused_photos_keep_the_choice_before_and_a_reload_keeps_the_choices(page, tmp_path):
    # A photo too small for the content is refused as soon as it is chosen, in plain words.
    dot = write_png(tmp_path / "dot.png", np.zeros((1, 1, 3)))
    page.set_input_files("#content-file", str(dot))
    sync_api.expect(page.locator("#content-message")).to_have_text(
        "dot.png: the photo is 1x1 px; it must be at least 32 px on each side")
    assert page.locator("#content-thumb").is_hidden()
    page.click("#texture-examples >> text=gravel.jpg")
    # Start cannot start a run: it is marked so, and a press says why (every time).
    sync_api.expect(page.locator("#start")).to_have_attribute("aria-disabled", "true")
    page.click("#start", force=True)
    sync_api.expect(page.locator("#start-message")).to_have_text(
        "Not started: choose a content photo first.")
    assert page.locator("#run").is_hidden()
    content = write_png(tmp_path / "content.png", random_image((40, 56), 1))
    page.set_input_files("#content-file", str(content))
    sync_api.expect(page.locator("#content-name")).to_have_text("content.png (56×40)")
    sync_api.expect(page.locator("#start")).to_have_attribute("aria-disabled", "false")
    sync_api.expect(page.locator("#start-message")).to_have_text("")
    # A file that is no photo: refused, and the photo chosen before stays chosen.
    notes = tmp_path / "holiday.jpg"
    notes.write_text("not a photo at all\n")
    page.set_input_files("#content-file", str(notes))
    sync_api.expect(page.locator("#content-message")).to_have_text(
        "holiday.jpg: not an image, or a format this tool cannot read (the photo chosen "
        "before is kept)")
    sync_api.expect(page.locator("#content-name")).to_have_text("content.png (56×40)")
    assert page.locator("#content-thumb").is_visible()
    page.fill("#setting-max_dim", "48")
    sync_api.expect(page.locator("#plan")).to_contain_text("Result: 48×34 px")
    # Painting by keyboard: on the canvas, Space puts the brush down, arrows paint along.
    page.click("#paint-open")
    page.locator("#brush-size").fill("8")
    page.focus("#paint-canvas")
    sync_api.expect(page.locator("#paint-cursor")).to_be_visible()
    page.keyboard.press("Space")
    for _ in range(3):
        page.keyboard.press("ArrowRight")  # 4 px each (half the brush)
    page.keyboard.press("Space")
    sync_api.expect(page.locator("#paint-status")).to_contain_text("lifted")
    sync_api.expect(page.locator("#mask-name")).to_have_text("regions painted")
    stroke = painted(page)
    assert 0.03 < stroke < 0.3, stroke  # a short band across the middle of the 56x40 canvas
    page.focus("#paint-close")
    page.keyboard.press("Enter")  # Done: the focus back on the button that opened it
    assert page.locator("#regions").is_hidden() and focused(page) == "paint-open"
    # A reload before Start: the photos, the settings and the painting come back.
    page.reload()
    page.wait_for_selector("#setting-max_dim")
    sync_api.expect(page.locator("#content-name")).to_have_text("content.png (56×40)")
    sync_api.expect(page.locator("#texture-name")).to_have_text("examples/gravel.jpg")
    sync_api.expect(page.locator("#mask-name")).to_have_text("regions painted")
    assert page.locator("#setting-max_dim").input_value() == "48"
    assert painted(page) == pytest.approx(stroke, abs=0.02)
    sync_api.expect(page.locator("#plan")).to_contain_text("Result: 48×34 px")
    # Paint all covers the picture with the chosen brush.
    page.click("#paint-open")
    page.click("#paint-all")
    assert painted(page) == 1.0


def test_a_setting_out_of_range_is_refused_on_the_page(page):
    page.click("#content-examples >> text=cat.jpg")
    page.click("#texture-examples >> text=gravel.jpg")
    page.fill("#setting-max_dim", "5")
    message = "max_dim must be 0 (full resolution) or at least 32 px, got 5"
    sync_api.expect(page.locator("#settings-message")).to_have_text(message)
    sync_api.expect(page.locator("#field-max_dim")).to_have_class(re.compile(r"\bbad\b"))
    page.click("#start", force=True)  # marked unavailable; a press says why beside it
    sync_api.expect(page.locator("#settings-message")).to_have_text(message)
    sync_api.expect(page.locator("#start-message")).to_have_text(f"Not started: {message}.")
    assert page.locator("#run").is_hidden()  # nothing started
    page.fill("#setting-max_dim", "64")
    sync_api.expect(page.locator("#settings-message")).to_have_text("")
    sync_api.expect(page.locator("#plan")).to_contain_text("Result: 64×43 px")
    page.check("#quick")  # at most 256 px: 64 stays, the default 512 becomes 256
    sync_api.expect(page.locator("#plan")).to_contain_text("Result: 64×43 px")
    page.fill("#setting-max_dim", "")
    sync_api.expect(page.locator("#plan")).to_contain_text("Result: 256×170 px")
    sync_api.expect(page.locator("#command")).to_contain_text("--max_dim=256")


def test_a_run_at_global_statistics_draws_its_tiles_over_the_picture(page):
    page.click("#pairs >> text=cat + gravel")
    page.fill("#setting-max_dim", "96")
    page.fill("#setting-iterations", "3")
    page.click("#more summary")
    page.select_option("#setting-statistics", "global")
    page.fill("#setting-tile_size", "64")
    sync_api.expect(page.locator("#plan")).to_contain_text("Result: 96×64 px")
    sync_api.expect(page.locator("#plan")).to_contain_text("the last in 2 tiles")
    page.click("#start")
    sync_api.expect(page.locator("#run-state")).to_have_text("– done", timeout=120_000)
    sync_api.expect(page.locator("#tiles")).to_be_visible()
    assert page.locator("#tiles rect").count() == 2
    assert page.locator("#tiles").get_attribute("viewBox") == "0 0 96 64"


def test_sliders_write_into_their_boxes_and_follow_what_is_typed(page):
    page.click("#pairs >> text=cat + gravel")
    strength, slider = page.locator("#setting-texture_weight"), page.locator("#slider-texture_weight")
    default = float(strength.get_attribute("placeholder"))
    assert strength.input_value() == "" and float(slider.input_value()) == 0
    page.focus("#slider-texture_weight")
    page.keyboard.press("ArrowRight")  # one step: 10 ** 0.05 times the default
    assert float(strength.input_value()) == pytest.approx(default * 10 ** 0.05, rel=5e-3)
    sync_api.expect(page.locator("#command")).to_contain_text("--texture_weight=")
    page.keyboard.press("ArrowLeft")  # back at the default: the box empty, no flag
    assert strength.input_value() == ""
    page.keyboard.press("End")
    assert float(strength.input_value()) == pytest.approx(default * 10, rel=5e-3)
    page.fill("#setting-texture_weight", str(default / 10))  # typed: the slider follows
    assert float(slider.input_value()) == pytest.approx(-1)
    steps, step_slider = page.locator("#setting-iterations"), page.locator("#slider-iterations")
    default_steps = int(steps.get_attribute("placeholder").split()[0])
    assert int(step_slider.input_value()) == default_steps
    assert int(step_slider.get_attribute("max")) == 4 * default_steps
    page.focus("#slider-iterations")
    page.keyboard.press("ArrowLeft")
    assert steps.input_value() == str(default_steps - 1)
    sync_api.expect(page.locator("#plan")).to_contain_text(f"up to {default_steps - 1} ")
    page.select_option("#setting-optimizer", "lbfgs")  # another default: the range follows
    lbfgs_steps = int(steps.get_attribute("placeholder").split()[0])
    assert int(step_slider.get_attribute("max")) == 4 * lbfgs_steps


def test_a_clip_uploaded_runs_frame_by_frame_and_its_clip_downloads(page, tmp_path):
    pytest.importorskip("imageio_ffmpeg")
    pytest.importorskip("cv2")
    from conftest import encoded_clip, panned
    clip = encoded_clip(tmp_path / "walk.mp4", panned(count=6))
    page.set_input_files("#content-file", str(clip))
    sync_api.expect(page.locator("#content-name")).to_have_text(
        "walk.mp4 (clip: 6 frames, 64×48, 10 fps, with sound)")
    sync_api.expect(page.locator("#clip-fields")).to_be_visible()
    page.click("#texture-examples >> text=gravel.jpg")
    page.fill("#setting-max_dim", "64")
    page.fill("#setting-iterations", "3")
    page.fill("#clip-frames", "9:")
    sync_api.expect(page.locator("#settings-message")).to_have_text(
        "--frames 9: selects no frame of the clip's 6")
    sync_api.expect(page.locator("#field-frames")).to_have_class(re.compile(r"\bbad\b"))
    page.fill("#clip-frames", "0:2")
    sync_api.expect(page.locator("#plan")).to_have_text(re.compile(
        r"Result: a clip of 2 frames of 64×48 px: the first up to 3 adam steps, each later one "
        r"20 \(about \d+ s\)\."))
    page.click("#start")
    sync_api.expect(page.locator("#run-state")).to_have_text("– done", timeout=240_000)
    sync_api.expect(page.locator("#stat-frame")).to_have_text("2 / 2")
    assert page.locator("#command").inner_text().startswith(
        "# Run in a folder holding walk.mp4 and gravel.jpg (the example from nst-tf's examples/ "
        "folder):\nnst-tf video --content=walk.mp4 --texture=gravel.jpg --output=result.mp4 "
        "--frames=0:2 ")
    assert page.locator("#download-mask").is_hidden()
    with page.expect_download() as download:
        page.click("#download-video")
    from nst_tf.video.clip import open_clip
    made = open_clip(download.value.path().rename(tmp_path / "made.mp4"))
    assert (made.frames, made.size, made.audio) == (2, (64, 48), True)
    # A reload keeps the clip, its part and the run.
    page.reload()
    sync_api.expect(page.locator("#content-name")).to_have_text(
        "walk.mp4 (clip: 6 frames, 64×48, 10 fps, with sound)")
    assert page.locator("#clip-frames").input_value() == "0:2"
    sync_api.expect(page.locator("#run-state")).to_have_text("– done")


def test_with_a_token_a_second_tab_follows_the_run_and_a_closed_tab_leaves_it(browser):
    guarded = serving(token="s3cret")
    context = browser.new_context()
    context.set_default_timeout(60_000)
    try:
        first = context.new_page()
        first.goto(guarded.url)  # ...?token=s3cret: sets the cookie, then leaves the address
        first.wait_for_selector("#setting-max_dim")
        assert "token" not in first.url
        first.click("#content-examples >> text=cat.jpg")
        first.click("#texture-examples >> text=gravel.jpg")
        start_a_run_that_goes_on(first, "Result: 48×32 px")
        run_id = first.url.split("#run=")[1]
        second = context.new_page()
        second.goto(f"http://127.0.0.1:{guarded.port}/")  # no token: the cookie does
        sync_api.expect(second.locator("#run-state")).to_contain_text("running")
        assert second.url.endswith("#run=" + run_id)
        first.close()
        step = second.locator("#stat-step")
        before = int(step.inner_text().split()[0])
        wait_until(lambda: int(step.inner_text().split()[0]) > before + 5, what="more steps")
        second.click("#stop")
        sync_api.expect(second.locator("#run-state")).to_have_text("– stopped")
        sync_api.expect(second.locator("#download-result")).to_be_visible()
        assert context.new_page().goto(f"http://127.0.0.1:{guarded.port}/").ok
        other = browser.new_context()  # another browser: no cookie, no page
        assert other.new_page().goto(f"http://127.0.0.1:{guarded.port}/").status == 401
        other.close()
    finally:
        context.close()
        guarded.close()


def test_tab_reaches_upload_and_start_and_a_phone_has_no_sideways_scroll(page, browser,
                                                                         server):
    reached = []
    page.focus("body")
    for _ in range(60):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id"))
        if "start" in reached:
            break
    assert {"content-file", "texture-file", "start"} <= set(reached), reached
    page.focus("#content-examples >> text=cat.jpg")
    page.keyboard.press("Enter")  # a button by keyboard
    sync_api.expect(page.locator("#content-name")).to_have_text("examples/cat.jpg")
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                has_touch=True)
    try:
        small = phone.new_page()
        small.goto(server.url)
        small.wait_for_selector("#setting-max_dim")
        small.click("#pairs >> text=cat + gravel")
        small.fill("#setting-max_dim", "48")
        small.fill("#setting-iterations", "3")
        small.click("#paint-open")
        sync_api.expect(small.locator("#regions")).to_be_visible()
        small.click("#start")
        sync_api.expect(small.locator("#run-state")).to_have_text("– done", timeout=120_000)
        widths = small.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert widths[0] <= widths[1] == 390, widths
    finally:
        phone.close()


def test_stop_with_a_late_reply_ends_stopped_and_a_reload_keeps_the_run_and_its_photos(
        page, tmp_path):
    content = write_png(tmp_path / "content.png", random_image((40, 56), 1))
    page.set_input_files("#content-file", str(content))
    page.click("#texture-examples >> text=gravel.jpg")
    start_a_run_that_goes_on(page, "Result: 48×34 px")
    page.reload()
    sync_api.expect(page.locator("#run-state")).to_contain_text("running")
    sync_api.expect(page.locator("#content-name")).to_have_text("content.png (56×40)")
    sync_api.expect(page.locator("#texture-name")).to_have_text("examples/gravel.jpg")
    assert page.locator("#setting-max_dim").input_value() == "48"
    assert page.locator("#setting-min_learning_rate").input_value() == "0"

    def late(route):  # the answer to Stop arrives 3 s after the stream has said "stopped"
        response = route.fetch()
        time.sleep(3)
        route.fulfill(response=response)
    page.route("**/stop", late)
    page.click("#stop")
    sync_api.expect(page.locator("#run-state")).to_have_text("– stopped")
    time.sleep(4)
    sync_api.expect(page.locator("#run-state")).to_have_text("– stopped")
    sync_api.expect(page.locator("#download-result")).to_be_visible()
    assert page.locator("#start").is_enabled() and page.locator("#stop").is_disabled()


@needs_shared_weights
def test_a_painted_two_region_mask_runs_and_each_region_takes_its_texture(browser):
    # The cat, gravel painted on its left half and bricks on its right with the brush, 40 Adam
    # steps at 96x64 with the real normalized VGG19: as the library's mask test measures, each
    # region ends nearer its own texture's statistics than the other's (measured: gravel's
    # region 1.15 from gravel against 2.16 from bricks, bricks' 0.75 against 3.37, relative to
    # each texture's Gram norm; the regions cover 36% and 64% of the picture).
    from nst_tf.io.images import read_image, resize
    shown = serving(weights=str(SHARED_WEIGHTS))
    context = browser.new_context(viewport={"width": 1280, "height": 1000},
                                  accept_downloads=True)
    context.set_default_timeout(60_000)
    try:
        page = context.new_page()
        page.goto(shown.url)
        page.wait_for_selector("#setting-max_dim")
        paint_halves(page)
        page.fill("#setting-max_dim", "96")
        page.fill("#setting-iterations", "40")
        page.select_option("#setting-optimizer", "adam")
        sync_api.expect(page.locator("#plan")).to_contain_text("Result: 96×64 px")
        page.click("#start")
        sync_api.expect(page.locator("#run-state")).to_have_text("– done", timeout=600_000)
        assert "--content_mask=mask.png" in page.locator("#command").inner_text()
        results = {}
        for name in ("result", "mask"):
            with page.expect_download() as download:
                page.click(f"#download-{name}")
            results[name] = np.asarray(Image.open(download.value.path()).convert("RGB"))
        page.reload()  # the run's photos, second texture and painted regions come back
        sync_api.expect(page.locator("#texture2-name")).to_have_text("examples/brick.jpg")
        sync_api.expect(page.locator("#mask-name")).to_have_text("regions painted")
        assert page.locator("#setting-iterations").input_value() == "40"
    finally:
        context.close()
        shown.close()
    result, mask = results["result"].astype(np.float32), results["mask"]
    assert result.shape == (64, 96, 3)
    textures = [read_image(ROOT / "examples" / name) for name in ("gravel.jpg", "brick.jpg")]
    regions = [resize(np.all(mask == colour, axis=-1)[..., None].astype(np.float32),
                      (64, 96), antialias=True)[..., 0]
               for colour in ((255, 0, 0), (0, 255, 0))]
    assert all(0.3 < float(region.mean()) < 0.7 for region in regions)
    from nst_tf.network.vgg import vgg19
    distances = region_texture_distances(vgg19(str(SHARED_WEIGHTS)), result, textures, regions)
    for own, to in enumerate(distances):
        assert to[own] < 0.7 * to[1 - own], (own, to)


def paint_halves(page):
    """The cat with gravel and bricks: brush 1 (gravel) over the left half of the canvas, brush 2
    (bricks) over the right, in nine strokes each, the largest brush."""
    page.click("#pairs >> text=cat + gravel")
    page.click("#add-texture")
    page.click("#texture2-examples >> text=brick.jpg")
    sync_api.expect(page.locator("#brush-2")).to_be_visible()
    page.locator("#brush-size").fill("160")
    canvas = page.locator("#paint-canvas")
    box = canvas.bounding_box()
    for brush, (start, end) in (("#brush-1", (0.0, 0.5)), ("#brush-2", (0.5, 1.0))):
        page.check(brush)
        for row in np.linspace(0.0, 1.0, 9):
            y = box["y"] + row * (box["height"] - 1)
            page.mouse.move(box["x"] + start * box["width"] + 2, y)
            page.mouse.down()
            page.mouse.move(box["x"] + end * box["width"] - 2, y, steps=8)
            page.mouse.up()
    sync_api.expect(page.locator("#mask-name")).to_have_text("regions painted")


def save_screenshot(page, path):
    picture = page.screenshot(full_page=True, type="png")
    image = Image.open(io.BytesIO(picture)).convert("RGB")
    image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, optimize=True)
    assert path.stat().st_size < 400_000


@pytest.mark.skipif(os.environ.get("NST_TF_SCREENSHOT") != "1",
                    reason="NST_TF_SCREENSHOT=1 rewrites examples/web/page.png and phone.png")
def test_screenshot_of_the_page_mid_run_on_the_shipped_photos(browser):
    # The studio at a desktop's width mid-run (the cat, gravel painted on its left and bricks
    # on its right, 256 px), then the same run on a phone's (390 px).
    weights = "random"
    if SHARED_WEIGHTS.is_file():  # the command line shown: no path of this machine's
        weights = (os.path.relpath(SHARED_WEIGHTS) if Path.cwd() == ROOT
                   else str(SHARED_WEIGHTS))
    shown = serving(weights=weights, preview_seconds=1.0)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(shown.url)
        paint_halves(page)
        page.fill("#setting-max_dim", "256")
        page.fill("#setting-iterations", "160")
        sync_api.expect(page.locator("#plan")).to_contain_text("Result: 256×170 px")
        page.click("#start")
        wait_until(lambda: re.match(r"(\d+) /", page.locator("#stat-step").inner_text())
                   and int(page.locator("#stat-step").inner_text().split()[0]) >= 80,
                   timeout=900, what="step 80")
        time.sleep(1.5)  # the next live picture
        page.focus("#compare-position")
        for _ in range(30):
            page.keyboard.press("ArrowRight")
        save_screenshot(page, SCREENSHOT)
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                    has_touch=True)
        small = phone.new_page()
        small.goto(page.url)
        sync_api.expect(small.locator("#run-state")).to_contain_text("running")
        time.sleep(2)
        save_screenshot(small, SCREENSHOT.with_name("phone.png"))
        phone.close()
        page.click("#stop")
        sync_api.expect(page.locator("#run-state")).to_have_text("– stopped", timeout=120_000)
    finally:
        context.close()
        shown.close()


def test_the_seamless_checkbox_and_a_seamless_result_repeated_2x2(page):
    page.click("#texture-examples >> text=gravel.jpg")
    page.select_option("#setting-mode", "synthesize")
    box, setting = page.locator("#seamless"), page.locator("#setting-seamless")
    assert not box.is_checked() and setting.input_value() == "off"
    page.check("#seamless")  # the checkbox is the setting's xy
    assert setting.input_value() == "xy"
    page.click("#more summary")
    page.fill("#setting-size", "48x32")
    page.fill("#setting-iterations", "3")
    sync_api.expect(page.locator("#plan")).to_contain_text("Result: 48×32 px")
    sync_api.expect(page.locator("#command")).to_contain_text("--seamless=xy")
    # One direction, in the setting's own box: the checkbox stays on and says which.
    page.select_option("#setting-seamless", "x")
    assert box.is_checked()
    sync_api.expect(page.locator("#seamless-note")).to_have_text(
        "left to right only (more settings)")
    sync_api.expect(page.locator("#command")).to_contain_text("--seamless=x")
    page.uncheck("#seamless")
    assert setting.input_value() == "off"
    sync_api.expect(page.locator("#command")).not_to_contain_text("--seamless")
    # Reconstruct remakes the content photo: no checkbox there, and the setting goes off.
    page.check("#seamless")
    page.select_option("#setting-mode", "reconstruct")
    sync_api.expect(box).to_be_disabled()
    assert not box.is_checked() and setting.input_value() == "off"
    sync_api.expect(page.locator("#seamless-note")).to_have_text(
        "not for reconstruct: its edges do not meet")
    page.select_option("#setting-mode", "synthesize")
    sync_api.expect(box).to_be_enabled()
    page.check("#seamless")
    sync_api.expect(page.locator("#command")).to_contain_text("--seamless=xy")
    assert page.locator("#repeat-view").is_hidden()
    page.click("#start")
    sync_api.expect(page.locator("#run-state")).to_have_text("– done", timeout=120_000)
    sync_api.expect(page.locator("#repeat-view")).to_be_visible()
    sync_api.expect(page.locator("#repeat-caption")).to_have_text(
        "the result repeated 2×2 (seamless xy)")
    canvas = page.locator("#repeat")
    wait_until(lambda: canvas.get_attribute("data-drawn"), what="the 2x2 repeat drawn")
    drawn = canvas.evaluate("c => c.toDataURL('image/png')")
    with Image.open(io.BytesIO(base64.b64decode(drawn.split(",", 1)[1]))) as picture:
        repeated = np.asarray(picture.convert("RGB"))
    from urllib.parse import urljoin
    url = urljoin(page.url, page.locator("#download-result").get_attribute("href"))
    with Image.open(io.BytesIO(page.request.get(url).body())) as picture:
        result = np.asarray(picture.convert("RGB"))
    assert result.shape == (32, 48, 3) and repeated.shape == (64, 96, 3)
    # Each quarter is the result itself, pixel for pixel (an unscaled copy, no smoothing).
    np.testing.assert_array_equal(repeated, np.tile(result, (2, 2, 1)))
    # The contact sheet too: the texture (300x300), the result and its 2x2 repeat, at 320 px.
    url = urljoin(page.url, page.locator("#download-sheet").get_attribute("href"))
    with Image.open(io.BytesIO(page.request.get(url).body())) as sheet:
        assert sheet.width == 320 + 480 + 480 + 4 * 8
