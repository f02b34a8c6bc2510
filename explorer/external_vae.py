"""A real Stable Diffusion VAE, when the user has one: load a diffusers `AutoencoderKL` or `AutoencoderTiny`
(the TAESD family: SD 1.x, SDXL, SD3, FLUX.1) from a local folder (config.json + safetensors, or a pipeline
folder with a vae/ subfolder) or, online, a hub id, and give it the explorer's VAE interface (images in [0, 1],
`encode` -> posterior with mode()/sample(), `decode`). AutoencoderTiny is deterministic: its posterior has std 0.

diffusers is imported only here, and only when a user asks for an extra VAE (its import costs seconds).
"""
from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

from .checkpoint import CheckpointError, read_json

SUPPORTED_CLASSES = ("AutoencoderKL", "AutoencoderTiny")  # diffusers class names accepted by --vae
UNTRAINED_PSNR_DB = 15.0  # a trained image VAE reconstructs photos far above this; random weights land near 5-10 dB


class ExternalVAEError(RuntimeError):
    """The path or id given with --vae is not a loadable AutoencoderKL / AutoencoderTiny; the message says why."""


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
        raise ExternalVAEError(f"{source} is a file; give the folder that holds config.json and the safetensors weights")
    if not (path / "config.json").exists() and (path / "vae" / "config.json").exists():
        path = path / "vae"  # a whole diffusers pipeline folder
    config_path = path / "config.json"
    if not config_path.exists():
        raise ExternalVAEError(f"{path} has no config.json: not a diffusers VAE folder")
    try:
        config = read_json(config_path)
    except CheckpointError as exc:
        raise ExternalVAEError(str(exc)) from exc
    class_name = config.get("_class_name")
    if class_name not in SUPPORTED_CLASSES:
        raise ExternalVAEError(f"{config_path} describes {class_name or 'no diffusers model'}, not an AutoencoderKL "
                               f"or AutoencoderTiny VAE")
    if not list(path.glob("*.safetensors")):
        raise ExternalVAEError(f"{path} has no .safetensors weights (this project never loads pickled weights)")
    return path


def load_autoencoder_kl(source: str, device: str | torch.device = "cpu") -> DiffusersVAE:
    """Load `source` (a local folder, or a hub id such as "stabilityai/sd-vae-ft-mse" or "madebyollin/taesd"
    when online) as the diffusers class its config.json names (AutoencoderKL or AutoencoderTiny)."""
    folder = _local_folder(source)
    if folder is None and not re.fullmatch(r"[\w.-]+/[\w.-]+", source):
        raise ExternalVAEError(f"{source} is neither an existing folder nor a hub id like 'owner/name'")
    try:
        import diffusers
    except ImportError as exc:  # pragma: no cover - diffusers is in requirements.txt
        raise ExternalVAEError("loading an extra VAE needs the diffusers package: pip install diffusers") from exc
    try:
        class_name = (read_json(folder / "config.json") if folder else
                      diffusers.AutoencoderKL.load_config(source)).get("_class_name") or "AutoencoderKL"
        if class_name not in SUPPORTED_CLASSES:
            raise ValueError(f"{source} describes {class_name}, not an AutoencoderKL or AutoencoderTiny VAE")
        vae = getattr(diffusers, class_name).from_pretrained(str(folder or source), use_safetensors=True)
    except Exception as exc:  # noqa: BLE001 - diffusers raises many types (OSError, HTTP errors, ValueError)
        where = "local folder" if folder else "hub id (needs a network connection and the model's safetensors)"
        raise ExternalVAEError(f"could not load {source} as a {where}: {type(exc).__name__}: "
                               f"{str(exc).splitlines()[0][:300]}") from exc
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
