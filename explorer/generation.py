"""Class-conditional generation with classifier-free guidance, step by step, for the Denoising tab.

Pure glue over the ModelService: validates a request (refusals are explorer.messages.Refusal with `gen.*`
codes; whole numbers follow explorer.validation's one rule), runs the denoiser under its lock
(`service.run`), keeps every step's noisy sample x_t and predicted clean sample x0_hat, decodes all of
them in batches (through the VAE for latent diffusion; pixels need no decoder) and times each step.
Sampling can be stopped between steps (`should_stop`, e.g. when the page that asked went away): it then
raises concurrent.futures.CancelledError and releases the model. `RunCache` keeps recent runs, so the
same request asked by a whole class is computed once.

Spaces: "latent" diffuses (4, 7, 7) latents of the denoiser's VAE, multiplied by the VAE's
scale_factor (Stable Diffusion's convention), so decoding divides by it; "pixel" diffuses (1, 28, 28)
digits in [-1, 1].
"""
from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import CancelledError
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np
import torch

from .diffusion import DEFAULT_SPACING, MAX_STEPS, SAMPLERS, SPACINGS, NoiseSchedule, sample_progressive
from .messages import Message, Refusal, define
from .validation import real_number, seed as parse_seed, whole_number

SPACES = ("latent", "pixel")
NULL_LABEL = 10  # the UNet's "no digit" class, used for unconditional samples and classifier-free guidance
GUIDANCE_RANGE = (0.0, 20.0)
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


define({
    "gen.field.digit": "digit",
    "gen.field.steps": "steps",
    "gen.field.guidance": "guidance",
    "gen.sampler_unknown": "sampler must be one of {choices}; got {value!r}",
    "gen.space_unknown": "space must be one of {choices}; got {value!r}",
    "gen.spacing_unknown": "spacing must be one of {choices}; got {value!r}",
    "gen.space.latent": "latent",
    "gen.space.pixel": "pixel",
    "gen.no_denoiser": "no {space}-space denoiser checkpoint is installed; train one with "
                       "`python -m explorer.train_diffusion {name}`",
})


def _choice(value: Any, choices: tuple[str, ...], code: str) -> str:
    """value, stripped and lower-cased, if it is one of `choices`; else Refusal(code)."""
    value = value.strip().lower() if isinstance(value, str) else value
    if value not in choices:
        raise Refusal(code, choices=", ".join(choices), value=value)
    return value


def validate_request(digit: Any, seed: Any, steps: Any, sampler: Any, guidance: Any,
                     space: Any = "latent", spacing: Any = DEFAULT_SPACING) -> GenerationRequest:
    """Check every field; raises explorer.messages.Refusal (a ValueError) naming the field and its range.
    digit: whole number -1..9; seed: 0..MAX_SEED; steps: 1..MAX_STEPS (explorer.validation's rule: "1.5",
    "1e2", True and empty are refused); guidance: a real number in GUIDANCE_RANGE."""
    digit = whole_number(digit, Message("gen.field.digit"), -1, 9)
    seed = parse_seed(seed)
    steps = whole_number(steps, Message("gen.field.steps"), 1, MAX_STEPS)
    sampler = _choice(sampler, SAMPLERS, "gen.sampler_unknown")
    guidance = real_number(guidance, Message("gen.field.guidance"), *GUIDANCE_RANGE)
    return GenerationRequest(digit, seed, steps, sampler, guidance, _choice(space, SPACES, "gen.space_unknown"),
                             _choice(spacing, SPACINGS, "gen.spacing_unknown"))


def denoiser_for(service, space: str) -> str:
    """The denoiser checkpoint that diffuses in `space` ("latent" or "pixel")."""
    names = [n for n in service.names("denoiser") if service.config(n).get("space") == space]
    if not names:
        raise Refusal("gen.no_denoiser", space=Message(f"gen.space.{space}"), name=PREFERRED[space])
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


StopCheck = Callable[[], bool]  # returns True when the caller no longer wants the result


def generate(service, request: GenerationRequest, model: str | None = None, batch: int = 1,
             decode_frames: bool = True, threads: int | None = None,
             should_stop: StopCheck | None = None) -> Generation:
    """Sample `batch` digits for `request` step by step. With decode_frames=False only the final
    sample is decoded (what grading needs); x0_images/current_images are then empty. `threads`:
    intra-op threads while sampling and decoding (default SAMPLING_THREADS; 0 = torch's setting).
    `should_stop` is called before every step and before decoding; when it returns True the run stops there
    and raises concurrent.futures.CancelledError (the model's lock is released)."""
    return service.heavy(_generate_with_threads, request, model, batch, decode_frames, threads, should_stop,
                         seconds=gpu_seconds(request, batch))


def generate_all(service, requests: list[GenerationRequest], decode_frames: bool = True,
                 should_stop: StopCheck | None = None) -> list[Generation]:
    """Several runs (e.g. the same request in latent and pixel space) as ONE piece of heavy work, so that a
    ZeroGPU Space borrows a GPU once for all of them. `should_stop`: as for generate."""
    return service.heavy(_generate_each, list(requests), decode_frames, should_stop,
                         seconds=min(120, sum(gpu_seconds(r) for r in requests)))


def _generate_each(service, requests: list[GenerationRequest], decode_frames: bool,
                   should_stop: StopCheck | None = None) -> list[Generation]:
    return [generate(service, request, decode_frames=decode_frames, should_stop=should_stop) for request in requests]


class RunCache:
    """A bounded, thread-safe LRU of finished results by key, computed once per key: callers asking for a key
    that another thread is computing wait for that result instead of computing it again (a class pressing
    Generate with the same settings costs one run). A computation that raises is not cached; its waiters then
    compute it themselves (a cancelled run must not cancel other pages' requests), unless the error is one of
    `share_errors` (e.g. a refusal, which the same key would raise again): then every waiter gets it."""

    def __init__(self, max_items: int = 32):
        self.max_items = max_items
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._running: dict[Any, threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get_or_compute(self, key: Any, compute: Callable[[], Any],
                       share_errors: tuple[type[BaseException], ...] = ()) -> Any:
        while True:
            with self._lock:
                if key in self._items:
                    self._items.move_to_end(key)
                    self.hits += 1
                    return self._items[key]
                running = self._running.get(key)
                if running is None:
                    running = self._running[key] = threading.Event()
                    running.error = None
                    self.misses += 1
                    break
            running.wait()  # another caller computes this key; then look again
            if running.error is not None:
                raise running.error
        try:
            value = compute()
            with self._lock:
                self._items[key] = value
                self._items.move_to_end(key)
                while len(self._items) > self.max_items:
                    self._items.popitem(last=False)
            return value
        except share_errors as exc:
            running.error = exc
            raise
        finally:
            with self._lock:
                self._running.pop(key, None)
            running.set()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Any) -> bool:
        with self._lock:
            return key in self._items


def gpu_seconds(request: GenerationRequest, batch: int = 1) -> int:
    """ZeroGPU budget for one run: generous for the step count (~5 ms a step at batch 1 on a GPU)."""
    return int(min(120, 15 + request.steps * batch * 0.02))


def _generate_with_threads(service, request: GenerationRequest, model: str | None, batch: int,
                           decode_frames: bool, threads: int | None, should_stop: StopCheck | None = None) -> Generation:
    with torch_threads(SAMPLING_THREADS if threads is None else threads):
        return _generate(service, request, model, batch, decode_frames, should_stop)


def _check(should_stop: StopCheck | None, where: str) -> None:
    if should_stop is not None and should_stop():
        raise CancelledError(f"generation stopped {where}: the caller went away")


def _generate(service, request: GenerationRequest, model: str | None, batch: int, decode_frames: bool,
              should_stop: StopCheck | None = None) -> Generation:
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
        _check(should_stop, "before step 1")
        for result in steps:
            seconds.append(time.perf_counter() - tick)
            timesteps.append(result.timestep)
            xs.append(result.x_t.float().cpu().numpy())
            x0s.append(result.pred_x0.float().cpu().numpy())
            last = result.sample
            _check(should_stop, f"after step {len(seconds)} of {request.steps}")
            tick = time.perf_counter()
        return np.stack(xs), np.stack(x0s), seconds, timesteps, last.float().cpu().numpy(), loaded.params

    x_t, pred_x0, seconds, timesteps, final_sample, params = service.run(name, work)
    _check(should_stop, "before decoding")
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
