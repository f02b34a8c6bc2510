"""The digit classifier's trainer: a small CNN, AdamW with warm-up and cosine decay, random shifts of up to
2 pixels; held-out accuracy. It grades generated digits (explorer.evaluate_diffusion) and labels latent-map
points. Called by `python -m explorer.train` through explorer.recipes.TRAINERS["classifier"]."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from .. import data
from ..checkpoint import load_checkpoint, save_checkpoint, update_metrics
from ..evaluation import evaluate_classifier
from ..models import build_model
from ..optim import set_cosine_lr
from ..recipes import Recipe
from .common import data_note


def train_classifier(recipe: Recipe, mnist_idx: str | None = None, progress: bool = True):
    """Train one classifier recipe on the MNIST training split; returns (model, history, seconds)."""
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
            dx, dy = rng.integers(-2, 3, size=2)  # light augmentation: random shifts of up to 2 pixels
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
                     **_: object) -> dict:
    """Train, evaluate on the held-out digits and save one classifier recipe. Returns its metrics."""
    model, history, seconds = train_classifier(recipe, mnist_idx, progress)
    metrics = {**evaluate_classifier(model, mnist_idx=mnist_idx), "params": sum(p.numel() for p in model.parameters()),
               "train_seconds": round(seconds, 1), "epochs": recipe.epochs, "finetune": None,
               "batch_size": recipe.batch_size, "lr": recipe.lr, "seed": recipe.seed,
               "data": data_note(recipe.dataset, mnist_idx), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "history": history}
    save_checkpoint(out_dir / recipe.name, model, name=recipe.name, family=recipe.family, kind=recipe.kind,
                    dataset=recipe.dataset, metrics=metrics, description=recipe.description)
    return metrics


def evaluate_checkpoint(out_dir: Path, name: str, mnist_idx: str | None = None, **_: object) -> dict:
    """Re-measure a saved classifier's held-out accuracy and update its metrics.json; returns the file."""
    model, _, _ = load_checkpoint(out_dir / name)
    return update_metrics(out_dir / name, **evaluate_classifier(model, mnist_idx=mnist_idx))


def summary_row(name: str, metrics: dict) -> str:
    quality = f"acc {metrics['accuracy']:.3f}"
    return f"{name:24s} {quality:32s} params {metrics['params']:>9,d}  {metrics['train_seconds']:7.1f} s"
