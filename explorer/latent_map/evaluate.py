"""How interpolations behave, measured: per model, the decoded strip of one pair and, over random pairs of
different held-out digits, path evenness, how much the middle frame is a double exposure of A and B, and the
shipped digit classifier's confidence on the in-between frames. The CLI prints the table for every shipped
MNIST VAE:  python -m explorer.latent_map [--pairs 50] [--method lerp]  (or python -m explorer.latent_map.evaluate)
"""
from __future__ import annotations

import threading

import numpy as np

from ..generation import torch_threads
from ..interpolation import path
from .held_out import DIGIT, HeldOutLatents
from .paths import PairPaths, random_pair

CLASSIFIER = "mnist-classifier"


def step_sizes(frames: np.ndarray) -> np.ndarray:
    """RMS pixel change between consecutive frames: (n, H, W) -> (n-1,)."""
    diffs = np.diff(np.asarray(frames, dtype=np.float64), axis=0)
    return np.sqrt((diffs**2).reshape(len(diffs), -1).mean(axis=1))


def blend_psnr(frames: np.ndarray) -> float:
    """PSNR (dB) of the path's middle frame against a 50/50 pixel blend of its two ends: high means the
    middle is a double exposure of A and B (a crossfade), low that it is a different picture (a morph).
    `frames` (n, H, W) with n odd, so that the middle frame is alpha = 0.5; ValueError otherwise."""
    from ..metrics import psnr

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


class PathEvaluation:
    """The measurements above over one HeldOutLatents / PairPaths (random-pair statistics cached)."""

    def __init__(self, held: HeldOutLatents, paths: PairPaths):
        self.held, self.paths = held, paths
        self._stats: dict[tuple, dict] = {}
        self._lock = threading.Lock()

    def compare(self, models: list[str], index_a, index_b, method: str = "lerp", n: int = 9) -> list[dict]:
        """The same pair through several models: per model its decoded strip (n, 28, 28), held-out PSNR/SSIM/KL
        from metrics.json, path evenness, and (with the shipped classifier) the mean confidence that the
        in-between frames are some digit."""
        rows = []
        for model in models:
            pp = self.paths.pair_path(model, index_a, index_b, method, n)
            metrics = self.held.service.metrics(model)
            config = self.held.service.config(model).get("config", {})
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
        z = self.held.latents(model).latents
        pairs = [random_pair(self.held.digits.labels, seed + i, "different") for i in range(n_pairs)]
        latents = np.concatenate([path(z[a], z[b], n, method) for a, b in pairs])
        frames = self.held.decode(model, latents).reshape(n_pairs, n, DIGIT, DIGIT)
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
        service = self.held.service
        if CLASSIFIER not in service.names(kind="classifier") or len(frames) == 0:
            return None
        import torch

        def work(loaded):
            x = torch.as_tensor(np.ascontiguousarray(frames[:, None]), dtype=torch.float32, device=service.device)
            return torch.softmax(loaded.model(x), dim=1).max(dim=1).values.mean().item()

        with torch_threads(self.held.threads):
            return float(service.run(CLASSIFIER, work))


def main(argv: list[str] | None = None) -> int:
    """Print, for every shipped MNIST VAE, held-out PSNR (metrics.json) and how its interpolations behave over
    random pairs of different digits:  python -m explorer.latent_map [--pairs 50] [--method lerp]"""
    import argparse

    from ..projection import ProjectionCache
    from ..service import ModelService

    parser = argparse.ArgumentParser(description=main.__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=9)
    parser.add_argument("--method", choices=["lerp", "slerp"], default="lerp")
    args = parser.parse_args(argv)
    held = HeldOutLatents(ModelService(device="cpu"))
    evaluation = PathEvaluation(held, PairPaths(held, ProjectionCache(lambda model: held.latents(model).latents)))
    print(f"{args.pairs} random pairs of different held-out digits (seeds {args.seed}..{args.seed + args.pairs - 1}), "
          f"{args.method}, {args.steps} steps; confidence = mean max-softmax of {CLASSIFIER} on the "
          f"{args.steps - 2} in-between frames")
    print("| model | KL weight | latent | held-out PSNR (dB) | path evenness (1 = even) "
          "| middle vs 50/50 blend of A, B (PSNR dB) | in-between confidence |")
    print("|---|---|---|---|---|---|---|")
    for model in held.models():
        stats = evaluation.path_statistics(model, args.pairs, args.seed, args.method, args.steps)
        psnr = held.service.metrics(model).get("psnr")
        kl_weight = held.service.config(model).get("config", {}).get("kl_weight")
        confidence = stats["digit_confidence"]
        print(f"| {model} | {kl_weight:g} | {'x'.join(map(str, held.latent_shape(model)))} | "
              f"{'n/a' if psnr is None else f'{psnr:.2f}'} | {stats['evenness']:.2f} | {stats['blend_psnr']:.1f} | "
              f"{'n/a' if confidence is None else f'{confidence:.3f}'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
