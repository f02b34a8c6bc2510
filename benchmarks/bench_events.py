"""Server work per user action, tab by tab, in a real browser (issue 12, item 3: what grows with the class).

    python -m benchmarks.bench_events            # starts `python app.py` on a free port
    python -m benchmarks.bench_events --url http://127.0.0.1:7860

One Chromium page (1366x768, its own session) performs the actions a student performs, one after the other; after
each it waits until the page is idle (every progress tracker hidden and no request for 1.5 s) and reports:
- events: Gradio events the action sent to the server (POSTs to /gradio_api/queue/join or /gradio_api/run/...;
  a gr.Timer's ticks are counted apart, in the last row),
- other POSTs: other calls, e.g. a gr.HTML server function (the latent map's exact frame on release),
- files: images and other files the page then fetched from the server (GETs of /gradio_api/file=...),
- settle_s: seconds from the action to the idle page (on a shared machine, read it with the load average).
A high-frequency action (a slider drag, a scrub, a playback, a keystroke) should send 0 events; a click that
changes several controls at once should send 1. The table is Markdown, for the README.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import os
import re
import time

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
IDLE = "() => [...document.querySelectorAll('[data-testid=status-tracker]')].every(e => e.classList.contains('hide'))"
TIMEOUT_MS = 300_000


class Recorder:
    """Requests the page sends to the server, by kind, with their start times. Events are named by their
    triggers from the app's /config (a gr.Timer's "tick" is counted apart: it is not the action's doing)."""

    def __init__(self, page, url: str):
        import json
        import urllib.request

        self.url, self.last = url.rstrip("/"), time.time()
        self.events, self.ticks, self.files, self.other = 0, 0, 0, 0
        with urllib.request.urlopen(self.url + "/config", timeout=30) as response:
            config = json.load(response)
        self.triggers = {d["id"]: {event for _, event in d["targets"]} for d in config["dependencies"]}
        self.names = {c["id"]: self.name(c) for c in config["components"]}
        self.fired: list[str] = []  # "component.event" of every event the page sent, in order
        page.on("request", self.seen)

    @staticmethod
    def name(component: dict) -> str:
        """elem_id, else the label's translation key or text, else the type (+ id) of a config component."""
        props = component.get("props", {})
        label = props.get("label")
        if isinstance(label, dict):
            label = label.get("key")
        return props.get("elem_id") or label or f"{component['type']}#{component['id']}"

    def seen(self, request) -> None:
        if not request.url.startswith(self.url):
            return
        self.last = time.time()
        if request.method == "POST" and ("/queue/join" in request.url or "/run/" in request.url):
            try:
                fn_index = (request.post_data_json or {}).get("fn_index")
            except Exception:  # a body that is not JSON
                fn_index = None
            if self.triggers.get(fn_index) == {"tick"}:
                self.ticks += 1
            else:
                self.events += 1
                trigger = (request.post_data_json or {}).get("trigger_id")
                self.fired.append(f"{self.names.get(trigger, trigger)}")
        elif request.method == "POST":
            self.other += 1  # e.g. a gr.HTML server function
        elif "/file=" in request.url:
            self.files += 1


def settle(page, recorder: Recorder, quiet_s: float = 1.5) -> None:
    deadline = time.time() + TIMEOUT_MS / 1000
    while time.time() < deadline:
        page.wait_for_function(IDLE, timeout=TIMEOUT_MS)
        if time.time() - recorder.last >= quiet_s:
            return
        page.wait_for_timeout(250)


READY = {  # what a tab shows once it can be used
    "Latent map": "() => { const i = document.querySelector('#lsx-player .lsx-frame');"
                  " return i && i.src.startsWith('data:image/png'); }",
    "Denoising": "() => !!document.querySelector('#den-player .den-player')",
}


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).first.click()
    page.wait_for_timeout(300)
    if name in READY:
        page.wait_for_function(READY[name], timeout=TIMEOUT_MS)


def drag(page, selector: str, steps: int = 20) -> None:
    box = page.locator(selector).bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + 4, y)
    page.mouse.down()
    for k in range(1, steps + 1):
        page.mouse.move(box["x"] + 4 + (box["width"] - 8) * k / steps, y)
        page.wait_for_timeout(30)
    page.mouse.up()


def actions(page):
    """(tab, action, callable) in the order a student meets them."""
    def pick_example(title: str):
        cells = page.locator("#rec-gallery [data-index]")
        titles = cells.evaluate_all("cs => cs.map(c => c.title.toLowerCase())")
        cells.nth(next(i for i, t in enumerate(titles) if title in t)).click()

    def choose(label: str, option: str):
        page.get_by_label(label, exact=True).click()
        page.get_by_role("option", name=option, exact=True).click()

    def type_into(box, keys: str):
        box.click()
        box.press("End")
        box.type(keys, delay=80)  # one key at a time, as a student types

    def preset():
        page.get_by_label(re.compile(r"^Preset VAE")).click()
        page.get_by_role("option").nth(2).click()

    def den_generate():
        page.get_by_role("button", name="Generate").click()
        page.wait_for_function("() => window.__denPlayer && window.__denPlayer.painted >= 1", timeout=TIMEOUT_MS)

    def den_play():
        page.get_by_role("button", name="▶ Play").click()
        page.wait_for_function("() => window.__denPlayer && !window.__denPlayer.playing", timeout=TIMEOUT_MS)

    def drag_alpha():
        drag(page, "#lsx-player .lsx-range")
        with contextlib.suppress(Exception):  # the exact frame on release: waited for, not required
            page.wait_for_function("() => /exact/.test(document.querySelector('#lsx-player .lsx-source')"
                                   ".textContent)", timeout=30_000)

    def language(label: str):
        page.get_by_text(label, exact=True).first.click()

    return [
        ("Reconstruction", "click a photo example (switches model and comparison too)", lambda: pick_example("astronaut")),
        ("Reconstruction", "choose another model", lambda: choose("Model", "sd-vae-mnist-c2")),
        ("Reconstruction", "type two digits into the seed box (posterior mean shown)",
         lambda: type_into(page.get_by_label("Seed for ε", exact=False), "12")),
        ("Latent map", "drag the A->B slider (20 steps), release", drag_alpha),
        ("Denoising", "press Generate", den_generate),
        ("Denoising", "play 50 steps", den_play),
        ("Denoising", "scrub the step slider (20 steps)", lambda: drag(page, "#den-player .den-range")),
        ("Compression", "choose a preset", preset),
        ("Compression", "type a digit into a number box",
         lambda: type_into(page.get_by_label("Height H (pixels)", exact=True), "0")),
        ("(page)", "switch the language to 中文", lambda: language("中文")),
        ("(page)", "switch the language back to English", lambda: language("English")),
    ]


def measure(url: str) -> list[dict]:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US").new_page()
        page.set_default_timeout(60_000)  # a control not found fails its row within a minute
        recorder = Recorder(page, url)
        page.goto(url)
        page.wait_for_selector("[role=tab]")
        settle(page, recorder)
        current = None
        for tab, what, act in actions(page):
            if tab != current and tab != "(page)":
                open_tab(page, tab)
                settle(page, recorder)
                current = tab
            events, files, other, start = recorder.events, recorder.files, recorder.other, time.time()
            fired = len(recorder.fired)
            try:
                act()
                settle(page, recorder)
            except Exception as exc:  # report the row and go on: one broken selector must not hide the rest
                rows.append({"tab": tab, "action": what, "events": "failed", "files": type(exc).__name__})
                continue
            rows.append({"tab": tab, "action": what, "events": recorder.events - events,
                         "other POSTs": recorder.other - other, "files": recorder.files - files,
                         "settle_s": round(time.time() - start - 1.5, 1),
                         "sent by (trigger component)": ", ".join(
                             f"{name} x{n}" if n > 1 else name
                             for name, n in collections.Counter(recorder.fired[fired:]).items())})
        rows.append({"tab": "(all)", "action": "timer ticks over the whole run (a UMAP fit pending)",
                     "events": recorder.ticks})
        browser.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a server already running (default: start python app.py)")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        url = args.url
        if url is None:
            from benchmarks.harness import running_server
            url = stack.enter_context(running_server(timeout=300)).url
        rows = measure(url)
    from benchmarks.harness import print_table
    print_table(rows)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (1 min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
