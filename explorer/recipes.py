"""The recipe for every shipped checkpoint: family, config, data and training budget.

`python -m explorer.train` reads these; tests build tiny variants with `scaled(recipe, ...)`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Recipe:
    name: str
    family: str
    kind: str  # "vae", "denoiser" or "classifier"
    dataset: str  # "mnist" or "photos"
    config: dict
    description: str
    epochs: int = 20  # passes over the training set (photos: "epochs" of `crops_per_epoch` crops)
    batch_size: int = 64
    lr: float = 2e-3
    seed: int = 0
    extra: dict = field(default_factory=dict)


def _sd_mnist(channels: int, epochs: int = 25) -> Recipe:
    return Recipe(
        name=f"sd-vae-mnist-c{channels}", family="sd_vae", kind="vae", dataset="mnist",
        config={"image_channels": 1, "latent_channels": channels, "base_channels": 16,
                "channel_mults": [1, 2, 2], "kl_weight": 1e-6},
        description=f"SD-style VAE, f=4, {channels} latent channel(s), KL weight 1e-6 as in Stable Diffusion",
        epochs=epochs)


RECIPES: dict[str, Recipe] = {r.name: r for r in [
    *[_sd_mnist(c) for c in (1, 2, 3, 4, 8)],
    Recipe(name="chapter-vae-mnist", family="chapter_vae", kind="vae", dataset="mnist",
           config={"image_channels": 1, "latent_channels": 4, "kl_weight": 1e-6},
           description="The chapter's VAE (Conv 128-256-512, f=8, 4 channels); digits padded to 32x32",
           epochs=12, extra={"pad_to": 32}),
    Recipe(name="vae-mnist-kl1", family="sd_vae", kind="vae", dataset="mnist",
           config={"image_channels": 1, "latent_channels": 4, "base_channels": 16, "channel_mults": [1, 2, 2],
                   "recon_loss": "bce", "kl_weight": 1.0},
           description="Regularised (textbook) VAE: same network as sd-vae-mnist-c4, Bernoulli likelihood, KL weight 1",
           epochs=25),
    Recipe(name="vae-mnist-2d", family="mlp_vae", kind="vae", dataset="mnist",
           config={"latent_dim": 2, "hidden": [512, 256], "recon_loss": "bce", "kl_weight": 1.0},
           description="Fully connected VAE with a 2-D latent (Kingma & Welling), for the manifold picture",
           epochs=60, batch_size=128, lr=1e-3),
    Recipe(name="sd-vae-photos-f8c4", family="sd_vae", kind="vae", dataset="photos",
           config={"image_channels": 3, "latent_channels": 4, "base_channels": 16, "channel_mults": [1, 2, 4, 4],
                   "mid_attention": False, "kl_weight": 1e-6, "tile_size": 32},
           description="SD-style VAE for colour photos, f=8, 4 channels (48x), trained on 32x32 crops and run "
                       "on 32x32 tiles",
           epochs=40, batch_size=16, lr=1e-3,
           extra={"crop": 32, "crops_per_epoch": 1600, "finetune": {"epochs": 20, "lr": 3e-4}}),
    Recipe(name="mnist-classifier", family="classifier", kind="classifier", dataset="mnist",
           config={"width": 32}, description="CNN digit classifier used to grade generated digits",
           epochs=20, batch_size=64, lr=2e-3),
]}


def scaled(recipe: Recipe, **changes) -> Recipe:
    """A copy with some fields changed (tests use it for tiny, fast variants)."""
    config = {**recipe.config, **changes.pop("config", {})}
    return replace(recipe, config=config, **changes)
