"""The diagonal Gaussian posterior q(z|x) and the base class every VAE here shares.

A VAE's encoder returns a `DiagonalGaussian` (as in latent-diffusion's autoencoder): `.mode()` is the
posterior mean, `.sample(generator)` is the reparameterisation z = mu + sigma * eps, `.kl()` is
KL(q(z|x) || N(0, I)) summed over latent elements, one value per image.
"""
from __future__ import annotations

import torch
from torch import nn


class DiagonalGaussian:
    """q(z|x) = N(mean, exp(logvar)); `params` is (B, 2C, ...) with the mean first."""

    def __init__(self, params: torch.Tensor):
        self.mean, logvar = torch.chunk(params, 2, dim=1)
        self.logvar = torch.clamp(logvar, -30.0, 20.0)
        self.std = torch.exp(0.5 * self.logvar)

    def mode(self) -> torch.Tensor:
        return self.mean

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        eps = torch.randn(self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype)
        return self.mean + self.std * eps

    def kl(self) -> torch.Tensor:
        dims = tuple(range(1, self.mean.ndim))
        return 0.5 * torch.sum(self.mean**2 + self.logvar.exp() - 1.0 - self.logvar, dim=dims)


class VAEBase(nn.Module):
    """Shared image convention: callers pass and receive images in [0, 1], shape (B, C, H, W).

    Inside, the network sees [-1, 1]. `recon_loss` picks the reconstruction loss and how raw decoder output maps
    to an image: "mse" (squared error) and "l1" (absolute error, the pixel term of latent-diffusion's autoencoder
    loss) -> (raw + 1) / 2 (Stable Diffusion's convention); "bce" -> sigmoid(raw) (the textbook VAE).
    """

    recon_loss: str = "mse"
    downsampling_factor: int = 1

    def _encode_params(self, x_net: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def encode(self, x: torch.Tensor) -> DiagonalGaussian:
        """x (B, C, H, W) in [0, 1] -> posterior over z."""
        return DiagonalGaussian(self._encode_params(x * 2.0 - 1.0))

    def raw_to_image(self, raw: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(raw) if self.recon_loss == "bce" else (raw + 1.0) / 2.0

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """z -> image in [0, 1] (mse models may overshoot slightly; clamp for display)."""
        return self.raw_to_image(self.decode_raw(z))

    def reconstruction_loss(self, raw: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Summed over pixels, one value per image (as latent-diffusion does before kl_weight)."""
        dims = tuple(range(1, x.ndim))
        if self.recon_loss == "bce":
            per_pixel = nn.functional.binary_cross_entropy_with_logits(raw, x, reduction="none")
        elif self.recon_loss == "l1":  # the minimiser is the per-pixel median: crisp where strokes are near-binary
            per_pixel = (raw - (x * 2.0 - 1.0)).abs()
        else:
            per_pixel = (raw - (x * 2.0 - 1.0)) ** 2
        return per_pixel.sum(dim=dims)
