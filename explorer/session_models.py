"""Models a student trained in the app, kept for that student's session only.

One store per process (`STORE`), keyed by the Gradio session hash (`gr.Request.session_hash`): at most one model
per session (a new run replaces the old one) and at most `max_sessions` sessions (the least recently used is
dropped first), so memory stays bounded however many students train: a live 2-D VAE is ~0.7 M parameters
(2.8 MB), a live conv VAE ~0.2 M. The panel that trains frees a session's model when the page closes
(`demo.unload`). No Gradio import here: other tabs read the store with `STORE.get(request.session_hash)` or
`STORE.list(request.session_hash)`.

Other tabs use a session's model through `session_service(service, session)`: the shared ModelService itself when
the session has no model, else a `SessionService` that serves the student's model under its name (config, shapes,
metrics, encode, decode, as the ModelService does for a checkpoint) and hands every other name to the shared
service. So the Reconstruction and Latent map tabs' logic runs unchanged on the student's model, for that session
only; the public API keeps the shared service and never sees a session's model.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from . import roles

DEFAULT_MAX_SESSIONS = 64
_SERIAL = itertools.count(1)  # a new number for every stored model: caches keyed by it never mix two runs


@dataclass
class SessionModel:
    """A trained live model: `name` ("my-2d-b1-e10-s0"), the model (eval, CPU), the run's `request`
    (explorer.live_training.TrainRequest), its held-out metrics and history, and when it was stored."""

    name: str
    model: nn.Module
    request: object
    heldout: dict
    history: list
    created: float = field(default_factory=time.time)
    serial: int = field(default_factory=lambda: next(_SERIAL))
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    caches: dict = field(default_factory=dict, repr=False)  # what other tabs computed for it (freed with it)

    @property
    def latent(self) -> str:
        """The run's latent: "2d" or "c1".."c8"."""
        return self.request.latent

    @property
    def shipped_twin(self) -> str:
        """The shipped checkpoint with this run's latent, to compare it with: "2d" -> roles.PLANAR_VAE
        (vae-mnist-2d), "c4" -> sd-vae-mnist-c4 (roles.CHANNEL_SWEEP_PREFIX + channels). It may not be installed."""
        return roles.PLANAR_VAE if self.latent == "2d" else f"{roles.CHANNEL_SWEEP_PREFIX}{self.latent[1:]}"

    @property
    def latent_shape(self) -> list[int]:
        """The latent of one 28x28 digit: [2] or [c, 7, 7]."""
        return [2] if self.latent == "2d" else [int(self.latent[1:]), 7, 7]

    def config(self) -> dict:
        """What `config.json` says of a shipped checkpoint, for this model: a VAE trained on MNIST digits (28x28,
        no padding), its family ("mlp_vae" or "sd_vae"), KL weight, epochs and seed, marked `session: True`."""
        planar = self.latent == "2d"
        return {"name": self.name, "kind": "vae", "dataset": "mnist", "family": "mlp_vae" if planar else "sd_vae",
                "pad_to": None, "session": True,
                "config": {"kl_weight": float(self.request.kl_weight), "epochs": int(self.request.epochs),
                           "seed": int(self.request.seed), **({} if planar else {"factor": 4})}}

    def shapes(self) -> dict:
        """input_shape [1, 28, 28], latent_shape, factor (4 for the conv VAE; None for the 2-D one)."""
        return {"input_shape": [1, 28, 28], "latent_shape": self.latent_shape,
                "factor": None if self.latent == "2d" else 4}

    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """Posterior-mean reconstructions of digits (N, 28, 28) float in [0, 1] -> (N, 28, 28) float32 in [0, 1]."""
        x = np.ascontiguousarray(images, dtype=np.float32)[:, None]
        return self.decode_batch(self.encode_batch(x)["z"])[:, 0]

    def encode(self, images: np.ndarray) -> np.ndarray:
        """Posterior means of digits (N, 28, 28) -> (N, *latent_shape) float32."""
        return self.encode_batch(np.ascontiguousarray(images, dtype=np.float32)[:, None])["z"]

    def encode_batch(self, images: np.ndarray, sample: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
        """As ModelService.encode: images (B, 1, 28, 28) in [0, 1] -> {"mean", "std", "z"} (z the mean, or
        mean + std * eps with eps from a generator seeded by `seed` when `sample`). Under the model's lock."""
        with self.lock, torch.inference_mode():
            posterior = self.model.encode(torch.as_tensor(np.ascontiguousarray(images), dtype=torch.float32))
            z = posterior.sample(torch.Generator().manual_seed(int(seed))) if sample else posterior.mode()
            return {"mean": posterior.mean.float().numpy(), "std": posterior.std.float().numpy(),
                    "z": z.float().numpy()}

    def decode_batch(self, latents: np.ndarray) -> np.ndarray:
        """As ModelService.decode: latents (B, *latent_shape) -> images (B, 1, 28, 28) float32 in [0, 1]."""
        with self.lock, torch.inference_mode():
            z = torch.as_tensor(np.ascontiguousarray(latents), dtype=torch.float32)
            return self.model.decode(z).clamp(0, 1).float().numpy()


def model_name(request) -> str:
    """A short name for a run: latent, beta, epochs and seed, e.g. "my-2d-b1-e10-s0"."""
    return f"my-{request.latent}-b{request.kl_weight:g}-e{request.epochs}-s{request.seed}"


class SessionModels:
    """session hash -> SessionModel, least recently used first; thread-safe."""

    def __init__(self, max_sessions: int = DEFAULT_MAX_SESSIONS):
        if max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        self.max_sessions = max_sessions
        self._models: OrderedDict[str, SessionModel] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, session: str | None, model: nn.Module, request, heldout: dict, history: list) -> SessionModel | None:
        """Keep `model` as `session`'s model (replacing any earlier one); None (nothing kept) without a session."""
        if not session:
            return None
        entry = SessionModel(model_name(request), model.eval().cpu(), request, dict(heldout), list(history))
        with self._lock:
            self._models.pop(session, None)
            self._models[session] = entry
            while len(self._models) > self.max_sessions:
                self._models.popitem(last=False)
        return entry

    def get(self, session: str | None) -> SessionModel | None:
        """`session`'s model, or None."""
        if not session:
            return None
        with self._lock:
            entry = self._models.get(session)
            if entry is not None:
                self._models.move_to_end(session)
            return entry

    def list(self, session: str | None) -> list[str]:
        """Names of `session`'s models (zero or one), for a dropdown in another tab."""
        entry = self.get(session)
        return [entry.name] if entry else []

    def drop(self, session: str | None) -> bool:
        """Forget `session`'s model (the page was closed); True when there was one."""
        with self._lock:
            return self._models.pop(session, None) is not None if session else False

    def __len__(self) -> int:
        with self._lock:
            return len(self._models)


STORE = SessionModels()


class SessionService:
    """The shared ModelService as one session sees it: the session's model (`entry`) is one more MNIST VAE, served
    under its name by the calls the Reconstruction and Latent map logic make (names, config, vae_shapes, metrics,
    encode, decode, run's lock); every other name and attribute is the shared service's. `token` tells caches
    shared between sessions that this view's results are the student's (two runs never share a token)."""

    def __init__(self, service, entry: SessionModel):
        self._service, self.entry = service, entry
        self.token = ("session", entry.serial)

    def __getattr__(self, name):  # devices, heavy, describe, models ...: the shared service's
        return getattr(self._service, name)

    def _mine(self, name) -> bool:
        return isinstance(name, str) and name == self.entry.name

    def names(self, kind: str | None = None, dataset: str | None = None) -> list[str]:
        """The shared service's names, then the student's model where kind/dataset allow a VAE on MNIST."""
        extra = [self.entry.name] if kind in (None, "vae") and dataset in (None, "mnist") else []
        return [n for n in self._service.names(kind, dataset) if n != self.entry.name] + extra

    def config(self, name: str) -> dict:
        return self.entry.config() if self._mine(name) else self._service.config(name)

    def vae_shapes(self, name: str) -> dict:
        return self.entry.shapes() if self._mine(name) else self._service.vae_shapes(name)

    def metrics(self, name: str) -> dict:
        """The run's held-out metrics (500 held-out digits: psnr, ssim, mse, knn5_accuracy) for the student's model."""
        return dict(self.entry.heldout) if self._mine(name) else self._service.metrics(name)

    def encode(self, name: str, images: np.ndarray, sample: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
        if self._mine(name):
            return self.entry.encode_batch(images, sample, seed)
        return self._service.encode(name, images, sample=sample, seed=seed)

    def decode(self, name: str, latents: np.ndarray) -> np.ndarray:
        return self.entry.decode_batch(latents) if self._mine(name) else self._service.decode(name, latents)


def session_service(service, session: str | None, store: SessionModels | None = None):
    """`service` as `session` sees it: a SessionService when the session has a model in `store` (STORE by
    default), else `service` itself."""
    entry = (store if store is not None else STORE).get(session)
    return SessionService(service, entry) if entry is not None else service


def is_session_model(service, name) -> bool:
    """True when `name` is the student's model of this session view (`service` from `session_service`)."""
    return isinstance(service, SessionService) and service._mine(name)
