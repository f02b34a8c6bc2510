"""The textbook fully connected VAE (Kingma & Welling): 784 -> hidden -> latent, Bernoulli decoder.

With a 2-D latent it draws the classic manifold picture: every point of the plane decodes to a digit.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .posterior import VAEBase


@dataclass
class MLPVAEConfig:
    image_size: int = 28
    image_channels: int = 1
    latent_dim: int = 2
    hidden: list[int] = field(default_factory=lambda: [512, 256])
    recon_loss: str = "bce"
    kl_weight: float = 1.0
    scale_factor: float = 1.0

    factor = 1  # no spatial grid: the latent is a vector

    def latent_shape(self, input_shape: tuple[int, int, int] | None = None) -> tuple[int]:
        """(latent_dim,), whatever the input (the network only takes image_channels x image_size^2 pixels)."""
        return (self.latent_dim,)


class MLPVAE(VAEBase):
    downsampling_factor = MLPVAEConfig.factor

    def __init__(self, config: MLPVAEConfig):
        super().__init__()
        self.config = config
        self.recon_loss = config.recon_loss
        self.image_shape = (config.image_channels, config.image_size, config.image_size)
        n_pixels = config.image_channels * config.image_size**2
        enc: list[nn.Module] = [nn.Flatten()]
        width = n_pixels
        for hidden in config.hidden:
            enc += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        enc.append(nn.Linear(width, 2 * config.latent_dim))
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = []
        width = config.latent_dim
        for hidden in reversed(config.hidden):
            dec += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        dec.append(nn.Linear(width, n_pixels))
        self.decoder = nn.Sequential(*dec)

    def _encode_params(self, x_net: torch.Tensor) -> torch.Tensor:
        return self.encoder(x_net)

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z).reshape(-1, *self.image_shape)
