"""The Tiny AutoEncoder (TAESD) family: small, deterministic, convolution-only autoencoders distilled by
Ollin Boer Bohan (github.com/madebyollin/taesd, MIT) to encode into and decode from the latent space of a
large diffusion VAE (SD 1.x, SDXL, SD3, FLUX.1, FLUX.2). This file owns our own implementation of that
architecture, written to match the published state-dict keys (so `taef2_encoder.pth` / `taef2_decoder.pth`
load with strict=True after `python -m explorer.convert_taef2`), and its config dataclass.

Architecture (as documented by the source; widths for TAEF2: 64 features, 32 latent channels, f = 8):
  encoder: conv(C_img, 64), Block, then log2(f) stages of [stride-2 conv (no bias), 3 Blocks], the last
           stage's Blocks with the "mid-block" global norm, then conv(64, C_lat).
  decoder: 3 * tanh(z / 3) (a soft clamp of the latent), conv(C_lat, 64), ReLU, 3 Blocks with the mid-block
           norm, then log2(f) stages of [nearest Upsample x2, conv (no bias), 3 Blocks] with a single Block in
           the last stage, then conv(64, C_img).
  Block:   ReLU(conv-ReLU-conv-ReLU-conv(x) + skip(x)), skip = 1x1 conv (no bias) when channels change; the
           mid-block variant first does x = x + pool(x), pool = 1x1 conv (64 -> 256, no bias),
           GroupNorm(4, 256), ReLU, 1x1 conv (256 -> 64, no bias). All other convs are 3x3, padding 1.

Images are in [0, 1] on both sides (not [-1, 1] as in the SD VAEs); latents are used as they come (no
scale_factor: the family targets the big VAE's raw latent space, scale_factor = 1, shift_factor = 0 here).
The encoder is deterministic: `encode` returns a posterior whose std is exactly 0, so `sample()` equals
`mode()` and KL is not defined (it is reported as 0 for interface compatibility only).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class TinyAutoencoderConfig:
    """Geometry of one TAESD-family autoencoder.

    image_channels: channels of the image (3 for RGB). latent_channels: 4 (SD 1.x/SDXL), 16 (SD3, FLUX.1),
    32 (FLUX.2). width: feature channels of every conv (64 in the published models). factor: spatial
    downsampling, a power of two (8: a 512x512 image -> a 64x64 latent). blocks_per_stage: Blocks after each
    stride-2 conv (3). midblock_norm: whether the deepest Blocks carry the global GroupNorm branch (TAEF2: yes;
    the older TAESD weights: no). latent_clamp: the decoder's soft clamp c * tanh(z / c). scale_factor and
    shift_factor: how a diffusion model standardises these latents (1 and 0: used as they come)."""

    image_channels: int = 3
    latent_channels: int = 32
    width: int = 64
    factor: int = 8
    blocks_per_stage: int = 3
    midblock_norm: bool = True
    norm_groups: int = 4
    norm_expansion: int = 4
    latent_clamp: float = 3.0
    scale_factor: float = 1.0
    shift_factor: float = 0.0

    def __post_init__(self) -> None:
        if self.factor < 1 or self.factor & (self.factor - 1):
            raise ValueError(f"factor must be a power of two, got {self.factor}")

    @property
    def stages(self) -> int:
        """Number of stride-2 stages: log2(factor)."""
        return int(math.log2(self.factor))

    def latent_shape(self, input_shape: tuple[int, int, int]) -> tuple[int, ...]:
        """(C, H, W) of an image -> (latent_channels, ceil(H / f), ceil(W / f)); each stride-2 conv (padding 1)
        rounds an odd side up, so sides that are multiples of f give exactly H / f and W / f."""
        _, h, w = input_shape
        for _ in range(self.stages):
            h, w = (h + 1) // 2, (w + 1) // 2
        return (self.latent_channels, h, w)


def _conv(c_in: int, c_out: int, **kwargs) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, padding=1, **kwargs)


class Block(nn.Module):
    """ReLU(conv-ReLU-conv-ReLU-conv(x) + skip(x)), with the optional mid-block global-norm branch added first."""

    def __init__(self, c_in: int, c_out: int, midblock_norm: bool = False, groups: int = 4, expansion: int = 4):
        super().__init__()
        self.conv = nn.Sequential(_conv(c_in, c_out), nn.ReLU(), _conv(c_out, c_out), nn.ReLU(), _conv(c_out, c_out))
        self.skip = nn.Conv2d(c_in, c_out, 1, bias=False) if c_in != c_out else nn.Identity()
        self.fuse = nn.ReLU()
        self.pool = None
        if midblock_norm:
            hidden = c_in * expansion
            self.pool = nn.Sequential(nn.Conv2d(c_in, hidden, 1, bias=False), nn.GroupNorm(groups, hidden),
                                      nn.ReLU(), nn.Conv2d(hidden, c_in, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pool is not None:
            x = x + self.pool(x)
        return self.fuse(self.conv(x) + self.skip(x))


class SoftClamp(nn.Module):
    """c * tanh(z / c): keeps decoder inputs within (-c, c) while leaving small values nearly unchanged."""

    def __init__(self, limit: float):
        super().__init__()
        self.limit = limit

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z / self.limit) * self.limit


def build_encoder(cfg: TinyAutoencoderConfig) -> nn.Sequential:
    """The encoder as one nn.Sequential whose indices match the published state-dict keys ("0.weight", ...)."""
    w = cfg.width
    layers: list[nn.Module] = [_conv(cfg.image_channels, w), Block(w, w)]
    for stage in range(cfg.stages):
        deepest = stage == cfg.stages - 1
        layers.append(_conv(w, w, stride=2, bias=False))
        layers += [Block(w, w, cfg.midblock_norm and deepest, cfg.norm_groups, cfg.norm_expansion)
                   for _ in range(cfg.blocks_per_stage)]
    layers.append(_conv(w, cfg.latent_channels))
    return nn.Sequential(*layers)


def build_decoder(cfg: TinyAutoencoderConfig) -> nn.Sequential:
    """The decoder as one nn.Sequential whose indices match the published state-dict keys ("1.weight", ...)."""
    w = cfg.width
    layers: list[nn.Module] = [SoftClamp(cfg.latent_clamp), _conv(cfg.latent_channels, w), nn.ReLU()]
    layers += [Block(w, w, cfg.midblock_norm, cfg.norm_groups, cfg.norm_expansion)
               for _ in range(cfg.blocks_per_stage)]
    for stage in range(cfg.stages):
        last = stage == cfg.stages - 1
        layers += [nn.Upsample(scale_factor=2, mode="nearest"), _conv(w, w, bias=False)]
        layers += [Block(w, w) for _ in range(1 if last else cfg.blocks_per_stage)]
    layers.append(_conv(w, cfg.image_channels))
    return nn.Sequential(*layers)


class DeterministicPosterior:
    """The 'posterior' of a deterministic encoder: a point mass at `mean` (std exactly 0).

    Same interface as DiagonalGaussian: mean, std, logvar (-inf is avoided: -30, DiagonalGaussian's floor),
    mode() = sample() = mean, kl() = 0 per image (KL against N(0, I) is undefined for a point mass; this
    family is not trained with a KL term)."""

    def __init__(self, mean: torch.Tensor):
        self.mean = mean
        self.std = torch.zeros_like(mean)
        self.logvar = torch.full_like(mean, -30.0)

    def mode(self) -> torch.Tensor:
        return self.mean

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.mean

    def kl(self) -> torch.Tensor:
        return torch.zeros(self.mean.shape[0], device=self.mean.device, dtype=self.mean.dtype)


class TinyAutoencoder(nn.Module):
    """A TAESD-family autoencoder with the explorer's VAE interface.

    encode(x): x (B, C_img, H, W) in [0, 1] -> DeterministicPosterior over z (B, C_lat, H/f, W/f).
    decode(z): z (B, C_lat, h, w) -> image (B, C_img, h*f, w*f), nominally in [0, 1] (not clamped here;
    callers clamp for display). State-dict keys: "encoder.<i>..." and "decoder.<i>..." where <i> are the
    published files' own keys."""

    recon_loss = "mse"

    def __init__(self, config: TinyAutoencoderConfig):
        super().__init__()
        self.config = config
        self.downsampling_factor = config.factor
        self.encoder = build_encoder(config)
        self.decoder = build_decoder(config)

    def encode(self, x: torch.Tensor) -> DeterministicPosterior:
        return DeterministicPosterior(self.encoder(x))

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x).mode())
