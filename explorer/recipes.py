"""The recipe registry: how every shipped checkpoint is trained (family, config, data and training budget), for
every kind: VAEs and the classifier (`Recipe`), the denoisers (`DiffusionRecipe`). `RECIPES` holds them all in
dependency order (a denoiser needs its VAE and the classifier first); `TRAINERS` names the trainer module of
each kind (explorer/trainers/), which `python -m explorer.train` dispatches to.

Tests build tiny variants with `scaled(recipe, ...)` or `dataclasses.replace`.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

from . import roles

TRAINERS = {"vae": "explorer.trainers.vae", "decoder": "explorer.trainers.decoder",
            "classifier": "explorer.trainers.classifier", "denoiser": "explorer.trainers.diffusion"}


def trainer_key(recipe) -> str:
    """The TRAINERS key that builds `recipe`: its `trainer` when set (a Recipe's), else its kind."""
    return getattr(recipe, "trainer", None) or recipe.kind


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
    trainer: str | None = None  # the TRAINERS key, when it is not `kind` (a decoder fine-tune is a "vae")


def _sd_mnist(channels: int, epochs: int = 25) -> Recipe:
    return Recipe(
        name=f"{roles.CHANNEL_SWEEP_PREFIX}{channels}", family="sd_vae", kind="vae", dataset="mnist",
        config={"image_channels": 1, "latent_channels": channels, "base_channels": 16,
                "channel_mults": [1, 2, 2], "kl_weight": 1e-6},
        description=f"SD-style VAE, f=4, {channels} latent channel(s), KL weight 1e-6 as in Stable Diffusion",
        epochs=epochs)


@dataclass(frozen=True)
class DiffusionRecipe:
    """A denoiser: the UNet of explorer/models/unet.py trained with the epsilon objective on `space` ("latent":
    the posterior means of `vae` x its scale_factor; "pixel": digits in [-1, 1])."""

    name: str
    space: str  # "latent" or "pixel"
    unet: dict
    description: str
    vae: str | None = None  # the VAE whose latents are diffused (latent space only)
    epochs: int = 120  # passes over the 4,500 training digits (70 steps each at batch 64): 8,400 steps
    batch_size: int = 64
    lr: float = 1e-3
    seed: int = 0
    p_uncond: float = 0.1  # label dropout: how often the null label is trained
    ema_decay: float = 0.995
    schedule: dict = field(default_factory=lambda: {"num_train_timesteps": 1000, "beta_start": 1e-4,
                                                    "beta_end": 0.02, "beta_schedule": "linear"})
    family = "unet"
    kind = "denoiser"
    dataset = "mnist"

    @property
    def config(self) -> dict:
        """The model config (the UNet's), under the name every recipe uses."""
        return self.unet


UNET_WIDTH = {"base_channels": 32, "channel_mults": [1, 2, 2], "num_res_blocks": 1, "num_classes": 10,
              "norm_groups": 8}

DIFFUSION_RECIPES: dict[str, DiffusionRecipe] = {r.name: r for r in [
    DiffusionRecipe(
        name=roles.LATENT_DENOISER, space="latent", vae=roles.LATENT_DENOISER_VAE,
        unet={**UNET_WIDTH, "in_channels": 4, "sample_size": 7},
        description="Latent diffusion: class-conditional UNet on the 4x7x7 latents of sd-vae-mnist-c4 "
                    "(x scale_factor), classifier-free guidance"),
    DiffusionRecipe(
        name=roles.PIXEL_DENOISER, space="pixel",
        unet={**UNET_WIDTH, "in_channels": 1, "sample_size": 28},
        description="Pixel-space diffusion: the same UNet design on 1x28x28 digits in [-1, 1], same budget"),
]}

DECODER_LATENT_NOISE = 0.3  # the fine-tuned decoder's latent noise: std up to this, in units of the scaled latents'

AUTOENCODER_RECIPES: dict[str, Recipe] = {r.name: r for r in [
    *[_sd_mnist(c) for c in (1, 2, 3, 4, 8)],
    Recipe(name=roles.LATENT_DENOISER_VAE, family="sd_vae", kind="vae", dataset="mnist",
           config={"recon_loss": "l1"}, trainer="decoder",
           description=f"{roles.DIGIT_VAE} with its decoder fine-tuned for latent diffusion: encoder frozen (the "
                       f"same latents), L1 loss, latents noised up to {DECODER_LATENT_NOISE:g} std",
           epochs=40, lr=2e-4, extra={"decoder_of": roles.DIGIT_VAE, "latent_noise": DECODER_LATENT_NOISE}),
    Recipe(name=roles.CHAPTER_VAE, family="chapter_vae", kind="vae", dataset="mnist",
           config={"image_channels": 1, "latent_channels": 4, "kl_weight": 1e-6},
           description="The chapter's VAE (Conv 128-256-512, f=8, 4 channels); digits padded to 32x32",
           epochs=12, extra={"pad_to": 32}),
    Recipe(name=roles.REGULARISED_VAE, family="sd_vae", kind="vae", dataset="mnist",
           config={"image_channels": 1, "latent_channels": 4, "base_channels": 16, "channel_mults": [1, 2, 2],
                   "recon_loss": "bce", "kl_weight": 1.0},
           description="Regularised (textbook) VAE: same network as sd-vae-mnist-c4, Bernoulli likelihood, KL weight 1",
           epochs=25),
    Recipe(name=roles.PLANAR_VAE, family="mlp_vae", kind="vae", dataset="mnist",
           config={"latent_dim": 2, "hidden": [512, 256], "recon_loss": "bce", "kl_weight": 1.0},
           description="Fully connected VAE with a 2-D latent (Kingma & Welling), for the manifold picture",
           epochs=60, batch_size=128, lr=1e-3),
    Recipe(name=roles.PHOTO_VAE, family="sd_vae", kind="vae", dataset="photos",
           config={"image_channels": 3, "latent_channels": 4, "base_channels": 16, "channel_mults": [1, 2, 4, 4],
                   "mid_attention": False, "kl_weight": 1e-6, "tile_size": 32},
           description="SD-style VAE for colour photos, f=8, 4 channels (48x), trained on 32x32 crops and run "
                       "on 32x32 tiles",
           epochs=40, batch_size=16, lr=1e-3,
           extra={"crop": 32, "crops_per_epoch": 1600, "finetune": {"epochs": 20, "lr": 3e-4}}),
    Recipe(name=roles.CLASSIFIER, family="classifier", kind="classifier", dataset="mnist",
           config={"width": 32}, description="CNN digit classifier used to grade generated digits",
           epochs=20, batch_size=64, lr=2e-3),
]}

# Every recipe, in the order `python -m explorer.train` builds them (VAEs and classifier before the denoisers).
RECIPES: dict[str, Recipe | DiffusionRecipe] = {**AUTOENCODER_RECIPES, **DIFFUSION_RECIPES}


def scaled(recipe: Recipe, **changes) -> Recipe:
    """A copy of a VAE or classifier recipe with some fields changed, `config` merged into the recipe's (tests
    use it for tiny, fast variants). For a DiffusionRecipe use dataclasses.replace (its config is `unet`)."""
    config = {**recipe.config, **changes.pop("config", {})}
    return replace(recipe, config=config, **changes)
