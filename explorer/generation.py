"""Class-conditional generation with classifier-free guidance, step by step, for the Denoising tab.

Pure glue over the ModelService: validates a request, runs the denoiser under its lock
(`service.run`), keeps every step's noisy sample x_t and predicted clean sample x0_hat, decodes all of
them in batches (through the VAE for latent diffusion; pixels need no decoder) and times each step.

Spaces: "latent" diffuses (4, 7, 7) latents of the denoiser's VAE, multiplied by the VAE's
scale_factor (Stable Diffusion's convention), so decoding divides by it; "pixel" diffuses (1, 28, 28)
digits in [-1, 1].
"""
from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from .diffusion import DEFAULT_SPACING, MAX_STEPS, SAMPLERS, SPACINGS, NoiseSchedule, sample_progressive
from .refusal import Refusal

SPACES = ("latent", "pixel")
NULL_LABEL = 10  # the UNet's "no digit" class, used for unconditional samples and classifier-free guidance
GUIDANCE_RANGE = (0.0, 20.0)
MAX_SEED = 2**32 - 1
DECODE_BATCH = 256
PREFERRED = {"latent": "ldm-mnist", "pixel": "pixel-dm-mnist"}
# Intra-op threads for sampling. These UNets see a batch of 2 tiny tensors per step: a second thread buys
# little on an idle machine and, on 2 cores shared with other work, OpenMP's spinning made steps 5-20x
# slower (measured here: ~25 ms/step on 1 thread vs 150-440 ms on 2, under load). 0 = leave torch's setting.
SAMPLING_THREADS = int(os.environ.get("EXPLORER_SAMPLING_THREADS", "1"))


@contextlib.contextmanager
def torch_threads(n: int):
    """Run the block with n intra-op threads in this thread (OpenMP keeps the setting per thread), then
    restore the previous value. n <= 0 leaves torch's setting alone."""
    before = torch.get_num_threads()
    if n <= 0 or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@dataclass(frozen=True)
class GenerationRequest:
    """A validated request. digit -1 means unconditional; spacing: which timesteps the steps visit
    (explorer.diffusion: "leading", the default, is Stable Diffusion 1.x's; "trailing" starts at pure noise)."""

    digit: int
    seed: int
    steps: int
    sampler: str
    guidance: float
    space: str = "latent"
    spacing: str = DEFAULT_SPACING


# Why a request is refused, in English (what the API returns); RequestError keeps the code and values so that a
# UI can word the same refusal in its own language (explorer/ui/denoising_tab.py).
REFUSALS = {
    "whole_number": "{field} must be a whole number, got {value!r}",
    "digit_range": "digit must be 0-9, or -1 for unconditional; got {value}",
    "seed_range": "seed must be between 0 and {high}; got {value}",
    "steps_range": "steps must be between 1 and {high}; got {value}",
    "sampler_unknown": "sampler must be one of {choices}; got {value!r}",
    "guidance_number": "guidance must be a number, got {value!r}",
    "guidance_range": "guidance must be between {low:g} and {high:g}; got {value!r}",
    "space_unknown": "space must be one of {choices}; got {value!r}",
    "spacing_unknown": "spacing must be one of {choices}; got {value!r}",
    "no_denoiser": "no {space}-space denoiser checkpoint is installed; train one with "
                   "`python -m explorer.train_diffusion {name}`",
}


class RequestError(Refusal):
    """A refused request: str() is the English message; `code` (a key of REFUSALS) and `values` let a UI word it."""

    TEMPLATES = REFUSALS


def _as_int(value: Any, name: str) -> int:
    """A whole number (3, 3.0, "3") as int; anything else is refused naming the field."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RequestError("whole_number", field=name, value=value) from None
    if not math.isfinite(number) or number != int(number):
        raise RequestError("whole_number", field=name, value=value)
    return int(number)


def _choice(value: Any, choices: tuple[str, ...], code: str) -> str:
    """value, stripped and lower-cased, if it is one of `choices`; else RequestError(code)."""
    value = value.strip().lower() if isinstance(value, str) else value
    if value not in choices:
        raise RequestError(code, choices=", ".join(choices), value=value)
    return value


def validate_request(digit: Any, seed: Any, steps: Any, sampler: Any, guidance: Any,
                     space: Any = "latent", spacing: Any = DEFAULT_SPACING) -> GenerationRequest:
    """Check every field; raises RequestError (a ValueError) with a message a student can act on."""
    digit = _as_int(digit, "digit")
    if not -1 <= digit <= 9:
        raise RequestError("digit_range", value=digit)
    seed = _as_int(seed, "seed")
    if not 0 <= seed <= MAX_SEED:
        raise RequestError("seed_range", high=MAX_SEED, value=seed)
    steps = _as_int(steps, "steps")
    if not 1 <= steps <= MAX_STEPS:
        raise RequestError("steps_range", high=MAX_STEPS, value=steps)
    sampler = _choice(sampler, SAMPLERS, "sampler_unknown")
    try:
        guidance = float(guidance)
    except (TypeError, ValueError):
        raise RequestError("guidance_number", value=guidance) from None
    low, high = GUIDANCE_RANGE
    if not (math.isfinite(guidance) and low <= guidance <= high):
        raise RequestError("guidance_range", low=low, high=high, value=guidance)
    return GenerationRequest(digit, seed, steps, sampler, guidance, _choice(space, SPACES, "space_unknown"),
                             _choice(spacing, SPACINGS, "spacing_unknown"))


def denoiser_for(service, space: str) -> str:
    """The denoiser checkpoint that diffuses in `space` ("latent" or "pixel")."""
    names = [n for n in service.names("denoiser") if service.config(n).get("space") == space]
    if not names:
        raise RequestError("no_denoiser", space=space, name=PREFERRED[space])
    return PREFERRED[space] if PREFERRED[space] in names else names[0]


def schedule_of(config: dict, spacing: str | None = None) -> NoiseSchedule:
    """The NoiseSchedule a denoiser checkpoint was trained with (config.json "schedule"); `spacing`, when
    given, sets which timesteps sampling visits."""
    extra = {"timestep_spacing": spacing} if spacing else {}
    return NoiseSchedule(**{**config.get("schedule", {}), **extra})


def guided_eps(model: torch.nn.Module, x: torch.Tensor, t: int, digit: int, guidance: float) -> torch.Tensor:
    """eps_hat for x (B, C, H, W) at timestep t. Conditional digits use classifier-free guidance,
    eps_u + g (eps_c - eps_u), with both passes in one batch; unconditional (-1) is one pass."""
    b = x.shape[0]
    times = torch.full((b,), t, dtype=torch.long, device=x.device)
    if digit < 0:
        return model(x, times, torch.full((b,), NULL_LABEL, dtype=torch.long, device=x.device))
    labels = torch.cat([torch.full((b,), digit, dtype=torch.long, device=x.device),
                        torch.full((b,), NULL_LABEL, dtype=torch.long, device=x.device)])
    eps_c, eps_u = model(torch.cat([x, x]), torch.cat([times, times]), labels).chunk(2)
    return eps_u + guidance * (eps_c - eps_u)


@dataclass
class Generation:
    """One run. Arrays are per step i (S = steps), batch B; images are float32 in [0, 1]."""

    request: GenerationRequest
    model: str
    vae: str | None
    timesteps: list[int]
    x_t: np.ndarray  # (S, B, C, h, w) the noisy sample the denoiser saw at step i (diffused space)
    pred_x0: np.ndarray  # (S, B, C, h, w) its predicted clean sample
    x0_images: np.ndarray  # (S, B, 1, 28, 28) pred_x0 decoded
    current_images: np.ndarray  # (S, B, 1, 28, 28) x_t decoded
    final: np.ndarray  # (B, 1, 28, 28) the generated digits
    step_seconds: list[float]  # denoiser + sampler update, per step
    decode_seconds: float
    total_seconds: float
    params: int
    sample_shape: list[int] = field(default_factory=list)

    @property
    def dims_per_step(self) -> int:
        return int(np.prod(self.sample_shape))

    def timings(self) -> dict:
        """JSON-ready timings and settings (seconds and milliseconds measured on this machine)."""
        steps_ms = [1000 * s for s in self.step_seconds]
        return {"settings": {**asdict(self.request), "model": self.model, "vae": self.vae,
                             "batch": int(self.final.shape[0])},
                "timesteps": self.timesteps, "total_s": self.total_seconds,
                "denoise_s": float(sum(self.step_seconds)), "decode_s": self.decode_seconds,
                "per_step_ms": steps_ms, "median_step_ms": float(np.median(steps_ms)),
                "mean_step_ms": float(np.mean(steps_ms)), "sample_shape": self.sample_shape,
                "dims_per_step": self.dims_per_step, "params": self.params,
                "unet_passes_per_step": 1 if self.request.digit < 0 else 2}


def _decode(service, vae: str | None, scale: float, samples: np.ndarray) -> np.ndarray:
    """(N, C, h, w) samples in the diffused space -> (N, 1, 28, 28) images in [0, 1], in batches."""
    if vae is None:
        return np.clip((samples + 1.0) / 2.0, 0.0, 1.0).astype(np.float32)
    chunks = [service.decode(vae, samples[i:i + DECODE_BATCH] / scale) for i in range(0, len(samples), DECODE_BATCH)]
    return np.concatenate(chunks).astype(np.float32)


def generate(service, request: GenerationRequest, model: str | None = None, batch: int = 1,
             decode_frames: bool = True, threads: int | None = None) -> Generation:
    """Sample `batch` digits for `request` step by step. With decode_frames=False only the final
    sample is decoded (what grading needs); x0_images/current_images are then empty. `threads`:
    intra-op threads while sampling and decoding (default SAMPLING_THREADS; 0 = torch's setting)."""
    return service.heavy(_generate_with_threads, request, model, batch, decode_frames, threads,
                         seconds=gpu_seconds(request, batch))


def generate_all(service, requests: list[GenerationRequest], decode_frames: bool = True) -> list[Generation]:
    """Several runs (e.g. the same request in latent and pixel space) as ONE piece of heavy work, so that a
    ZeroGPU Space borrows a GPU once for all of them."""
    return service.heavy(_generate_each, list(requests), decode_frames,
                         seconds=min(120, sum(gpu_seconds(r) for r in requests)))


def _generate_each(service, requests: list[GenerationRequest], decode_frames: bool) -> list[Generation]:
    return [generate(service, request, decode_frames=decode_frames) for request in requests]


def gpu_seconds(request: GenerationRequest, batch: int = 1) -> int:
    """ZeroGPU budget for one run: generous for the step count (~5 ms a step at batch 1 on a GPU)."""
    return int(min(120, 15 + request.steps * batch * 0.02))


def _generate_with_threads(service, request: GenerationRequest, model: str | None, batch: int,
                           decode_frames: bool, threads: int | None) -> Generation:
    with torch_threads(SAMPLING_THREADS if threads is None else threads):
        return _generate(service, request, model, batch, decode_frames)


def _generate(service, request: GenerationRequest, model: str | None, batch: int, decode_frames: bool) -> Generation:
    start = time.perf_counter()
    name = model or denoiser_for(service, request.space)
    config = service.config(name)
    vae = config.get("vae") if config.get("space") == "latent" else None
    scale = float(config.get("scale_factor") or 1.0)
    shape = (batch, *config["sample_shape"])
    schedule = schedule_of(config, request.spacing)

    def work(loaded):
        generator = torch.Generator(device=service.device).manual_seed(request.seed)
        denoise = lambda x, t: guided_eps(loaded.model, x, t, request.digit, request.guidance)  # noqa: E731
        xs, x0s, seconds, timesteps, last = [], [], [], [], None
        steps = sample_progressive(schedule, denoise, shape, request.steps, request.sampler, generator, service.device)
        tick = time.perf_counter()
        for result in steps:
            seconds.append(time.perf_counter() - tick)
            timesteps.append(result.timestep)
            xs.append(result.x_t.float().cpu().numpy())
            x0s.append(result.pred_x0.float().cpu().numpy())
            last = result.sample
            tick = time.perf_counter()
        return np.stack(xs), np.stack(x0s), seconds, timesteps, last.float().cpu().numpy(), loaded.params

    x_t, pred_x0, seconds, timesteps, final_sample, params = service.run(name, work)
    decode_start = time.perf_counter()
    if decode_frames:
        s, b = x_t.shape[:2]
        flat = np.concatenate([x_t.reshape(s * b, *shape[1:]), pred_x0.reshape(s * b, *shape[1:]), final_sample])
        images = _decode(service, vae, scale, flat)
        current, x0_images, final = images[:s * b], images[s * b:2 * s * b], images[2 * s * b:]
        current, x0_images = current.reshape(s, b, *images.shape[1:]), x0_images.reshape(s, b, *images.shape[1:])
    else:
        final = _decode(service, vae, scale, final_sample)
        current = x0_images = np.zeros((0, batch, 1, 28, 28), np.float32)
    decode_seconds = time.perf_counter() - decode_start
    return Generation(request, name, vae, timesteps, x_t, pred_x0, x0_images, current, final, seconds,
                      decode_seconds, time.perf_counter() - start, params, list(shape[1:]))
