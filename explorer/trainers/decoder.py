"""The decoder fine-tune: a shipped VAE's decoder retrained for the latents a denoiser draws, its encoder frozen.

Stable Diffusion's later decoders were made this way (sd-vae-ft-mse: only the decoder was fine-tuned, so every
denoiser trained on the original latents keeps working with it). Ours changes two things, measured for issue 18
(README, "The decoder fine-tune"):
  - the loss is L1, the pixel term of latent-diffusion's autoencoder loss, instead of MSE: its minimiser is the
    per-pixel median, so near-binary strokes come back crisp where the mean leaves grey;
  - the decoder sees noised latents, z + sigma * eps with sigma ~ U(0, latent_noise) in units of the scaled
    latents' std (1 / scale_factor). A denoiser's final latents miss the posterior means by about that much
    (0.1-0.2); a decoder that only ever saw exact means (posterior std x scale_factor ~ 0.002) draws those misses
    as grey smudges.

Called by `python -m explorer.train sd-vae-mnist-ft` through explorer.recipes.TRAINERS["decoder"]; the parent
(`recipe.extra["decoder_of"]`) must already be in --out.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .. import data
from ..checkpoint import CheckpointError, load_checkpoint, read_json, save_checkpoint, update_config
from ..optim import set_cosine_lr
from ..recipes import Recipe
from .common import data_note
from .vae import evaluate_checkpoint, held_out_metrics, summary_row  # noqa: F401 (the trainer interface)


@torch.no_grad()
def posterior_means(model, images: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """(N, C, H, W) images in [0, 1] -> (N, c, h, w) posterior means, unscaled (what the denoiser's data is)."""
    model.eval()
    return torch.cat([model.encode(b).mean for b in torch.split(images, batch)])


def finetune_decoder(model, recipe: Recipe, images: torch.Tensor, progress: bool = True) -> list[dict]:
    """Train `model.decoder` only, `recipe.epochs` epochs of AdamW (cosine decay from recipe.lr, 50 warm-up steps)
    on (posterior mean + noise, image) pairs; the encoder is frozen and never changes. Returns per-epoch history
    ({"epoch", "reconstruction": mean per-image loss, "lr"})."""
    scale = float(model.config.scale_factor)
    latent_noise = float(recipe.extra.get("latent_noise", 0.0))
    for p in model.encoder.parameters():
        p.requires_grad_(False)
    means = posterior_means(model, images)
    optimizer = torch.optim.AdamW(model.decoder.parameters(), lr=recipe.lr, weight_decay=0.0)
    generator = torch.Generator().manual_seed(recipe.seed)
    per_epoch = len(images) // recipe.batch_size
    total, step, history = recipe.epochs * per_epoch, 0, []
    bar = tqdm(total=total, desc=recipe.name, disable=not progress, leave=False)
    model.train()
    for epoch in range(recipe.epochs):
        order, losses = torch.randperm(len(images), generator=generator), []
        for i in range(per_epoch):
            idx = order[i * recipe.batch_size:(i + 1) * recipe.batch_size]
            mean = means[idx]
            sigma = latent_noise * torch.rand(len(idx), 1, 1, 1, generator=generator) / scale
            z = mean + sigma * torch.randn(mean.shape, generator=generator)
            set_cosine_lr(optimizer, recipe.lr, step, total, warmup=50)
            loss = model.reconstruction_loss(model.decode_raw(z), images[idx]).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            step += 1
            bar.update()
        history.append({"epoch": epoch + 1, "reconstruction": float(np.mean(losses)), "lr": recipe.lr})
        bar.set_postfix(loss=f"{history[-1]['reconstruction']:.2f}")
    bar.close()
    return history


def build_checkpoint(recipe: Recipe, out_dir: Path, mnist_idx: str | None = None, progress: bool = True,
                     **_: object) -> dict:
    """Fine-tune the decoder of out_dir/<recipe.extra["decoder_of"]> (CheckpointError if it is missing), with
    recipe.config's settings (e.g. recon_loss) set on the copy; the scale_factor and the encoder's weights are the
    parent's. Evaluate on held-out digits and save into out_dir/<recipe.name>. Returns its metrics."""
    parent = recipe.extra["decoder_of"]
    if not (Path(out_dir) / parent / "config.json").exists():
        raise CheckpointError(f"{recipe.name} fine-tunes the decoder of {parent}: train {parent} into {out_dir} "
                              "first")
    torch.manual_seed(recipe.seed)
    model, _, parent_metrics = load_checkpoint(Path(out_dir) / parent)
    for key, value in recipe.config.items():
        setattr(model.config, key, value)
    model.recon_loss = model.config.recon_loss
    images = torch.from_numpy(data.load_mnist("train", mnist_idx).images)[:, None]
    start = time.perf_counter()
    history = finetune_decoder(model, recipe, images, progress)
    seconds = time.perf_counter() - start
    model.eval()
    metrics = {**held_out_metrics(model, recipe.dataset, None, mnist_idx),
               "params": sum(p.numel() for p in model.parameters()), "train_seconds": round(seconds, 1),
               "epochs": len(history), "batch_size": recipe.batch_size, "lr": recipe.lr, "seed": recipe.seed,
               "decoder_of": parent, "frozen": "encoder (the parent's weights and scale_factor)",
               "latent_noise": recipe.extra.get("latent_noise", 0.0), "recon_loss": model.config.recon_loss,
               "parent_psnr": parent_metrics.get("psnr"), "data": data_note(recipe.dataset, mnist_idx),
               "torch": torch.__version__, "threads": torch.get_num_threads(), "history": history}
    save_checkpoint(Path(out_dir) / recipe.name, model, name=recipe.name, family=recipe.family, kind=recipe.kind,
                    dataset=recipe.dataset, metrics=metrics, description=recipe.description, pad_to=None)
    return metrics


def same_encoder(folder_a: Path, folder_b: Path) -> bool:
    """Do two VAE checkpoints encode identically: equal scale_factor and bit-equal encoder weights?"""
    (a, config_a, _), (b, config_b, _) = load_checkpoint(folder_a), load_checkpoint(folder_b)
    if config_a["config"].get("scale_factor") != config_b["config"].get("scale_factor"):
        return False
    state_a, state_b = a.encoder.state_dict(), b.encoder.state_dict()
    return state_a.keys() == state_b.keys() and all(torch.equal(state_a[k], state_b[k]) for k in state_a)


def adopt_decoder(out_dir: Path, denoiser: str, vae: str) -> bool:
    """Point latent denoiser out_dir/<denoiser> at VAE `vae` for decoding, when `vae` encodes exactly like the VAE it
    was trained on (same_encoder), so its latents and scale_factor stay valid; its weights are untouched and the
    previous VAE is kept as config "trained_on_vae". Returns whether config.json changed; CheckpointError if the
    encoders differ (then the denoiser must be retrained)."""
    folder = Path(out_dir) / denoiser
    config = read_json(folder / "config.json")
    current = config.get("vae")
    if current == vae:
        return False
    if not same_encoder(Path(out_dir) / current, Path(out_dir) / vae):
        raise CheckpointError(f"{denoiser} was trained on the latents of {current}; {vae} encodes differently, so "
                              f"retrain {denoiser} instead")
    update_config(folder, vae=vae, trained_on_vae=config.get("trained_on_vae", current))
    return True
