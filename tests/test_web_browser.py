"""The web page in a real browser: Debian's Chromium (/usr/bin/chromium) driven by Playwright,
against a server this module starts (random weights, tiny pictures).

Needs `pip install playwright` and `apt-get install chromium` (Playwright's own browser
download is not used); the module is skipped without them. With NST_TF_SCREENSHOT=1 it also
rewrites examples/web/page.png: the page mid-run on the shipped photos examples/cat.jpg and
examples/gravel.jpg (with the real weights when NST_TF_REAL_WEIGHTS or the shared folder has
them).
"""
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

from conftest import ROOT, SHARED_WEIGHTS, random_image, serving  # noqa: E402

SCREENSHOT = ROOT / "examples" / "web" / "page.png"
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


def test_upload_start_watch_stop_and_download(page, tmp_path):
    content = write_png(tmp_path / "content.png", random_image((40, 56), 1))
    texture = write_png(tmp_path / "texture.png", random_image((50, 50), 2))
    page.set_input_files("#content-file", str(content))
    page.set_input_files("#texture-file", str(texture))
    sync_api.expect(page.locator("#content-name")).to_contain_text("content.png (56×40)")
    sync_api.expect(page.locator("#texture-name")).to_contain_text("texture.png (50×50)")
    page.fill("#setting-max_dim", "48")
    page.fill("#setting-iterations", "2000")
    page.fill("#setting-texture_weight", "100")  # random weights: a texture part that moves pixels
    page.click("#more summary")  # the rest of the settings: no early end on a plateau
    page.fill("#setting-min_learning_rate", "0")
    sync_api.expect(page.locator("#plan")).to_have_text("Result: 48×34 px, up to 2000 adam steps.")
    page.click("#start")
    sync_api.expect(page.locator("#run-state")).to_contain_text("running", timeout=120_000)
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
    page.click("#stop")
    sync_api.expect(page.locator("#run-state")).to_have_text("– stopped", timeout=60_000)
    with page.expect_download() as download:
        page.click("#download-result")
    path = download.value.path()
    with Image.open(path) as result:
        assert (result.format, result.size) == ("PNG", (48, 34))
    assert page.locator("#command").inner_text().startswith(
        "python scripts/transfer.py --content=content.png --texture=texture.png")


def test_a_text_file_named_jpg_gets_a_message(page, tmp_path):
    notes = tmp_path / "holiday.jpg"
    notes.write_text("not a photo at all\n")
    page.set_input_files("#content-file", str(notes))
    sync_api.expect(page.locator("#content-message")).to_have_text(
        "holiday.jpg: not an image, or a format this tool cannot read")
    assert page.locator("#content-thumb").is_hidden()


def test_a_setting_out_of_range_is_refused_on_the_page(page):
    page.click("#content-examples >> text=cat.jpg")
    page.click("#texture-examples >> text=gravel.jpg")
    page.fill("#setting-max_dim", "5")
    message = "max_dim must be 0 (full resolution) or at least 32 px, got 5"
    sync_api.expect(page.locator("#settings-message")).to_have_text(message)
    sync_api.expect(page.locator("#field-max_dim")).to_have_class(re.compile(r"\bbad\b"))
    page.click("#start")
    sync_api.expect(page.locator("#settings-message")).to_have_text(message)
    assert page.locator("#run").is_hidden()  # nothing started
    page.fill("#setting-max_dim", "64")
    sync_api.expect(page.locator("#settings-message")).to_have_text("")
    sync_api.expect(page.locator("#plan")).to_contain_text("Result: 64×43 px")


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
        first.fill("#setting-max_dim", "48")
        first.fill("#setting-iterations", "5000")
        first.click("#more summary")
        first.fill("#setting-min_learning_rate", "0")
        sync_api.expect(first.locator("#plan")).to_contain_text("Result: 48×32 px")
        first.click("#start")
        sync_api.expect(first.locator("#run-state")).to_contain_text("running")
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


@pytest.mark.skipif(os.environ.get("NST_TF_SCREENSHOT") != "1",
                    reason="NST_TF_SCREENSHOT=1 rewrites examples/web/page.png")
def test_screenshot_of_the_page_mid_run_on_the_shipped_photos(browser):
    weights = "random"
    if SHARED_WEIGHTS.is_file():  # the command line shown: no path of this machine's
        weights = (os.path.relpath(SHARED_WEIGHTS) if Path.cwd() == ROOT
                   else str(SHARED_WEIGHTS))
    shown = serving(weights=weights, preview_seconds=1.0)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(shown.url)
        page.click("#content-examples >> text=cat.jpg")
        page.click("#texture-examples >> text=gravel.jpg")
        page.fill("#setting-max_dim", "256")
        page.fill("#setting-iterations", "300")
        sync_api.expect(page.locator("#plan")).to_contain_text("Result: 256×170 px")
        page.click("#start")
        wait_until(lambda: re.match(r"(\d+) /", page.locator("#stat-step").inner_text())
                   and int(page.locator("#stat-step").inner_text().split()[0]) >= 150,
                   timeout=900, what="step 150")
        time.sleep(1.5)  # the next live picture
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        picture = page.screenshot(full_page=True, type="png")
        image = Image.open(io.BytesIO(picture)).convert("RGB")
        image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        image.save(SCREENSHOT, optimize=True)
        page.click("#stop")
        sync_api.expect(page.locator("#run-state")).to_have_text("– stopped", timeout=120_000)
        assert SCREENSHOT.stat().st_size < 300_000
    finally:
        context.close()
        shown.close()
