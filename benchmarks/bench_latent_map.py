"""Latent map latency, through the real server (and, when Playwright + Chromium are installed, a real browser).

    python -m benchmarks.bench_latent_map            # API + browser
    python -m benchmarks.bench_latent_map --no-browser

Measures, in one run of `python app.py`:
  * /ping (the transport floor) and /interpolate INTERLEAVED call by call, so "over the floor" compares like
    with like (target: /interpolate at most ~20 ms over the floor on 2 CPU cores);
  * /latent_map: the first UMAP request (waits for the background fit) and cached UMAP / PCA;
  * in Chromium: choosing a pair -> usable slider (click "Random pair" until the new frames are in the player),
    one slider tick (input event -> new frame decoded and painted; no server call), and release -> exact frame;
  * in this process: the server-side work of choosing a pair (33 latents decoded in one batch + 33 PNGs).
Prints a Markdown table plus the load average, because other work on a shared machine moves every number.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import time

from .harness import print_table, running_server, summarize, timed

MODEL = "sd-vae-mnist-c4"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

# One tick: the input event's handler swaps the <img> to the next pre-decoded frame; `ready` is when that frame
# is decoded (handler + image decode), `painted` the first animation frame after it (what the eye can see; at
# 60 Hz a frame lasts 16.7 ms, so this includes waiting for the display's next frame).
TICKS_JS = """async (n) => {
  const root = document.querySelector('#lsx-player');
  const range = root.querySelector('.lsx-range'), img = root.querySelector('.lsx-frame');
  const ready = [], painted = [];
  for (let k = 1; k <= n; k++) {
    await new Promise((r) => requestAnimationFrame(r));
    const t0 = performance.now();
    range.value = String((k % 33) / 32 + 0.004);
    range.dispatchEvent(new Event('input', {bubbles: true}));
    await img.decode();
    ready.push(performance.now() - t0);
    await new Promise((r) => requestAnimationFrame(r));
    painted.push(performance.now() - t0);
  }
  return [ready, painted];
}"""

RELEASE_JS = """async () => {
  const root = document.querySelector('#lsx-player');
  const range = root.querySelector('.lsx-range'), source = root.querySelector('.lsx-source');
  const before = source.textContent;
  range.value = String(Math.random().toFixed(3));
  range.dispatchEvent(new Event('input', {bubbles: true}));
  const t0 = performance.now();
  range.dispatchEvent(new Event('change', {bubbles: true}));
  while (!/exact|精确/.test(source.textContent)) { await new Promise((r) => setTimeout(r, 2)); }
  await root.querySelector('.lsx-frame').decode();
  return performance.now() - t0;
}"""

PAIR_JS = """async (label) => {
  const root = document.querySelector('#lsx-player');
  const caption = root.querySelector('.lsx-pair');
  const before = caption.textContent;
  const button = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === label);
  const t0 = performance.now();
  button.click();
  while (caption.textContent === before) { await new Promise((r) => setTimeout(r, 2)); }
  await root.querySelector('.lsx-frame').decode();
  return performance.now() - t0;
}"""


def interleaved(server, n: int) -> dict[str, list[float]]:
    """n rounds of (/ping, /interpolate, /interpolate without downloading the PNG), alternating call by call,
    with random pairs and alphas. A gradio_client returns an image as a file URL and then downloads it with
    a second HTTP request; the URL-only client shows the server's cost without that download."""
    from gradio_client import Client

    rng = random.Random(0)
    url_only = Client(server.url, verbose=False, download_files=False)
    samples: dict[str, list[float]] = {"ping": [], "interpolate": [], "interpolate_url": []}
    try:
        for i in range(n + 3):
            for key, client in (("ping", None), ("interpolate", server.client), ("interpolate_url", url_only)):
                t0 = time.perf_counter()
                if client is None:
                    server.client.predict(api_name="/ping")
                else:
                    client.predict(index_a=rng.randrange(500), index_b=rng.randrange(500), alpha=rng.random(),
                                   method=rng.choice(["lerp", "slerp"]), model=MODEL, api_name="/interpolate")
                if i >= 3:  # the first rounds warm up
                    samples[key].append(time.perf_counter() - t0)
    finally:
        url_only.close()
    return samples


def server_side_pair_cost(n: int) -> tuple[list[float], int]:
    """In this process: what the server does when a pair is chosen (decode 33 frames in one batch + PNGs).
    Returns (seconds per pair, the explorer's intra-op threads)."""
    from explorer.latent_map import LatentMapExplorer, png_data_uri
    from explorer.service import ModelService

    explorer = LatentMapExplorer(ModelService(device="cpu"))
    explorer.latents(MODEL)
    rng = random.Random(1)

    def once():
        pp = explorer.pair_path(MODEL, rng.randrange(500), rng.randrange(500), "slerp", 33)
        [png_data_uri(f) for f in pp.frames]

    return timed(once, n), explorer.threads


def browser_rows(url: str, n: int) -> list[dict]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return [{"what": "browser measurements skipped: `pip install playwright` (no browser download needed)"}]
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        return [{"what": f"browser measurements skipped: no Chromium at {CHROMIUM} (apt-get install chromium)"}]
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1300})
        page.goto(url)
        page.get_by_role("tab", name="Latent map").click()
        page.wait_for_function("() => { const i = document.querySelector('#lsx-player .lsx-frame');"
                               " return i && i.src.startsWith('data:image/png'); }", timeout=120_000)
        pair = [page.evaluate(PAIR_JS, "Random pair") / 1000 for _ in range(n // 2 + 3)][3:]
        rows.append(summarize("browser: choose a pair -> usable slider (33 frames arrive)", pair))
        ready, painted = page.evaluate(TICKS_JS, 3 * n)
        rows.append(summarize("browser: slider tick -> new frame decoded (no server call)", [t / 1000 for t in ready]))
        rows.append(summarize("browser: slider tick -> next animation frame (painted)", [t / 1000 for t in painted]))
        release = [page.evaluate(RELEASE_JS) / 1000 for _ in range(n // 2 + 3)][3:]
        rows.append(summarize("browser: release -> exact frame from the server", release))
        browser.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="samples per measurement")
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--omp-threads", type=int, default=None,
                        help="start the server with OMP_NUM_THREADS=N (torch's default intra-op threads)")
    args = parser.parse_args()
    rows = []
    env = {"OMP_NUM_THREADS": str(args.omp_threads)} if args.omp_threads else None
    with running_server(extra_env=env) as server:
        rows.append({"what": "cold start: `python app.py` to first page", "n": 1, "p50_ms": 1000 * server.cold_start_s})
        start = time.perf_counter()
        server.client.predict(model=MODEL, method="umap", api_name="/latent_map")
        rows.append({"what": "/latent_map umap, first call (waits for the background UMAP fit)", "n": 1,
                     "p50_ms": 1000 * (time.perf_counter() - start)})
        calls = interleaved(server, args.n)
        ping = calls["ping"]
        rows.append(summarize("/ping (transport floor, interleaved)", ping))
        rows.append(summarize(f"/interpolate {MODEL}: exact decode, PNG URL only (server cost)",
                              calls["interpolate_url"], floor=ping))
        rows.append(summarize(f"/interpolate {MODEL}: the same + client downloads the PNG", calls["interpolate"],
                              floor=ping))
        for method in ("umap", "pca"):
            samples = timed(lambda: server.client.predict(model=MODEL, method=method, api_name="/latent_map"), 10)
            rows.append(summarize(f"/latent_map {method}, cached (500 points)", samples, floor=ping))
        if not args.no_browser:
            rows += browser_rows(server.url, args.n)
        rows.append({"what": "server peak RSS (MB)", "value": round(server.peak_rss_mb())})
    samples, threads = server_side_pair_cost(args.n)
    rows.append(summarize(f"in-process ({threads} intra-op thread(s)): server work to choose a pair "
                          "(33 frames in 1 batch + 33 PNGs)", samples))
    print_table(rows)
    load = os.getloadavg()
    print(f"\n{os.cpu_count()} CPU cores; load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min)")


if __name__ == "__main__":
    main()
