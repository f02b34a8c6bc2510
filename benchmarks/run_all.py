"""Every benchmark in ONE run of `python app.py`, printed as ONE Markdown table (what the README quotes):

    python -m benchmarks.run_all            # full run, about 3-5 min on 2 CPU cores
    python -m benchmarks.run_all --quick    # smoke run, about 1-2 min

Rows, all through the real server over HTTP with gradio_client:
- cold start: `python app.py` to the first served page;
- per endpoint, p50 / p95 latency, each call paired with a /ping (a call that runs no model: the transport
  floor) timed right before it, so load that drifts on a shared machine hits both alike; "over floor" is the
  endpoint's p50 minus its paired floor's p50;
- 50 concurrent clients (each its own session, like a class of students): /ping alone (the floor under
  concurrency), then a mix of /interpolate, /reconstruct and /generate: throughput (calls/s), p50 / p95,
  errors; and p50 / p95 of each endpoint inside the mix;
- the server's peak resident memory (VmHWM).
The machine's load average is printed with the table: on a shared machine, read the numbers with it.
Per-tab detail (browser ticks, in-process breakdowns, latent vs pixel speed-up) stays in bench_*.py.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

from .bench_reconstruct import PHOTO_MODEL, interleaved, write_inputs
from .harness import ROOT, print_table, running_server, summarize

DIGIT_MODEL = "sd-vae-mnist-c4"


@dataclass
class Mix:
    """What the concurrent clients did: per-call (endpoint, seconds), errors, wall time."""

    calls: list[tuple[str, float]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def concurrent_clients(url: str, n_clients: int, duration_s: float, calls_for, deadline_s: float = 300.0) -> Mix:
    """n_clients threads, each with its own gradio_client session, start together and keep calling for
    duration_s (the call in flight at the end completes). calls_for(k, client) -> [(label, fn), ...] is the
    cycle client k runs, so different clients can start at different points of the mix."""
    from gradio_client import Client

    mix = Mix()
    clients = [Client(url, verbose=False) for _ in range(n_clients)]
    start = threading.Barrier(n_clients + 1)

    def user(k: int) -> None:
        cycle = calls_for(k, clients[k])
        start.wait()
        stop_at = time.perf_counter() + duration_s
        i = 0
        while time.perf_counter() < stop_at:
            label, fn = cycle[i % len(cycle)]
            i += 1
            t0 = time.perf_counter()
            try:
                fn()
            except Exception as exc:  # noqa: BLE001 - counted and shown, the run goes on
                with mix.lock:
                    mix.errors.append(f"{label}: {type(exc).__name__}: {exc}")
                continue
            with mix.lock:
                mix.calls.append((label, time.perf_counter() - t0))

    threads = [threading.Thread(target=user, args=(k,), daemon=True) for k in range(n_clients)]
    for thread in threads:
        thread.start()
    start.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join(timeout=max(0.0, t0 + duration_s + deadline_s - time.perf_counter()))
    mix.wall_s = time.perf_counter() - t0
    stuck = sum(thread.is_alive() for thread in threads)
    if stuck:
        mix.errors.append(f"{stuck} clients still waiting {deadline_s:.0f} s after the end (deadlock?)")
    for client in clients:
        client.close()
    return mix


def mix_rows(title: str, mix: Mix, floor_p50_ms: float | None = None) -> list[dict]:
    samples = [s for _, s in mix.calls]
    row = summarize(title, samples) if samples else {"what": title, "n": 0}
    row.update(req_per_s=len(samples) / mix.wall_s if mix.wall_s else None, errors=len(mix.errors))
    if floor_p50_ms is not None and samples:
        row["over_floor_p50_ms"] = row["p50_ms"] - floor_p50_ms
    rows = [row]
    labels = sorted({label for label, _ in mix.calls})
    if len(labels) > 1:
        for label in labels:
            rows.append(summarize(f"  in the mix: {label}", [s for name, s in mix.calls if name == label]))
    return rows


def write_digits(folder: str, count: int) -> list[str]:
    """`count` different held-out digits as PNG files, one per concurrent client."""
    import numpy as np
    from PIL import Image

    from explorer.data import load_mnist

    images = load_mnist("test").images
    paths = []
    for k in range(count):
        path = os.path.join(folder, f"client-{k}.png")
        Image.fromarray(np.round(images[(37 * k) % len(images)] * 255).astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    from gradio_client import handle_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls, shorter concurrent phase")
    parser.add_argument("--n", type=int, default=None, help="paired calls per endpoint (default 30; quick 8)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (default 50: a class)")
    parser.add_argument("--duration", type=float, default=None,
                        help="seconds each concurrent phase runs (default 30; quick 10)")
    parser.add_argument("--steps", type=int, default=50, help="/generate DDIM steps (default 50, the tab's default)")
    args = parser.parse_args(argv)
    n = args.n or (8 if args.quick else 30)
    n_generate = max(3, n // 3)
    duration = args.duration or (10.0 if args.quick else 30.0)
    load_before = os.getloadavg()
    folder = tempfile.mkdtemp(prefix="bench-all-")
    digit, photo = write_inputs(folder)
    generate_args = (3, 0, args.steps, "ddim", 3.0, "latent")

    rows: list[dict] = []
    with running_server() as server:
        client = server.client
        ping = lambda: client.predict(api_name="/ping")  # noqa: E731
        rows.append({"what": "cold start: `python app.py` to first page (s)", "n": 1,
                     "value": round(server.cold_start_s, 1)})
        names = {m["name"] for m in client.predict(api_name="/models")}
        t0 = time.perf_counter()
        client.predict(DIGIT_MODEL, "umap", api_name="/latent_map")
        rows.append({"what": "first /latent_map umap (waits for the background UMAP fit)", "n": 1,
                     "p50_ms": 1000 * (time.perf_counter() - t0)})

        endpoints = [
            ("/models", lambda: client.predict(api_name="/models"), n),
            ("/compression 512x512x3, f8 c4", lambda: client.predict(512, 512, 3, 8, 4, api_name="/compression"), n),
            ("/latent_map pca, cached (500 points)", lambda: client.predict(DIGIT_MODEL, "pca", api_name="/latent_map"),
             n),
            (f"/interpolate {DIGIT_MODEL}, exact decode", lambda: client.predict(
                150, 400, 0.37, "slerp", DIGIT_MODEL, api_name="/interpolate"), n),
            (f"/reconstruct {DIGIT_MODEL}, 28x28 digit", lambda: client.predict(
                handle_file(digit), DIGIT_MODEL, api_name="/reconstruct"), n),
        ]
        if PHOTO_MODEL in names:
            endpoints.append((f"/reconstruct {PHOTO_MODEL}, 512x512 photo", lambda: client.predict(
                handle_file(photo), PHOTO_MODEL, api_name="/reconstruct"), max(3, n // 4)))
        if "ldm-mnist" in names:
            endpoints.append((f"/generate latent, DDIM {args.steps} steps, every frame (final + {args.steps} PNGs)",
                              lambda: client.predict(*generate_args, api_name="/generate"), n_generate))
        paired_rows, all_floor = [], []
        for label, fn, count in endpoints:
            floor, samples = interleaved(ping, fn, count)
            all_floor += floor
            paired_rows.append(summarize(label, samples, floor))
            print(f"  measured {label}", flush=True)
        floor_p50_ms = 1000 * statistics.median(all_floor)
        rows.append(summarize("/ping (transport floor; every pairing pooled)", all_floor))
        rows += paired_rows

        # a class at once: first the floor under concurrency, then the mix
        ping_mix = concurrent_clients(server.url, args.clients, duration,
                                      lambda k, c: [("/ping", lambda: c.predict(api_name="/ping"))])
        rows += mix_rows(f"{args.clients} concurrent clients: /ping only", ping_mix)
        print("  measured concurrent /ping", flush=True)

        digits = write_digits(folder, args.clients)

        def mix_for(k: int, c):
            """Client k's own inputs (a class makes different choices; identical concurrent requests are the
            subject of tests/test_load.py)."""
            cycle = [("/interpolate", lambda: c.predict(k % 500, (7 * k + 100) % 500, (k % 10) / 9, "lerp",
                                                        DIGIT_MODEL, api_name="/interpolate")),
                     ("/reconstruct", lambda: c.predict(handle_file(digits[k]), DIGIT_MODEL,
                                                        api_name="/reconstruct"))]
            if "ldm-mnist" in names:
                cycle.append(("/generate", lambda: c.predict(k % 10, k, args.steps, "ddim", 3.0, "latent",
                                                             api_name="/generate")))
            return cycle[k % len(cycle):] + cycle[:k % len(cycle)]

        mix = concurrent_clients(server.url, args.clients, duration, mix_for)
        rows += mix_rows(f"{args.clients} concurrent clients: /interpolate + /reconstruct + /generate mix", mix,
                         floor_p50_ms)
        rows.append({"what": "server peak RSS (MB)", "value": round(server.peak_rss_mb())})
    for row in rows:  # same columns for every row, in the order a reader wants them
        row.setdefault("n", None)
    print()
    print(f"# benchmarks.run_all, {time.strftime('%Y-%m-%d %H:%M')}, commit {git_commit()}, {os.cpu_count()} CPUs "
          f"visible, load average {load_before[0]:.1f} before / {os.getloadavg()[0]:.1f} after; "
          f"{'--quick, ' if args.quick else ''}n={n} paired calls per endpoint ({n_generate} for /generate), "
          f"{args.clients} clients x {duration:.0f} s per concurrent phase")
    print()
    ordered = [{k: row.get(k) for k in ("what", "n", "p50_ms", "p95_ms", "over_floor_p50_ms", "req_per_s",
                                       "errors", "value")} for row in rows]
    print_table(ordered)
    errors = ping_mix.errors + mix.errors
    if errors:
        print(f"\n{len(errors)} errors under concurrency, first: {errors[0]}")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
