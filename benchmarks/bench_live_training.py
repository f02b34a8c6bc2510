"""A class presses Train together: N simultaneous /train_vae runs against the real app (`python app.py`, its default
queue), and what the other tabs feel meanwhile.

    python -m benchmarks.bench_live_training                 # 30 runs of 2 epochs (2-D VAE, beta 1, seeds 0..29)
    python -m benchmarks.bench_live_training --runs 10 --epochs 1

Each run is submitted from its own gradio_client Client (its own session, as 30 students are). Queue wait = from
submission to the first status that says the run is being processed (polled every 50 ms); run time = from then to
the answer. /train_vae runs at most 2 at a time (concurrency_id "live_training", explorer/ui/training_panel.py);
the other endpoints keep their own queue slots. While the runs last, /ping, /compression and a held-out digit's
/reconstruct are called one after another in a loop; their latencies are compared with the same calls on the idle
server before the runs. Medians and 95th percentiles in ms (queue wait and run time in s).
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time

import numpy as np
from PIL import Image

from .harness import percentile, print_table, running_server, summarize


def _probe_calls(client, digit_path: str):
    from gradio_client import handle_file

    return {
        "/ping": lambda: client.predict(api_name="/ping"),
        "/compression": lambda: client.predict(512, 512, 3, 8, 4, api_name="/compression"),
        "/reconstruct (digit)": lambda: client.predict(handle_file(digit_path), "sd-vae-mnist-c4",
                                                       api_name="/reconstruct"),
    }


def _probe(calls: dict, until: threading.Event | None, n: int | None, errors: dict) -> dict[str, list[float]]:
    """Call each probe in turn, n times each (idle) or until `until` is set (under load); latencies in s of the
    calls that answered; failed calls are counted in `errors[name]`."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    rounds = 0
    while (n is not None and rounds < n) or (until is not None and not until.is_set()):
        for name, call in calls.items():
            start = time.perf_counter()
            try:
                call()
            except Exception as exc:  # a timeout or a reset under load is a result, not a crash
                errors[name] = errors.get(name, 0) + 1
                print(f"{name}: {type(exc).__name__} after {time.perf_counter() - start:.1f} s", flush=True)
                continue
            samples[name].append(time.perf_counter() - start)
        rounds += 1
    return samples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="simultaneous /train_vae runs (default 30)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run (default 2)")
    parser.add_argument("--latent", default="2d", help="latent of every run (default 2d)")
    parser.add_argument("--idle", type=int, default=15, help="idle probe rounds (default 15)")
    args = parser.parse_args(argv)

    from gradio_client import Client
    from gradio_client.utils import Status

    from explorer.data import load_mnist

    folder = tempfile.mkdtemp(prefix="bench-live-")
    digit = os.path.join(folder, "digit.png")
    Image.fromarray(np.round(load_mnist("test").images[0] * 255).astype(np.uint8)).save(digit)

    with running_server(timeout=600) as server:
        probe_client = Client(server.url, verbose=False, httpx_kwargs={"timeout": 600})
        calls = _probe_calls(probe_client, digit)
        for call in calls.values():  # warm up (model loading, first-call costs)
            call()
        probe_client.predict(args.latent, 1, 1, 0, api_name="/train_vae")  # warm the data cache and the trainer
        idle_errors: dict = {}
        idle = _probe(calls, None, args.idle, idle_errors)

        clients = [Client(server.url, verbose=False, httpx_kwargs={"timeout": 600}) for _ in range(args.runs)]
        done = threading.Event()
        submitted, started, finished, answers = {}, {}, {}, {}
        jobs = {}
        t0 = time.perf_counter()
        for i, client in enumerate(clients):
            submitted[i] = time.perf_counter()
            jobs[i] = client.submit(args.latent, 1, args.epochs, i, api_name="/train_vae")

        def watch() -> None:
            while len(finished) < len(jobs):
                for i, job in jobs.items():
                    if i in finished:
                        continue
                    try:
                        code = job.status().code
                    except Exception:  # noqa: BLE001 - status polling is best effort
                        code = None
                    if i not in started and code in (Status.PROCESSING, Status.ITERATING, Status.PROGRESS,
                                                     Status.FINISHED):
                        started[i] = time.perf_counter()
                    if job.done():
                        finished[i] = time.perf_counter()
                        started.setdefault(i, finished[i])
                        try:
                            answers[i] = job.result()
                        except Exception as exc:  # counted as not completed
                            answers[i] = exc
                time.sleep(0.05)
            done.set()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        load_errors: dict = {}
        loaded = _probe(calls, done, None, load_errors)
        watcher.join()
        total = time.perf_counter() - t0
        for client in [*clients, probe_client]:
            client.close()

    waits = [started[i] - submitted[i] for i in jobs]
    runs = [finished[i] - started[i] for i in jobs]
    ok = sum(1 for a in answers.values() if isinstance(a, dict) and len(a.get("history", [])) == args.epochs)
    rows = []
    for name in calls:
        rows.append(summarize(f"{name}, idle", idle[name], errors=idle_errors.get(name, 0)))
        rows.append(summarize(f"{name}, during the runs", loaded[name], errors=load_errors.get(name, 0),
                              slowdown_p50=statistics.median(loaded[name]) / statistics.median(idle[name])))
    print_table(rows)
    print()
    failed = [a for a in answers.values() if isinstance(a, Exception)]
    if failed:
        print(f"failed runs: {len(failed)}, e.g. {type(failed[0]).__name__}: {failed[0]}")
    print_table([{"what": f"/train_vae x{args.runs} ({args.latent}, {args.epochs} epochs)", "completed": ok,
                  "queue_wait_p50_s": statistics.median(waits), "queue_wait_p95_s": percentile(waits, 0.95),
                  "queue_wait_max_s": max(waits), "run_p50_s": statistics.median(runs),
                  "run_p95_s": percentile(runs, 0.95), "all_done_s": total}])
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
