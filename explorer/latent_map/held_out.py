"""The held-out digits and their latents: which models the map can show, the 500 held-out MNIST digits
(`load_mnist("test")`, 50 per class) encoded once per model (posterior means, cached), decoding latents back to
28x28 digits, and the one rule for a digit index (explorer.validation.whole_number).

Digits are (28, 28) float in [0, 1]; models that work at 32x32 (`pad_to` in their config.json) get zero-padded
inputs and their outputs cropped back to 28x28. Refusals are `messages.Refusal`s with `map.` codes.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from .. import data
from ..generation import torch_threads
from ..messages import Message, Refusal, define
from ..validation import whole_number

ENCODE_BATCH = 250
DIGIT = 28
# Intra-op threads for the map's encodes/decodes (set per calling thread, then restored). The batches here
# are tiny; on 2 cores shared with other work a second OpenMP thread spins instead of helping. Measured here
# under load: one decode 7 ms on 1 thread vs 65 ms (p95 1.3 s) on 2; 33 frames 35-65 ms vs 90-470 ms.
THREADS = 1

define({
    "map.unknown_model": "unknown model {model!r} for the latent map; use one of: {known}",
    "map.no_models": "none (no MNIST VAE checkpoint is installed)",
    # the digit indices as the public API names them (/interpolate's parameters) ...
    "map.field.index_a": "index_a",
    "map.field.index_b": "index_b",
    # ... and as the page names its two boxes and a clicked point
    "map.field.a": "digit index A",
    "map.field.b": "digit index B",
    "map.field.clicked": "the clicked point's index",
})
API_FIELDS = (Message("map.field.index_a"), Message("map.field.index_b"))


@dataclass(frozen=True)
class DigitLatents:
    """The held-out digits encoded by one model: latents (N, *latent_shape) posterior means (float32)."""

    model: str
    latents: np.ndarray
    labels: np.ndarray  # (N,) int64

    @property
    def latent_dim(self) -> int:
        return int(np.prod(self.latents.shape[1:]))


def pad_digits(images: np.ndarray, size: int | None) -> np.ndarray:
    """(N, 28, 28) -> (N, 1, size, size) centred with zeros (or (N, 1, 28, 28) when size is None/28)."""
    x = np.asarray(images, dtype=np.float32)[:, None]
    if not size or size == x.shape[-1]:
        return x
    total = size - x.shape[-1]
    lo, hi = total // 2, total - total // 2
    return np.pad(x, ((0, 0), (0, 0), (lo, hi), (lo, hi)))


def crop_digits(images: np.ndarray, size: int = DIGIT) -> np.ndarray:
    """(N, 1, H, W) decoder output -> (N, size, size) centre crop."""
    top = (images.shape[-1] - size) // 2
    return np.asarray(images)[:, 0, top:top + size, top:top + size]


def check_index(index, count: int, field: str | Message = "index") -> int:
    """A digit index: a whole number in [0, count - 1] by explorer.validation's one rule ("1.5", "1e2", True,
    NaN and empty are refused, never rounded); a Refusal ("number.*" codes) naming `field` otherwise."""
    return whole_number(index, field, 0, count - 1)


class HeldOutLatents:
    """The held-out digits and their latents per model (encoded once, in batches, and cached).

    Thread-safe: encodings are cached under a lock; models run through the service (which locks them).
    `threads`: intra-op threads for the model calls made here (0 = torch's own setting)."""

    def __init__(self, service, digits: data.DigitSplit | None = None, threads: int = THREADS):
        self.service = service
        self.threads = threads
        self.digits = digits if digits is not None else data.load_mnist("test")
        self._latents: dict[str, DigitLatents] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.digits)

    # ---- models ----------------------------------------------------------------------------------
    def models(self) -> list[str]:
        """Every MNIST VAE the service holds: the models the map can show."""
        return self.service.names(kind="vae", dataset="mnist")

    def check_model(self, model) -> str:
        """`model` if the map can show it; Refusal("map.unknown_model") listing the ones it can otherwise."""
        models = self.models()
        if not isinstance(model, str) or model not in models:
            raise Refusal("map.unknown_model", model=model, known=", ".join(models) or Message("map.no_models"))
        return model

    def latent_shape(self, model: str) -> list[int]:
        return list(self.service.vae_shapes(self.check_model(model))["latent_shape"])

    def is_planar(self, model: str) -> bool:
        """True for a VAE whose latent is a 2-D vector (its latent plane is the map itself)."""
        return int(np.prod(self.latent_shape(model))) == 2

    def pad_to(self, model: str) -> int | None:
        return self.service.config(model).get("pad_to")

    # ---- indices ---------------------------------------------------------------------------------
    def check_pair(self, index_a, index_b, fields=API_FIELDS) -> tuple[int, int]:
        """Both indices by the one whole-number rule; the first bad one is refused, named by `fields`."""
        n = len(self.digits)
        return check_index(index_a, n, fields[0]), check_index(index_b, n, fields[1])

    # ---- encode / decode -------------------------------------------------------------------------
    def latents(self, model: str) -> DigitLatents:
        """The held-out digits' posterior means under `model`, encoded once (in batches) and cached."""
        self.check_model(model)
        cached = self._latents.get(model)
        if cached is not None:
            return cached
        x = pad_digits(self.digits.images, self.pad_to(model))
        with torch_threads(self.threads):
            z = np.concatenate([self.service.encode(model, x[i:i + ENCODE_BATCH])["z"]
                                for i in range(0, len(x), ENCODE_BATCH)])
        result = DigitLatents(model, z.astype(np.float32), self.digits.labels)
        with self._lock:
            return self._latents.setdefault(model, result)

    def decode(self, model: str, latents: np.ndarray) -> np.ndarray:
        """(B, *latent_shape) -> (B, 28, 28) in [0, 1], in one service.decode batch."""
        self.check_model(model)
        with torch_threads(self.threads):
            return crop_digits(self.service.decode(model, latents))
