"""The chapter's VAE, exactly as taught: three stride-2 convolutions 128 -> 256 -> 512, SiLU,
a final convolution to 2 x latent channels (mean and log-variance), and a ConvTranspose decoder.

A 1x3x512x512 image encodes to 1x4x64x64 (f = 8): 786,432 -> 16,384 elements, 48x.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .posterior import VAEBase


@dataclass
class ChapterVAEConfig:
    image_channels: int = 3
    latent_channels: int = 4
    recon_loss: str = "mse"
    kl_weight: float = 1e-6
    scale_factor: float = 1.0

    factor = 8  # three stride-2 convolutions: spatial downsampling per side

    def latent_shape(self, input_shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """(C, H, W) image -> (latent_channels, H // 8, W // 8); e.g. (3, 512, 512) -> (4, 64, 64)."""
        _, h, w = input_shape
        return (self.latent_channels, h // self.factor, w // self.factor)


class ChapterVAE(VAEBase):
    downsampling_factor = ChapterVAEConfig.factor

    def __init__(self, config: ChapterVAEConfig):
        super().__init__()
        self.config = config
        self.recon_loss = config.recon_loss
        c_img, c_lat = config.image_channels, config.latent_channels
        self.encoder = nn.Sequential(
            nn.Conv2d(c_img, 128, 3, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(128, 256, 3, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(256, 512, 3, stride=2, padding=1), nn.SiLU(),
            nn.Conv2d(512, 2 * c_lat, 3, padding=1),
        )
        self.decoder = nn.Sequential(
            nn.Conv2d(c_lat, 512, 3, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(512, 256, 4, stride=2, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(256, 128, 4, stride=2, padding=1), nn.SiLU(),
            nn.ConvTranspose2d(128, c_img, 4, stride=2, padding=1),
        )

    def _encode_params(self, x_net: torch.Tensor) -> torch.Tensor:
        return self.encoder(x_net)

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)
