"""Measure the explorer the way users meet it: through the real server, over HTTP, with gradio_client.

    with running_server() as server:          # starts `python app.py` on a free port, times the cold start
        floor = timed(lambda: server.client.predict(api_name="/ping"), n=50)
        rows = [summarize("/ping (transport floor)", floor)]
    print_table(rows)

Every benchmark measures /ping (a call that runs no model) in the same run, so model cost can be read as
the difference over that floor.
"""
from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    cold_start_s: float
    client: object  # gradio_client.Client

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self, field: str = "VmRSS") -> float:
        """Current (VmRSS) or peak (VmHWM) resident memory of the server process, in MB."""
        with open(f"/proc/{self.pid}/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def peak_rss_mb(self) -> float:
        return self.rss_mb("VmHWM")


@contextlib.contextmanager
def running_server(extra_env: dict | None = None, timeout: float = 120.0) -> Iterator[Server]:
    """Start `python app.py` on a free port; cold start = process start to first served page."""
    from gradio_client import Client

    port = free_port()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_ANALYTICS_ENABLED": "False", "GRADIO_TEMP_DIR": tempfile.mkdtemp(prefix="bench-gradio-"),
           **(extra_env or {})}
    log = open(Path(tempfile.gettempdir()) / f"bench-server-{port}.log", "w")
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited with {process.returncode}; see {log.name}")
            if time.perf_counter() - start > timeout:
                raise TimeoutError(f"server did not answer within {timeout} s; see {log.name}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.05)
        cold_start = time.perf_counter() - start
        client = Client(url, verbose=False)
        try:
            yield Server(url, process, cold_start, client)
        finally:
            client.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def timed(fn: Callable[[], object], n: int = 30, warmup: int = 3) -> list[float]:
    """Wall-clock seconds of n calls of fn (after `warmup` untimed calls)."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summarize(label: str, samples: list[float], floor: list[float] | None = None, **extra) -> dict:
    """A table row: n, p50 and p95 in ms, and (given the floor's samples) p50 over the floor."""
    row = {"what": label, "n": len(samples), "p50_ms": 1000 * statistics.median(samples),
           "p95_ms": 1000 * percentile(samples, 0.95)}
    if floor:
        row["over_floor_p50_ms"] = row["p50_ms"] - 1000 * statistics.median(floor)
    row.update(extra)
    return row


def print_table(rows: list[dict]) -> None:
    """Print rows as a Markdown table (columns = union of keys, in first-seen order)."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]

    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.1f}" if abs(value) >= 1 else f"{value:.3f}"
        return "" if value is None else str(value)

    print("| " + " | ".join(columns) + " |")
    print("|" + "|".join("---" for _ in columns) + "|")
    for row in rows:
        print("| " + " | ".join(cell(row.get(c)) for c in columns) + " |")
