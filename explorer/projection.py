"""2-D projections of latents for the latent map: PCA (instant, numpy SVD) and UMAP (slow to start, so it is
fitted in a background thread), plus the per-(model, method) cache the tab and API share.

UMAP facts that shape this file (umap-learn 0.5, 2 CPU cores): `import umap` compiles with numba for up to
~10 s; fitting 500 points takes ~7.5 s; the first `transform` compiles again (~2.7 s), later ones take ~12 ms.
So a UMAP reducer is fitted by one background worker with a fixed `random_state`, its `transform` is warmed
once before it is published, and until then callers get None and show PCA. `umap` is imported only inside
that worker, never at module import. Reducers live in memory only: nothing here is pickled.

Latents of any shape are flattened to (N, D). A latent that already is 2-D (the 2-D VAE) needs no
projection: IdentityProjection returns it unchanged for either method.

`place` puts new latents (a path between two digits) on a fitted map so that identical latents land on the same
point: UMAP's `transform` embeds each new point by a few epochs of stochastic optimisation, so two copies of one
latent (or a copy of a fitted one) land apart (measured on the shipped c4 VAE: a digit-to-itself path spread up to
0.36 map units). `place` transforms each distinct latent once and gives a latent that IS one of the fitted latents
that latent's own map position.
"""
from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Hashable

import numpy as np

from .messages import Refusal, define

define({"map.projection_method": "unknown projection method {method!r}; use 'umap' or 'pca'"})
METHODS = ("umap", "pca")
UMAP_PARAMS = {"n_neighbors": 15, "min_dist": 0.1, "random_state": 0}


def check_method(method: str) -> str:
    """"umap" or "pca"; Refusal("map.projection_method") otherwise."""
    if method not in METHODS:
        raise Refusal("map.projection_method", method=method)
    return method


def flatten(latents: np.ndarray) -> np.ndarray:
    """(N, ...) -> (N, D), keeping a floating dtype (others become float32)."""
    latents = np.asarray(latents)
    if not np.issubdtype(latents.dtype, np.floating):
        latents = latents.astype(np.float32)
    if latents.ndim < 2:
        raise ValueError(f"expected a batch of latents (N, ...), got shape {latents.shape}")
    return latents.reshape(len(latents), -1)


@dataclass
class PCAProjection:
    """Top-2 principal axes of the fitted latents. `coords` (N, 2) are the fitted points themselves."""

    mean: np.ndarray  # (D,)
    components: np.ndarray  # (2, D), rows are unit principal axes
    explained_variance_ratio: np.ndarray  # (2,)
    coords: np.ndarray  # (N, 2)
    method: str = "pca"

    @classmethod
    def fit(cls, latents: np.ndarray) -> "PCAProjection":
        x = flatten(latents).astype(np.float64)
        if len(x) < 2:
            raise ValueError("PCA needs at least 2 latents")
        mean = x.mean(axis=0)
        _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
        components = np.zeros((2, x.shape[1]))
        k = min(2, len(vt))
        components[:k] = vt[:k]
        # Fix each axis' sign (largest-magnitude loading positive) so the picture is reproducible.
        for row in components:
            if row.any() and row[np.argmax(np.abs(row))] < 0:
                row *= -1
        var = s**2
        ratio = np.zeros(2)
        ratio[:k] = var[:k] / var.sum() if var.sum() > 0 else 0.0
        proj = cls(mean, components, ratio, np.zeros((len(x), 2)))
        proj.coords = proj.transform(x)
        return proj

    def transform(self, latents: np.ndarray) -> np.ndarray:
        """(M, ...) -> (M, 2) float64."""
        return (flatten(latents).astype(np.float64) - self.mean) @ self.components.T


@dataclass
class IdentityProjection:
    """For latents that already are (at most) 2-D: the coordinates are the latent itself."""

    coords: np.ndarray
    method: str = "identity"

    @classmethod
    def fit(cls, latents: np.ndarray) -> "IdentityProjection":
        proj = cls(np.zeros((0, 2)))
        proj.coords = proj.transform(latents)
        return proj

    def transform(self, latents: np.ndarray) -> np.ndarray:
        x = flatten(latents).astype(np.float64)
        if x.shape[1] > 2:
            raise ValueError(f"IdentityProjection needs latents of at most 2 dimensions, got {x.shape[1]}")
        return np.pad(x, ((0, 0), (0, 2 - x.shape[1])))


@dataclass
class UMAPProjection:
    """A fitted umap.UMAP reducer (in memory only). `coords` is its embedding of the fitted points."""

    reducer: object
    coords: np.ndarray
    fit_seconds: float
    method: str = "umap"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def fit(cls, latents: np.ndarray, **params) -> "UMAPProjection":
        import umap  # noqa: PLC0415 - slow (numba); only ever imported here, in the background worker

        x = flatten(latents)
        start = time.perf_counter()
        reducer = umap.UMAP(n_components=2, **{**UMAP_PARAMS, **params})
        with keep_torch_threads():
            coords = reducer.fit_transform(x).astype(np.float64)
        proj = cls(reducer, coords, time.perf_counter() - start)
        proj.transform(x[: min(len(x), 8)])  # compile `transform` now, not on a user's click
        return proj

    def transform(self, latents: np.ndarray) -> np.ndarray:
        with self._lock, keep_torch_threads():
            return np.asarray(self.reducer.transform(flatten(latents)), dtype=np.float64)


Projection = PCAProjection | IdentityProjection | UMAPProjection


@contextlib.contextmanager
def keep_torch_threads():
    """Run a numba (UMAP) call without it changing torch's thread count. numba's OpenMP layer sets this thread's
    OpenMP thread count, which torch also reads: after a UMAP fit in the main thread torch ran on 2 threads instead
    of the app's 1 (measured), and a process forked after that (a ZeroGPU worker) deadlocked in OpenMP."""
    import torch  # noqa: PLC0415 - loaded already wherever a projection is fitted

    before = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def fit_projection(latents: np.ndarray, method: str, **umap_params) -> Projection:
    """Fit `method` on (N, ...) latents, synchronously (UMAP can take ~20 s the first time)."""
    check_method(method)
    if flatten(latents).shape[1] <= 2:
        return IdentityProjection.fit(latents)
    if method == "pca":
        return PCAProjection.fit(latents)
    return UMAPProjection.fit(latents, **umap_params)


def place(proj: Projection, latents: np.ndarray, fitted: np.ndarray | None = None) -> np.ndarray:
    """(M, ...) latents -> (M, 2) map positions under `proj`, with identical latents on identical points.

    Each distinct latent is transformed once (one batch); a latent equal to the i-th of `fitted` (the (N, ...)
    latents `proj` was fitted on, so that proj.coords[i] is its position) is placed at proj.coords[i] exactly.
    "Equal" is exact equality of values: interpolation returns copies of its endpoints, never recomputations."""
    x = flatten(latents).astype(np.float64)
    unique, inverse = np.unique(x, axis=0, return_inverse=True)
    inverse = np.asarray(inverse).reshape(-1)
    xy = np.empty((len(unique), 2), dtype=np.float64)
    todo = np.ones(len(unique), dtype=bool)
    if fitted is not None:
        known = {row.tobytes(): i for i, row in enumerate(flatten(fitted).astype(np.float64))}
        for j, row in enumerate(unique):
            i = known.get(row.tobytes())
            if i is not None:
                xy[j], todo[j] = proj.coords[i], False
    if todo.any():
        xy[todo] = proj.transform(unique[todo])
    return xy[inverse]


class ProjectionCache:
    """Projections per (key, method), where key names the latents (the model). PCA is fitted on request;
    UMAP is queued for one background worker thread and `get` returns None until it is ready.

    `latents_fn(key)` -> (N, ...) latents is called when a fit needs them (in the worker, for UMAP).
    """

    def __init__(self, latents_fn: Callable[[Hashable], np.ndarray], **umap_params):
        self._latents_fn = latents_fn
        self._umap_params = umap_params
        self._done: dict[tuple, Projection] = {}
        self._errors: dict[tuple, str] = {}
        self._events: dict[tuple, threading.Event] = {}
        self._lock = threading.Lock()
        self._jobs: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None

    def status(self, key: Hashable, method: str) -> str:
        """"ready", "pending" (queued or fitting), "failed: <reason>" or "missing" (never asked for)."""
        check_method(method)
        with self._lock:
            if (key, method) in self._done:
                return "ready"
            if (key, method) in self._errors:
                return f"failed: {self._errors[(key, method)]}"
            return "pending" if (key, method) in self._events else "missing"

    def get(self, key: Hashable, method: str) -> Projection | None:
        """The projection if ready. PCA (and 2-D latents) are fitted right here; UMAP is started in the
        background and None is returned until it is ready. Raises ValueError if its fit failed."""
        check_method(method)
        cache_key = (key, method)
        with self._lock:
            if cache_key in self._done:
                return self._done[cache_key]
            if cache_key in self._errors:
                raise ValueError(f"{method} projection of {key} failed: {self._errors[cache_key]}")
        latents = self._latents_fn(key)
        if method == "pca" or flatten(latents).shape[1] <= 2:
            proj = fit_projection(latents, method)
            with self._lock:
                return self._done.setdefault(cache_key, proj)
        self.start(key, method)
        return None

    def start(self, key: Hashable, method: str = "umap") -> None:
        """Queue a background fit of (key, method) unless it is done or already queued."""
        check_method(method)
        with self._lock:
            if (key, method) in self._done or (key, method) in self._events or (key, method) in self._errors:
                return
            self._events[(key, method)] = threading.Event()
            self._jobs.put((key, method))
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="umap-fit", daemon=True)
                self._worker.start()

    def wait(self, key: Hashable, method: str, timeout: float | None = None) -> Projection:
        """Block until (key, method) is ready (starting it if needed); TimeoutError / ValueError otherwise."""
        proj = self.get(key, method)
        if proj is not None:
            return proj
        with self._lock:
            event = self._events.get((key, method))
        if event is not None and not event.wait(timeout):
            raise TimeoutError(f"the {method} projection of {key} is still being computed; try again shortly")
        proj = self.get(key, method)
        if proj is None:  # pragma: no cover - the event is set only after the result is stored
            raise TimeoutError(f"the {method} projection of {key} is not ready")
        return proj

    def _work(self) -> None:
        while True:
            try:
                key, method = self._jobs.get(timeout=5.0)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():
                        self._worker = None
                        return
                continue
            try:
                proj = fit_projection(self._latents_fn(key), method, **self._umap_params)
                with self._lock:
                    self._done[(key, method)] = proj
            except Exception as exc:  # noqa: BLE001 - reported through status()/get(), never crashes the app
                with self._lock:
                    self._errors[(key, method)] = f"{type(exc).__name__}: {exc}"
            finally:
                with self._lock:
                    event = self._events.pop((key, method), None)
                if event is not None:
                    event.set()
