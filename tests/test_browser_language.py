"""The language switch in a real browser: the header's English / 中文 radio relabels the tabs, and plots in tabs
that were hidden during the switch still fill their boxes when shown (Plotly draws a figure redrawn in a
hidden tab at its 700 px default unless the page tells it to resize). Same Chromium set-up as test_browser."""
from __future__ import annotations

import pytest

from tests.test_browser import Tab, browser, no_js_errors, pytestmark, shoot  # noqa: F401 - fixtures and skip

PLOT_WIDTHS = """() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(p => p.getBoundingClientRect().width > 0)
  .map(p => [Math.round(p.querySelector('.main-svg').getBoundingClientRect().width),
             Math.round(p.getBoundingClientRect().width)])"""


@pytest.fixture
def tab(browser, app_server):  # noqa: F811 - the browser fixture imported above
    t = Tab(browser, app_server[0])
    yield t
    t.context.close()


def visible_plots_fill_their_boxes(tab: Tab) -> list:
    tab.page.wait_for_function(f"() => ({PLOT_WIDTHS})().length > 0")
    tab.page.wait_for_function(f"() => ({PLOT_WIDTHS})().every(([svg, box]) => Math.abs(svg - box) <= 2)",
                               timeout=10_000)
    return tab.page.evaluate(PLOT_WIDTHS)


def test_switching_language_relabels_tabs_and_keeps_plots_full_width(tab):
    page = tab.page
    tab.open("Compression")
    visible_plots_fill_their_boxes(tab)
    tab.open("Denoising")
    page.get_by_label("中文").check()
    page.get_by_role("tab", name="压缩率", exact=True).first.wait_for()
    for name in ("压缩率", "重建"):  # both were hidden while their figures were redrawn in Chinese
        page.get_by_role("tab", name=name, exact=True).first.click()
        widths = visible_plots_fill_their_boxes(tab)
        assert all(svg > 900 for svg, _ in widths), widths
    shoot(page, "language-zh-reconstruction")
    page.get_by_label("English").check()
    page.get_by_role("tab", name="Reconstruction", exact=True).first.wait_for()
    no_js_errors(tab)
