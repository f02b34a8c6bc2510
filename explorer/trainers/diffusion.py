"""The denoisers' trainer (ldm-mnist, pixel-dm-mnist), on the same budget, seeded.

ldm-mnist diffuses the 4x7x7 posterior means of the shipped SD-style VAE multiplied by its `scale_factor` (as
Stable Diffusion does); pixel-dm-mnist diffuses digits mapped to [-1, 1]. Both use the UNet of
explorer/models/unet.py with the same width and depth, epsilon prediction, a linear 1e-4..0.02 schedule over
1000 steps, label dropout for classifier-free guidance, AdamW with a cosine learning rate, and an exponential
moving average of the weights (what is saved).

Each checkpoint gets config.json (family "unet", kind "denoiser", space, schedule, scale factor),
model.safetensors and metrics.json (wall time, steps, per-epoch loss, classifier agreement; the grade is
written through explorer.checkpoint.update_metrics). Called by `python -m explorer.train` through
explorer.recipes.TRAINERS["denoiser"].
"""
from __future__ import annotations

import copy
import time
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from .. import data, roles
from ..checkpoint import load_checkpoint, save_checkpoint, update_metrics
from ..diffusion import NoiseSchedule, clip_range_from
from ..models import build_model
from ..optim import set_cosine_lr
from ..recipes import DIFFUSION_RECIPES, DiffusionRecipe

RECIPES = DIFFUSION_RECIPES
NULL_LABEL = 10  # the UNet's extra class: "no digit" for classifier-free guidance


def device_name(device: str) -> str:
    """How metrics.json names where a run trained: "cpu", or e.g. "cuda (NVIDIA H200)"."""
    if str(device).startswith("cuda") and torch.cuda.is_available():
        return f"{device} ({torch.cuda.get_device_name(torch.device(device))})"
    return str(device)


def schedule_for(recipe: DiffusionRecipe, x: torch.Tensor | None = None) -> dict:
    """The NoiseSchedule config saved with a checkpoint. x0_hat is clipped to the range of the training data `x`
    (N, C, H, W): [-1, 1] for pixels; for latents, clip_range_from(x) (the 99.9% quantile of |z x scale_factor|),
    with DDIM re-deriving eps from the clipped prediction. Measured on ldm-mnist (README, "Why more steps were
    worse"): without the clip, 50 DDIM steps drew the requested digit 92.4% of the time, with it 98.2%."""
    if recipe.space == "pixel" or x is None:
        return {**recipe.schedule, "clip_sample": recipe.space == "pixel"}
    return {**recipe.schedule, "clip_sample": True, "clip_sample_range": clip_range_from(x),
            "use_clipped_model_output": True}


@torch.no_grad()
def encode_latents(vae: torch.nn.Module, images: torch.Tensor, scale_factor: float, batch: int = 500) -> torch.Tensor:
    """(N, 1, 28, 28) digits in [0, 1] -> (N, C, 7, 7) posterior means x scale_factor (encoded once)."""
    vae.eval()
    return torch.cat([vae.encode(chunk).mode() for chunk in torch.split(images, batch)]) * scale_factor


def training_data(recipe: DiffusionRecipe, checkpoints: Path, mnist_idx: str | None = None):
    """What the denoiser learns to generate: (x (N, C, H, W), labels (N,), scale_factor or None)."""
    split = data.load_mnist("train", mnist_idx)
    images, labels = torch.from_numpy(split.images)[:, None], torch.from_numpy(split.labels)
    if recipe.space == "pixel":
        return images * 2.0 - 1.0, labels, None
    vae, vae_config, _ = load_checkpoint(checkpoints / recipe.vae)
    scale = float(vae_config["config"]["scale_factor"])
    return encode_latents(vae, images, scale), labels, scale


def diffusion_loss(model: torch.nn.Module, schedule: NoiseSchedule, x0: torch.Tensor, labels: torch.Tensor,
                   generator: torch.Generator, p_uncond: float, device: str = "cpu") -> torch.Tensor:
    """Epsilon-prediction MSE at uniformly drawn timesteps; labels dropped to NULL_LABEL with p_uncond. The
    timesteps, noise and dropout are drawn on the CPU `generator` (the same draws on every device); the model
    runs on `device`."""
    b = x0.shape[0]
    t = torch.randint(0, schedule.num_train_timesteps, (b,), generator=generator)
    noise = torch.randn(x0.shape, generator=generator)
    drop = torch.rand(b, generator=generator) < p_uncond
    labels = torch.where(drop, torch.full_like(labels, NULL_LABEL), labels)
    noisy = schedule.add_noise(x0, noise, t)
    return F.mse_loss(model(noisy.to(device), t.to(device), labels.to(device)), noise.to(device))


def train_denoiser(recipe: DiffusionRecipe, x: torch.Tensor, labels: torch.Tensor, progress: bool = True,
                   max_steps: int | None = None, validate: Callable[[int, torch.nn.Module], None] | None = None,
                   validate_every: int = 0, device: str = "cpu"):
    """Train one recipe on x (N, C, H, W); returns (EMA model (on the CPU), per-epoch history, seconds, steps).
    `device` ("cpu", "cuda") runs the model there; the seeded draws stay on the CPU, so a CUDA run sees the same
    batches, timesteps and noise (its float results differ in the last bits).
    With `validate` and `validate_every` > 0, validate(step, ema) is called every `validate_every` steps and
    after the last one (its time is not counted in `seconds`; it must not touch the global RNG state)."""
    torch.manual_seed(recipe.seed)
    generator = torch.Generator().manual_seed(recipe.seed)
    rng = np.random.default_rng(recipe.seed)
    schedule = NoiseSchedule(**schedule_for(recipe))
    model = build_model("unet", recipe.unet).train().to(device)
    ema = copy.deepcopy(model).eval().requires_grad_(False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=0.0)
    per_epoch = len(x) // recipe.batch_size
    total = recipe.epochs * per_epoch if max_steps is None else min(max_steps, recipe.epochs * per_epoch)
    history, step, start, paused = [], 0, time.perf_counter(), 0.0
    bar = tqdm(total=total, desc=recipe.name, disable=not progress, leave=False)
    for epoch in range(recipe.epochs):
        if step >= total:
            break
        order = torch.from_numpy(rng.permutation(len(x)))
        losses = []
        for i in range(per_epoch):
            if step >= total:
                break
            idx = order[i * recipe.batch_size:(i + 1) * recipe.batch_size]
            set_cosine_lr(optimizer, recipe.lr, step, total, warmup=100)
            loss = diffusion_loss(model, schedule, x[idx], labels[idx], generator, recipe.p_uncond, device)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            decay = min(recipe.ema_decay, (1 + step) / (10 + step))
            with torch.no_grad():  # one fused call over all weights (a loop of ~100 small ones per step on a GPU)
                torch._foreach_lerp_(list(ema.parameters()), list(model.parameters()), 1.0 - decay)
            losses.append(loss.item())
            step += 1
            bar.update()
            if validate is not None and validate_every > 0 and (step % validate_every == 0 or step == total):
                pause = time.perf_counter()
                validate(step, copy.deepcopy(ema).cpu() if device != "cpu" else ema)
                paused += time.perf_counter() - pause
        history.append({"epoch": epoch + 1, "loss": float(np.mean(losses)),
                        "seconds": round(time.perf_counter() - start - paused, 1)})
        bar.set_postfix(loss=f"{history[-1]['loss']:.4f}")
    bar.close()
    return ema.cpu(), history, time.perf_counter() - start - paused, step


def validation_grader(recipe: DiffusionRecipe, out_dir: Path, x: torch.Tensor, scale: float | None,
                       records: list, per_digit: int = 10, snapshot_dir: Path | None = None,
                       classifier: str = roles.CLASSIFIER, settings: dict | None = None,
                       ) -> Callable[[int, torch.nn.Module], None]:
    """The validation grade during training: validate(step, ema) saves the EMA weights as a checkpoint in
    `snapshot_dir`/step-NNNNNN/<name> (next to links to the VAE and classifier of `out_dir`) and grades
    `per_digit` samples per digit at fixed settings (evaluate_diffusion.VALIDATION_SETTINGS: DDIM 50,
    leading, guidance 5, selection seeds), appending {step, agreement, worst_digit, smudged, mid_grey_share,
    seconds} to `records` and prints it. `settings` overrides some of VALIDATION_SETTINGS (tests: fewer steps). Without the `classifier` in `out_dir` nothing is graded. Without `snapshot_dir` the
    snapshots go to a temporary folder removed at exit."""
    from ..evaluate_diffusion import VALIDATION_SETTINGS, grade
    from ..service import ModelService

    if snapshot_dir is None:
        holder = tempfile.TemporaryDirectory(prefix=f"{recipe.name}-curve-")
        snapshot_dir = Path(holder.name)
        records_holder = [holder]  # kept alive with the closure
    else:
        records_holder = []
    snapshot_dir = Path(snapshot_dir)

    def validate(step: int, ema: torch.nn.Module) -> None:
        if not (out_dir / classifier / "config.json").exists():
            return
        folder = snapshot_dir / f"step-{step:06d}"
        for other in {classifier, recipe.vae} - {None}:
            link = folder / other
            if not link.exists():
                folder.mkdir(parents=True, exist_ok=True)
                link.symlink_to((out_dir / other).resolve(), target_is_directory=True)
        save_checkpoint(folder / recipe.name, ema, name=recipe.name, family="unet", kind="denoiser",
                        dataset="mnist", metrics={"train_steps": step, "batch_size": recipe.batch_size},
                        description=recipe.description, space=recipe.space, vae=recipe.vae, scale_factor=scale,
                        schedule=schedule_for(recipe, x), sample_shape=list(x.shape[1:]))
        state = torch.get_rng_state()
        result = grade(ModelService(folder, device="cpu"), recipe.name, per_digit=per_digit, classifier=classifier,
                       **{**VALIDATION_SETTINGS, **(settings or {})})
        torch.set_rng_state(state)
        worst = min(result["per_digit"], key=result["per_digit"].get)
        records.append({"step": step, "agreement": result["agreement"], "worst_digit": worst,
                        "worst_agreement": result["per_digit"][worst], "smudged": result["smudged"],
                        "mid_grey_share": result["mid_grey_share"], "n_samples": result["n_samples"],
                        "seconds": result["seconds"]})
        print(f"{recipe.name} step {step}: validation agreement {100 * result['agreement']:.1f}% (worst "
              f"\"{worst}\" {100 * result['per_digit'][worst]:.0f}%), smudged {100 * result['smudged']:.1f}% "
              f"of {result['n_samples']}", flush=True)

    validate.holder = records_holder
    return validate


def build_checkpoint(recipe: DiffusionRecipe, out_dir: Path, mnist_idx: str | None = None, progress: bool = True,
                     max_steps: int | None = None, evaluate: bool = True, per_digit: int = 50,
                     validate_every: int = 0, validate_per_digit: int = 10, snapshot_dir: Path | None = None,
                     device: str = "cpu", **_: object) -> dict:
    """Train, save, then grade with the shipped classifier (if present) and record it in metrics.json.
    validate_every > 0 adds the validation grade during training (validation_grader), stored as
    metrics["validation"], one record per `validate_every` steps."""
    x, labels, scale = training_data(recipe, out_dir, mnist_idx)
    records: list = []
    validate = (validation_grader(recipe, out_dir, x, scale, records, validate_per_digit, snapshot_dir)
                if validate_every > 0 else None)
    model, history, seconds, steps = train_denoiser(recipe, x, labels, progress, max_steps, validate, validate_every,
                                                    device)
    metrics = {"params": sum(p.numel() for p in model.parameters()), "train_seconds": round(seconds, 1),
               "train_steps": steps, "batch_size": recipe.batch_size, "samples_seen": steps * recipe.batch_size,
               "epochs": len(history), "ms_per_train_step": round(1000 * seconds / max(steps, 1), 1),
               "lr": recipe.lr, "seed": recipe.seed, "p_uncond": recipe.p_uncond, "ema_decay": recipe.ema_decay,
               "sample_shape": list(x.shape[1:]), "n_train": len(x), "torch": torch.__version__,
               "threads": torch.get_num_threads(), "device": device_name(device),
               "history": history}
    if records:
        metrics["validation"] = records
    save_checkpoint(out_dir / recipe.name, model, name=recipe.name, family="unet", kind="denoiser",
                    dataset="mnist", metrics=metrics, description=recipe.description, space=recipe.space,
                    vae=recipe.vae, scale_factor=scale, schedule=schedule_for(recipe, x),
                    sample_shape=list(x.shape[1:]))
    if evaluate:
        metrics = grade_checkpoint(out_dir, recipe.name, per_digit=per_digit)
    return metrics


def grade_checkpoint(out_dir: Path, name: str, per_digit: int = 50) -> dict:
    """Grade a saved denoiser with the classifier (roles.CLASSIFIER) through the app's own generation path
    (guidance chosen on one seed set, agreement measured on another: evaluate_diffusion.select_and_grade);
    store the result in its metrics.json. Without the classifier in `out_dir`, nothing is measured."""
    from ..evaluate_diffusion import select_and_grade
    from ..service import ModelService

    service = ModelService(out_dir, device="cpu")
    if roles.CLASSIFIER not in service.names():
        print(f"{name}: no {roles.CLASSIFIER} in {out_dir}; agreement not measured", flush=True)
        return service.metrics(name)
    return update_metrics(out_dir / name, agreement=select_and_grade(service, name, per_digit=per_digit))


def evaluate_checkpoint(out_dir: Path, name: str, per_digit: int = 50, **_: object) -> dict:
    """--evaluate-only: re-grade a saved denoiser (grade_checkpoint). A latent denoiser whose recipe now names
    another VAE that encodes identically (a fine-tuned decoder) adopts it first (trainers.decoder.adopt_decoder)."""
    recipe = DIFFUSION_RECIPES.get(name)
    if recipe is not None and recipe.vae:
        from .decoder import adopt_decoder

        if adopt_decoder(out_dir, name, recipe.vae):
            print(f"{name}: now decoded by {recipe.vae} (same encoder; the denoiser's weights are unchanged)",
                  flush=True)
    return grade_checkpoint(out_dir, name, per_digit=per_digit)


def summary_row(name: str, metrics: dict) -> str:
    agreement = metrics.get("agreement", {}).get("agreement")
    guidance = metrics.get("agreement", {}).get("settings", {}).get("guidance")
    grade_text = "agreement n/a" if agreement is None else f"agreement {100 * agreement:5.1f}% (g={guidance:g})"
    return (f"{name:16s} {grade_text:26s} params {metrics['params']:>9,d}  {metrics['train_steps']:>6,d} steps x "
            f"{metrics['batch_size']}  {metrics['train_seconds']:8.1f} s ({metrics['ms_per_train_step']} ms/step)")
