"""The Latent map tab in a real browser (headless Chromium, Playwright), at a laptop's 1366x768 and a phone's
390x844 (is_mobile, has_touch), the way a student uses it: click (or tap) a dot to pick it, drag the A->B slider,
type a bad index and go on using the page (issue 14 A2, D1). Screenshots go to artifacts/screenshots/.

Needs the playwright Python package and Chromium at /usr/bin/chromium; skipped without them (see test_browser.py).
"""
from __future__ import annotations

import numpy as np
import pytest

from tests.e2e_support import MODEL, pixels
from tests.test_browser import ISOLATED_POINT, MAP_READY, AppPage, _missing, data_uri_pixels, shoot

pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")

PLAYER_READY = """() => { const i = document.querySelector('#lsx-player .lsx-frame');
  return i && i.src.startsWith('data:image/png'); }"""
MAP_TITLE = """() => { const p = document.querySelector('#lsx-map .lsx-map-plot');
  return p && p._fullLayout && p._fullLayout.title ? p._fullLayout.title.text : ''; }"""
MAP_GEOMETRY = """() => { const p = document.querySelector('#lsx-map .lsx-map-plot'), fl = p._fullLayout;
  const xs = [], ys = [];
  for (const tr of p._fullData) if (/^[0-9]$/.test(tr.name)) { xs.push(...tr.x); ys.push(...tr.y); }
  const bar = p.querySelector('.modebar');
  return {plot_w: fl.xaxis._length, plot_h: fl.yaxis._length, x_range: fl.xaxis.range, y_range: fl.yaxis.range,
          x_data: [Math.min(...xs), Math.max(...xs)], y_data: [Math.min(...ys), Math.max(...ys)],
          page_w: document.documentElement.clientWidth, layout_h: fl.height, box_h: p.getBoundingClientRect().height,
          modebar_visible: !!bar && getComputedStyle(bar).display !== 'none' && bar.getBoundingClientRect().width > 0}; }"""


# a dot whose nearest neighbour is 5-10 px away on screen (a crowded part of the map), not A or B
CROWDED_POINT = ISOLATED_POINT.replace("if (d > bestD) { bestD = d; best = p; }",
                                       "if (d > 5 && d < 10 && (best === null || Math.abs(d - 7) < Math.abs(bestD - 7)))"
                                       " { bestD = d; best = p; }")


class MapPage(AppPage):
    """A fresh page at one size ("laptop" or "phone"), opened on the Latent map tab once its player shows."""

    def __init__(self, browser, url: str, size: str):
        super().__init__(browser, url, size, tab="Latent map")
        self.page.wait_for_function(PLAYER_READY)

    def box(self, which: str):
        return self.page.locator(f"#lsx-index-{which.lower()} textarea, #lsx-index-{which.lower()} input").first

    def index(self, which: str) -> str:
        return self.box(which).input_value()

    def pca(self) -> None:
        self.page.get_by_label("PCA", exact=True).check()
        self.page.wait_for_function("() => /[(（]PCA[)）]/.test((" + MAP_TITLE + ")())")  # either language
        self.idle()

    def idle(self) -> None:
        self.wait_idle()

    def status(self) -> str:
        return self.page.locator("#lsx-status").inner_text()

    def title(self) -> str:
        return self.page.evaluate(MAP_TITLE)


@pytest.fixture(params=["laptop", "phone"])
def map_page(request, browser, app_server):
    m = MapPage(browser, app_server[0], request.param)
    yield m
    assert not m.errors, f"uncaught JavaScript errors: {m.errors}"
    m.context.close()


@pytest.fixture
def desktop(browser, app_server):
    m = MapPage(browser, app_server[0], "laptop")
    yield m
    assert not m.errors, f"uncaught JavaScript errors: {m.errors}"
    m.context.close()


def test_latent_map_click_a_point_then_drag_the_slider(desktop, app_server):
    _, client = app_server
    page = desktop.page
    frame = page.locator("#lsx-player .lsx-frame")
    caption = page.locator("#lsx-player .lsx-pair")
    desktop.pca()  # PCA is ready at once; a UMAP fit finishing would redraw the map
    a, b = int(desktop.index("A")), int(desktop.index("B"))
    point = page.evaluate(ISOLATED_POINT, [a, b])
    assert point["clearance"] > 4, point
    page.mouse.click(point["x"], point["y"])  # the "next click sets" radio starts on A
    page.wait_for_function("(i) => document.querySelector('#lsx-player .lsx-pair').textContent.includes('#' + i + ' ')",
                           arg=point["index"])
    assert int(desktop.index("A")) == point["index"]
    assert caption.inner_text().startswith(f"A = #{point['index']} ")
    shoot(page, "latent-map-clicked")

    # drag the slider from A to B: the frame changes while dragging (no server round trip), then the
    # server's exact decode at the released alpha replaces it
    slider = page.locator("#lsx-player .lsx-range")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    y = box["y"] + box["height"] / 2
    start_src = frame.get_attribute("src")
    page.mouse.move(box["x"] + 1, y)
    page.mouse.down()
    seen = []
    for k in range(1, 9):
        page.mouse.move(box["x"] + 1 + k * (box["width"] - 2) / 8, y)
        seen.append(frame.get_attribute("src"))
    assert seen[0] != start_src and len(set(seen)) >= 6, f"{len(set(seen))} distinct frames in 8 drag steps"
    assert page.locator("#lsx-player .lsx-alpha").inner_text() == "1.000"
    page.mouse.up()
    page.wait_for_function("() => /exact/.test(document.querySelector('#lsx-player .lsx-source').textContent)")
    exact = data_uri_pixels(frame.get_attribute("src"))
    expected = pixels(client.predict(point["index"], b, 1.0, "lerp", MODEL, api_name="/interpolate"))
    assert np.array_equal(exact, expected)  # alpha = 1 is B, exactly as the API decodes it
    shoot(page, "latent-map-dragged")


def test_a_bad_index_is_refused_once_and_blocks_nothing(map_page):
    """Issue 14 A2: 700 in index A, then PCA, another VAE, slerp and 中文: each action works, the map always
    shows the model the dropdown names, and the refusal names the box and the range in the page's language."""
    m, page = map_page, map_page.page
    m.idle()
    m.box("A").fill("700")
    m.box("A").press("Enter")
    page.get_by_text("digit index A must be between 0 and 499, got 700").first.wait_for()
    page.wait_for_function("() => /must be between 0 and 499/.test(document.querySelector('#lsx-player').textContent)")
    assert page.locator(".toast-body.error").count() == 0  # said once, in the page, not as a toast per action

    page.get_by_label("PCA", exact=True).check()  # does not use the index: works
    page.wait_for_function(MAP_READY, arg="PCA")
    m.idle()
    assert MODEL in m.title() and "got 700" in m.status()

    other = "vae-mnist-kl1"
    page.locator("#lsx-model input").click()
    page.get_by_role("option", name=other, exact=True).click()
    page.wait_for_function("(name) => (" + MAP_TITLE + ")().startsWith(name)", arg=other)
    m.idle()
    assert page.locator("#lsx-model input").input_value() == other and "got 700" in m.status()
    assert page.evaluate("() => document.querySelector('#lsx-map .lsx-map-plot')._fullData"
                         ".some(t => t.name === 'A' || t.mode === 'lines+markers')") is False  # no path drawn

    page.get_by_label("slerp", exact=True).check()
    m.idle()
    assert m.title().startswith(other) and "got 700" in m.status()
    page.locator("#lsx-status").scroll_into_view_if_needed()
    shoot(page, f"latent-map-bad-index-{m.size}", full_page=False)

    page.locator("#lang-switch").get_by_text("中文").click()
    page.get_by_text("A 的数字编号必须在 0 到 499 之间，收到 700").first.wait_for()
    page.wait_for_function("(name) => (" + MAP_TITLE + ")().startsWith(name + '：')", arg=other)  # the title in 中文
    m.idle()
    assert "must be between" not in m.status()
    page.locator("#lsx-status").scroll_into_view_if_needed()
    shoot(page, f"latent-map-bad-index-zh-{m.size}", full_page=False)

    m.box("A").fill("12")  # a good index again: the path comes back, for the model the dropdown names
    m.box("A").press("Enter")
    page.wait_for_function("() => document.querySelector('#lsx-player .lsx-pair').textContent.startsWith('A = #12 ')")
    m.idle()
    assert "700" not in m.status() and m.title().startswith(other)
    page.locator("#lang-switch").get_by_text("English").click()
    page.wait_for_function("(name) => (" + MAP_TITLE + ")().startsWith(name + ':')", arg=other)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_map_fits_the_screen_and_a_tapped_dot_is_picked(browser, app_server, lang):
    """Issue 14 D1 at 390x844 with touch: the plot uses the width, the axes span the data, no toolbar sits over
    the title, and tapping a dot picks THAT dot (index box and caption)."""
    m = MapPage(browser, app_server[0], "phone")
    page = m.page
    try:
        if lang == "zh":
            page.locator("#lang-switch").get_by_text("中文").click()
            page.wait_for_function("() => / → 二维/.test((" + MAP_TITLE + ")())")
        m.pca()
        geometry = page.evaluate(MAP_GEOMETRY)
        assert geometry["plot_w"] >= 0.65 * geometry["page_w"], geometry  # was 144 px of 390
        assert geometry["plot_h"] >= 0.75 * geometry["plot_w"], geometry  # was ~110 px
        assert geometry["layout_h"] <= geometry["box_h"] + 1, geometry  # the figure fits its box: nothing covers dots
        for axis in ("x", "y"):
            lo, hi = geometry[f"{axis}_range"]
            d_lo, d_hi = geometry[f"{axis}_data"]
            assert lo <= d_lo and hi >= d_hi and (hi - lo) <= 1.25 * (d_hi - d_lo), geometry  # was -19..18 for -5..4
        assert not geometry["modebar_visible"], geometry
        shoot(page, f"latent-map-phone-{lang}")

        for crowded in (False, True, True):  # an isolated dot, then dots with a neighbour 5-10 px away
            a, b = int(m.index("A")), int(m.index("B"))
            point = page.evaluate(CROWDED_POINT if crowded else ISOLATED_POINT, [a, b])
            assert point["clearance"] > (4 if crowded else 10), point
            target = page.locator("#lsx-target input:checked").get_attribute("value") or "A"
            page.touchscreen.tap(point["x"], point["y"])
            try:
                page.wait_for_function("([w, i]) => { const e = document.querySelector('#lsx-index-' + w + ' textarea,"
                                       " #lsx-index-' + w + ' input'); return e && e.value === String(i); }",
                                       arg=[target.lower(), point["index"]])
            except Exception as exc:  # noqa: BLE001 - Playwright's TimeoutError: say what the page shows instead
                if type(exc).__name__ != "TimeoutError":
                    raise
                now = page.evaluate(CROWDED_POINT if crowded else ISOLATED_POINT, [a, b])
                now["geometry"] = page.evaluate(MAP_GEOMETRY)
                now["layout"] = page.evaluate("() => { const o = {scrollY}; for (const id of ['lsx-map', 'lsx-index-a',"
                                              " 'lsx-player', 'lsx-status']) { const e = document.getElementById(id);"
                                              " if (e) { const q = e.getBoundingClientRect(); o[id] = [q.top, q.bottom]; } }"
                                              " return o; }")
                now["under"] = page.evaluate("([x, y]) => { const e = document.elementFromPoint(x, y);"
                                             " return e ? e.outerHTML.slice(0, 120) : null; }", [now["x"], now["y"]])
                raise AssertionError(f"tapped {point} for {target}; the boxes say A={m.index('A')} "
                                     f"B={m.index('B')}; the title is {m.title()!r}; the same search now finds "
                                     f"{now}; status {m.status()!r}") from None
            m.idle()
            caption = page.locator("#lsx-player .lsx-pair").inner_text()
            assert f"#{point['index']} " in caption, (caption, point)
        shoot(page, f"latent-map-phone-tapped-{lang}")
        assert not m.errors, f"uncaught JavaScript errors: {m.errors}"
    finally:
        m.context.close()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_screenshots_at_1366x768(browser, app_server, lang):
    m = MapPage(browser, app_server[0], "laptop")
    try:
        if lang == "zh":
            m.page.locator("#lang-switch").get_by_text("中文").click()
            m.page.wait_for_function("() => / → 二维/.test((" + MAP_TITLE + ")())")
        m.page.wait_for_function(MAP_READY, arg=None)
        m.idle()
        geometry = m.page.evaluate(MAP_GEOMETRY)
        for axis in ("x", "y"):
            lo, hi = geometry[f"{axis}_range"]
            d_lo, d_hi = geometry[f"{axis}_data"]
            assert lo <= d_lo and hi >= d_hi and (hi - lo) <= 1.25 * (d_hi - d_lo), geometry
        m.page.locator("#lsx-map").scroll_into_view_if_needed()
        shoot(m.page, f"latent-map-desktop-{lang}", full_page=False)
        shoot(m.page, f"latent-map-desktop-{lang}-full")
        assert not m.errors, f"uncaught JavaScript errors: {m.errors}"
    finally:
        m.context.close()
