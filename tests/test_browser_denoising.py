"""The Denoising tab in a real browser (headless Chromium, Playwright), at 1366x768 and at a 390x844 phone size:
Generate sends one payload and playback runs in the page. Checked: the frames painted are the sampler's exact
pixels; play, pause, scrub, arrow-key stepping and the language switch (both ways) work with ZERO server
requests (counted with Playwright's request events); a page reloaded during a 1000-step DDPM run stops its
sampler on the server (issue 14, B3). Screenshots during playback, in English and 中文, go to
artifacts/screenshots/denoising-*.png. The server serves the Denoising tab alone over the shipped checkpoints.
"""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from explorer.generation import generate, validate_request
from explorer.views.denoising import to_uint8
from tests.test_browser import AppPage, _missing, shoot

pytestmark = pytest.mark.skipif(_missing is not None, reason=_missing or "")
STEPS = 12
STATE = "() => window.__denPlayer ? Object.assign({}, window.__denPlayer) : null"
# the canvas of one panel, read back at the sheet's native size (every factor-th pixel, red channel)
CANVAS_PIXELS = """([space, kind]) => {
  const c = document.querySelector(`#den-player canvas[data-space="${space}"][data-kind="${kind}"]`);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, f = c.width / 28, out = [];
  for (let y = 0; y < 28; y++) { const row = []; for (let x = 0; x < 28; x++) row.push(d[4 * ((y * f) * c.width + x * f)]);
    out.push(row); }
  return out; }"""


@pytest.fixture(scope="module")
def server(shipped_service):
    from explorer.ui.app import build_demo, launch_kwargs
    from explorer.ui.denoising_tab import build_denoising_tab
    from tests.conftest import free_port

    demo = build_demo(shipped_service, tabs={"denoising": build_denoising_tab})
    demo.queue(default_concurrency_limit=4)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=free_port(),
                            **launch_kwargs())
    yield url
    demo.close()


class Page(AppPage):
    """A page on the Denoising tab (AppPage records every request it sends, (epoch ms, URL), and its JS errors)."""

    def __init__(self, browser, url: str, device: str):
        super().__init__(browser, url, device, tab="Denoising")
        self.device = device
        self.page.locator("#den-player .den-player").wait_for()

    def state(self) -> dict:
        return self.page.evaluate(STATE)

    def requests_between(self, start_ms: float, end_ms: float) -> list[str]:
        return [url for t, url in self.requests if start_ms <= t <= end_ms]

    def generate(self, steps: int = STEPS, sampler: str | None = None) -> dict:
        """Set the steps (and sampler), press Generate and wait until the new run has played to its last step."""
        box = self.page.get_by_label("number input for Steps (1-1000)")
        box.fill(str(steps))
        box.press("Enter")
        if sampler:
            self.page.get_by_label(sampler, exact=True).check()
        old = (self.state() or {}).get("key")
        self.page.get_by_role("button", name="Generate").click()
        self.page.wait_for_function("(old) => { const s = window.__denPlayer;"
                                    " return s && s.key && s.key !== old && s.playEnd; }", arg=old)
        return self.state()

    def status(self) -> str:
        return self.page.locator("#den-player .den-status").inner_text()

@pytest.fixture(params=["laptop", "phone"])
def page(request, browser, server):
    p = Page(browser, server, request.param)
    yield p
    p.close(check_errors=False)


def test_generate_plays_every_step_in_the_browser_without_a_server_request(page, shipped_service):
    played = page.generate()
    assert played["n"] == STEPS and played["index"] == STEPS and played["painted"] == STEPS  # every step, once
    assert page.requests_between(played["playStart"], played["playEnd"]) == []
    assert page.status().startswith(f"Step {STEPS} / {STEPS} (t = 0)")
    # what the page painted is the sampler's output for this request (defaults: digit 3, seed 0, DDIM, and the
    # guidance the latent denoiser's grade chose, which the tab takes as its default)
    guidance = shipped_service.metrics("ldm-mnist")["agreement"]["settings"]["guidance"]
    g = generate(shipped_service, validate_request(3, 0, STEPS, "ddim", guidance))
    shown = np.array(page.page.evaluate(CANVAS_PIXELS, ["latent", "current"]), dtype=np.uint8)
    np.testing.assert_array_equal(shown, to_uint8(g.current_images[-1, 0, 0]))
    assert not page.errors, page.errors


def test_play_pause_scrub_and_arrow_keys_make_no_server_request(page):
    page.generate()
    p = page.page
    since = time.time() * 1000
    p.locator("#den-player .den-speed").select_option("0.5")  # 300 ms a step: time to press Pause on a busy machine
    p.get_by_role("button", name="▶ Play").click()  # from the last step: plays again from step 1
    p.wait_for_function("() => window.__denPlayer.index >= 2")
    p.get_by_role("button", name="❚❚ Pause").click()
    paused = page.state()["index"]
    assert 2 <= paused < STEPS
    p.locator("#den-player").scroll_into_view_if_needed()
    shoot(p, f"denoising-paused-en-{1366 if page.device == 'laptop' else 390}", full_page=False)
    time.sleep(0.6)  # four ticks at 1x
    assert page.state()["index"] == paused and not page.state()["playing"]
    box = p.locator("#den-player .den-range").bounding_box()  # scrub: press on the track at about 3/4
    p.mouse.click(box["x"] + 0.75 * box["width"], box["y"] + box["height"] / 2)
    scrubbed = page.state()["index"]
    assert abs(scrubbed - 0.75 * (STEPS - 1) - 1) <= 1.5, scrubbed
    p.locator("#den-player .den-player").focus()
    p.keyboard.press("ArrowLeft")
    assert page.state()["index"] == scrubbed - 1
    p.keyboard.press("ArrowRight")
    p.keyboard.press("ArrowRight")
    assert page.state()["index"] == scrubbed + 1
    p.keyboard.press("Home")
    assert page.state()["index"] == 1 and page.status().startswith(f"Step 1 / {STEPS}")
    p.keyboard.press("End")
    assert page.state()["index"] == STEPS
    p.locator("#den-player .den-speed").select_option("4")
    p.keyboard.press("Home")
    p.locator("#den-player .den-player").focus()
    p.keyboard.press(" ")  # space plays
    p.wait_for_function("() => window.__denPlayer.playEnd && !window.__denPlayer.playing")
    assert page.requests_between(since, time.time() * 1000) == []
    assert not page.errors, page.errors


def test_the_language_switch_rewords_the_player_both_ways(page):
    played = page.generate()
    p = page.page
    p.get_by_label("中文").check()
    p.wait_for_function("() => document.querySelector('#den-player .den-status').textContent.startsWith('第 ')")
    assert page.status().startswith(f"第 {STEPS} / {STEPS} 步（t = 0）")
    assert p.locator("#den-player .den-play").inner_text() == "▶ 播放"
    # undefined (not an error) while Plotly redraws the plot for the new language
    axis = "() => document.querySelector('#den-player .den-plot')?._fullLayout?.xaxis?.title?.text"
    p.wait_for_function(f"() => ({axis})() === '时间步 t（1000 = 纯噪声）'")
    assert page.state()["key"] == played["key"]  # nothing ran again
    p.get_by_role("button", name="▶ 播放").click()
    p.wait_for_function("() => window.__denPlayer.index >= 3")
    p.locator("#den-player").scroll_into_view_if_needed()
    shoot(p, f"denoising-playing-zh-{1366 if page.device == 'laptop' else 390}", full_page=False)
    p.get_by_label("English").check()
    p.get_by_role("button", name="▶ Play").or_(p.get_by_role("button", name="❚❚ Pause")).first.wait_for()
    p.locator("#den-player .den-first").click()
    p.get_by_role("button", name="▶ Play").click()
    p.wait_for_function("() => window.__denPlayer.index >= 3")
    shoot(p, f"denoising-playing-en-{1366 if page.device == 'laptop' else 390}", full_page=False)
    p.get_by_label("中文").check()
    p.wait_for_function("() => window.__denPlayer.playEnd && !window.__denPlayer.playing")
    p.get_by_label("English").check()
    p.wait_for_function("() => document.querySelector('#den-player .den-status').textContent.startsWith('Step ')")
    assert p.locator("#den-player .den-play").inner_text() == "▶ Play"
    p.wait_for_function(f"() => ({axis})() === 'timestep t (1000 = pure noise)'")
    assert not page.errors, page.errors


def test_a_reloaded_page_stops_its_1000_step_run(browser, server):
    """Issue 14, B3: reload during a 1000-step DDPM generation; the server's sampler for the page that went away
    stops within seconds (a full run takes far longer here) and nothing of it is kept."""
    from explorer.ui.denoising_tab import RUNS

    page = Page(browser, server, "laptop")
    try:
        box = page.page.get_by_label("number input for Steps (1-1000)")
        box.fill("1000")
        box.press("Enter")
        page.page.get_by_label("DDPM", exact=True).check()
        page.page.get_by_label("Seed").fill("424242")
        page.page.get_by_role("button", name="Generate").click()
        deadline = time.time() + 60
        while not [t for t in threading.enumerate() if t.name == "denoising-generate"] and time.time() < deadline:
            time.sleep(0.1)
        workers = [t for t in threading.enumerate() if t.name == "denoising-generate"]
        assert workers, "the run never started"
        time.sleep(1.0)
        page.page.reload()
        reloaded = time.time()
        for t in workers:
            t.join(30)
        stopped_after = time.time() - reloaded
        assert not any(t.is_alive() for t in workers)
        assert stopped_after < 8, f"the sampler ran on for {stopped_after:.1f} s after the page went away"
        request = validate_request(3, 424242, 1000, "ddpm", 5.0)
        assert (request, "ldm-mnist") not in RUNS  # a finished run would be cached: this one never finished
    finally:
        page.close(check_errors=False)


def test_a_bad_seed_is_refused_in_the_page_language_and_blocks_nothing_else(browser, server):
    """Issue 14, A: an empty or fractional seed is refused by the app's one rule (not Gradio's English range check),
    in the page's language, naming the box and its range; the language switch keeps working meanwhile, and a good
    seed generates again."""
    page = Page(browser, server, "laptop")
    try:
        p = page.page
        seed = p.get_by_label("Seed")
        seed.fill("")
        p.get_by_role("button", name="Generate").click()
        p.get_by_text("seed is empty: give a whole number from 0 to 4294967295").first.wait_for()
        p.get_by_label("中文").check()
        p.get_by_role("button", name="生成").wait_for()  # the switch was not blocked by the bad box
        p.locator("#den-player .den-play").filter(has_text="▶ 播放").wait_for()
        p.get_by_label("随机种子").fill("1.5")
        p.get_by_role("button", name="生成").click()
        p.get_by_text("种子必须是 0 到 4294967295 之间的整数，收到 1.5").first.wait_for()
        p.get_by_label("English").check()
        p.get_by_label("Seed").fill("7")
        played = page.generate(steps=4)
        assert played["n"] == 4 and played["index"] == 4
        assert not page.errors, page.errors
    finally:
        page.close(check_errors=False)
