"""Noise schedule and samplers (DDPM, DDIM) for epsilon-prediction diffusion. No learned parameters:
the denoising network is passed in. Follows diffusers' DDPMScheduler / DDIMScheduler ("leading"
timestep spacing, fixed_small variance, eta = 0 for DDIM) so results agree to float tolerance.

Forward process:  q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)
Predicted clean sample: x0_hat = (x_t - sqrt(1 - abar_t) eps_hat) / sqrt(abar_t)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import torch

SAMPLERS = ("ddpm", "ddim")
MAX_STEPS = 1000


@dataclass
class NoiseSchedule:
    num_train_timesteps: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 0.02
    beta_schedule: str = "linear"  # or "scaled_linear" (Stable Diffusion)
    clip_sample: bool = False  # clip x0_hat to [-1, 1]; right for pixels in [-1, 1], wrong for latents

    def __post_init__(self):
        n = self.num_train_timesteps
        if self.beta_schedule == "linear":
            betas = torch.linspace(self.beta_start, self.beta_end, n, dtype=torch.float32)
        elif self.beta_schedule == "scaled_linear":
            betas = torch.linspace(self.beta_start**0.5, self.beta_end**0.5, n, dtype=torch.float32) ** 2
        else:
            raise ValueError(f"unknown beta_schedule {self.beta_schedule!r}")
        self.betas = betas
        self.alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)

    def snr(self) -> torch.Tensor:
        """Signal-to-noise ratio abar_t / (1 - abar_t) for every training timestep."""
        return self.alphas_cumprod / (1.0 - self.alphas_cumprod)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """Sample x_t ~ q(x_t | x_0) for integer timesteps t (B,)."""
        abar = self.alphas_cumprod.to(x0.device)[t].to(x0.dtype)
        abar = abar.reshape(-1, *([1] * (x0.ndim - 1)))
        return abar.sqrt() * x0 + (1.0 - abar).sqrt() * noise

    def timesteps(self, num_inference_steps: int) -> list[int]:
        """The "leading" spacing diffusers uses: [(n-1)r, ..., r, 0] with r = T // n."""
        if not 1 <= num_inference_steps <= self.num_train_timesteps:
            raise ValueError(f"steps must be between 1 and {self.num_train_timesteps}, got {num_inference_steps}")
        ratio = self.num_train_timesteps // num_inference_steps
        return [i * ratio for i in reversed(range(num_inference_steps))]

    def _abar(self, t: int) -> torch.Tensor:
        return self.alphas_cumprod[t] if t >= 0 else torch.tensor(1.0)

    def predict_x0(self, sample: torch.Tensor, eps: torch.Tensor, t: int) -> torch.Tensor:
        abar = self._abar(t).to(sample)
        x0 = (sample - (1.0 - abar).sqrt() * eps) / abar.sqrt()
        return x0.clamp(-1.0, 1.0) if self.clip_sample else x0

    def ddpm_step(self, eps: torch.Tensor, t: int, prev_t: int, sample: torch.Tensor,
                  generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One ancestral DDPM step t -> prev_t. Returns (x_prev, x0_hat)."""
        abar_t, abar_prev = self._abar(t).to(sample), self._abar(prev_t).to(sample)
        beta_prod_t, beta_prod_prev = 1.0 - abar_t, 1.0 - abar_prev
        alpha_t = abar_t / abar_prev
        beta_t = 1.0 - alpha_t
        x0 = self.predict_x0(sample, eps, t)
        mean = (abar_prev.sqrt() * beta_t / beta_prod_t) * x0 + (alpha_t.sqrt() * beta_prod_prev / beta_prod_t) * sample
        if t > 0:
            variance = torch.clamp(beta_prod_prev / beta_prod_t * beta_t, min=1e-20)
            noise = torch.randn(sample.shape, generator=generator, dtype=sample.dtype, device=sample.device)
            mean = mean + variance.sqrt() * noise
        return mean, x0

    def ddim_step(self, eps: torch.Tensor, t: int, prev_t: int, sample: torch.Tensor,
                  generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One deterministic DDIM step (eta = 0) t -> prev_t. Returns (x_prev, x0_hat)."""
        abar_prev = self._abar(prev_t).to(sample)
        x0 = self.predict_x0(sample, eps, t)
        return abar_prev.sqrt() * x0 + (1.0 - abar_prev).sqrt() * eps, x0


Denoiser = Callable[[torch.Tensor, int], torch.Tensor]  # (x_t, t) -> eps_hat


@dataclass
class StepResult:
    index: int  # 0-based step number
    timestep: int
    sample: torch.Tensor  # x_{t_prev} after this step
    pred_x0: torch.Tensor  # the model's estimate of the clean sample at this step
    x_t: torch.Tensor  # the noisy sample the model saw at this step (noise level `timestep`)


def sample_progressive(schedule: NoiseSchedule, denoise: Denoiser, shape: tuple[int, ...], steps: int,
                       sampler: str = "ddim", generator: torch.Generator | None = None,
                       device: str | torch.device = "cpu") -> Iterator[StepResult]:
    """Start from x_T ~ N(0, I) (drawn from `generator`) and yield every step of the reverse process.

    shape is (B, C, H, W); each StepResult holds x_t (what the model saw), pred_x0 and the next sample,
    all (B, C, H, W). DDPM draws its step noise from the same generator, as diffusers does."""
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    step_fn = schedule.ddpm_step if sampler == "ddpm" else schedule.ddim_step
    timesteps = schedule.timesteps(steps)
    ratio = schedule.num_train_timesteps // steps
    x = torch.randn(shape, generator=generator, device=device)
    for i, t in enumerate(timesteps):
        x_t = x
        eps = denoise(x_t, t)
        x, x0 = step_fn(eps, t, t - ratio, x_t, generator=generator)
        yield StepResult(i, t, x, x0, x_t)
