"""A small class-conditional UNet that predicts the noise eps in x_t (DDPM's epsilon objective).

The same design serves latent diffusion (4x7x7 VAE latents) and pixel diffusion (1x28x28 digits), so
the two can be compared at (almost) equal parameter count. Class label `num_classes` is the "null"
label used for classifier-free guidance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class UNetConfig:
    in_channels: int = 4
    base_channels: int = 32
    channel_mults: list[int] = field(default_factory=lambda: [1, 2, 2])
    num_res_blocks: int = 1
    num_classes: int = 10
    norm_groups: int = 8
    sample_size: int = 7  # spatial size of what is diffused

    factor = 1  # a denoiser keeps the shape of what it denoises

    def latent_shape(self, input_shape: tuple[int, int, int] | None = None) -> tuple[int, int, int]:
        """The shape it denoises: (in_channels, sample_size, sample_size) unless `input_shape` is given."""
        if input_shape is None:
            return (self.in_channels, self.sample_size, self.sample_size)
        return (self.in_channels, *input_shape[1:])


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal embedding of integer timesteps t (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=1)


class CondResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, emb_dim: int, groups: int):
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(groups, c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(groups, c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.emb(F.silu(emb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    def __init__(self, config: UNetConfig):
        super().__init__()
        self.config = config
        c0, g = config.base_channels, config.norm_groups
        emb_dim = 4 * c0
        self.time_mlp = nn.Sequential(nn.Linear(c0, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.class_emb = nn.Embedding(config.num_classes + 1, emb_dim)
        self.conv_in = nn.Conv2d(config.in_channels, c0, 3, padding=1)

        widths = [c0 * m for m in config.channel_mults]
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skip_widths, c = [c0], c0
        for level, width in enumerate(widths):
            blocks = nn.ModuleList()
            for _ in range(config.num_res_blocks):
                blocks.append(CondResBlock(c, width, emb_dim, g))
                c = width
                skip_widths.append(c)
            self.down.append(blocks)
            last = level == len(widths) - 1
            self.downsample.append(nn.Identity() if last else nn.Conv2d(c, c, 3, stride=2, padding=1))
            if not last:
                skip_widths.append(c)
        self.mid = nn.ModuleList([CondResBlock(c, c, emb_dim, g), CondResBlock(c, c, emb_dim, g)])
        self.up = nn.ModuleList()
        for level, width in reversed(list(enumerate(widths))):
            blocks = nn.ModuleList()
            for _ in range(config.num_res_blocks + 1):
                blocks.append(CondResBlock(c + skip_widths.pop(), width, emb_dim, g))
                c = width
            self.up.append(blocks)
        self.norm_out = nn.GroupNorm(g, c)
        self.conv_out = nn.Conv2d(c, config.in_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """x (B, C, H, W), t (B,) integer timesteps, labels (B,) in 0..num_classes (last = null)."""
        emb = self.time_mlp(timestep_embedding(t, self.config.base_channels)) + self.class_emb(labels)
        h = self.conv_in(x)
        skips = [h]
        for blocks, down in zip(self.down, self.downsample):
            for block in blocks:
                h = block(h, emb)
                skips.append(h)
            if not isinstance(down, nn.Identity):
                h = down(h)
                skips.append(h)
        for block in self.mid:
            h = block(h, emb)
        for i, blocks in enumerate(self.up):
            for block in blocks:
                skip = skips.pop()
                if h.shape[-2:] != skip.shape[-2:]:
                    h = F.interpolate(h, size=skip.shape[-2:], mode="nearest")
                h = block(torch.cat([h, skip], dim=1), emb)
        return self.conv_out(F.silu(self.norm_out(h)))
