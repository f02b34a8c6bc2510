"""The 2-D VAE's latent plane: a VAE whose latent is two numbers needs no projection, its plane is the map. This
module covers the plane's extent (where the held-out latents lie), decodes an n x n grid of it in one batch (the
decoded manifold under the dots, and the frames the plane's sliders swap) and decodes single points."""
from __future__ import annotations

import numpy as np

from ..messages import Refusal, define
from ..validation import real_number
from .held_out import HeldOutLatents

PLANE_LIMIT = 1e3  # |z1|, |z2| a point may have: far beyond any trained digit, small enough to stay finite

define({"map.not_planar": "{model} does not have a 2-D latent; the latent plane needs one"})


class LatentPlane:
    """The latent plane of the planar models among `held`'s models."""

    def __init__(self, held: HeldOutLatents):
        self.held = held

    def check_planar(self, model) -> str:
        """`model` if it is a map model with a 2-D latent; Refusal("map.unknown_model" | "map.not_planar")."""
        if not self.held.is_planar(model):
            raise Refusal("map.not_planar", model=model)
        return model

    def extent(self, model: str, quantile: float = 0.99, margin: float = 0.1) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) covering the held-out latents of a planar model (outliers trimmed)."""
        z = self.held.latents(self.check_planar(model)).latents.reshape(-1, 2).astype(np.float64)
        lo, hi = np.quantile(z, 1 - quantile, axis=0), np.quantile(z, quantile, axis=0)
        pad = (hi - lo) * margin
        return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])

    def grid(self, model: str, n: int, extent: tuple[float, float, float, float] | None = None):
        """Decode an n x n grid of latent points over the plane in ONE batch.
        Returns (frames (n*n, 28, 28) row-major with row 0 at the TOP (largest z2), xs (n,), ys (n,) ascending)."""
        xmin, xmax, ymin, ymax = extent or self.extent(model)
        xs, ys = np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n)
        points = np.array([[x, y] for y in ys[::-1] for x in xs], dtype=np.float32)
        return self.held.decode(model, points.reshape(n * n, *self.held.latent_shape(model))), xs, ys

    def decode_point(self, model: str, z1, z2) -> np.ndarray:
        """The digit at latent (z1, z2) of a planar model: (28, 28). z1, z2 finite numbers within +-PLANE_LIMIT
        (a Refusal naming the coordinate otherwise)."""
        self.check_planar(model)
        point = [real_number(value, name, -PLANE_LIMIT, PLANE_LIMIT) for name, value in (("z1", z1), ("z2", z2))]
        latent = np.array([point], dtype=np.float32).reshape(1, *self.held.latent_shape(model))
        return self.held.decode(model, latent)[0]
