"""A Stable-Diffusion-style KL autoencoder, scaled down: residual blocks with GroupNorm and SiLU,
stride-2 downsampling, nearest-neighbour upsampling, optional self-attention in the middle, and a
diagonal Gaussian posterior. `scale_factor` standardises latents for diffusion (SD 1.x: 0.18215);
here it is measured from the training latents (1 / std), as the SD authors did.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from .posterior import VAEBase


@dataclass
class SDVAEConfig:
    image_channels: int = 1
    latent_channels: int = 4
    base_channels: int = 32
    channel_mults: list[int] = field(default_factory=lambda: [1, 2, 2])  # f = 2 ** (levels - 1)
    num_res_blocks: int = 1
    norm_groups: int = 8
    mid_attention: bool = True
    recon_loss: str = "mse"
    kl_weight: float = 1e-6
    scale_factor: float = 1.0
    shift_factor: float = 0.0
    tile_size: int | None = None  # run encode/decode on tiles of this many pixels (the training crop size)
    # "input": GroupNorm statistics of each input (or tile); "fixed": statistics frozen after training (like
    # BatchNorm at inference), so the network is purely convolutional and runs on whole photos without tiles
    norm_statistics: str = "input"
    # pixels of mirrored border added around a whole-photo input (and border_pad / f latents around a latent)
    # before the network runs, cropped after: the photo's own edge then sits away from the convs' zero padding
    border_pad: int = 0

    @property
    def factor(self) -> int:
        """Spatial downsampling per side: one stride-2 convolution between consecutive levels."""
        return 2 ** (len(self.channel_mults) - 1)

    def latent_shape(self, input_shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """(C, H, W) image -> (latent_channels, ceil(H / f), ceil(W / f)) (stride-2 convolutions with padding 1
        round up); e.g. f = 4: (1, 28, 28) -> (4, 7, 7)."""
        _, h, w = input_shape
        return (self.latent_channels, -(-h // self.factor), -(-w // self.factor))


class FixedGroupNorm(nn.GroupNorm):
    """GroupNorm with frozen per-group statistics (buffers `group_mean`, `group_var`, shape (groups,)) instead of
    the statistics of each input: y = (x - mean_g) / sqrt(var_g + eps) * weight + bias, a per-channel affine map.
    Nothing depends on the size or position of the input, so tiles are unnecessary and no tile borders exist.
    Same weight/bias keys as nn.GroupNorm, plus the two buffers."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5):
        super().__init__(num_groups, num_channels, eps=eps)
        self.register_buffer("group_mean", torch.zeros(num_groups))
        self.register_buffer("group_var", torch.ones(num_groups))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        per_channel = self.num_channels // self.num_groups
        mean = self.group_mean.repeat_interleave(per_channel)
        inv_std = torch.rsqrt(self.group_var + self.eps).repeat_interleave(per_channel)
        scale = (self.weight * inv_std)[None, :, None, None]
        return x * scale + (self.bias - mean * self.weight * inv_std)[None, :, None, None]


def _norm(groups: int, channels: int, fixed: bool = False) -> nn.GroupNorm:
    return FixedGroupNorm(groups, channels) if fixed else nn.GroupNorm(groups, channels)


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, groups: int, fixed_norm: bool = False):
        super().__init__()
        self.block = nn.Sequential(
            _norm(groups, c_in, fixed_norm), nn.SiLU(), nn.Conv2d(c_in, c_out, 3, padding=1),
            _norm(groups, c_out, fixed_norm), nn.SiLU(), nn.Conv2d(c_out, c_out, 3, padding=1),
        )
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.block(x)


class SelfAttention(nn.Module):
    """Single-head attention over spatial positions, as in the SD VAE's mid block."""

    def __init__(self, channels: int, groups: int, fixed_norm: bool = False):
        super().__init__()
        self.norm = _norm(groups, channels, fixed_norm)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.out = nn.Conv2d(channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, c, h * w).unbind(1)
        attended = nn.functional.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        return x + self.out(attended.transpose(1, 2).reshape(b, c, h, w))


def _mid_block(channels: int, groups: int, attention: bool, fixed: bool = False) -> nn.Sequential:
    layers: list[nn.Module] = [ResBlock(channels, channels, groups, fixed)]
    if attention:
        layers.append(SelfAttention(channels, groups, fixed))
    layers.append(ResBlock(channels, channels, groups, fixed))
    return nn.Sequential(*layers)


class SDVAE(VAEBase):
    def __init__(self, config: SDVAEConfig):
        super().__init__()
        self.config = config
        self.recon_loss = config.recon_loss
        self.downsampling_factor = config.factor
        g = config.norm_groups
        if config.norm_statistics not in ("input", "fixed"):
            raise ValueError(f"norm_statistics must be 'input' or 'fixed', got {config.norm_statistics!r}")
        fixed = config.norm_statistics == "fixed"
        widths = [config.base_channels * m for m in config.channel_mults]

        enc: list[nn.Module] = [nn.Conv2d(config.image_channels, widths[0], 3, padding=1)]
        c = widths[0]
        for level, width in enumerate(widths):
            for _ in range(config.num_res_blocks):
                enc.append(ResBlock(c, width, g, fixed))
                c = width
            if level < len(widths) - 1:
                enc.append(nn.Conv2d(c, c, 3, stride=2, padding=1))
        enc += [_mid_block(c, g, config.mid_attention, fixed), _norm(g, c, fixed), nn.SiLU(),
                nn.Conv2d(c, 2 * config.latent_channels, 3, padding=1),
                nn.Conv2d(2 * config.latent_channels, 2 * config.latent_channels, 1)]
        self.encoder = nn.Sequential(*enc)

        dec: list[nn.Module] = [nn.Conv2d(config.latent_channels, config.latent_channels, 1),
                                nn.Conv2d(config.latent_channels, c, 3, padding=1),
                                _mid_block(c, g, config.mid_attention, fixed)]
        for level, width in reversed(list(enumerate(widths))):
            for _ in range(config.num_res_blocks + 1):
                dec.append(ResBlock(c, width, g, fixed))
                c = width
            if level > 0:
                dec += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, c, 3, padding=1)]
        dec += [_norm(g, c, fixed), nn.SiLU(), nn.Conv2d(c, config.image_channels, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)

    def _encode_params(self, x_net: torch.Tensor) -> torch.Tensor:
        if self.config.tile_size:
            return _tiled(self.encoder, x_net, self.config.tile_size, 1 / self.downsampling_factor)
        return _with_border(self.encoder, x_net, self.config.border_pad, self.downsampling_factor, 1 / self.downsampling_factor)

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        tile = self.config.tile_size
        if tile:
            return _tiled(self.decoder, z, tile // self.downsampling_factor, self.downsampling_factor)
        f = self.downsampling_factor
        return _with_border(self.decoder, z, self.config.border_pad // f, 1, f)


def _with_border(net: nn.Module, x: torch.Tensor, pad: int, multiple: int, scale: float) -> torch.Tensor:
    """net(x) on x mirrored by `pad` elements on every side (replicated where x is too small to mirror), the
    output cropped back to `scale` x the input size; pad 0 -> net(x). `multiple`: pad is rounded down to it."""
    pad -= pad % multiple
    if pad <= 0:
        return net(x)
    h, w = x.shape[-2:]
    mode = "reflect" if pad < h and pad < w else "replicate"
    out = net(nn.functional.pad(x, (pad, pad, pad, pad), mode=mode))
    p = round(pad * scale)
    return out[..., p: p + round(h * scale), p: p + round(w * scale)]


def _tiled(net: nn.Module, x: torch.Tensor, tile: int | None, scale: float) -> torch.Tensor:
    """net(x), or net applied to non-overlapping tile x tile pieces of x (all in one batch) and stitched back.

    GroupNorm normalises over the whole input, so a network trained on small crops sees different statistics
    on a whole photo; running it on tiles of its training size is what it was trained for (diffusers'
    `enable_tiling` does the same for memory). Overlapping tiles blended together measured worse here: each
    tile's latent is normalised in its own frame, so averaging latents of neighbouring tiles mixes frames.
    Sides that are not multiples of `tile` are padded (reflect, or replicate when tiny) and the output is
    cropped to `scale` x the input size. Tile borders show (issue 13: ~30 grey levels on a smooth ramp); the
    shipped photo VAE no longer tiles: norm_statistics="fixed" removes the dependence on the input extent."""
    b, channels, h, w = x.shape
    if not tile or (h <= tile and w <= tile):
        return net(x)
    pad_h, pad_w = (-h) % tile, (-w) % tile
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    padded = nn.functional.pad(x, (0, pad_w, 0, pad_h), mode=mode) if pad_h or pad_w else x
    rows, cols = padded.shape[2] // tile, padded.shape[3] // tile
    pieces = padded.unfold(2, tile, tile).unfold(3, tile, tile)  # (B, C, rows, cols, tile, tile)
    pieces = pieces.permute(0, 2, 3, 1, 4, 5).reshape(b * rows * cols, channels, tile, tile)
    out = net(pieces)
    c_out, t_out = out.shape[1], out.shape[2]
    out = out.reshape(b, rows, cols, c_out, t_out, t_out).permute(0, 3, 1, 4, 2, 5)
    out = out.reshape(b, c_out, rows * t_out, cols * t_out)
    return out[:, :, : round(h * scale), : round(w * scale)]
