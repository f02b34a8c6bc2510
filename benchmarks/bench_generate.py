"""Latency of /generate (50-step DDIM, every frame decoded) through the real server, latent vs pixel space,
against the transport floor (/ping) measured in the same run.

    python -m benchmarks.bench_generate             # n=10 calls per row
    python -m benchmarks.bench_generate --quick     # n=3
    python -m benchmarks.bench_generate --steps 50 --guidance 5

Target (issue 5, 2 CPU cores): a 50-step DDIM latent generation with every frame decoded takes under
~1.5 s. Rows:
- /generate through gradio_client as a script uses it by default: the final PNG and the ONE frames file
  (.npz holding every step; until issue 12 it was 50 separate frame PNGs, each its own download) are
  downloaded. And with Client(download_files=False): the files' URLs only.
- server-side work (from the endpoint's own JSON): sampling + decoding every frame, and the median time
  of one denoising step; the per-step speed-up of latent over pixel diffusion is their ratio.
Each /generate call is paired with a /ping right before it, so drifting load hits both alike. The
machine's load average is printed: on a shared machine, read the numbers with it.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

from .harness import print_table, running_server, summarize, timed


def interleaved(floor_fn, fn, n: int, warmup: int = 2):
    """n (floor, fn) pairs timed back to back; fn's return values are kept."""
    for _ in range(warmup):
        floor_fn()
        fn()
    floor, samples, results = [], [], []
    for _ in range(n):
        floor += timed(floor_fn, n=1, warmup=0)
        start = time.perf_counter()
        results.append(fn())
        samples.append(time.perf_counter() - start)
    return floor, samples, results


def median_of(results, key: str) -> float:
    return statistics.median(r[2][key] for r in results)


def main(argv: list[str] | None = None) -> int:
    from gradio_client import Client

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10, help="timed calls per row")
    parser.add_argument("--quick", action="store_true", help="n=3")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--sampler", default="ddim")
    parser.add_argument("--guidance", type=float, default=5.0)
    parser.add_argument("--digit", type=int, default=3)
    args = parser.parse_args(argv)
    n = 3 if args.quick else args.n
    rows, server_rows = [], []
    print(f"load average before: {os.getloadavg()}, cores: {os.cpu_count()}", flush=True)
    with running_server(timeout=600) as server:
        print(f"cold start {server.cold_start_s:.1f} s", flush=True)
        lite = Client(server.url, verbose=False, download_files=False)
        names = {m["name"] for m in server.client.predict(api_name="/models")}
        spaces = [s for s, name in (("latent", "ldm-mnist"), ("pixel", "pixel-dm-mnist")) if name in names]
        ping = lambda: server.client.predict(api_name="/ping")  # noqa: E731
        all_floor = []
        per_space = {}
        for space in spaces:
            request = (args.digit, 0, args.steps, args.sampler, args.guidance, space)
            label = f"/generate {space}, {args.sampler.upper()} {args.steps} steps"
            floor, samples, results = interleaved(ping, lambda: server.client.predict(*request, api_name="/generate"), n)
            rows.append(summarize(f"{label} (client downloads final PNG + one frames .npz)", samples, floor))
            floor2, samples2, results2 = interleaved(ping, lambda: lite.predict(*request, api_name="/generate"), n)
            rows.append(summarize(f"{label} (download_files=False: file URLs only)", samples2, floor2))
            all_floor += floor + floor2
            results += results2
            per_space[space] = results
            server_rows.append({"space": space, "n": len(results),
                                "server total p50 (ms)": 1000 * median_of(results, "total_s"),
                                "denoising p50 (ms)": 1000 * median_of(results, "denoise_s"),
                                "decode every frame p50 (ms)": 1000 * median_of(results, "decode_s"),
                                "median step (ms)": median_of(results, "median_step_ms"),
                                "dims per step": results[0][2]["dims_per_step"],
                                "params": results[0][2]["params"]})
        rows.insert(0, summarize("/ping (transport floor)", all_floor))
        peak = server.peak_rss_mb()
        lite.close()
    print_table(rows)
    print()
    print_table(server_rows)
    if "latent" in per_space and "pixel" in per_space:
        step = server_rows[1]["median step (ms)"] / server_rows[0]["median step (ms)"]
        denoise = server_rows[1]["denoising p50 (ms)"] / server_rows[0]["denoising p50 (ms)"]
        total = server_rows[1]["server total p50 (ms)"] / server_rows[0]["server total p50 (ms)"]
        dims = server_rows[1]["dims per step"] / server_rows[0]["dims per step"]
        print(f"\nlatent over pixel: {dims:.1f}x fewer numbers per step; per-step speed-up {step:.2f}x; "
              f"all denoising steps {denoise:.2f}x; server total incl. decoding every frame {total:.2f}x "
              "(chapter: 48x fewer numbers at 512^2; LDM paper Table 6: LDM-4 samples 3.7x-4.9x faster than LDM-1)")
    else:
        print("\npixel-dm-mnist is not installed: no latent/pixel speed-up measured")
    print(f"server peak RSS {peak:.0f} MB; load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
