"""A class in real browsers: N Chromium pages each open the Denoising tab, press Generate with the defaults and let
playback run to the last step; the server is `python app.py` (all tabs, shipped checkpoints) on a free port.

    python -m benchmarks.bench_class_browser --pages 1 10 25              # every page asks the same (defaults)
    python -m benchmarks.bench_class_browser --pages 1 10 --distinct-seeds  # page k uses seed k: no cache hits
    python -m benchmarks.bench_class_browser --url http://127.0.0.1:7860 --pages 10   # a server already running

A warm-up Generate (one page, a seed no round asks for) loads the models first, unless --cold.
Per round of N pages (all press Generate at the same moment, each in its own browser context = its own session):
- Generate -> first frame: from the click (Date.now() in the page) to the first step painted on the player's
  canvases (window.__denPlayer.firstPaintAt, set by explorer/ui/denoising_assets/player.js), p50 / p95 / max.
- playback: the player's own start and end of playing steps 1..n (playStart -> playEnd), p50 and max, and the
  ratio of its p50 to the 1-page round's p50 (the 1-page round always runs first). Nominal at 1x: (n - 1) x 150 ms.
- frames painted per page (of n) and the server requests every page sent during its playback, counted with
  Playwright's request events (any URL of the server).
Issue 12's target, on 2 cores: 10 pages play as fast as 1 (ratio <= 1.3), 0 requests during playback, every first
frame within 10 s. The load average is printed: on a machine shared with other work, read the figures with it.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"]
TIMEOUT_MS = 300_000


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


async def open_page(browser, url: str):
    context = await browser.new_context(viewport={"width": 1366, "height": 768}, locale="en-US")
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    requests: list[float] = []
    page.on("request", lambda r: requests.append(time.time() * 1000))
    await page.goto(url)
    await page.get_by_role("tab", name="Denoising").first.click()
    await page.locator("#den-player .den-player").wait_for()
    await page.get_by_role("button", name="Generate").wait_for()
    return context, page, requests


async def run_page(page, requests: list[float], seed: int | None, start: asyncio.Event) -> dict:
    if seed is not None:
        await page.locator("#tab-denoising").get_by_label("Seed", exact=True).fill(str(seed))
    old = await page.evaluate("() => (window.__denPlayer || {}).key || null")
    await start.wait()
    clicked = await page.evaluate("() => Date.now()")
    await page.locator("#tab-denoising").get_by_role("button", name="Generate").click()
    await page.wait_for_function("(old) => { const s = window.__denPlayer; return s && s.key && s.key !== old"
                                 " && s.playEnd && !s.playing; }", arg=old, timeout=TIMEOUT_MS)
    s = await page.evaluate("() => Object.assign({}, window.__denPlayer)")
    during = [t for t in requests if s["playStart"] <= t <= s["playEnd"]]
    return {"first_frame_s": (s["firstPaintAt"] - clicked) / 1000, "playback_s": (s["playEnd"] - s["playStart"]) / 1000,
            "painted": s["painted"], "n": s["n"], "requests": len(during)}


async def round_of(browser, url: str, pages: int, distinct: bool, offset: int) -> list[dict]:
    opened = [await open_page(browser, url) for _ in range(pages)]  # one after another: opening is not measured
    start = asyncio.Event()
    try:
        tasks = [asyncio.create_task(run_page(page, requests, (offset + k) if distinct else None, start))
                 for k, (_, page, requests) in enumerate(opened)]
        await asyncio.sleep(3.0)  # every page opened and idle, then all press Generate together
        start.set()
        return await asyncio.gather(*tasks)
    finally:
        await asyncio.gather(*(context.close() for context, _, _ in opened))


def row(pages: int, results: list[dict], reference: float | None, load: tuple) -> dict:
    first = [r["first_frame_s"] for r in results]
    play = [r["playback_s"] for r in results]
    p50 = statistics.median(play)
    return {"pages": pages, "first frame p50 (s)": f"{statistics.median(first):.2f}",
            "p95 (s)": f"{pct(first, 0.95):.2f}", "max (s)": f"{max(first):.2f}",
            "playback p50 (s)": f"{p50:.2f}", "playback max (s)": f"{max(play):.2f}",
            "vs 1 page (p50)": f"{p50 / reference:.2f}x" if reference else "1.00x",
            "frames painted": f"{min(r['painted'] for r in results)}-{max(r['painted'] for r in results)} of "
                              f"{results[0]['n']}",
            "requests during playback": sum(r["requests"] for r in results),
            "load avg (1 min)": f"{load[0]:.1f}"}


async def main_async(args) -> list[dict]:
    from playwright.async_api import async_playwright

    rows, reference = [], None
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            if not args.cold:  # load the models first, with a seed no round asks for (the cache stays cold)
                await round_of(browser, args.url, 1, True, offset=987_654)
            counts = [1] + [n for n in args.pages if n != 1]
            for i, n in enumerate(counts):
                results = await round_of(browser, args.url, n, args.distinct_seeds, offset=1000 * (i + 1))
                load = os.getloadavg()
                if n == 1:
                    reference = statistics.median(r["playback_s"] for r in results)
                rows.append(row(n, results, None if n == 1 else reference, load))
                print(rows[-1], flush=True)
        finally:
            await browser.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    from .harness import print_table, running_server

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, nargs="+", default=[1, 10], help="pages at once, one round each")
    parser.add_argument("--distinct-seeds", action="store_true", help="page k asks seed k (every request differs)")
    parser.add_argument("--cold", action="store_true", help="no warm-up Generate before the rounds (the 1-page "
                        "round then includes loading the models)")
    parser.add_argument("--url", help="a running server (default: start `python app.py` on a free port)")
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}", flush=True)
    with (contextlib.nullcontext() if args.url else running_server(timeout=600)) as server:
        if server is not None:
            args.url = server.url
            print(f"server cold start {server.cold_start_s:.1f} s", flush=True)
        rows = asyncio.run(main_async(args))
    print(f"\nrequests: {'a different seed per page' if args.distinct_seeds else 'every page the defaults'}")
    print_table(rows)
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
