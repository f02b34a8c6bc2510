"""Noise schedule and samplers (DDPM, DDIM) for epsilon-prediction diffusion. No learned parameters:
the denoising network is passed in. Follows diffusers' DDPMScheduler / DDIMScheduler (fixed_small
variance, eta = 0 for DDIM, steps_offset 0) so results agree to float tolerance.

Timestep spacing (which n of the T training timesteps a sampler visits) is "leading" by default, Stable
Diffusion 1.x's: it starts at (n-1) * (T // n), so 1 step runs at t = 0 and the model is told that pure noise is
an almost clean sample. "trailing" always starts at t = T - 1, pure noise, as Lin et al. 2024 ("Common Diffusion
Noise Schedules and Sample Steps are Flawed", Table 2) recommend together with a zero-terminal-SNR schedule and
v-prediction; our epsilon-prediction models were not trained that way, and measured worse with it at few steps
(README: "Few steps and the timestep spacing"), so it is an option, not the default.
Each step goes from its timestep to the next one in the list (-1, i.e. abar = 1, after the last).

Forward process:  q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)
Predicted clean sample: x0_hat = (x_t - sqrt(1 - abar_t) eps_hat) / sqrt(abar_t)

Clipping x0_hat (`clip_sample`, `clip_sample_range`, as diffusers names them) keeps the prediction inside the range
the data occupies. Pixel models clip to [-1, 1]. For a latent model the range is measured on its training latents
(x scale_factor): without it, ldm-mnist's x0 predictions at high noise and guidance 5 overshoot the latent range,
and 50 DDIM steps drew the requested digit less often than 5 (README: "Why more steps were worse"). DDIM then
re-derives eps from the clipped prediction (`use_clipped_model_output`, as GLIDE and diffusers' option do).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch

SAMPLERS = ("ddpm", "ddim")
SPACINGS = ("leading", "trailing")
DEFAULT_SPACING = "leading"
MAX_STEPS = 1000


@dataclass
class NoiseSchedule:
    num_train_timesteps: int = 1000
    beta_start: float = 1e-4
    beta_end: float = 0.02
    beta_schedule: str = "linear"  # or "scaled_linear" (Stable Diffusion)
    clip_sample: bool = False  # clip x0_hat to [-clip_sample_range, clip_sample_range] (diffusers' names)
    clip_sample_range: float = 1.0  # 1 for pixels in [-1, 1]; for latents, the range of the training latents
    use_clipped_model_output: bool = False  # DDIM: re-derive eps from the clipped x0_hat (GLIDE; diffusers passes
    # it to DDIMScheduler.step), so the step's direction agrees with the clipped prediction
    timestep_spacing: str = DEFAULT_SPACING  # or "trailing"; see the module docstring

    def __post_init__(self):
        if self.timestep_spacing not in SPACINGS:
            raise ValueError(f"timestep_spacing must be one of {SPACINGS}, got {self.timestep_spacing!r}")
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
        """The n timesteps a sampler visits, noisiest first, as diffusers spaces them.
        "trailing": round(T - i * T / n) - 1 for i = 0..n-1, so always T-1 first;
        "leading": [(n-1)r, ..., r, 0] with r = T // n."""
        n, total = num_inference_steps, self.num_train_timesteps
        if not 1 <= n <= total:
            raise ValueError(f"steps must be between 1 and {total}, got {n}")
        if self.timestep_spacing == "leading":
            return [i * (total // n) for i in reversed(range(n))]
        # numpy's arange, as diffusers computes it (its float rounding decides ties such as 937.4999...), cut
        # to n: for 62 counts in 1..1000 (61, 103, ...) the float range holds one more value, a timestep of -1
        steps = np.round(np.arange(total, 0, -total / n)[:n]).astype(np.int64) - 1
        return steps.tolist()

    def step_pairs(self, num_inference_steps: int) -> list[tuple[int, int]]:
        """(t, prev_t) for every step: each timestep and the next one, -1 (clean) after the last."""
        ts = self.timesteps(num_inference_steps)
        return list(zip(ts, ts[1:] + [-1]))

    def _abar(self, t: int) -> torch.Tensor:
        return self.alphas_cumprod[t] if t >= 0 else torch.tensor(1.0)

    def predict_x0(self, sample: torch.Tensor, eps: torch.Tensor, t: int) -> torch.Tensor:
        abar = self._abar(t).to(sample)
        x0 = (sample - (1.0 - abar).sqrt() * eps) / abar.sqrt()
        return x0.clamp(-self.clip_sample_range, self.clip_sample_range) if self.clip_sample else x0

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
        abar_t, abar_prev = self._abar(t).to(sample), self._abar(prev_t).to(sample)
        x0 = self.predict_x0(sample, eps, t)
        if self.clip_sample and self.use_clipped_model_output:
            eps = (sample - abar_t.sqrt() * x0) / (1.0 - abar_t).sqrt()
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
    pairs = schedule.step_pairs(steps)
    x = torch.randn(shape, generator=generator, device=device)
    for i, (t, prev_t) in enumerate(pairs):
        x_t = x
        eps = denoise(x_t, t)
        x, x0 = step_fn(eps, t, prev_t, x_t, generator=generator)
        yield StepResult(i, t, x, x0, x_t)


def clip_range_from(samples: torch.Tensor | np.ndarray, quantile: float = 0.999) -> float:
    """The `clip_sample_range` for a model trained on `samples` (N, ...) in its diffused space (latents already
    multiplied by scale_factor): the `quantile` of |sample| over all elements, rounded up to 2 decimals.
    0.999 keeps the range of the data, not its rare outliers (ldm-mnist: 3.24 against an absolute max of 3.57)."""
    values = np.abs(np.asarray(samples, dtype=np.float64)).ravel()
    return float(np.ceil(np.quantile(values, quantile) * 100) / 100)
