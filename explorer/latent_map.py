"""The latent map's logic, between the model service and the tab: encode the held-out digits with a VAE
(through `service.encode`), project them to 2-D (explorer.projection), interpolate between two of them
(explorer.interpolation) and decode whole paths in ONE `service.decode` batch.

Everything takes plain numbers in and gives numpy arrays / dicts out; bad input raises ValueError (or
UnknownModelError, a ValueError) with a message a student can act on. The UI turns those into gr.Error.

Indices are positions in the held-out split `load_mnist("test")` (500 digits, 50 per class): the `index`
field of /latent_map. Digits are (28, 28) float in [0, 1]; models that work at 32x32 (`pad_to`) get
zero-padded inputs and their outputs cropped back to 28x28.
"""
from __future__ import annotations

import base64
import io
import threading
from dataclasses import dataclass

import numpy as np
from PIL import Image

from . import data
from .generation import torch_threads
from .interpolation import alphas as path_alphas, check_alpha, check_method as check_interp_method, interpolate, path
from .projection import ProjectionCache, check_method as check_projection_method
from .refusal import Refusal
from .service import UnknownModelError

FRAMES = 33  # pre-decoded frames per pair: alpha = 0, 1/32, ..., 1
ENCODE_BATCH = 250
DIGIT = 28
SD_KL_MODEL, REGULARISED_MODEL = "sd-vae-mnist-c4", "vae-mnist-kl1"  # the comparison pair
CLASSIFIER = "mnist-classifier"
# Intra-op threads for this module's encodes/decodes (set per calling thread, then restored). The batches here
# are tiny; on 2 cores shared with other work a second OpenMP thread spins instead of helping. Measured here
# under load: one decode 7 ms on 1 thread vs 65 ms (p95 1.3 s) on 2; 33 frames 35-65 ms vs 90-470 ms.
THREADS = 1


@dataclass(frozen=True)
class DigitLatents:
    """The held-out digits encoded by one model: latents (N, *latent_shape) posterior means (float32)."""

    model: str
    latents: np.ndarray
    labels: np.ndarray  # (N,) int64

    @property
    def latent_dim(self) -> int:
        return int(np.prod(self.latents.shape[1:]))


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


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 (rounded), the exact pixels a PNG stores."""
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    """A (H, W) or (H, W, 3) [0, 1] image as PNG bytes (lossless)."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def png_data_uri(image: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def image_strip(frames: np.ndarray, gap: int = 2) -> np.ndarray:
    """(n, H, W) -> one (H, n*W + (n-1)*gap) image, white gaps between frames."""
    n, h, w = frames.shape
    strip = np.ones((h, n * w + (n - 1) * gap), dtype=np.float32)
    for i, frame in enumerate(frames):
        strip[:, i * (w + gap): i * (w + gap) + w] = frame
    return strip


def tile_grid(frames: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(rows*cols, H, W) in row-major order -> one (rows*H, cols*W) image."""
    n, h, w = frames.shape
    if n != rows * cols:
        raise ValueError(f"{n} frames do not fill a {rows}x{cols} grid")
    return frames.reshape(rows, cols, h, w).transpose(0, 2, 1, 3).reshape(rows * h, cols * w)


class IndexRefused(Refusal):
    """A digit index that is not a whole number in [0, count): code "empty", "not_whole" or "out_of_range",
    values name, value, count and last (= count - 1)."""

    TEMPLATES = {"empty": "{name} is empty: give a whole number from 0 to {last}",
                 "not_whole": "{name} must be a whole number from 0 to {last}, got {value!r}",
                 "out_of_range": "{name} {value} is out of range: the map has {count} digits, use 0 to {last}"}

    def __init__(self, problem: str, name: str, value, count: int):
        super().__init__(problem, name=name, value=value, count=count, last=count - 1)


def check_index(index, count: int, name: str = "index") -> int:
    """A whole number in [0, count) as int; IndexRefused (a ValueError) otherwise."""
    if index is None or (isinstance(index, str) and not index.strip()):
        raise IndexRefused("empty", name, index, count)
    try:
        as_float = float(index) if not isinstance(index, bool) else float("nan")
    except (TypeError, ValueError, OverflowError):
        raise IndexRefused("not_whole", name, index, count) from None
    if not np.isfinite(as_float) or not as_float.is_integer():
        raise IndexRefused("not_whole", name, index, count)
    value = int(as_float)
    if not 0 <= value < count:
        raise IndexRefused("out_of_range", name, value, count)
    return value


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
        raise ValueError(f"relation must be 'same', 'different' or 'any', not {relation!r}")
    pool = pool[pool != a]
    if len(pool) == 0:
        raise ValueError(f"no second digit satisfies relation {relation!r}")
    return a, int(rng.choice(pool))


def step_sizes(frames: np.ndarray) -> np.ndarray:
    """RMS pixel change between consecutive frames: (n, H, W) -> (n-1,)."""
    diffs = np.diff(np.asarray(frames, dtype=np.float64), axis=0)
    return np.sqrt((diffs**2).reshape(len(diffs), -1).mean(axis=1))


def blend_psnr(frames: np.ndarray) -> float:
    """PSNR (dB) of the path's middle frame against a 50/50 pixel blend of its two ends: high means the
    middle is a double exposure of A and B (a crossfade), low that it is a different picture (a morph).
    `frames` (n, H, W) with n odd, so that the middle frame is alpha = 0.5."""
    from .metrics import psnr

    frames = np.asarray(frames, dtype=np.float64)
    if len(frames) % 2 == 0:
        raise ValueError("blend_psnr needs an odd number of frames (a frame at alpha = 0.5)")
    return psnr(frames[len(frames) // 2], (frames[0] + frames[-1]) / 2)


def path_evenness(frames: np.ndarray) -> float:
    """Largest step / mean step along a decoded path: 1.0 when every step changes the picture equally,
    large when the picture jumps in one place. NaN for a path that does not change at all."""
    steps = step_sizes(frames)
    mean = steps.mean()
    return float(steps.max() / mean) if mean > 0 else float("nan")


class LatentMapExplorer:
    """Held-out digits, their latents per model (cached), projections (cached) and decoded paths.

    Thread-safe: encodings are cached under a lock; models run through the service (which locks them).
    """

    def __init__(self, service, digits: data.DigitSplit | None = None, threads: int = THREADS, **umap_params):
        self.service = service
        self.threads = threads  # intra-op threads for model calls made here; 0 = torch's own setting
        self.digits = digits if digits is not None else data.load_mnist("test")
        self._latents: dict[str, DigitLatents] = {}
        self._stats: dict[tuple, dict] = {}
        self._lock = threading.Lock()
        self.projections = ProjectionCache(lambda model: self.latents(model).latents, **umap_params)

    # ---- models ----------------------------------------------------------------------------------
    def models(self) -> list[str]:
        """Every MNIST VAE the service holds: the models the map can show."""
        return self.service.names(kind="vae", dataset="mnist")

    def check_model(self, model) -> str:
        models = self.models()
        if not isinstance(model, str) or model not in models:
            known = ", ".join(models) or "none (no MNIST VAE checkpoint is installed)"
            raise UnknownModelError(f"unknown model {model!r} for the latent map; use one of: {known}")
        return model

    def latent_shape(self, model: str) -> list[int]:
        return list(self.service.vae_shapes(self.check_model(model))["latent_shape"])

    def is_planar(self, model: str) -> bool:
        """True for a VAE whose latent is a 2-D vector (its latent plane is the map itself)."""
        return int(np.prod(self.latent_shape(model))) == 2

    def pad_to(self, model: str) -> int | None:
        return self.service.config(model).get("pad_to")

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

    def check_pair(self, index_a, index_b) -> tuple[int, int]:
        n = len(self.digits)
        return check_index(index_a, n, "index_a"), check_index(index_b, n, "index_b")

    def interpolate(self, model: str, index_a, index_b, alpha, method: str = "lerp") -> np.ndarray:
        """The decoded latent at `alpha` between digits A and B: (28, 28) in [0, 1].
        alpha 0 / 1 decode exactly the latents of A / B (a batch of one, like every call here)."""
        return self.exact(model, index_a, index_b, alpha, method)[0]

    def exact(self, model: str, index_a, index_b, alpha, method: str = "lerp",
              projection: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(image (28, 28), map position (2,) or None): the decode at `alpha`, and where that latent lies under
        `projection` if it is ready (endpoints pinned to A's / B's own map positions, as in `pair_path`)."""
        self.check_model(model)
        a, b = self.check_pair(index_a, index_b)
        method = check_interp_method(method)
        alpha = check_alpha(alpha)
        z = self.latents(model).latents
        latent = interpolate(z[a], z[b], alpha, method)
        image = self.decode(model, latent[None])[0]
        xy = None
        if projection is not None:
            proj = self.projections.get(model, check_projection_method(projection))
            if proj is not None:
                xy = proj.coords[a] if alpha == 0 else proj.coords[b] if alpha == 1 else proj.transform(latent[None])[0]
        return image, xy

    def pair_path(self, model: str, index_a, index_b, method: str = "lerp", n: int = FRAMES,
                  projection: str | None = None) -> PairPath:
        """n latents from A to B decoded in ONE batch; with `projection` ("umap"/"pca"), the path projected
        by the same reducer as the map (None if that reducer is not ready). Its first and last points are
        pinned to A's and B's own map positions (UMAP's `transform` of a fitted point lands near, not on, it)."""
        self.check_model(model)
        a, b = self.check_pair(index_a, index_b)
        method = check_interp_method(method)
        z = self.latents(model).latents
        latents = path(z[a], z[b], n, method)
        frames = self.decode(model, latents)
        xy, shown = None, None
        if projection is not None:
            proj = self.projections.get(model, check_projection_method(projection))
            if proj is not None:
                xy, shown = self._project_path(proj, latents, a, b), projection
        return PairPath(model, a, b, method, path_alphas(n), latents, frames, xy, shown)

    def path_xy(self, model: str, index_a, index_b, method: str, n: int, proj) -> np.ndarray:
        """(n, 2): the A->B path (no decoding) projected with `proj`, a projection fitted on this model."""
        self.check_model(model)
        a, b = self.check_pair(index_a, index_b)
        z = self.latents(model).latents
        return self._project_path(proj, path(z[a], z[b], n, method), a, b)

    @staticmethod
    def _project_path(proj, latents: np.ndarray, a: int, b: int) -> np.ndarray:
        xy = proj.transform(latents)
        xy[0], xy[-1] = proj.coords[a], proj.coords[b]
        return xy

    # ---- the map ---------------------------------------------------------------------------------
    def points(self, model: str, method: str, timeout: float | None = 180.0) -> list[dict]:
        """The /latent_map answer: [{"x", "y", "label", "index"}] for every held-out digit. Waits for a
        background UMAP fit if needed (up to `timeout` s)."""
        self.check_model(model)
        proj = self.projections.wait(model, check_projection_method(method), timeout)
        labels = self.digits.labels
        return [{"x": float(x), "y": float(y), "label": int(labels[i]), "index": i}
                for i, (x, y) in enumerate(proj.coords)]

    # ---- the 2-D VAE -----------------------------------------------------------------------------
    def plane_extent(self, model: str, quantile: float = 0.99, margin: float = 0.1) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) covering the held-out latents of a planar model (outliers trimmed)."""
        if not self.is_planar(model):
            raise ValueError(f"{model} does not have a 2-D latent; the latent plane needs one")
        z = self.latents(model).latents.reshape(-1, 2).astype(np.float64)
        lo, hi = np.quantile(z, 1 - quantile, axis=0), np.quantile(z, quantile, axis=0)
        pad = (hi - lo) * margin
        return float(lo[0] - pad[0]), float(hi[0] + pad[0]), float(lo[1] - pad[1]), float(hi[1] + pad[1])

    def plane_grid(self, model: str, n: int, extent: tuple[float, float, float, float] | None = None):
        """Decode an n x n grid of latent points over the plane in ONE batch.
        Returns (frames (n*n, 28, 28) row-major with row 0 at the TOP (largest z2), xs (n,), ys (n,) ascending)."""
        xmin, xmax, ymin, ymax = extent or self.plane_extent(model)
        xs, ys = np.linspace(xmin, xmax, n), np.linspace(ymin, ymax, n)
        grid = np.array([[x, y] for y in ys[::-1] for x in xs], dtype=np.float32)
        return self.decode(model, grid.reshape(n * n, *self.latent_shape(model))), xs, ys

    def decode_point(self, model: str, z1, z2) -> np.ndarray:
        """The digit at latent (z1, z2) of a planar model: (28, 28)."""
        if not self.is_planar(model):
            raise ValueError(f"{model} does not have a 2-D latent")
        point = []
        for name, value in (("z1", z1), ("z2", z2)):
            try:
                v = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number, got {value!r}") from None
            if not np.isfinite(v) or abs(v) > 1e3:
                raise ValueError(f"{name} must be a finite number of modest size, got {value!r}")
            point.append(v)
        return self.decode(model, np.array([point], dtype=np.float32).reshape(1, *self.latent_shape(model)))[0]

    # ---- small KL vs KL 1 ------------------------------------------------------------------------
    def compare(self, models: list[str], index_a, index_b, method: str = "lerp", n: int = 9) -> list[dict]:
        """The same pair through several models: per model its decoded strip (n, 28, 28), held-out PSNR/SSIM/KL
        from metrics.json, path evenness, and (with the shipped classifier) the mean confidence that the
        in-between frames are some digit."""
        rows = []
        for model in models:
            pp = self.pair_path(model, index_a, index_b, method, n)
            metrics = self.service.metrics(model)
            config = self.service.config(model).get("config", {})
            rows.append({"model": model, "frames": pp.frames, "kl_weight": config.get("kl_weight"),
                         "psnr": metrics.get("psnr"), "ssim": metrics.get("ssim"), "kl": metrics.get("kl"),
                         "evenness": path_evenness(pp.frames), "blend_psnr": blend_psnr(pp.frames),
                         "digit_confidence": self.digit_confidence(pp.frames[1:-1])})
        return rows

    def path_statistics(self, model: str, n_pairs: int = 50, seed: int = 0, method: str = "lerp",
                        n: int = 9) -> dict:
        """Mean path evenness and in-between classifier confidence over `n_pairs` random pairs of DIFFERENT
        digits (pair i drawn with seed + i), all paths decoded in one batch. Cached per arguments."""
        key = (model, n_pairs, seed, method, n)
        cached = self._stats.get(key)
        if cached is not None:
            return cached
        self.check_model(model)
        z = self.latents(model).latents
        pairs = [random_pair(self.digits.labels, seed + i, "different") for i in range(n_pairs)]
        latents = np.concatenate([path(z[a], z[b], n, method) for a, b in pairs])
        frames = self.decode(model, latents).reshape(n_pairs, n, DIGIT, DIGIT)
        evenness = np.array([path_evenness(f) for f in frames])
        blend = np.array([blend_psnr(f) for f in frames])
        confidence = self.digit_confidence(frames[:, 1:-1].reshape(-1, DIGIT, DIGIT))
        result = {"model": model, "pairs": n_pairs, "seed": seed, "method": method, "steps": n,
                  "evenness": float(np.nanmean(evenness)), "blend_psnr": float(np.mean(blend[np.isfinite(blend)])),
                  "digit_confidence": confidence}
        with self._lock:
            return self._stats.setdefault(key, result)

    def digit_confidence(self, frames: np.ndarray) -> float | None:
        """Mean max-softmax of the shipped digit classifier over frames (N, 28, 28); None without it."""
        if CLASSIFIER not in self.service.names(kind="classifier") or len(frames) == 0:
            return None
        import torch

        def work(loaded):
            x = torch.as_tensor(np.ascontiguousarray(frames[:, None]), dtype=torch.float32, device=self.service.device)
            return torch.softmax(loaded.model(x), dim=1).max(dim=1).values.mean().item()

        with torch_threads(self.threads):
            return float(self.service.run(CLASSIFIER, work))


def main(argv: list[str] | None = None) -> int:
    """Print, for every shipped MNIST VAE, held-out PSNR (metrics.json) and how its interpolations behave over
    random pairs of different digits:  python -m explorer.latent_map [--pairs 50] [--method lerp]"""
    import argparse

    from .service import ModelService

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=9)
    parser.add_argument("--method", choices=["lerp", "slerp"], default="lerp")
    args = parser.parse_args(argv)
    explorer = LatentMapExplorer(ModelService(device="cpu"))
    print(f"{args.pairs} random pairs of different held-out digits (seeds {args.seed}..{args.seed + args.pairs - 1}), "
          f"{args.method}, {args.steps} steps; confidence = mean max-softmax of {CLASSIFIER} on the "
          f"{args.steps - 2} in-between frames")
    print("| model | KL weight | latent | held-out PSNR (dB) | path evenness (1 = even) "
          "| middle vs 50/50 blend of A, B (PSNR dB) | in-between confidence |")
    print("|---|---|---|---|---|---|---|")
    for model in explorer.models():
        stats = explorer.path_statistics(model, args.pairs, args.seed, args.method, args.steps)
        psnr = explorer.service.metrics(model).get("psnr")
        kl_weight = explorer.service.config(model).get("config", {}).get("kl_weight")
        confidence = stats["digit_confidence"]
        print(f"| {model} | {kl_weight:g} | {'x'.join(map(str, explorer.latent_shape(model)))} | "
              f"{'n/a' if psnr is None else f'{psnr:.2f}'} | {stats['evenness']:.2f} | {stats['blend_psnr']:.1f} | "
              f"{'n/a' if confidence is None else f'{confidence:.3f}'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
