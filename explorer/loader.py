"""The loader: models in memory. It owns the device choice, loads each model exactly once per process (under a
load lock, however many threads ask at once), gives every model the lock that guards its use, keeps the
accelerator's copy of a model (made once, the first time heavy work needs it), and renews its locks in a
forked child (a ZeroGPU worker), where a lock another thread held in the parent would stay held forever.

It does not know where a model comes from: `open(name) -> (model, config, metrics)` is passed in (the model
service opens checkpoint folders and in-memory external VAEs).
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
import os
import threading
import weakref
from dataclasses import dataclass, field
from typing import Callable

import torch

from .messages import Refusal, define

DEVICE_ENV = "EXPLORER_DEVICE"
_accelerated: contextvars.ContextVar[int | None] = contextvars.ContextVar("accelerated_loader", default=None)
_all_loaders: "weakref.WeakSet[Loader]" = weakref.WeakSet()

define({
    "device.unknown": "unknown device {device!r}; use auto, cpu, cuda or mps",
    "device.unavailable": "device {device!r} was asked for, but {backend} is not available here",
    "device.unsupported": "unsupported device {device!r}; use auto, cpu, cuda or mps",
})


def choose_device(requested: str | None = None) -> torch.device:
    """"auto" (default): CUDA, then Apple MPS, then CPU. Or "cpu", "cuda", "cuda:1", "mps".
    `requested` falls back to the EXPLORER_DEVICE environment variable. Refusal (a ValueError) for a device
    that is unknown or not present."""
    requested = (requested or os.environ.get(DEVICE_ENV) or "auto").strip().lower()
    mps = getattr(torch.backends, "mps", None)
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as exc:
        raise Refusal("device.unknown", device=requested) from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise Refusal("device.unavailable", device=requested, backend="CUDA")
    if device.type == "mps" and not (mps is not None and mps.is_available()):
        raise Refusal("device.unavailable", device=requested, backend="Apple MPS")
    if device.type not in ("cpu", "cuda", "mps"):
        raise Refusal("device.unsupported", device=requested)
    return device


@dataclass
class LoadedModel:
    """A model in memory with its config.json and metrics.json, and the lock that guards its use."""

    name: str
    model: torch.nn.Module
    config: dict
    metrics: dict
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def kind(self) -> str:
        return self.config.get("kind", "vae")

    @property
    def dataset(self) -> str:
        return self.config.get("dataset", "mnist")

    @property
    def factor(self) -> int:
        return int(getattr(self.model, "downsampling_factor", 1))

    @property
    def pad_to(self) -> int | None:
        return self.config.get("pad_to")

    @property
    def params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


class Loader:
    """Load-once store of models on `base_device`, with a copy on `accelerator` for heavy work."""

    def __init__(self, open_model: Callable[[str, torch.device], tuple[torch.nn.Module, dict, dict]],
                 base_device: torch.device, accelerator: torch.device | None = None):
        """`open_model(name, device) -> (model in eval mode, config, metrics)` is called at most once per name."""
        self._open = open_model
        self.base_device = base_device
        self.accelerator = accelerator
        self._loaded: dict[str, LoadedModel] = {}
        self._on_accelerator: dict[str, LoadedModel] = {}
        self._load_lock = threading.Lock()
        self.load_count: dict[str, int] = {}
        self._key = id(self)
        _all_loaders.add(self)

    # ---- devices ---------------------------------------------------------------------------------------------
    @property
    def accelerated(self) -> bool:
        """True inside `on_accelerator` on a loader that has an accelerator."""
        return self.accelerator is not None and _accelerated.get() == self._key

    @property
    def device(self) -> torch.device:
        """The device of the current call: the accelerator inside `on_accelerator`, else `base_device`."""
        return self.accelerator if self.accelerated else self.base_device

    @contextlib.contextmanager
    def on_accelerator(self):
        """Within this block (this thread/context only) `get` and `device` use the accelerator, if any."""
        token = _accelerated.set(self._key)
        try:
            yield
        finally:
            _accelerated.reset(token)

    # ---- loading ---------------------------------------------------------------------------------------------
    def loaded(self, name: str) -> LoadedModel | None:
        """The model if it is already in memory on the base device, else None (loads nothing)."""
        return self._loaded.get(name)

    def get(self, name: str) -> LoadedModel:
        """The model `name` on the current device, loading it on first use (exactly once per process; the
        accelerator gets its own copy, made once, the first time heavy work needs it)."""
        loaded = self._loaded.get(name) or self._load(name)
        if not self.accelerated:
            return loaded
        on_accelerator = self._on_accelerator.get(name)
        if on_accelerator is None:
            with self._load_lock:
                if name not in self._on_accelerator:
                    model = copy.deepcopy(loaded.model).to(self.accelerator).eval()
                    self._on_accelerator[name] = LoadedModel(name, model, loaded.config, loaded.metrics)
                on_accelerator = self._on_accelerator[name]
        return on_accelerator

    def _load(self, name: str) -> LoadedModel:
        with self._load_lock:
            if name not in self._loaded:
                model, config, metrics = self._open(name, self.base_device)
                self._loaded[name] = LoadedModel(name, model, config, metrics)
                self.load_count[name] = self.load_count.get(name, 0) + 1
            return self._loaded[name]

    def renew_locks(self) -> None:
        """After fork: fresh locks, since a lock another thread held in the parent stays held in the child."""
        self._load_lock = threading.Lock()
        for loaded in [*self._loaded.values(), *self._on_accelerator.values()]:
            loaded.lock = threading.Lock()


def _renew_locks_in_child() -> None:
    for loader in list(_all_loaders):
        loader.renew_locks()


os.register_at_fork(after_in_child=_renew_locks_in_child)
