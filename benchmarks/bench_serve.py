"""One class load against (a) one in-process app and (b) two frontends (`app.py --model-server`) sharing one
model service (`python -m explorer.serve`, Ray Serve), side by side in one run, through the real servers.

    python -m benchmarks.bench_serve                  # 8 concurrent students, 6 rounds each
    python -m benchmarks.bench_serve --users 4 --rounds 3 --steps 10

Each simulated student has their own gradio_client and, per round, asks /reconstruct (a held-out digit, the
default VAE) then /generate (digit 0-9, its own seed, DDIM, --steps steps, latent space). In (b) half the
students talk to each frontend, as a sticky load balancer would split a class. Printed: per endpoint the median
and p95 latency (ms) of every call, the wall time of the whole load and the calls per second; plus /ping, the
transport floor, measured alone before the load. The model service here runs on the CPU with one replica (one
torch thread) unless --replicas / --device say otherwise: on a 2-core machine it measures the overhead of the
extra hop and the process split, not the gain a GPU would bring.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from .harness import free_port, percentile, print_table, running_server, timed

MODEL = "sd-vae-mnist-c4"
START_TIMEOUT = 600.0  # seconds a server may take to start (a loaded 2-core machine needs minutes)


def class_load(urls: list[str], users: int, rounds: int, steps: int, digit_path: str) -> dict:
    """`users` threads, student i on urls[i % len(urls)], `rounds` x (/reconstruct, /generate) each."""
    from gradio_client import Client, handle_file

    # gradio_client waits 20 s by default for some requests (join, upload); on a loaded 2-core machine that
    # measured the client, not the app: 120 s here (a call that still fails is counted as an error)
    clients = [Client(urls[i % len(urls)], verbose=False, httpx_kwargs={"timeout": 120}) for i in range(users)]
    samples: dict[str, list[float]] = {"/reconstruct": [], "/generate": []}
    errors: list[str] = []
    lock, barrier = threading.Lock(), threading.Barrier(users)

    def student(i: int) -> None:
        client = clients[i]
        barrier.wait()
        for r in range(rounds):
            for api, args in (("/reconstruct", (handle_file(digit_path), MODEL)),
                              ("/generate", (i % 10, 1000 * i + r, steps, "ddim", 3.0, "latent"))):
                start = time.perf_counter()
                try:
                    client.predict(*args, api_name=api)
                except Exception as exc:  # noqa: BLE001 - counted and reported, not hidden
                    with lock:
                        errors.append(f"{api}: {type(exc).__module__}.{type(exc).__name__}: {exc}")
                    continue
                with lock:
                    samples[api].append(time.perf_counter() - start)

    threads = [threading.Thread(target=student, args=(i,)) for i in range(users)]
    start = time.perf_counter()
    [t.start() for t in threads]
    [t.join() for t in threads]
    wall = time.perf_counter() - start
    for client in clients:
        client.close()
    return {"samples": samples, "wall_s": wall, "errors": errors}


def rows_for(setup: str, load: dict, floor: list[float]) -> list[dict]:
    calls = sum(len(v) for v in load["samples"].values())
    rows = [{"setup": setup, "what": "/ping alone (floor)", "n": len(floor),
             "p50_ms": 1000 * statistics.median(floor), "p95_ms": 1000 * percentile(floor, 0.95)}]
    for api, samples in load["samples"].items():
        rows.append({"setup": setup, "what": api, "n": len(samples),
                     "p50_ms": 1000 * statistics.median(samples) if samples else float("nan"),
                     "p95_ms": 1000 * percentile(samples, 0.95)})
    rows.append({"setup": setup, "what": "whole load", "n": calls, "wall_s": load["wall_s"],
                 "calls_per_s": calls / load["wall_s"], "errors": len(load["errors"])})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--steps", type=int, default=20, help="DDIM steps per /generate")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--num-cpus", type=int, default=None, help="CPUs of the service's local Ray instance")
    args = parser.parse_args(argv)

    from explorer.serve import spawn_healthy, terminate

    folder = tempfile.mkdtemp(prefix="bench-serve-")
    digit = os.path.join(folder, "digit.png")
    from explorer.data import load_mnist

    Image.fromarray(np.round(load_mnist("test").images[0] * 255).astype(np.uint8)).save(digit)
    rows = []
    print(f"load: {args.users} concurrent students x {args.rounds} rounds of /reconstruct + /generate "
          f"({args.steps} DDIM steps); {os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.1f}",
          flush=True)

    with running_server(timeout=START_TIMEOUT) as app:  # (a) one in-process app
        floor = timed(lambda: app.client.predict(api_name="/ping"), n=20)
        load = class_load([app.url], args.users, 1, args.steps, digit)  # warm-up: loads the models
        load = class_load([app.url], args.users, args.rounds, args.steps, digit)
        rows += rows_for("(a) one app, models in-process", load, floor)
        print(f"(a) done: {load['wall_s']:.1f} s, {len(load['errors'])} errors", flush=True)

    port, token = free_port(), "bench-" + os.urandom(8).hex()
    url = f"http://127.0.0.1:{port}"
    options = ["--port", str(port), "--token", token, "--replicas", str(args.replicas), "--device", args.device]
    if args.num_cpus:
        options += ["--num-cpus", str(args.num_cpus)]
    log = Path(folder) / "service.log"
    start = time.perf_counter()
    service = spawn_healthy(options, log, url, timeout=START_TIMEOUT)
    try:
        print(f"model service up in {time.perf_counter() - start:.1f} s (log: {log})", flush=True)
        env = {"EXPLORER_MODEL_SERVER": url, "EXPLORER_MODEL_SERVER_TOKEN": token}
        with running_server(env, START_TIMEOUT) as first, running_server(env, START_TIMEOUT) as second:  # (b)
            floor = timed(lambda: first.client.predict(api_name="/ping"), n=20)
            load = class_load([first.url, second.url], args.users, 1, args.steps, digit)  # warm-up
            load = class_load([first.url, second.url], args.users, args.rounds, args.steps, digit)
            rows += rows_for("(b) two frontends, one model service", load, floor)
            print(f"(b) done: {load['wall_s']:.1f} s, {len(load['errors'])} errors", flush=True)
            for error in load["errors"][:5]:
                print("  error:", error, file=sys.stderr)
    finally:
        terminate(service)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print_table(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
