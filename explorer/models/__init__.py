"""Model families. Each family is one file with one dataclass config; FAMILIES maps the name stored in
a checkpoint's config.json to (config class, model class)."""
from __future__ import annotations

from .chapter_vae import ChapterVAE, ChapterVAEConfig
from .classifier import ClassifierConfig, DigitClassifier
from .mlp_vae import MLPVAE, MLPVAEConfig
from .posterior import DiagonalGaussian, VAEBase
from .sd_vae import SDVAE, SDVAEConfig
from .tiny_autoencoder import TinyAutoencoder, TinyAutoencoderConfig
from .unet import UNet, UNetConfig

FAMILIES = {
    "chapter_vae": (ChapterVAEConfig, ChapterVAE),
    "sd_vae": (SDVAEConfig, SDVAE),
    "mlp_vae": (MLPVAEConfig, MLPVAE),
    "unet": (UNetConfig, UNet),
    "classifier": (ClassifierConfig, DigitClassifier),
    "tiny_autoencoder": (TinyAutoencoderConfig, TinyAutoencoder),
}


def build_model(family: str, config: dict):
    """Rebuild an (untrained) model from a family name and its config dict."""
    if family not in FAMILIES:
        raise ValueError(f"unknown model family {family!r}; known: {', '.join(FAMILIES)}")
    config_cls, model_cls = FAMILIES[family]
    return model_cls(config_cls(**config))


__all__ = ["FAMILIES", "build_model", "DiagonalGaussian", "VAEBase", "ChapterVAE", "ChapterVAEConfig",
           "SDVAE", "SDVAEConfig", "MLPVAE", "MLPVAEConfig", "UNet", "UNetConfig", "DigitClassifier",
           "ClassifierConfig"]
