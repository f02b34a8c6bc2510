"""Interpolation between two latents: linear (lerp) and spherical (slerp), and a path of N latents.

Latents of any shape are treated as flat vectors. Both methods return `a` exactly at t = 0 and `b`
exactly at t = 1 (copies, not recomputations), so decoding an endpoint gives exactly the decoding of A
or B; between two identical latents every point is a copy of that latent (not (1 - t) a + t a, which rounds
differently per t), so a path from a digit to itself is that digit everywhere, on the map too.
Pure numpy; no model here. Refusals are `messages.Refusal`s (codes `map.interp_method`, `number.*` for alpha).

slerp follows Shoemake (1985) on the raw (unnormalised) vectors, with the angle measured between their
directions:  z(t) = sin((1 - t) theta) / sin(theta) * a + sin(t theta) / sin(theta) * b.
Edge cases: nearly parallel directions (theta ~ 0) fall back to lerp, which is the limit of the formula;
nearly antiparallel ones (theta ~ pi) have no unique great circle, so we rotate through a fixed
direction orthogonal to `a` and interpolate the norm linearly; a zero vector also falls back to lerp.
"""
from __future__ import annotations

import numpy as np

from .messages import Refusal, define
from .validation import is_empty, real_number

define({"map.interp_method": "unknown interpolation method {method!r}; use 'lerp' or 'slerp'"})
METHODS = ("lerp", "slerp")
PARALLEL_EPS = 1e-6  # |theta| or |pi - theta| below this (radians) counts as (anti)parallel


def check_method(method: str) -> str:
    """"lerp" or "slerp" (any case, surrounding spaces ignored); Refusal("map.interp_method") otherwise."""
    normalised = method.strip().lower() if isinstance(method, str) else method
    if normalised not in METHODS:
        raise Refusal("map.interp_method", method=method)
    return normalised


def check_alpha(alpha: float) -> float:
    """A finite number in [0, 1] as float (booleans refused); a Refusal ("number.*", field alpha) otherwise.
    Empty is "not a number" here: validation's "number.empty" asks for a whole number."""
    if is_empty(alpha):
        raise Refusal("number.not_a_number", field="alpha", low="0", high="1", value=repr(alpha))
    return real_number(alpha, "alpha", 0.0, 1.0)


def lerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """(1 - t) a + t b, same shape as `a`; exactly a at t=0 (and wherever a equals b) and b at t=1."""
    a, b = _pair(a, b)
    if t == 0.0 or np.array_equal(a, b):
        return a.copy()
    if t == 1.0:
        return b.copy()
    return ((1.0 - t) * a + t * b).astype(a.dtype, copy=False)


def angle(a: np.ndarray, b: np.ndarray) -> float:
    """Angle in radians between the directions of a and b (flattened); 0 if either is zero."""
    a, b = _pair(a, b)
    fa, fb = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    na, nb = np.linalg.norm(fa), np.linalg.norm(fb)
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.arccos(np.clip(fa @ fb / (na * nb), -1.0, 1.0)))


def orthogonal_direction(a: np.ndarray) -> np.ndarray:
    """A fixed unit vector orthogonal to flat `a` (float64): the basis axis least aligned with `a`,
    made orthogonal by Gram-Schmidt. Deterministic, so the antiparallel path is reproducible."""
    flat = a.astype(np.float64).ravel()
    unit = flat / np.linalg.norm(flat)
    if unit.size == 1:
        raise ValueError("a 1-D latent has no direction orthogonal to it")
    axis = np.zeros_like(unit)
    axis[int(np.argmin(np.abs(unit)))] = 1.0
    ortho = axis - (axis @ unit) * unit
    return ortho / np.linalg.norm(ortho)


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation, same shape and dtype as `a`; exactly a at t=0 and b at t=1."""
    a, b = _pair(a, b)
    if t == 0.0:
        return a.copy()
    if t == 1.0:
        return b.copy()
    fa, fb = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    na, nb = np.linalg.norm(fa), np.linalg.norm(fb)
    theta = angle(a, b)
    if na == 0.0 or nb == 0.0 or theta < PARALLEL_EPS or fa.size == 1:
        return lerp(a, b, t)
    if np.pi - theta < PARALLEL_EPS:  # antiparallel: rotate through a fixed orthogonal direction
        unit = fa / na
        ortho = orthogonal_direction(a)
        norm = (1.0 - t) * na + t * nb
        out = norm * (np.cos(t * np.pi) * unit + np.sin(t * np.pi) * ortho)
    else:
        s = np.sin(theta)
        out = np.sin((1.0 - t) * theta) / s * fa + np.sin(t * theta) / s * fb
    return out.reshape(a.shape).astype(a.dtype, copy=False)


def interpolate(a: np.ndarray, b: np.ndarray, t: float, method: str = "lerp") -> np.ndarray:
    """lerp or slerp between a and b at t in [0, 1] (validated)."""
    method = check_method(method)
    t = check_alpha(t)
    return lerp(a, b, t) if method == "lerp" else slerp(a, b, t)


def alphas(n: int) -> np.ndarray:
    """n evenly spaced values from 0 to 1 inclusive (n >= 2)."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"a path needs at least 2 steps, got {n!r}")
    return np.linspace(0.0, 1.0, int(n))


def path(a: np.ndarray, b: np.ndarray, n: int, method: str = "lerp") -> np.ndarray:
    """n latents from a to b: (n, *a.shape), first exactly a, last exactly b."""
    method = check_method(method)
    return np.stack([interpolate(a, b, float(t), method) for t in alphas(n)])


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise ValueError(f"latents must have the same shape, got {a.shape} and {b.shape}")
    if not np.issubdtype(a.dtype, np.floating):
        a = a.astype(np.float32)
    if not np.issubdtype(b.dtype, np.floating):
        b = b.astype(a.dtype)
    return a, b
