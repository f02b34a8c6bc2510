"""Browser test of the live training panel (Exercises tab, exercise 1) in headless Chromium against the real app:
a short run draws the curves, the reconstruction strip and the map, epoch by epoch, and its model is then used
in "Use my model"; a long run is stopped; a third student waiting behind two runs sees their place in the queue.
Screenshots at 1366x768 and 390x844 in English and 中文 go to artifacts/screenshots/."""
from __future__ import annotations

import time

import pytest

from tests.test_browser import SLOW, Tab, browser, no_js_errors, shoot  # noqa: F401 - fixtures
from tests.test_browser import pytestmark  # noqa: F401 - skipped where Chromium or Playwright is missing

POINTS = """(id) => { const p = document.querySelector('#' + id + ' .js-plotly-plot');
  return p && p._fullData ? p._fullData.map(t => (t.x || []).length) : null; }"""
FIRST_X = """(id) => { const p = document.querySelector('#' + id + ' .js-plotly-plot');
  const t = p && p._fullData && p._fullData.find(t => t.x && t.x.length);
  return t ? Number(t.x[0]) : null; }"""
STATUS = "() => (document.querySelector('#lt-status') || {}).innerText || ''"
QUEUE_TEXT = """() => [...document.querySelectorAll('[data-testid=status-tracker]')]
  .some(e => /queue/i.test(e.innerText) && /\\d+\\s*\\/\\s*\\d+/.test(e.innerText))"""


@pytest.fixture
def pages(browser, app_server):  # noqa: F811
    opened: list[Tab] = []

    def open_page() -> Tab:
        tab = Tab(browser, app_server[0])
        tab.open("Exercises")
        tab.page.wait_for_selector("#lt-train")
        opened.append(tab)
        return tab

    yield open_page
    for tab in opened:
        tab.context.close()


def set_epochs(tab: Tab, epochs: int) -> None:
    box = tab.page.locator("#lt-epochs input[type=number]")
    box.fill(str(epochs))
    box.press("Enter")
    tab.page.wait_for_function("(n) => document.querySelector('#lt-epochs input[type=range]').value == String(n)",
                               arg=epochs)


def press(page, selector: str) -> None:
    """A click dispatched in the page (Playwright's pointer click waited for the busy renderer here)."""
    page.evaluate("(s) => document.querySelector(s).click()", selector)


def curve_points(tab: Tab) -> int:
    lengths = tab.page.evaluate(POINTS, "lt-curves")
    return max(lengths) if lengths else 0


def test_train_watch_use_and_stop(pages):
    tab = pages()
    page = tab.page
    set_epochs(tab, 2)
    page.locator("#lt-train").click()
    page.wait_for_function(f"() => {{ const l = ({POINTS})('lt-curves'); return l && Math.max(...l) >= 1; }}")
    first_map_x = page.evaluate(FIRST_X, "lt-map")
    map_points = page.evaluate(POINTS, "lt-map")
    assert map_points and sum(map_points) == 500 and len(map_points) == 10  # ten digits, 500 held-out points
    assert page.evaluate("() => (document.querySelector('#lt-strip img') || {}).src || ''").startswith("http")
    page.wait_for_function(f"() => ({STATUS})().includes('trained 2 epochs')")
    assert curve_points(tab) == 2
    assert page.evaluate(FIRST_X, "lt-map") != first_map_x  # the map moved between epoch 1 and epoch 2
    assert "baseline" in page.locator("#lt-verdict").inner_text()
    shoot(page, "training-finished-1366-en")

    # the model is kept for this page: reconstruct held-out digits with it
    page.get_by_text("Use my model").click()
    page.get_by_role("button", name="Reconstruct with my model").click()
    page.wait_for_function("() => ((document.querySelector('#lt-mine-image img') || {}).src || '').startsWith('http')")
    assert "my-2d-b1-e2-s0" in page.inner_text("body")

    # a long run, stopped after its first epoch
    set_epochs(tab, 30)
    page.locator("#lt-train").click()
    page.wait_for_function(f"() => ({STATUS})().includes('epoch 1 of 30')")
    press(page, "#lt-stop")
    time.sleep(1.0)
    at_stop = curve_points(tab)
    time.sleep(12.0)  # longer than an epoch here: a run that kept going would have drawn more points
    assert curve_points(tab) == at_stop <= 2
    no_js_errors(tab)


def test_a_third_student_sees_their_place_in_the_queue(pages):
    students = [pages() for _ in range(3)]
    for tab in students:
        set_epochs(tab, 30)
    for tab in students:
        tab.page.locator("#lt-train").click()
    last = students[-1].page
    deadline = time.time() + SLOW / 1000
    seen = False
    while time.time() < deadline and not seen:
        seen = any(tab.page.evaluate(QUEUE_TEXT) for tab in students)
        time.sleep(0.2)
    shoot(last, "training-queued-1366-en", full_page=False)
    for tab in students:
        press(tab.page, "#lt-stop")
    assert seen, "no page showed its place in the queue"


@pytest.mark.parametrize("lang, viewport, mobile", [("en", (1366, 768), False), ("zh", (1366, 768), False),
                                                    ("en", (390, 844), True), ("zh", (390, 844), True)])
def test_screenshots(browser, app_server, lang, viewport, mobile):  # noqa: F811
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, is_mobile=mobile,
                                  has_touch=mobile, locale="zh-CN" if lang == "zh" else "en-US")
    page = context.new_page()
    page.set_default_timeout(SLOW)
    try:
        page.goto(app_server[0])
        page.wait_for_selector("[role=tab]")
        if lang == "zh":
            page.locator("#lang-switch").get_by_text("中文").click()
        name = "练习" if lang == "zh" else "Exercises"
        button = page.locator("#explorer-tabs > .tab-wrapper [role=tablist] > button", has_text=name)
        if button.count() and button.first.is_visible():
            button.first.click()
        else:  # a phone keeps Exercises in Gradio's overflow menu, whose items are plain buttons
            page.locator("#explorer-tabs > .tab-wrapper .overflow-menu > button").click()
            page.locator("#explorer-tabs > .tab-wrapper .overflow-dropdown button", has_text=name).first.click()
        page.wait_for_selector("#lt-train")
        page.locator("#lt-train").scroll_into_view_if_needed()
        shoot(page, f"training-panel-{viewport[0]}-{lang}", full_page=False)
    finally:
        context.close()
