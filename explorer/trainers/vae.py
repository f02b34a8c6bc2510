"""The VAE trainer: AdamW with warm-up and cosine decay on reconstruction + kl_weight x KL (latent-diffusion's
objective), on MNIST digits (optionally zero-padded, `pad_to`) or random photo crops; an optional fine-tuning
stage; the latent `scale_factor` measured as 1 / std (as Stable Diffusion's authors did); held-out metrics.
Called by `python -m explorer.train` (explorer/train.py) through explorer.recipes.TRAINERS["vae"].
"""
from __future__ import annotations

import math
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from .. import data
from ..checkpoint import load_checkpoint, save_checkpoint, update_metrics
from ..evaluation import evaluate_vae_mnist, evaluate_vae_photos
from ..models import build_model
from ..optim import set_cosine_lr
from ..recipes import Recipe
from .common import data_note


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


def _train_stage(model, recipe: Recipe, rng: np.random.Generator, mnist_idx: str | None, progress: bool,
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
        history = _train_stage(model.train(), recipe, np.random.default_rng(recipe.seed), mnist_idx, progress)
        seconds = time.perf_counter() - start
    if finetune:
        stage = replace(recipe, epochs=finetune["epochs"], lr=finetune["lr"])
        start = time.perf_counter()
        history += _train_stage(model.train(), stage, np.random.default_rng(recipe.seed + 1), mnist_idx,
                                progress, first_epoch=len(history))
        seconds += time.perf_counter() - start
    return model.eval(), history, seconds


def held_out_metrics(model, dataset: str, pad_to: int | None = None, mnist_idx: str | None = None) -> dict:
    """PSNR / SSIM / latent shape / ratio on the held-out digits or photos (explorer.evaluation)."""
    return (evaluate_vae_mnist(model, pad_to=pad_to, mnist_idx=mnist_idx) if dataset == "mnist"
            else evaluate_vae_photos(model))


def build_checkpoint(recipe: Recipe, out_dir: Path, mnist_idx: str | None = None, progress: bool = True,
                     resume: bool = False, **_: object) -> dict:
    """Train, evaluate on held-out data and save one VAE recipe into out_dir/<name>. Returns its metrics."""
    model, history, seconds = train_vae(recipe, mnist_idx, progress, out_dir / recipe.name if resume else None)
    model.config.scale_factor = measure_scale_factor(model, recipe, mnist_idx)
    evaluation = held_out_metrics(model, recipe.dataset, recipe.extra.get("pad_to"), mnist_idx)
    metrics = {**evaluation, "params": sum(p.numel() for p in model.parameters()),
               "train_seconds": round(seconds, 1), "epochs": len(history),
               "finetune": recipe.extra.get("finetune"), "batch_size": recipe.batch_size,
               "lr": recipe.lr, "seed": recipe.seed, "data": data_note(recipe.dataset, mnist_idx),
               "torch": torch.__version__, "threads": torch.get_num_threads(), "history": history}
    save_checkpoint(out_dir / recipe.name, model, name=recipe.name, family=recipe.family, kind=recipe.kind,
                    dataset=recipe.dataset, metrics=metrics, description=recipe.description,
                    pad_to=recipe.extra.get("pad_to"))
    return metrics


def evaluate_checkpoint(out_dir: Path, name: str, mnist_idx: str | None = None, **_: object) -> dict:
    """Re-measure a saved VAE on held-out data (no training) and update its metrics.json; returns the file."""
    model, config, _ = load_checkpoint(out_dir / name)
    return update_metrics(out_dir / name, **held_out_metrics(model, config["dataset"], config.get("pad_to"), mnist_idx))


def summary_row(name: str, metrics: dict) -> str:
    quality = f"PSNR {metrics.get('psnr', float('nan')):6.2f} dB  SSIM {metrics.get('ssim', float('nan')):.3f}"
    return f"{name:24s} {quality:32s} params {metrics['params']:>9,d}  {metrics['train_seconds']:7.1f} s"
