"""Shared fixtures: tiny random-init checkpoints for unit tests, the shipped checkpoints for end-to-end
tests, and one real app server per test session (gradio_client talks to it over HTTP).

Every test is marked unit, e2e, browser or load (declared in pyproject.toml) by `pytest_collection_modifyitems`:
browser and load by file name, e2e when it uses the shipped checkpoints or the app server (or lives in an
*_e2e.py file), unit otherwise. `python -m pytest -q -m unit` runs the fast subset."""
from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch starts its thread pool

import pytest
import torch

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("GRADIO_TEMP_DIR", tempfile.mkdtemp(prefix="explorer-gradio-"))
torch.set_num_threads(1)  # as app.py does: one thread per call beats threads waiting on each other

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "checkpoints"

TINY_MODELS = {
    "tiny-sd-mnist": ("sd_vae", "vae", "mnist", {"image_channels": 1, "latent_channels": 4, "base_channels": 8,
                                                 "channel_mults": [1, 2, 2], "norm_groups": 4}, {}),
    "tiny-chapter": ("chapter_vae", "vae", "mnist", {"image_channels": 1, "latent_channels": 4}, {"pad_to": 32}),
    "tiny-2d": ("mlp_vae", "vae", "mnist", {"latent_dim": 2, "hidden": [32]}, {}),
    "tiny-photos": ("sd_vae", "vae", "photos", {"image_channels": 3, "latent_channels": 4, "base_channels": 8,
                                                "channel_mults": [1, 1, 1, 1], "norm_groups": 4,
                                                "mid_attention": False}, {}),
    "tiny-classifier": ("classifier", "classifier", "mnist", {"width": 4}, {}),
}


E2E_FIXTURES = {"shipped_service", "app_server"}


def test_kind(file_name: str, fixtures) -> str:
    """The mark of a test from its file name and the fixtures it uses: browser, load, e2e or unit."""
    if file_name.startswith("test_browser"):
        return "browser"
    if file_name == "test_load.py":
        return "load"
    if file_name.endswith("_e2e.py") or E2E_FIXTURES & set(fixtures):
        return "e2e"
    return "unit"


def pytest_collection_modifyitems(config, items):
    for item in items:
        item.add_marker(getattr(pytest.mark, test_kind(item.path.name, item.fixturenames)))


def make_tiny_checkpoints(folder: Path) -> Path:
    """Random-init tiny models saved as real checkpoints (never presented as trained: metrics say so)."""
    from explorer.checkpoint import save_checkpoint
    from explorer.models import build_model

    torch.manual_seed(0)
    for name, (family, kind, dataset, config, extra) in TINY_MODELS.items():
        model = build_model(family, config)
        save_checkpoint(folder / name, model, name=name, family=family, kind=kind, dataset=dataset,
                        metrics={"untrained": True, "params": sum(p.numel() for p in model.parameters())},
                        description="random-init test model", **extra)
    return folder


@pytest.fixture(scope="session")
def tiny_checkpoint_dir(tmp_path_factory) -> Path:
    return make_tiny_checkpoints(tmp_path_factory.mktemp("tiny-checkpoints"))


@pytest.fixture(scope="session")
def tiny_service(tiny_checkpoint_dir):
    from explorer.service import ModelService

    return ModelService(tiny_checkpoint_dir, device="cpu")


@pytest.fixture
def few_digits(monkeypatch):
    """explorer.data.load_mnist gives only the first 512 digits of each split (the 500 held-out ones stay whole):
    a real training loop on real digits, in a few seconds."""
    from explorer import data

    full = data.load_mnist

    def first(split: str = "train", idx_dir: str | None = None):
        whole = full(split, idx_dir)
        return data.DigitSplit(whole.images[:512], whole.labels[:512], whole.source_index[:512])

    monkeypatch.setattr(data, "load_mnist", first)
    return first


@pytest.fixture(scope="session")
def shipped_service():
    from explorer.service import ModelService

    service = ModelService(SHIPPED, device="cpu")
    if not service.names():
        pytest.fail(f"no checkpoints in {SHIPPED}: the shipped models must be committed")
    return service


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer(tuple):
    """(url, gradio_client.Client), plus the running Blocks as `demo` (the server runs in this process)."""

    def __new__(cls, url: str, client, demo):
        server = super().__new__(cls, (url, client))
        server.demo = demo
        return server

    def idle(self) -> bool:
        """True when the server's queue holds no event and no worker runs one (for every page and client)."""
        queue = self.demo._queue
        return len(queue) == 0 and queue.get_active_worker_count() == 0


@pytest.fixture(scope="session")
def app_server(shipped_service):
    """The real app (all tabs, shipped checkpoints) on a free port; yields AppServer (url, gradio_client.Client)
    with `.demo` and `.idle()`."""
    from gradio_client import Client

    from explorer.ui.app import build_demo, launch_kwargs

    from app import parse_args

    defaults = parse_args([])  # the queue settings `python app.py` uses (the README sizes them for a class)
    demo = build_demo(shipped_service)
    demo.queue(default_concurrency_limit=defaults.concurrency, max_size=defaults.max_queue)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1",
                            server_port=free_port(), **launch_kwargs())
    client = Client(url, verbose=False, httpx_kwargs={"timeout": 120})  # httpx's 5 s is short on 2 busy cores
    try:
        yield AppServer(url, client, demo)
    finally:
        client.close()
        demo.close()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for every browser test file (each test opens its own context: a fresh session).
    tests/test_browser.py says how it is found, and skips or fails its tests when it is missing."""
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def tab(browser, app_server):
    """A fresh page on the real app at 1366x768 in English (tests/test_browser.py's AppPage)."""
    from tests.test_browser import AppPage

    t = AppPage(browser, app_server[0])
    yield t
    t.context.close()
