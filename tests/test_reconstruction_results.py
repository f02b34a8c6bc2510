"""The Reconstruction tab's shared result cache: equal requests running at once compute once (single flight),
a failed run is not cached, and each waiter gets the owner's result or refusal."""
from __future__ import annotations

import threading
import time

import pytest

from explorer.messages import Refusal
from explorer.ui import reconstruction_tab as tab

pytestmark = pytest.mark.unit


@pytest.fixture
def counted(monkeypatch):
    calls = []

    def run_request(service, request, image):
        calls.append(request)
        time.sleep(0.2)  # long enough for the other threads to arrive while this run is in progress
        if request == "bad":
            raise Refusal("recon.no_image_file")
        return f"result of {request}"

    monkeypatch.setattr(tab, "run_request", run_request)
    monkeypatch.setattr(tab, "resolve_source", lambda source: source)
    monkeypatch.setattr(tab, "source_key", lambda source: source)
    return calls


def run_together(results, request, n=3):
    got, threads = [], []
    for _ in range(n):
        def one():
            try:
                got.append(results.get(request, "astronaut"))
            except Refusal as exc:
                got.append(exc)
        threads.append(threading.Thread(target=one))
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    return got


def test_equal_requests_at_once_run_the_model_once(counted):
    results = tab.Results(service=None)
    assert run_together(results, "taef2") == ["result of taef2"] * 3
    assert counted == ["taef2"]
    assert results.get("taef2", "astronaut") == "result of taef2" and counted == ["taef2"]  # then from the cache
    assert results.get("c2", "astronaut") == "result of c2" and counted == ["taef2", "c2"]


def test_a_refused_run_reaches_every_waiter_and_is_not_cached(counted):
    results = tab.Results(service=None)
    got = run_together(results, "bad")
    assert len(got) == 3 and all(isinstance(g, Refusal) for g in got)
    assert counted == ["bad"]
    with pytest.raises(Refusal):
        results.get("bad", "astronaut")
    assert counted == ["bad", "bad"]
