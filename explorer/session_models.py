"""Models a student trained in the app, kept for that student's session only.

One store per process (`STORE`), keyed by the Gradio session hash (`gr.Request.session_hash`): at most one model
per session (a new run replaces the old one) and at most `max_sessions` sessions (the least recently used is
dropped first), so memory stays bounded however many students train: a live 2-D VAE is ~0.7 M parameters
(2.8 MB), a live conv VAE ~0.2 M. The panel that trains frees a session's model when the page closes
(`demo.unload`). No Gradio import here: other tabs read the store with `STORE.get(request.session_hash)` or
`STORE.list(request.session_hash)`.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

DEFAULT_MAX_SESSIONS = 64


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

    @torch.no_grad()
    def reconstruct(self, images: np.ndarray) -> np.ndarray:
        """Posterior-mean reconstructions of digits (N, 28, 28) float in [0, 1] -> (N, 28, 28) float32 in [0, 1]."""
        x = torch.as_tensor(np.ascontiguousarray(images, dtype=np.float32))[:, None]
        return self.model.decode(self.model.encode(x).mode()).clamp(0, 1)[:, 0].numpy()

    @torch.no_grad()
    def encode(self, images: np.ndarray) -> np.ndarray:
        """Posterior means of digits (N, 28, 28) -> (N, *latent_shape) float32."""
        x = torch.as_tensor(np.ascontiguousarray(images, dtype=np.float32))[:, None]
        return self.model.encode(x).mode().numpy()


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
