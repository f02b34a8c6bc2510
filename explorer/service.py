"""ModelService: the one stateful object of the app. It owns the device choice, loads each checkpoint
once per process (lazily, or all at once in a background warm-up), and runs inference under a per-model
lock and `torch.inference_mode()`, so any number of users and tabs can share it.

Heavy work (photos, sampling) goes through `heavy`, which on a ZeroGPU Space runs it in a GPU worker with
the service switched to its accelerator (see explorer.gpu); the models' locks are renewed in a forked child.

The UI and the public API call the service; no other module holds a model.
"""
from __future__ import annotations

import contextlib
import contextvars
import copy
import os
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, TypeVar

import numpy as np
import torch

from . import gpu
from .checkpoint import CheckpointError, list_checkpoints, load_checkpoint, read_json, CONFIG_FILE, METRICS_FILE

DEVICE_ENV = "EXPLORER_DEVICE"
CHECKPOINT_ENV = "EXPLORER_CHECKPOINTS"
DEFAULT_CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
T = TypeVar("T")
_accelerated_service: contextvars.ContextVar[int | None] = contextvars.ContextVar("accelerated_service", default=None)
_all_services: "weakref.WeakSet[ModelService]" = weakref.WeakSet()


class UnknownModelError(ValueError):
    """Raised for a model name the service does not know; the message lists the known ones."""


def choose_device(requested: str | None = None) -> torch.device:
    """"auto" (default): CUDA, then Apple MPS, then CPU. Or "cpu", "cuda", "cuda:1", "mps".
    `requested` falls back to the EXPLORER_DEVICE environment variable."""
    requested = (requested or os.environ.get(DEVICE_ENV) or "auto").strip().lower()
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(requested)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {requested!r}; use auto, cpu, cuda or mps") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {requested!r} was asked for, but CUDA is not available here")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError(f"device {requested!r} was asked for, but Apple MPS is not available here")
    if device.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"unsupported device {requested!r}; use auto, cpu, cuda or mps")
    return device


@dataclass
class LoadedModel:
    """A model in memory with its config.json and metrics.json, and the lock that guards its use."""

    name: str
    model: torch.nn.Module
    config: dict
    metrics: dict
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def kind(self) -> str:
        return self.config.get("kind", "vae")

    @property
    def dataset(self) -> str:
        return self.config.get("dataset", "mnist")

    @property
    def factor(self) -> int:
        return int(getattr(self.model, "downsampling_factor", 1))

    @property
    def pad_to(self) -> int | None:
        return self.config.get("pad_to")

    @property
    def params(self) -> int:
        return sum(p.numel() for p in self.model.parameters())


class ModelService:
    """Loads checkpoints from `checkpoint_dir` on demand (each once) and runs them on `device`."""

    def __init__(self, checkpoint_dir: str | os.PathLike | None = None, device: str | None = None,
                 accelerator: str | None = None):
        """`device`: where models live and cheap calls run (see choose_device). `accelerator`: where `heavy`
        work runs, if elsewhere; on a ZeroGPU Space the defaults are the CPU and "cuda"."""
        self.checkpoint_dir = Path(checkpoint_dir or os.environ.get(CHECKPOINT_ENV) or DEFAULT_CHECKPOINTS)
        zero_gpu = gpu.zero_gpu_active()
        self.base_device = torch.device("cpu") if zero_gpu and device in (None, "auto") else choose_device(device)
        self.accelerator = torch.device(accelerator or "cuda") if (accelerator or zero_gpu) else None
        self._configs: dict[str, dict] = {}
        for folder in list_checkpoints(self.checkpoint_dir):
            try:
                config = read_json(folder / CONFIG_FILE)
            except CheckpointError:
                config = {"name": folder.name, "broken": True}
            self._configs[config.get("name", folder.name)] = {**config, "_folder": str(folder)}
        self._loaded: dict[str, LoadedModel] = {}
        self._on_accelerator: dict[str, LoadedModel] = {}
        self._load_lock = threading.Lock()
        self.load_count: dict[str, int] = {}
        self.gpu_key = gpu.register(self)
        _all_services.add(self)

    # ---- devices ---------------------------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        """The device of the current call: the accelerator inside `on_accelerator`, else `base_device`."""
        return self.accelerator if self.accelerated else self.base_device

    @property
    def accelerated(self) -> bool:
        """True inside `on_accelerator` on a service that has an accelerator."""
        return self.accelerator is not None and _accelerated_service.get() == self.gpu_key

    @contextlib.contextmanager
    def on_accelerator(self):
        """Within this block (this thread/context only) calls use the accelerator, if there is one."""
        token = _accelerated_service.set(self.gpu_key)
        try:
            yield
        finally:
            _accelerated_service.reset(token)

    def heavy(self, task: Callable[..., T], *args: Any, seconds: int = gpu.DEFAULT_SECONDS, **kwargs: Any) -> T:
        """task(self, *args, **kwargs) as heavy work: in a ZeroGPU worker on a ZeroGPU Space, else here.
        `task` must be a module-level function with picklable arguments and result (see explorer.gpu)."""
        return gpu.run_heavy(self, task, *args, seconds=seconds, **kwargs)

    def _renew_locks(self) -> None:
        """After fork: locks that another thread held in the parent would stay held forever in the child."""
        self._load_lock = threading.Lock()
        for loaded in [*self._loaded.values(), *self._on_accelerator.values()]:
            loaded.lock = threading.Lock()

    # ---- catalogue -------------------------------------------------------------------------------
    def names(self, kind: str | None = None, dataset: str | None = None) -> list[str]:
        """Checkpoint names, optionally filtered by kind ("vae", "denoiser", "classifier") and dataset."""
        return [n for n, c in self._configs.items()
                if (kind is None or c.get("kind") == kind) and (dataset is None or c.get("dataset") == dataset)]

    def config(self, name: str) -> dict:
        self._check_name(name)
        return self._configs[name]

    def metrics(self, name: str) -> dict:
        """metrics.json of a checkpoint, read without loading its weights."""
        self._check_name(name)
        if name in self._loaded:
            return self._loaded[name].metrics
        if "_model" in self._configs[name]:
            return self._configs[name].get("_metrics", {})
        path = Path(self._configs[name]["_folder"]) / METRICS_FILE
        return read_json(path) if path.exists() else {}

    def _check_name(self, name: Any) -> None:
        if not isinstance(name, str) or name not in self._configs:
            known = ", ".join(self._configs) or f"none (is {self.checkpoint_dir} empty?)"
            raise UnknownModelError(f"unknown model {name!r}; known models: {known}")

    # ---- loading ---------------------------------------------------------------------------------
    def get(self, name: str) -> LoadedModel:
        """The loaded model `name` on the current device, loading it on first use (exactly once per
        process; the accelerator gets its own copy, made once, the first time heavy work needs it)."""
        loaded = self._loaded.get(name)
        if loaded is None:
            loaded = self._load(name)
        if not self.accelerated:
            return loaded
        copy_on_accelerator = self._on_accelerator.get(name)
        if copy_on_accelerator is None:
            with self._load_lock:
                if name not in self._on_accelerator:
                    model = copy.deepcopy(loaded.model).to(self.accelerator).eval()
                    self._on_accelerator[name] = LoadedModel(name, model, loaded.config, loaded.metrics)
                copy_on_accelerator = self._on_accelerator[name]
        return copy_on_accelerator

    def _load(self, name: str) -> LoadedModel:
        self._check_name(name)
        with self._load_lock:
            if name not in self._loaded:
                entry = self._configs[name]
                if "_model" in entry:  # registered in memory (an external VAE)
                    model, config, metrics = entry["_model"], entry, entry.get("_metrics", {})
                else:
                    model, config, metrics = load_checkpoint(entry["_folder"], self.base_device)
                self._loaded[name] = LoadedModel(name, model, config, metrics)
                self.load_count[name] = self.load_count.get(name, 0) + 1
            return self._loaded[name]

    def warm_up(self, names: list[str] | None = None) -> None:
        """Load every (or the given) checkpoint now; for a background thread at start-up."""
        for name in names or list(self._configs):
            try:
                self.get(name)
                if self._configs[name].get("external") and not self._configs[name]["_metrics"].get("measured"):
                    self.measure_external(name)
            except CheckpointError:
                pass  # reported when a user asks for it

    def start_warm_up(self) -> threading.Thread:
        thread = threading.Thread(target=self.warm_up, name="model-warm-up", daemon=True)
        thread.start()
        return thread

    def add_external_vae(self, source: str) -> str:
        """Load a diffusers AutoencoderKL (local folder or hub id) now and serve it like a shipped VAE.
        Its reconstruction quality is measured in the background (see `measure_external`). Returns its name;
        raises ExternalVAEError with a clear message if `source` is not a loadable VAE."""
        from .external_vae import external_name, load_autoencoder_kl

        model = load_autoencoder_kl(source, self.base_device)
        name = external_name(source)
        while name in self._configs:
            name += "'"
        params = sum(p.numel() for p in model.parameters())
        self._configs[name] = {
            "name": name, "family": "diffusers_autoencoderkl", "kind": "vae", "dataset": "photos",
            "description": f"diffusers {model.class_name} from {source} (f={model.downsampling_factor}, "
                           f"{model.config.latent_channels} channels); quality being measured",
            "source": source, "external": True,
            "config": {"image_channels": model.config.image_channels, "latent_channels": model.config.latent_channels,
                       "factor": model.downsampling_factor, "scale_factor": model.config.scale_factor,
                       "shift_factor": model.config.shift_factor},
            "_model": model, "_metrics": {"params": params, "measured": False}}
        return name

    def measure_external(self, name: str) -> dict:
        """Measure an external VAE on the held-out astronaut photo; stores and returns the metrics."""
        from .external_vae import measure_on_held_out_photo

        metrics = self.run(name, lambda loaded: measure_on_held_out_photo(loaded.model, self.device))
        entry = self._configs[name]
        entry["_metrics"].update(metrics, measured=True)
        state = "UNTRAINED (random or broken weights)" if metrics["untrained"] else "trained"
        entry["description"] = (entry["description"].split(";")[0] +
                                f"; {state}: {metrics['psnr']:.2f} dB PSNR on {metrics['split']}")
        return entry["_metrics"]

    # ---- inference -------------------------------------------------------------------------------
    def run(self, name: str, fn: Callable[[LoadedModel], T]) -> T:
        """Call fn(loaded) while holding the model's lock, under torch.inference_mode()."""
        loaded = self.get(name)
        with loaded.lock, torch.inference_mode():
            return fn(loaded)

    def _vae(self, name: str) -> LoadedModel:
        loaded = self.get(name)
        if loaded.kind != "vae":
            raise UnknownModelError(f"{name!r} is a {loaded.kind}, not a VAE; VAEs: {', '.join(self.names('vae'))}")
        return loaded

    def encode(self, name: str, images: np.ndarray, sample: bool = False, seed: int = 0) -> dict[str, np.ndarray]:
        """images (B, C, H, W) float in [0, 1] at the model's working size ->
        {"mean", "std", "z"} latents as numpy; z is the mean, or mean + std * eps when `sample`."""
        self._vae(name)

        def work(loaded: LoadedModel):
            x = torch.as_tensor(np.ascontiguousarray(images), dtype=torch.float32, device=self.device)
            posterior = loaded.model.encode(x)
            generator = torch.Generator(device=self.device).manual_seed(int(seed)) if sample else None
            z = posterior.sample(generator) if sample else posterior.mode()
            return {"mean": posterior.mean.float().cpu().numpy(), "std": posterior.std.float().cpu().numpy(),
                    "z": z.float().cpu().numpy()}

        return self.run(name, work)

    def decode(self, name: str, latents: np.ndarray) -> np.ndarray:
        """latents (B, ...) -> images (B, C, H, W) float32 clamped to [0, 1]."""
        self._vae(name)

        def work(loaded: LoadedModel):
            z = torch.as_tensor(np.ascontiguousarray(latents), dtype=torch.float32, device=self.device)
            return loaded.model.decode(z).clamp(0, 1).float().cpu().numpy()

        return self.run(name, work)

    # ---- catalogue for the API -------------------------------------------------------------------
    def describe(self, name: str) -> dict:
        """The /models entry of one checkpoint: name, kind, dataset, latent_shape, params, metrics."""
        config = self.config(name)
        metrics = self.metrics(name)
        entry = {"name": name, "kind": config.get("kind"), "dataset": config.get("dataset"),
                 "family": config.get("family"), "description": config.get("description", ""),
                 "params": metrics.get("params"), "device": str(self.base_device),
                 "accelerator": str(self.accelerator) if self.accelerator is not None else None}
        if config.get("kind") == "vae":
            entry.update(self.vae_shapes(name))
        entry["metrics"] = {k: v for k, v in metrics.items() if k not in ("history", "per_photo")}
        if config.get("external"):
            entry.update(external=True, source=config.get("source"), untrained=metrics.get("untrained"))
        return entry

    def vae_shapes(self, name: str) -> dict:
        """input_shape and latent_shape of a VAE at its natural size (digits 28x28, photos 512x512)."""
        config = self.config(name)
        cfg = config["config"]
        if "factor" in cfg:  # external VAEs state their factor
            side = 512
            return {"input_shape": [cfg["image_channels"], side, side], "factor": cfg["factor"],
                    "latent_shape": [cfg["latent_channels"], side // cfg["factor"], side // cfg["factor"]]}
        if config["family"] == "mlp_vae":
            return {"input_shape": [1, 28, 28], "latent_shape": [cfg["latent_dim"]]}
        factor = 2 ** (len(cfg["channel_mults"]) - 1) if "channel_mults" in cfg else 8
        side = 512 if config.get("dataset") == "photos" else (config.get("pad_to") or 28)
        return {"input_shape": [cfg.get("image_channels", 1), side, side], "pad_to": config.get("pad_to"),
                "latent_shape": [cfg["latent_channels"], side // factor, side // factor], "factor": factor}

    def models(self) -> list[dict]:
        """Every checkpoint this service serves, described for /models."""
        return [self.describe(name) for name in self._configs]


def _renew_locks_in_child() -> None:
    for service in list(_all_services):
        service._renew_locks()


os.register_at_fork(after_in_child=_renew_locks_in_child)
