"""ModelService: the one stateful object of the app, a thin facade over three parts:

- `explorer.catalogue.Catalogue`: what checkpoints exist (config.json, metrics.json, geometry, /models entries);
- `explorer.loader.Loader`: models in memory (device, load-once, per-model locks, accelerator copies, fork);
- `explorer.external_vae.ExternalVAEs`: diffusers VAEs added at start-up (`--vae`), served like shipped ones.

Inference runs under the model's lock and `torch.inference_mode()`, so any number of users and tabs share it.
Heavy work (photos, sampling) goes through `heavy`, which on a ZeroGPU Space runs it in a GPU worker with the
service switched to its accelerator (see explorer.gpu). The UI and the public API call the service; no other
module holds a model.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np
import torch

from . import gpu
from .catalogue import Catalogue
from .checkpoint import CheckpointError, load_checkpoint
from .external_vae import ExternalVAEs
from .loader import DEVICE_ENV, LoadedModel, Loader, choose_device
from .messages import Refusal, define

CHECKPOINT_ENV = "EXPLORER_CHECKPOINTS"
DEFAULT_CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
T = TypeVar("T")

define({"model.unknown_text": "{text}"})

__all__ = ["ModelService", "LoadedModel", "choose_device", "DEVICE_ENV", "CHECKPOINT_ENV", "UnknownModelError"]


def UnknownModelError(text: str) -> Refusal:  # noqa: N802 - the name callers used when this was a class
    """Compatibility for callers that still raise `UnknownModelError("...")` with a ready-made English text:
    the same refusal family as the catalogue's "model.unknown" (catch `Refusal` / `ValueError`)."""
    return Refusal("model.unknown_text", text=text)


class ModelService:
    """Loads checkpoints from `checkpoint_dir` on demand (each once) and runs them on `device`."""

    def __init__(self, checkpoint_dir: str | os.PathLike | None = None, device: str | None = None,
                 accelerator: str | None = None):
        """`device`: where models live and cheap calls run (see choose_device). `accelerator`: where `heavy`
        work runs, if elsewhere; on a ZeroGPU Space the defaults are the CPU and "cuda"."""
        self.checkpoint_dir = Path(checkpoint_dir or os.environ.get(CHECKPOINT_ENV) or DEFAULT_CHECKPOINTS)
        zero_gpu = gpu.zero_gpu_active()
        base_device = torch.device("cpu") if zero_gpu and device in (None, "auto") else choose_device(device)
        self.catalogue = Catalogue(self.checkpoint_dir)
        self.externals = ExternalVAEs(self.catalogue)
        self.loader = Loader(self._open, base_device,
                             torch.device(accelerator or "cuda") if (accelerator or zero_gpu) else None)
        self.gpu_key = gpu.register(self)

    def _open(self, name: str, device: torch.device) -> tuple[torch.nn.Module, dict, dict]:
        if name in self.externals:
            return self.externals.open(name, device)
        return load_checkpoint(self.catalogue.folder(name), device)

    # ---- devices (the loader's) ----------------------------------------------------------------------------
    @property
    def base_device(self) -> torch.device:
        return self.loader.base_device

    @property
    def accelerator(self) -> torch.device | None:
        return self.loader.accelerator

    @property
    def device(self) -> torch.device:
        """The device of the current call: the accelerator inside `on_accelerator`, else `base_device`."""
        return self.loader.device

    @property
    def accelerated(self) -> bool:
        """True inside `on_accelerator` on a service that has an accelerator."""
        return self.loader.accelerated

    def on_accelerator(self):
        """Within this block (this thread/context only) calls use the accelerator, if there is one."""
        return self.loader.on_accelerator()

    @property
    def load_count(self) -> dict[str, int]:
        return self.loader.load_count

    def heavy(self, task: Callable[..., T], *args: Any, seconds: int = gpu.DEFAULT_SECONDS, **kwargs: Any) -> T:
        """task(self, *args, **kwargs) as heavy work: in a ZeroGPU worker on a ZeroGPU Space, else here.
        `task` must be a module-level function with picklable arguments and result (see explorer.gpu)."""
        return gpu.run_heavy(self, task, *args, seconds=seconds, **kwargs)

    # ---- catalogue -----------------------------------------------------------------------------------------
    def names(self, kind: str | None = None, dataset: str | None = None) -> list[str]:
        """Checkpoint names, optionally filtered by kind ("vae", "denoiser", "classifier") and dataset."""
        return self.catalogue.names(kind, dataset)

    def config(self, name: str) -> dict:
        """config.json of `name`; Refusal "model.unknown" (a ValueError) for a name the service lacks."""
        return self.catalogue.config(name)

    def metrics(self, name: str) -> dict:
        """metrics.json of a checkpoint (as loaded, if it is in memory; else read without loading weights)."""
        loaded = self.loader.loaded(self.catalogue.check(name))
        return loaded.metrics if loaded is not None else self.catalogue.metrics(name)

    def describe(self, name: str) -> dict:
        """The /models entry of one checkpoint: name, kind, dataset, latent_shape, params, metrics."""
        return self.catalogue.describe(name, {"device": str(self.base_device), "accelerator":
                                              str(self.accelerator) if self.accelerator is not None else None})

    def vae_shapes(self, name: str) -> dict:
        """input_shape and latent_shape of a VAE at its natural size (digits 28x28, photos 512x512); see
        Catalogue.vae_shapes."""
        return self.catalogue.vae_shapes(name)

    def models(self) -> list[dict]:
        """Every checkpoint this service serves, described for /models."""
        return [self.describe(name) for name in self.catalogue.names()]

    # ---- loading -------------------------------------------------------------------------------------------
    def get(self, name: str) -> LoadedModel:
        """The loaded model `name` on the current device, loading it on first use (exactly once per process).
        Refusal "model.unknown" for a name the service lacks; CheckpointError for a broken checkpoint."""
        return self.loader.get(self.catalogue.check(name))

    def warm_up(self, names: list[str] | None = None) -> None:
        """Load every (or the given) checkpoint now, and measure unmeasured external VAEs; for a background
        thread at start-up. A broken checkpoint is skipped here and reported when a user asks for it."""
        for name in names or self.catalogue.names():
            try:
                self.get(name)
                if self.externals.needs_measuring(name):
                    self.measure_external(name)
            except CheckpointError:
                pass

    def start_warm_up(self) -> threading.Thread:
        thread = threading.Thread(target=self.warm_up, name="model-warm-up", daemon=True)
        thread.start()
        return thread

    def add_external_vae(self, source: str) -> str:
        """Load a diffusers AutoencoderKL or AutoencoderTiny (local folder or hub id) now and serve it like a shipped VAE.
        Its reconstruction quality is measured in the background (see `measure_external`). Returns its name;
        raises a Refusal ("external.*") with a clear message if `source` is not a loadable VAE."""
        return self.externals.add(source, self.base_device)

    def measure_external(self, name: str) -> dict:
        """Measure an external VAE on the held-out astronaut photo; stores and returns the metrics."""
        from .external_vae import measure_on_held_out_photo

        measured = self.run(name, lambda loaded: measure_on_held_out_photo(loaded.model, self.device))
        return self.externals.record(name, measured)

    # ---- inference -----------------------------------------------------------------------------------------
    def run(self, name: str, fn: Callable[[LoadedModel], T]) -> T:
        """Call fn(loaded) while holding the model's lock, under torch.inference_mode()."""
        loaded = self.get(name)
        with loaded.lock, torch.inference_mode():
            return fn(loaded)

    def encode(self, name: str, images: np.ndarray, sample: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
        """images (B, C, H, W) float in [0, 1] at the model's working size ->
        {"mean", "std", "z"} latents as numpy; z is the mean, or mean + std * eps when `sample`.
        Refusal "model.wrong_kind" when `name` is not a VAE."""
        self.get(name)  # a broken checkpoint is reported as such (CheckpointError) before its kind is asked
        self.catalogue.check_kind(name, "vae")

        def work(loaded: LoadedModel):
            x = torch.as_tensor(np.ascontiguousarray(images), dtype=torch.float32, device=self.device)
            posterior = loaded.model.encode(x)
            generator = torch.Generator(device=self.device).manual_seed(int(seed)) if sample else None
            z = posterior.sample(generator) if sample else posterior.mode()
            return {"mean": posterior.mean.float().cpu().numpy(), "std": posterior.std.float().cpu().numpy(),
                    "z": z.float().cpu().numpy()}

        return self.run(name, work)

    def decode(self, name: str, latents: np.ndarray) -> np.ndarray:
        """latents (B, ...) -> images (B, C, H, W) float32 clamped to [0, 1]. Refusal "model.wrong_kind" when
        `name` is not a VAE."""
        self.get(name)
        self.catalogue.check_kind(name, "vae")

        def work(loaded: LoadedModel):
            z = torch.as_tensor(np.ascontiguousarray(latents), dtype=torch.float32, device=self.device)
            return loaded.model.decode(z).clamp(0, 1).float().cpu().numpy()

        return self.run(name, work)
