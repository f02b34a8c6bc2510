"""Reconstruction through a VAE, and what to show about it: the pure functions behind the Reconstruction
tab and the /reconstruct API.

Owns: preparing an input at the model's working resolution (digits 28x28, photos a multiple of f),
encoding (posterior mean or a seeded sample) and decoding through the ModelService, the metrics on
the exact 8-bit arrays that are displayed, the absolute-error heat map, the latent channels as
images, and the rate-distortion data (held-out PSNR against latent channels and compression ratio)
read from the shipped checkpoints' metrics.json, with the SD3 paper's figures beside them.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from . import image_input
from .image_input import CleanImage, ImageInputError, Phrase, Phrases
from .metrics import image_metrics

# SD3 paper (Esser et al. 2024), Table 3: f=8 autoencoders with 4 / 8 / 16 latent channels, PSNR (dB).
# Photos at 256^2 from a different data set: compare the shape of the curve, not the absolute dB.
SD3_CHANNEL_PSNR: tuple[tuple[int, float], ...] = ((4, 25.12), (8, 26.40), (16, 28.62))
SD3_FACTOR = 8
PHOTO_GPU_SECONDS = 20  # ZeroGPU budget for one photo round trip (a 512x512 photo takes ~1 s on 2 CPU cores)
SWEEP_NAME = re.compile(r"^sd-vae-mnist-c(\d+)$")

# An "inferno"-like ramp (black -> purple -> red -> orange -> pale yellow) for the error heat map.
_RAMP_STOPS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
_RAMP_RGB = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], np.float64)


@dataclass(frozen=True)
class Prepared:
    """The model's input as displayed: (28, 28) digit or (H, W, 3) photo, float32 on the 8-bit grid; `note`
    says what decoding and preparation did (English as a string; its `parts` let a UI translate it)."""

    image: np.ndarray
    note: Phrases


class ChannelImage(NamedTuple):
    """One channel of a spatial latent as a grey uint8 picture, with the channel's index and actual range."""

    image: np.ndarray
    channel: int
    low: float
    high: float


@dataclass(frozen=True)
class Reconstruction:
    """One pass through a VAE. `original` and `reconstruction` are the displayed arrays ((H, W) or
    (H, W, 3), float32, exact multiples of 1/255); `error` is |original - reconstruction| (H, W), the
    mean over colour channels; mean/std/z are the latent without the batch axis, e.g. (c, h, w) or (2,)."""

    model: str
    original: np.ndarray
    reconstruction: np.ndarray
    error: np.ndarray
    metrics: dict[str, float]
    mean: np.ndarray
    std: np.ndarray
    z: np.ndarray
    sampled: bool
    seed: int
    note: str = ""

    @property
    def latent_shape(self) -> list[int]:
        return list(self.z.shape)

    @property
    def compression_ratio(self) -> float:
        """Numbers in the displayed image / numbers in the latent."""
        return float(self.original.size / self.z.size)

    @property
    def kl(self) -> float:
        """KL(q(z|x) || N(0, I)) of this image, in nats, summed over latent elements."""
        var = self.std.astype(np.float64) ** 2
        return float(0.5 * np.sum(self.mean.astype(np.float64) ** 2 + var - 1.0 - np.log(np.maximum(var, 1e-30))))

    def as_json(self) -> dict[str, Any]:
        """What /reconstruct returns beside the image (PSNR of identical images is null, not Infinity)."""
        psnr = self.metrics["psnr"]
        return {"model": self.model, "mse": self.metrics["mse"], "psnr": psnr if math.isfinite(psnr) else None,
                "ssim": self.metrics["ssim"], "latent_shape": self.latent_shape,
                "compression_ratio": self.compression_ratio, "image_shape": list(self.original.shape),
                "latent": "sample" if self.sampled else "mean", "seed": self.seed if self.sampled else None,
                "kl_nats": self.kl, "preprocessing": str(self.note)}


# ---- input preparation ---------------------------------------------------------------------------------
def quantize(image: np.ndarray) -> np.ndarray:
    """Round to the 8-bit grid a PNG stores: float32 in [0, 1] whose values are k / 255."""
    return (np.round(np.clip(image, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def model_info(service, name: str) -> dict:
    """{"dataset", "factor", "pad_to", "family", "latent_shape"} of a VAE, without loading its weights."""
    config = service.config(name)
    if config.get("kind") != "vae":
        raise ValueError(f"{name!r} is a {config.get('kind')}, not a VAE; VAEs: {', '.join(service.names('vae'))}")
    shapes = service.vae_shapes(name)
    factor = config.get("config", {}).get("factor") or shapes.get("factor") or 1  # external VAEs state f
    return {"dataset": config.get("dataset", "mnist"), "factor": int(factor),
            "pad_to": config.get("pad_to"), "family": config.get("family"), "latent_shape": shapes["latent_shape"]}


def prepare(clean: CleanImage | np.ndarray, dataset: str, factor: int, fit: str = "crop") -> Prepared:
    """An input for a model trained on `dataset`: digits -> (28, 28) like MNIST; photos -> (H, W, 3)
    with sides multiples of `factor`, long side <= 512. Quantised to 8 bits (what the PNG shows). The note
    lists what decoding did (EXIF, modes, frames), then the preparation."""
    if isinstance(clean, np.ndarray):
        clean = image_input.load_image(clean)
    if dataset == "mnist":
        digit, note = image_input.to_digit(clean)
        hint = [Phrase("photo_on_digit_model")] if image_input.looks_like_photo(clean) else []
        return Prepared(quantize(digit), Phrases([*clean.notes, note, *hint]))
    photo, notes = image_input.fit_photo(clean, factor, mode=fit)
    decoded = [n for n in clean.notes if n.code != "transparency"]  # fit_photo says how it was flattened
    return Prepared(quantize(photo), Phrases(decoded + list(notes.parts)))


def _to_batch(image: np.ndarray, channels: int, pad_to: int | None) -> np.ndarray:
    """(H, W) or (H, W, 3) -> (1, channels, H', W'), zero-padded (centred) to pad_to if given."""
    x = image[None] if image.ndim == 2 else image.transpose(2, 0, 1)
    if x.shape[0] != channels:
        raise ValueError(f"expected {channels} image channel(s), got {x.shape[0]}")
    if pad_to and pad_to != x.shape[-1]:
        total_h, total_w = pad_to - x.shape[1], pad_to - x.shape[2]
        x = np.pad(x, ((0, 0), (total_h // 2, total_h - total_h // 2), (total_w // 2, total_w - total_w // 2)))
    return np.ascontiguousarray(x[None], dtype=np.float32)


def _from_batch(x: np.ndarray, height: int, width: int, colour: bool) -> np.ndarray:
    """(1, C, H', W') -> the centre (height, width) crop as (H, W) or (H, W, 3)."""
    top, left = (x.shape[2] - height) // 2, (x.shape[3] - width) // 2
    out = x[0, :, top: top + height, left: left + width]
    return out.transpose(1, 2, 0) if colour else out[0]


def _encode_decode(service, name: str, batch: np.ndarray, sample: bool, seed: int) -> tuple[dict, np.ndarray]:
    """One encode/decode round trip of a (1, C, H, W) batch: (encoded dict, decoded batch)."""
    encoded = service.encode(name, batch, sample=sample, seed=seed)
    return encoded, service.decode(name, encoded["z"])


def reconstruct(service, name: str, image: np.ndarray, *, sample: bool = False, seed: int = 0,
                note: str = "") -> Reconstruction:
    """Encode `image` (a prepared (28, 28) digit or (H, W, 3) photo in [0, 1]) with VAE `name`, decode
    the posterior mean (or a sample with `seed`), and measure MSE/PSNR/SSIM on the displayed 8-bit arrays.
    The chapter VAE's zero padding (28 -> 32) is undone before anything is measured."""
    info = model_info(service, name)
    image = quantize(np.asarray(image, np.float32))
    colour = info["dataset"] == "photos"
    if colour and image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if not colour and image.ndim == 3:
        image = quantize(image_input.luminance(image))
    if not colour and image.shape != (28, 28):
        raise ImageInputError(f"{name} works on 28x28 digits; got {image.shape[1]}x{image.shape[0]} (prepare it first)")
    factor = info["factor"]
    if colour and (image.shape[0] % factor or image.shape[1] % factor):
        raise ImageInputError(f"{name} needs sides that are multiples of f={factor}; got {image.shape[1]}x{image.shape[0]}")
    batch = _to_batch(image, 3 if colour else 1, info["pad_to"])
    if colour:  # a photo is heavy work: a GPU worker on ZeroGPU (a digit takes ~10 ms and stays here)
        encoded, decoded = service.heavy(_encode_decode, name, batch, sample, int(seed), seconds=PHOTO_GPU_SECONDS)
    else:
        encoded, decoded = _encode_decode(service, name, batch, sample, int(seed))
    recon = quantize(_from_batch(decoded, image.shape[0], image.shape[1], colour))
    error = np.abs(image - recon)
    if error.ndim == 3:
        error = error.mean(axis=2)
    return Reconstruction(model=name, original=image, reconstruction=recon, error=error.astype(np.float32),
                          metrics=image_metrics(image, recon), mean=encoded["mean"][0], std=encoded["std"][0],
                          z=encoded["z"][0], sampled=bool(sample), seed=int(seed), note=note)


def reconstruct_any(service, name: str, source: Any, *, sample: bool = False, seed: int = 0,
                    fit: str = "crop") -> Reconstruction:
    """Any upload (see image_input.load_image) -> prepared for `name` -> Reconstruction."""
    info = model_info(service, name)
    prepared = prepare(image_input.load_image(source), info["dataset"], info["factor"], fit)
    return reconstruct(service, name, prepared.image, sample=sample, seed=seed, note=prepared.note)


def sampling_noise(sampled: Reconstruction, mean: Reconstruction) -> dict[str, float]:
    """How much a sampled z changes the output: max |pixel change| and PSNR of the sampled
    reconstruction against the posterior-mean one (same model, same input)."""
    if sampled.reconstruction.shape != mean.reconstruction.shape:
        raise ValueError("the two reconstructions must come from the same input")
    change = np.abs(sampled.reconstruction - mean.reconstruction)
    return {"max_abs_change": float(change.max()), "mean_abs_change": float(change.mean()),
            "psnr_vs_mean": image_metrics(mean.reconstruction, sampled.reconstruction)["psnr"]}


# ---- pictures ------------------------------------------------------------------------------------------
def colormap(values: np.ndarray, vmax: float) -> np.ndarray:
    """(H, W) values in [0, vmax] -> (H, W, 3) uint8 on the inferno-like ramp (0 black, vmax pale yellow)."""
    t = np.clip(np.asarray(values, np.float64) / max(float(vmax), 1e-12), 0.0, 1.0)
    rgb = np.stack([np.interp(t, _RAMP_STOPS, _RAMP_RGB[:, i]) for i in range(3)], axis=-1)
    return np.round(rgb).astype(np.uint8)


def error_scale(*errors: np.ndarray) -> float:
    """A shared colour-scale top for one or more error maps: their largest value, at least 1/255."""
    return max([1.0 / 255.0] + [float(e.max()) for e in errors if e.size])


def upscale(image: np.ndarray, target: int = 224) -> np.ndarray:
    """Nearest-neighbour enlargement by the integer factor that brings the long side closest to
    `target` (never shrinks): every pixel becomes a k x k square, values unchanged."""
    k = max(1, int(round(target / max(image.shape[:2]))))
    return image if k == 1 else np.repeat(np.repeat(image, k, axis=0), k, axis=1)


def latent_channel_images(z: np.ndarray, target: int = 96) -> list[ChannelImage]:
    """A spatial latent (c, h, w) -> one grey uint8 image per channel (min-max scaled per channel, so its
    own pattern is visible; `low`/`high` give the channel's actual range, for a caption)."""
    if z.ndim != 3:
        raise ValueError(f"a spatial latent is (c, h, w); got shape {z.shape}")
    images = []
    for i, channel in enumerate(z):
        low, high = float(channel.min()), float(channel.max())
        scaled = (channel - low) / (high - low) if high > low else np.zeros_like(channel)
        images.append(ChannelImage(upscale(to_uint8(scaled), target), i, low, high))
    return images


# ---- rate-distortion ----------------------------------------------------------------------------------
def rate_distortion_points(service) -> list[dict]:
    """One row per shipped, trained VAE with a held-out PSNR in its metrics.json:
    {name, dataset, channels, factor, compression_ratio, psnr, ssim, sweep (True for sd-vae-mnist-c<k>)}."""
    rows = []
    for name in service.names("vae"):
        metrics = service.metrics(name)
        if metrics.get("untrained") or not isinstance(metrics.get("psnr"), (int, float)):
            continue
        shapes = service.vae_shapes(name)
        latent = shapes["latent_shape"]
        ratio = metrics.get("compression_ratio")
        if not isinstance(ratio, (int, float)):
            c_img, side = shapes["input_shape"][0], shapes["input_shape"][1]
            ratio = c_img * side * side / float(np.prod(latent))
        rows.append({"name": name, "dataset": service.config(name).get("dataset"), "channels": int(latent[0]),
                     "factor": shapes.get("factor"), "compression_ratio": float(ratio), "psnr": float(metrics["psnr"]),
                     "ssim": metrics.get("ssim"), "sweep": bool(SWEEP_NAME.match(name))})
    return sorted(rows, key=lambda r: (not r["sweep"], r["channels"], r["name"]))


def sd3_points() -> list[dict]:
    """The SD3 paper's f=8 channel sweep, with the compression ratio of an RGB image (3 f^2 / c)."""
    return [{"name": f"SD3 paper, {c} ch", "channels": c, "factor": SD3_FACTOR, "psnr": psnr,
             "compression_ratio": 3 * SD3_FACTOR**2 / c} for c, psnr in SD3_CHANNEL_PSNR]


def channel_gains(points: list[dict]) -> list[dict]:
    """PSNR gained between consecutive channel counts of a sweep: [{from, to, gain_db, db_per_doubling}]."""
    points = sorted(points, key=lambda p: p["channels"])
    gains = []
    for a, b in zip(points, points[1:]):
        gain = b["psnr"] - a["psnr"]
        gains.append({"from": a["channels"], "to": b["channels"], "gain_db": gain,
                      "db_per_doubling": gain / math.log2(b["channels"] / a["channels"])})
    return gains
