"""Pair paths: the latents between two held-out digits A and B (explorer.interpolation), decoded in ONE
`service.decode` batch, and where they lie on the map (explorer.projection.place with the same reducer as the
dots: identical latents on identical points, a copy of A or B on A's or B's own dot). Also random pairs.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..interpolation import alphas as path_alphas, check_alpha, check_method as check_interp_method, interpolate, path
from ..messages import Refusal, define
from ..projection import ProjectionCache, check_method as check_projection_method, place
from .held_out import API_FIELDS, HeldOutLatents

FRAMES = 33  # pre-decoded frames per pair: alpha = 0, 1/32, ..., 1

define({
    "map.relation": "relation must be 'same', 'different' or 'any', not {relation!r}",
    "map.no_partner": "no second digit satisfies relation {relation!r}",
})


@dataclass(frozen=True)
class PairPath:
    """A decoded path from A to B: alphas (n,), latents (n, ...), frames (n, 28, 28) in [0, 1], and the path
    on the map `xy` (n, 2) (None when the requested projection is not ready yet)."""

    model: str
    index_a: int
    index_b: int
    method: str
    alphas: np.ndarray
    latents: np.ndarray
    frames: np.ndarray
    xy: np.ndarray | None
    projection: str | None  # the projection `xy` was made with


def random_pair(labels: np.ndarray, seed: int, relation: str = "any") -> tuple[int, int]:
    """Two distinct indices drawn with `seed`; relation "same" (same digit), "different" or "any"."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    a = int(rng.integers(len(labels)))
    if relation == "same":
        pool = np.flatnonzero(labels == labels[a])
    elif relation == "different":
        pool = np.flatnonzero(labels != labels[a])
    elif relation == "any":
        pool = np.arange(len(labels))
    else:
        raise Refusal("map.relation", relation=relation)
    pool = pool[pool != a]
    if len(pool) == 0:
        raise Refusal("map.no_partner", relation=relation)
    return a, int(rng.choice(pool))


class PairPaths:
    """Paths between held-out digits of one `HeldOutLatents`, projected with its `ProjectionCache`."""

    def __init__(self, held: HeldOutLatents, projections: ProjectionCache):
        self.held = held
        self.projections = projections

    def _latents(self, model: str, index_a, index_b, fields) -> tuple[np.ndarray, int, int]:
        self.held.check_model(model)
        a, b = self.held.check_pair(index_a, index_b, fields)
        return self.held.latents(model).latents, a, b

    def place(self, model: str, proj, latents: np.ndarray) -> np.ndarray:
        """(n, 2): latents of `model` on the map `proj` (fitted on this model's held-out latents)."""
        return place(proj, latents, self.held.latents(model).latents)

    def _fitted(self, model: str, projection: str | None):
        """The projection `projection` of `model` if it is ready, else None (a UMAP fit may still be running)."""
        return None if projection is None else self.projections.get(model, check_projection_method(projection))

    def pair_path(self, model: str, index_a, index_b, method: str = "lerp", n: int = FRAMES,
                  projection: str | None = None, fields=API_FIELDS) -> PairPath:
        """n latents from A to B decoded in ONE batch; with `projection` ("umap"/"pca"), the path placed on the
        map by the same reducer as the dots (None if that reducer is not ready)."""
        z, a, b = self._latents(model, index_a, index_b, fields)
        method = check_interp_method(method)
        latents = path(z[a], z[b], n, method)
        frames = self.held.decode(model, latents)
        proj = self._fitted(model, projection)
        xy = None if proj is None else self.place(model, proj, latents)
        shown = projection if proj is not None else None
        return PairPath(model, a, b, method, path_alphas(n), latents, frames, xy, shown)

    def path_xy(self, model: str, index_a, index_b, method: str, n: int, proj, fields=API_FIELDS) -> np.ndarray:
        """(n, 2): the A->B path (no decoding) placed with `proj`, a projection fitted on this model."""
        z, a, b = self._latents(model, index_a, index_b, fields)
        return self.place(model, proj, path(z[a], z[b], n, check_interp_method(method)))

    def exact(self, model: str, index_a, index_b, alpha, method: str = "lerp",
              projection: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(image (28, 28), map position (2,) or None): the decode at `alpha` (a batch of one), and where that
        latent lies under `projection` if it is ready (placed like the path's points)."""
        z, a, b = self._latents(model, index_a, index_b, API_FIELDS)
        method = check_interp_method(method)
        latent = interpolate(z[a], z[b], check_alpha(alpha), method)
        image = self.held.decode(model, latent[None])[0]
        proj = self._fitted(model, projection)
        return image, None if proj is None else self.place(model, proj, latent[None])[0]
