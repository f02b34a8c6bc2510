"""Browser test of the student's own model outside the Exercises tab (issue 16's done-when): train a short run, see
the curves and the map update, stop a second run, then use the model in the Reconstruction tab (beside a shipped
checkpoint) and in the Latent map tab, in headless Chromium against the real app; a second page (another session)
never lists it. Also the panel at 390x844 (the Exercises tab sits in Gradio's overflow menu there) and a finished
run re-worded after a language switch. Screenshots at 1366x768 and 390x844, English and 中文, go to
artifacts/screenshots/."""
from __future__ import annotations

import re

import pytest

from tests.test_browser import AppPage, no_js_errors, shoot  # the browser fixture is tests/conftest.py's
from tests.test_browser import pytestmark  # noqa: F401 - skipped where Chromium or Playwright is missing
from tests.test_browser_training import WATCH_MAP, assert_the_map_moved_between_epochs

NAME = "my-2d-b1-e2-s0"  # what the store names a 2-D run, beta 1, 2 epochs, seed 0
STATUS = "() => (document.querySelector('#lt-status') || {}).innerText || ''"
CURVE_POINTS = """() => { const p = document.querySelector('#lt-curves .js-plotly-plot');
  return p && p._fullData ? Math.max(0, ...p._fullData.map(t => (t.x || []).length)) : 0; }"""
MAP_FIRST_X = """() => { const p = document.querySelector('#lt-map .js-plotly-plot');
  const t = p && p._fullData && p._fullData.find(t => t.x && t.x.length); return t ? Number(t.x[0]) : null; }"""
PLOT_TITLE = """(id) => { const p = document.querySelector('#' + id + ' .js-plotly-plot');
  return p && p._fullLayout ? [...p.querySelectorAll('.gtitle, .annotation-text')].map(e => e.textContent)
  .join(' | ') : ''; }"""
REC_NOTE = "() => (document.querySelector('#rec-note') || {}).innerText || ''"
LMAP_STATUS = "() => (document.querySelector('#lsx-status') || {}).innerText || ''"
LMAP_TITLE = """() => { const p = document.querySelector('#lsx-map .lsx-map-plot');
  return p && p._fullLayout && p._fullLayout.title ? String(p._fullLayout.title.text || '') : ''; }"""


class Page(AppPage):
    """A page (session) of the app (tests.test_browser.AppPage) at "laptop" or "phone" size, in a language."""

    def __init__(self, browser, url: str, size: str = "laptop", lang: str = "en"):
        super().__init__(browser, url, size, locale="zh-CN" if lang == "zh" else "en-US")
        self.lang = lang
        if lang == "zh":
            self.switch("zh")

    def switch(self, lang: str) -> None:
        self.language("中文" if lang == "zh" else "English")
        self.page.wait_for_function(f"() => document.documentElement.lang.startsWith('{lang}')")

    def open(self, name: str) -> None:
        """AppPage.open, then wait for the server's answer to the selection (the model dropdowns re-listed for
        this page)."""
        with self.page.expect_response(lambda r: "/run/" in r.url and r.request.method == "POST"):
            super().open(name)

    def train(self, epochs: int) -> None:
        box = self.page.locator("#lt-epochs input[type=number]")
        box.fill(str(epochs))
        box.press("Enter")
        self.page.wait_for_function("(n) => document.querySelector('#lt-epochs input[type=range]').value == String(n)",
                                    arg=epochs)
        self.page.evaluate("() => document.querySelector('#lt-train').click()")

    def options(self, box) -> list[str]:
        """The choices of a dropdown (opened, read, closed)."""
        box.click()
        self.page.get_by_role("option").first.wait_for()
        texts = [t.replace("✓", "").strip() for t in self.page.get_by_role("option").all_inner_texts()]
        box.press("Escape")
        box.blur()  # a focused dropdown does not open again on a click
        return texts

    def choose(self, box, name: str) -> None:
        box.click()
        self.page.get_by_role("option").filter(has_text=name).first.click()


@pytest.fixture
def pages(browser, app_server):  # noqa: F811
    opened: list[Page] = []

    def open_page(*args, **kwargs) -> Page:
        page = Page(browser, app_server[0], *args, **kwargs)
        opened.append(page)
        return page

    yield open_page
    for page in opened:
        page.close(check_errors=False)  # the tests check JavaScript errors where they mean to


def test_train_stop_and_use_my_model_in_reconstruction_and_latent_map(pages):
    me = pages()
    page = me.page
    me.open("Exercises")
    page.wait_for_selector("#lt-train")
    # every first x the map shows while training, recorded in the page (a look from here may already be epoch 2's)
    page.evaluate(WATCH_MAP.replace("FIRST_X", MAP_FIRST_X))
    me.train(2)
    page.wait_for_function(f"() => ({CURVE_POINTS})() >= 1")  # epoch 1 drawn while the run goes on
    page.wait_for_function(f"() => ({STATUS})().includes('trained 2 epochs')")
    assert page.evaluate(CURVE_POINTS) == 2
    assert_the_map_moved_between_epochs(page)

    # finished figures follow the page's language without training again
    me.switch("zh")
    page.wait_for_function(f"() => ({STATUS})().includes('已训练 2 轮')")
    page.wait_for_function(f"() => ({PLOT_TITLE})('lt-curves').includes('重建项')")
    assert "留出数字" in page.evaluate(PLOT_TITLE, "lt-map") and "基线" in page.inner_text("#lt-verdict")
    page.locator("#lt-status").scroll_into_view_if_needed()
    shoot(page, "session-model-panel-1366-zh", full_page=False)
    me.switch("en")
    page.wait_for_function(f"() => ({STATUS})().includes('trained 2 epochs')")
    page.wait_for_function(f"() => ({PLOT_TITLE})('lt-curves').includes('Reconstruction term')")

    # a second, long run, stopped: it keeps its model (the epochs done) and replaces the 2-epoch one
    me.train(30)
    page.wait_for_function(f"() => /epoch \\d+ of 30/.test(({STATUS})())")  # running (a loaded page may skip 1)
    page.evaluate("() => document.querySelector('#lt-stop').click()")
    try:  # its final figures (on a loaded machine the stop may land an epoch or a few later)
        page.wait_for_function(f"() => /stopped after \\d+ of 30 epochs/.test(({STATUS})())")
    except Exception as exc:  # noqa: BLE001 - Playwright's TimeoutError (playwright may be missing: no import)
        if type(exc).__name__ != "TimeoutError":
            raise
        raise AssertionError(f"the run did not stop; the status says {page.evaluate(STATUS)!r}") from None
    done = int(re.search(r"stopped after (\d+) of 30", page.evaluate(STATUS)).group(1))
    assert 1 <= done < 30, f"Stop did not stop the run before its 30 epochs ({done} done)"  # as test_browser_training
    page.locator("#lt-status").scroll_into_view_if_needed()
    shoot(page, "session-model-stopped-1366-en", full_page=False)

    # Reconstruction: the stopped run replaced the 2-epoch one; it is listed as the student's own, and used
    me.open("Reconstruction")
    model = page.get_by_label("Model", exact=True)
    stopped = "my-2d-b1-e30-s0"
    choices = me.options(model)
    mine = [c for c in choices if c.startswith("my-")]
    assert len(mine) == 1 and mine[0].startswith(stopped) and "your model" in mine[0], choices
    me.choose(model, stopped)
    page.wait_for_function(f"(n) => ({REC_NOTE})().startsWith(n)", arg=stopped)
    me.choose(page.get_by_label("Compare with (optional)", exact=True), "vae-mnist-2d")
    page.wait_for_function(f"() => ({REC_NOTE})().includes('vae-mnist-2d')")
    table = page.locator("table").filter(has_text="PSNR").first.inner_text()
    assert stopped in table and "vae-mnist-2d" in table
    page.wait_for_function("() => [...document.querySelectorAll('img')].filter(i => i.src.startsWith('http')"
                           " && i.closest('.block') && /Reconstruction/.test(i.closest('.block').innerText)).length >= 2")
    shoot(page, "session-model-reconstruction-1366-en")

    # Latent map: the student's 2-D latent is the map itself
    me.open("Latent map")
    me.choose(page.locator("#lsx-model input"), stopped)
    page.wait_for_function(f"(n) => ({LMAP_STATUS})().startsWith(n)", arg=stopped)
    page.wait_for_function(f"(n) => ({LMAP_TITLE})().startsWith(n) && ({LMAP_TITLE})().includes('z1, z2')",
                           arg=stopped)
    page.wait_for_function("() => { const i = document.querySelector('#lsx-player .lsx-frame');"
                           " return i && i.src.startsWith('data:image/png'); }")
    # the slider's exact decode (a server function: it finds this page's model too)
    slider = page.locator("#lsx-player .lsx-range")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.up()
    page.wait_for_function("() => /exact decode by the server at/.test("
                           "document.querySelector('#lsx-player .lsx-source').textContent)")
    page.get_by_role("button", name="Compare on this pair").click()
    page.wait_for_function("(n) => [...document.querySelectorAll('table')].some(t => t.innerText.includes(n)"
                           " && t.innerText.includes('vae-mnist-2d'))", arg=stopped)
    shoot(page, "session-model-latent-map-1366-en")

    # in Chinese, the dropdown words it as the student's own
    me.switch("zh")
    page.wait_for_function("() => (document.querySelector('#lsx-model input') || {}).value.includes('你的模型')")
    page.wait_for_function(f"() => ({LMAP_STATUS})().includes('潜变量')")
    shoot(page, "session-model-latent-map-1366-zh")
    no_js_errors(me)

    # another page (another session) never lists it, in either tab
    other = pages()
    other.open("Latent map")
    assert not [c for c in other.options(other.page.locator("#lsx-model input")) if c.startswith("my-")]
    other.open("Reconstruction")
    assert not [c for c in other.options(other.page.get_by_label("Model", exact=True)) if c.startswith("my-")]
    no_js_errors(other)


def test_phone_train_and_use_my_model(pages):
    """At 390x844 in 中文: the Exercises tab opened from the overflow menu, a 1-epoch run, the model in the
    Reconstruction tab; the panel's controls fit the screen."""
    me = pages("phone", "zh")
    page = me.page
    me.open("练习")
    page.wait_for_selector("#lt-train")
    page.locator("#lt-train").scroll_into_view_if_needed()
    shoot(page, "session-model-panel-390-zh-before", full_page=False)
    me.train(1)
    page.wait_for_function(f"() => ({STATUS})().includes('已训练 1 轮')")
    assert page.evaluate(CURVE_POINTS) == 1
    overflow = page.evaluate("() => [...document.querySelectorAll('#lt-train, #lt-stop, #lt-curves, #lt-map, "
                             "#lt-strip, #lt-status')].map(e => e.getBoundingClientRect())"
                             ".filter(r => r.left < -1 || r.right > innerWidth + 1).length")
    assert overflow == 0  # nothing of the panel sticks out sideways
    page.locator("#lt-status").scroll_into_view_if_needed()
    shoot(page, "session-model-panel-390-zh", full_page=False)
    shoot(page, "session-model-panel-390-zh-full")

    name = "my-2d-b1-e1-s0"
    me.open("重建")
    me.choose(page.get_by_label("模型", exact=True), name)
    page.wait_for_function(f"(n) => ({REC_NOTE})().startsWith(n)", arg=name)
    assert name in page.locator("table").filter(has_text="PSNR").first.inner_text()
    page.locator("#rec-note").scroll_into_view_if_needed()
    shoot(page, "session-model-reconstruction-390-zh", full_page=False)
    me.open("潜空间地图")
    me.choose(page.locator("#lsx-model input"), name)
    page.wait_for_function(f"(n) => ({LMAP_STATUS})().startsWith(n)", arg=name)
    page.locator("#lsx-status").scroll_into_view_if_needed()
    shoot(page, "session-model-latent-map-390-zh", full_page=False)
    no_js_errors(me)
