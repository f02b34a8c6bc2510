"""The Compression and Exercises tabs in a real browser (headless Chromium), at a laptop's 1366x768 and a phone's
390x844, in English and 中文: results update as the student types, a refused number never blocks a preset, a
project preset gives the ratio its table row gives (issue 14 F2), no plot's title, legend or axis titles overlap or
are cut off (D3), no preset table hides rows in an inner scroll box (D4), no table breaks inside a word on a phone
(D2), and every result follows the language switch. Screenshots go to artifacts/screenshots/compex-*.png.
Skipped like tests/test_browser.py when Playwright or Chromium is missing."""
from __future__ import annotations

import os
import re

import pytest

from tests.test_browser import AppPage, pytestmark, shoot  # noqa: F401 (pytestmark: the skip)

# Every labelled part of a plotly figure inside the element `id`: its rectangle, and the figure's own rectangle.
PLOT_PARTS = """(id) => {
  const root = document.getElementById(id), plot = root && root.querySelector('.js-plotly-plot');
  if (!plot) return null;
  const rects = sel => [...plot.querySelectorAll(sel)].map(e => e.getBoundingClientRect())
      .filter(r => r.width > 0 && r.height > 0).map(r => [r.left, r.top, r.right, r.bottom]);
  const box = plot.getBoundingClientRect();
  return {box: [box.left, box.top, box.right, box.bottom], title: rects('.g-gtitle text'),
          legend: rects('.legend .traces'), xtitle: rects('.g-xtitle text'), ytitle: rects('.g-ytitle text'),
          area: rects('.bglayer .bg'), xticks: rects('.xaxislayer-above .xtick text'),
          label: [...root.querySelectorAll('[data-testid=block-label]')].map(e => e.getBoundingClientRect())
              .filter(r => r.width > 0).map(r => [r.left, r.top, r.right, r.bottom]),
          text: (plot.querySelector('.g-gtitle text') || {}).textContent || ''};
}"""
# Words (split at spaces and after hyphens) of the table cells inside `id` that the browser broke across lines.
BROKEN_WORDS = """(id) => {
  const root = document.getElementById(id); if (!root) return null;
  const broken = [];
  for (const cell of root.querySelectorAll('th, td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const re = /[^\\s-]+-?/g; let m;
      while ((m = re.exec(node.textContent))) {
        const range = document.createRange(); range.setStart(node, m.index); range.setEnd(node, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (lines.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""
# Inner scroll boxes of a table: elements whose content is taller than they are and that scroll.
INNER_SCROLL = """(id) => { const root = document.getElementById(id); if (!root) return null;
  return [...root.querySelectorAll('*')].filter(e => { const s = getComputedStyle(e).overflowY;
    return (s === 'auto' || s === 'scroll') && e.scrollHeight > e.clientHeight + 2; }).length; }"""


def overlaps(a, b, slack: float = 1.0) -> bool:
    return a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack


def inside(a, box, slack: float = 1.0) -> bool:
    return a[0] >= box[0] - slack and a[1] >= box[1] - slack and a[2] <= box[2] + slack and a[3] <= box[3] + slack


def check_plot_layout(page, elem_id: str, title: str | None = None) -> str:
    """Title, legend, axis titles and plot area of the figure in `elem_id` are all inside the figure and do not
    overlap each other (issue 14, D3); returns the title (waiting until it reads `title` when given)."""
    page.wait_for_function("([id, title]) => { const t = document.querySelector('#' + id + ' .js-plotly-plot .g-gtitle text');"
                           " return !!t && (!title || t.textContent === title); }", arg=[elem_id, title])
    parts = page.evaluate(PLOT_PARTS, elem_id)
    assert parts and parts["title"], elem_id
    named = [(kind, r) for kind in ("title", "legend", "xtitle", "ytitle", "area") for r in parts[kind]]
    for label in parts["label"]:  # Gradio's block label sits over the figure's top-left corner
        assert not any(overlaps(label, r) for kind, r in named if kind == "title"), f"{elem_id}: label over title"
    for kind, rect in named:
        assert inside(rect, parts["box"]), f"{elem_id}: the {kind} is cut off: {rect} outside {parts['box']}"
    for i, (kind_a, a) in enumerate(named):
        for kind_b, b in named[i + 1:]:
            if kind_a != kind_b:
                assert not overlaps(a, b), f"{elem_id}: {kind_a} {a} overlaps {kind_b} {b}"
    for tick in parts["xticks"]:
        for kind, rect in named:
            if kind in ("title", "legend", "xtitle"):
                assert not overlaps(tick, rect), f"{elem_id}: an x tick label overlaps the {kind}"
    return parts["text"]


class Page(AppPage):
    """A fresh page on the app at one screen size ("laptop" or "phone"), with its uncaught JavaScript errors."""

    def chinese(self) -> None:
        self.page.locator("#lang-switch").get_by_text("中文").click()

    def shoot(self, name: str) -> None:
        shoot(self.page, f"compex-{name}-{self.size}")


@pytest.fixture(scope="module")
def url(request) -> str:
    """The app under test: COMPEX_URL (an app already running, for working on the layout) or the real app on a
    free port (tests/conftest.py's app_server)."""
    return os.environ.get("COMPEX_URL") or request.getfixturevalue("app_server")[0]


@pytest.fixture(params=["laptop", "phone"])
def page(request, browser, url):
    p = Page(browser, url, request.param)
    yield p
    p.close()


# ---- Compression ---------------------------------------------------------------------------------------------
def test_compression_tab_layout_in_both_languages(page):
    p = page.page
    page.open("Compression")
    p.get_by_text(re.compile(r"Compression ratio 786,432 / 16,384 = 48\.0x")).wait_for()
    assert check_plot_layout(p, "comp-size-plot") == "Latent elements at f=8"
    assert check_plot_layout(p, "comp-ratio-plot") == "Compression ratio vs c (C=3)"
    for table in ("comp-ours-table", "comp-field-table"):
        assert p.evaluate(INNER_SCROLL, table) == 0, f"{table} hides rows in a scroll box (issue 14, D4)"
        assert p.evaluate(BROKEN_WORDS, table) == [], f"{table} breaks words (issue 14, D2)"
    ours = p.locator("#comp-ours-table")
    assert ours.get_by_text("chapter-vae-mnist (this project)").is_visible()
    page.shoot("compression-en")
    page.chinese()
    p.get_by_text(re.compile(r"压缩率 786,432 / 16,384 = 48\.0x")).wait_for()
    p.locator("#comp-ours-table").get_by_text("chapter-vae-mnist（本项目）").wait_for()
    assert check_plot_layout(p, "comp-size-plot", "f=8 时的潜变量元素数")
    assert check_plot_layout(p, "comp-ratio-plot", "压缩率随 c 的变化（C=3）")
    for table in ("comp-ours-table", "comp-field-table"):
        assert p.evaluate(BROKEN_WORDS, table) == [], f"{table} breaks words in Chinese"
    page.shoot("compression-zh")


def test_compression_updates_as_you_type_and_a_refusal_blocks_nothing(page):
    """Moved from tests/test_browser.py, at both sizes; then (issue 14 A and F2) a refused f does not stop a preset,
    and the chapter VAE's preset shows the 12.25x of its table row, not 512x512x1 -> 16.0x."""
    p = page.page
    page.open("Compression")
    p.get_by_text(re.compile(r"Compression ratio 786,432 / 16,384 = 48\.0x")).wait_for()
    channels = p.get_by_label("Latent channels c")
    channels.fill("16")
    channels.press("Enter")
    p.get_by_text(re.compile(r"Compression ratio 786,432 / 65,536 = 12\.0x")).wait_for()  # 512x512x3, f=8, c=16
    factor = p.get_by_label("Downsampling factor f")
    factor.fill("7")
    p.get_by_text("Cannot compute these numbers: height H 512 is not divisible by f=7").wait_for()
    assert p.get_by_text(re.compile(r"= 12\.0x")).count() == 0
    preset = p.get_by_label(re.compile(r"^Preset VAE"))
    p.wait_for_function("() => [...document.querySelectorAll('input[role=combobox]')]"
                        ".some(i => (i.getAttribute('aria-label') || '').startsWith('Preset VAE') && i.value === 'Custom')")
    page.shoot("compression-refused")
    preset.click()
    p.get_by_role("option", name="chapter-vae-mnist (this project)").click()
    p.get_by_text(re.compile(r"Compression ratio 784 / 64 = 12\.25x")).wait_for()
    p.get_by_text(re.compile(r"Zero-padded the encoder gets 32 x 32 x 1")).wait_for()
    assert p.get_by_label("Height H (pixels)").input_value() == "28"
    assert p.get_by_role("checkbox", name=re.compile(r"^Zero-pad H and W")).is_checked()
    page.shoot("compression-chapter-preset")


# ---- Exercises -----------------------------------------------------------------------------------------------
def test_exercises_layout_and_results_follow_the_language_switch(page):
    p = page.page
    page.open("Exercises")
    p.get_by_text(re.compile(r"^Exercise 1 ·")).wait_for()
    assert check_plot_layout(p, "ex1-loss-plot") == "Loss and reconstruction (log scale)"
    assert check_plot_layout(p, "ex1-kl-plot") == "KL term (nats per image)"
    page.shoot("exercises-en")
    p.get_by_text(re.compile(r"^Exercise 2 ·")).click()
    p.get_by_label("Latent shape").first.fill("sixty")
    p.locator("#ex2-check").click()
    p.get_by_text("could not read this as a shape: write it as c x h x w").wait_for()
    p.get_by_text(re.compile(r"^Exercise 5 ·")).click()
    p.get_by_label("4 channels reconstruct measurably better").check()
    p.locator("#ex5-reveal").click()
    assert check_plot_layout(p, "ex5-ours-plot") == "measured here (MNIST, f = 4)"
    assert check_plot_layout(p, "ex5-sd3-plot") == "SD3 paper (photos, f = 8; another data set)"
    if page.size == "laptop":
        p.get_by_text(re.compile(r"^Exercise 3 ·")).click()
        assert p.evaluate(BROKEN_WORDS, "ex3-table") == []
    page.chinese()
    p.get_by_text("无法识别为形状：请写成 c x h x w").wait_for()
    assert p.get_by_text("could not read this as a shape").count() == 0
    assert check_plot_layout(p, "ex1-loss-plot", "损失与重建误差（对数坐标）")
    assert check_plot_layout(p, "ex5-sd3-plot", "SD3 论文（照片，f = 8；另一个数据集）")
    page.shoot("exercises-zh")
