"""External VAEs: a real Stable Diffusion VAE, when the user has one. This module owns loading a diffusers
`AutoencoderKL` or `AutoencoderTiny` (the TAESD
family: SD 1.x, SDXL, SD3, FLUX.1) from a local folder (config.json + safetensors, or a pipeline folder with a vae/ subfolder) or,
online, a hub id; the adapter that gives it the explorer's VAE interface (images in [0, 1], `encode` ->
posterior with mode()/sample(), `decode`); its geometry (factor, latent_shape) for the catalogue; and the
registry (`ExternalVAEs`) that lists such models in the catalogue and hands them to the loader. AutoencoderTiny is
deterministic: its posterior has std 0.

A source that is not a loadable VAE is refused with `explorer.messages.Refusal` (codes "external.*"), worded
for the operator who passed `--vae`. diffusers is imported only when a user asks for an extra VAE (seconds).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from .checkpoint import CheckpointError, read_json
from .messages import Message, Refusal, define

SUPPORTED_CLASSES = ("AutoencoderKL", "AutoencoderTiny")  # diffusers class names accepted by --vae
UNTRAINED_PSNR_DB = 15.0  # a trained image VAE reconstructs photos far above this; random weights land near 5-10 dB
NATURAL_SIDE = 512  # an external VAE is described (and measured) at 512x512, Stable Diffusion's size
FAMILY = "diffusers_autoencoderkl"

define({
    "external.is_file": "{source} is a file; give the folder that holds config.json and the safetensors weights",
    "external.no_config": "{path} has no config.json: not a diffusers VAE folder",
    "external.unreadable_config": "{reason}",
    "external.not_autoencoder": "{path} describes {class_name}, not an AutoencoderKL or AutoencoderTiny VAE",
    "external.no_class": "no diffusers model",
    "external.no_safetensors": "{path} has no .safetensors weights (this project never loads pickled weights)",
    "external.bad_source": "{source} is neither an existing folder nor a hub id like 'owner/name'",
    "external.no_diffusers": "loading an extra VAE needs the diffusers package: pip install diffusers",
    "external.load_failed": "could not load {source} as a {where}: {error}",
    "external.where_folder": "local folder",
    "external.where_hub": "hub id (needs a network connection and the model's safetensors)",
    "external.description": "diffusers {class_name} from {source} (f={factor}, {channels} channels)",
})


class DiffusersVAE(torch.nn.Module):
    """Adapter: a diffusers AutoencoderKL or AutoencoderTiny seen through the explorer's VAE interface
    (both take and return images in [-1, 1]; this adapter takes and returns [0, 1])."""

    recon_loss = "mse"

    def __init__(self, vae):
        super().__init__()
        self.vae = vae
        self.class_name = type(vae).__name__
        cfg = vae.config
        levels = cfg.encoder_block_out_channels if self.class_name == "AutoencoderTiny" else cfg.block_out_channels
        self.downsampling_factor = 2 ** (len(levels) - 1)
        self.config = SimpleNamespace(image_channels=cfg.in_channels, latent_channels=cfg.latent_channels,
                                      scale_factor=float(cfg.scaling_factor),
                                      shift_factor=float(getattr(cfg, "shift_factor", None) or 0.0))

    def encode(self, x: torch.Tensor):
        """x (B, 3, H, W) in [0, 1] -> diffusers' DiagonalGaussianDistribution (mode(), sample(generator)), or
        for AutoencoderTiny a point-mass posterior (std 0, sample() = mode())."""
        if self.class_name == "AutoencoderTiny":
            from .models.tiny_autoencoder import DeterministicPosterior

            return DeterministicPosterior(self.vae.encode(x * 2.0 - 1.0).latents)
        return self.vae.encode(x * 2.0 - 1.0).latent_dist

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return (self.vae.decode(z).sample + 1.0) / 2.0


def _local_folder(source: str) -> Path | None:
    path = Path(source).expanduser()
    if not path.exists():
        return None
    if not path.is_dir():
        raise Refusal("external.is_file", source=source)
    if not (path / "config.json").exists() and (path / "vae" / "config.json").exists():
        path = path / "vae"  # a whole diffusers pipeline folder
    config_path = path / "config.json"
    if not config_path.exists():
        raise Refusal("external.no_config", path=str(path))
    try:
        config = read_json(config_path)
    except CheckpointError as exc:
        raise Refusal("external.unreadable_config", reason=str(exc)) from exc
    class_name = config.get("_class_name")
    if class_name not in SUPPORTED_CLASSES:
        raise Refusal("external.not_autoencoder", path=str(config_path),
                      class_name=class_name or Message("external.no_class"))
    if not list(path.glob("*.safetensors")):
        raise Refusal("external.no_safetensors", path=str(path))
    return path


def load_autoencoder_kl(source: str, device: str | torch.device = "cpu") -> DiffusersVAE:
    """Load `source` (a local folder, or a hub id such as "stabilityai/sd-vae-ft-mse" or "madebyollin/taesd"
    when online) as the diffusers class its config.json names (AutoencoderKL or AutoencoderTiny), in eval mode on
    `device`. Refusal ("external.*") naming the reason when it is not a loadable VAE of those classes."""
    folder = _local_folder(source)
    if folder is None and not re.fullmatch(r"[\w.-]+/[\w.-]+", source):
        raise Refusal("external.bad_source", source=source)
    try:
        import diffusers
    except ImportError as exc:  # pragma: no cover - diffusers is in requirements.txt
        raise Refusal("external.no_diffusers") from exc
    try:
        class_name = (read_json(folder / "config.json") if folder else
                      diffusers.AutoencoderKL.load_config(source)).get("_class_name") or "AutoencoderKL"
        if class_name not in SUPPORTED_CLASSES:
            raise ValueError(f"{source} describes {class_name}, not an AutoencoderKL or AutoencoderTiny VAE")
        vae = getattr(diffusers, class_name).from_pretrained(str(folder or source), use_safetensors=True)
    except Exception as exc:  # noqa: BLE001 - diffusers raises many types (OSError, HTTP errors, ValueError)
        where = Message("external.where_folder" if folder else "external.where_hub")
        first_line = (str(exc).splitlines() or [""])[0][:300]
        raise Refusal("external.load_failed", source=source, where=where,
                      error=f"{type(exc).__name__}: {first_line}") from exc
    return DiffusersVAE(vae).to(device).eval()


def external_name(source: str) -> str:
    """A readable, unique-enough model name for /models: "ext:" + the folder or repo name."""
    parts = [p for p in re.split(r"[\\/]+", source.rstrip("/\\")) if p]
    tail = parts[-1] if parts else "vae"
    if tail == "vae" and len(parts) > 1:
        tail = parts[-2]
    return "ext:" + re.sub(r"[^\w.-]+", "-", tail)


@torch.no_grad()
def measure_on_held_out_photo(model: DiffusersVAE, device: str | torch.device = "cpu", size: int = 512) -> dict:
    """Reconstruct the held-out astronaut photo (never seen by our training, likely unseen by theirs too)
    at `size` x `size` and report PSNR / SSIM, latent shape and ratio; flags untrained weights."""
    from . import data
    from .metrics import image_metrics

    photo = data.load_photo("astronaut")[:size, :size]
    x = torch.from_numpy(np.ascontiguousarray(photo.transpose(2, 0, 1)))[None].to(device)
    z = model.encode(x).mode()
    recon = model.decode(z).clamp(0, 1)[0].float().cpu().numpy().transpose(1, 2, 0)
    metrics = image_metrics(photo, recon)
    metrics.update({"split": f"astronaut {size}x{size} (held out)", "latent_shape": list(z.shape[1:]),
                    "compression_ratio": photo.size / z[0].numel(),
                    "untrained": metrics["psnr"] < UNTRAINED_PSNR_DB})
    return metrics


@dataclass(frozen=True)
class AutoencoderKLGeometry:
    """What the catalogue asks of a model family, for a diffusers AutoencoderKL: `factor` (spatial
    downsampling, 2 ** (levels - 1)) and `latent_shape((C, H, W))` = (latent_channels, H / f, W / f)."""

    image_channels: int
    latent_channels: int
    factor: int

    def latent_shape(self, input_shape: tuple[int, int, int]) -> tuple[int, int, int]:
        _, h, w = input_shape
        return (self.latent_channels, h // self.factor, w // self.factor)


class ExternalVAEs:
    """The external-model registry: diffusers VAEs held in memory, listed in a `Catalogue` like shipped ones
    (kind "vae", dataset "photos", family "diffusers_autoencoderkl") and opened by the loader from memory."""

    def __init__(self, catalogue):
        self.catalogue = catalogue
        self._models: dict[str, DiffusersVAE] = {}

    def __contains__(self, name) -> bool:
        return name in self._models

    def add(self, source: str, device: str | torch.device = "cpu") -> str:
        """Load `source` (see load_autoencoder_kl) and list it in the catalogue as "ext:<folder or repo>"
        (primes appended when taken); its quality is unmeasured until `record`. Returns the name."""
        model = load_autoencoder_kl(source, device)
        geometry = AutoencoderKLGeometry(int(model.config.image_channels), int(model.config.latent_channels),
                                         int(model.downsampling_factor))
        config = {"family": FAMILY, "kind": "vae", "dataset": "photos", "source": source, "external": True,
                  "description": str(Message("external.description", class_name=model.class_name, source=source,
                                             factor=geometry.factor, channels=geometry.latent_channels))
                                 + "; quality being measured",
                  "config": {"image_channels": geometry.image_channels, "latent_channels": geometry.latent_channels,
                             "factor": geometry.factor, "scale_factor": model.config.scale_factor,
                             "shift_factor": model.config.shift_factor}}
        metrics = {"params": sum(p.numel() for p in model.parameters()), "measured": False}
        name = self.catalogue.add(external_name(source), config, metrics, geometry)
        self._models[name] = model
        return name

    def open(self, name: str, device: torch.device) -> tuple[torch.nn.Module, dict, dict]:
        """(model, config, metrics) of a registered VAE, for the loader (the model is already loaded)."""
        return self._models[name].to(device).eval(), self.catalogue.config(name), self.catalogue.metrics(name)

    def needs_measuring(self, name: str) -> bool:
        return name in self._models and not self.catalogue.metrics(name).get("measured")

    def record(self, name: str, measured: dict) -> dict:
        """Store the metrics of measure_on_held_out_photo in the catalogue and say in the description whether
        the weights look trained. Returns the stored metrics."""
        metrics = self.catalogue.metrics(name)
        metrics.update(measured, measured=True)
        config = self.catalogue.config(name)
        state = "UNTRAINED (random or broken weights)" if measured["untrained"] else "trained"
        config["description"] = (config["description"].split(";")[0] +
                                 f"; {state}: {measured['psnr']:.2f} dB PSNR on {measured['split']}")
        return metrics
