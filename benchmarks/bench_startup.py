"""Cold start (process start to first served page) and the transport floor.

    python -m benchmarks.bench_startup
"""
from __future__ import annotations

from .harness import print_table, running_server, summarize, timed


def main() -> None:
    rows = []
    with running_server() as server:
        rows.append({"what": "cold start: `python app.py` to first page", "n": 1,
                     "p50_ms": 1000 * server.cold_start_s})
        rows.append(summarize("/ping (transport floor)", timed(lambda: server.client.predict(api_name="/ping"), 50)))
        rows.append(summarize("/models", timed(lambda: server.client.predict(api_name="/models"), 20)))
        rows.append({"what": "server peak RSS (MB)", "p50_ms": None, "value": server.peak_rss_mb()})
    print_table(rows)


if __name__ == "__main__":
    main()
