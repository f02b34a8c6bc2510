"""Reconstruction through a VAE: the pure functions behind the Reconstruction tab and the /reconstruct API.

Owns: the request validator (`validate_request`: model, sample, seed, fit, photo working size), preparing an
input at the model's working resolution (digits 28x28, photos a multiple of f), encoding (posterior mean or a
seeded sample) and decoding through the ModelService, the metrics on the exact 8-bit arrays that are displayed,
the absolute-error map, which models a photo or digit should default to, whether two models can be compared on
one input, and the rate-distortion data (held-out PSNR against latent channels and compression ratio) read from
the shipped checkpoints' metrics.json, with the SD3 paper's figures beside them. Every refusal is a
`Refusal("recon.<what>")` (or "img.<what>" from explorer.image_input); pictures and words live in
explorer/views/reconstruction.py.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from . import image_input, validation
from .image_input import CleanImage
from .imaging import crop_centre, min_max_grey, pad_centre, quantize, to_uint8, upscale
from .messages import Joined, Message, Refusal, define
from .metrics import image_metrics

# SD3 paper (Esser et al. 2024), Table 3: f=8 autoencoders with 4 / 8 / 16 latent channels, PSNR (dB).
# Photos at 256^2 from a different data set: compare the shape of the curve, not the absolute dB.
SD3_CHANNEL_PSNR: tuple[tuple[int, float], ...] = ((4, 25.12), (8, 26.40), (16, 28.62))
SD3_FACTOR = 8
PHOTO_GPU_SECONDS = 20  # ZeroGPU budget for one photo round trip (a 512x512 photo through taef2: seconds on 2 cores)
SWEEP_NAME = re.compile(r"^sd-vae-mnist-c(\d+)$")
# Which installed VAE a digit or a photo starts on (the first installed one of each list), and which 4-channel
# photo VAE a photo is compared with by default. taef2: FLUX.2's tiny autoencoder (f=8, 32 channels).
PREFERRED = {"mnist": ("sd-vae-mnist-c4",), "photos": ("taef2", "sd-vae-photos-f8c4")}
PHOTO_BASELINE = "sd-vae-photos-f8c4"
FITS = ("crop", "resize")
PHOTO_SIDES = (256, 512)  # the photo working size: long side capped here (512: the models' natural size)
CPU_PHOTO_SIDE = 256  # the default on a CPU: a 512x512 photo through taef2 takes seconds on 2 cores

define({
    "recon.unknown_model": "unknown model {name}; known models: {known}",
    "recon.not_a_vae": "{name} is a {kind}, not a VAE; VAEs: {vaes}",
    "recon.needs_digit": "{name} works on 28x28 digits; got {width}x{height} (prepare it first)",
    "recon.needs_multiple": "{name} needs sides that are multiples of f={factor}; got {width}x{height}",
    "recon.bad_sample": "sample must be true or false, got {value}",
    "recon.bad_fit": "fit must be 'crop' or 'resize', not {value}",
    "recon.bad_size": "the photo working size must be one of {sizes}, got {value}",
    "recon.no_image_file": "no image file was given",
    "recon.no_vae": "no VAE checkpoint is installed",
    "recon.field_seed": "Seed for ε",
    "recon.ssim_window": "SSIM on a {window}x{window} window (the image is smaller than the usual 11x11)",
    "recon.compare_mismatch": "{other} was trained on {other_data} and would be measured on its own input, not on "
                              "the image shown; pick a model trained on {data} to compare with {model}",
    "recon.ds_mnist": "MNIST digits",
    "recon.ds_photos": "photos",
})


@dataclass(frozen=True)
class ReconRequest:
    """A checked request: VAE `model`, z = posterior mean or a sample with `seed` (0 when unused), how a
    photo is fitted to a multiple of f, and the photo working size (long side cap, pixels)."""

    model: str
    sample: bool
    seed: int
    fit: str
    max_side: int


def validate_request(service, model: Any, sample: Any = False, seed: Any = 0, fit: Any = "crop",
                     max_side: Any = image_input.PHOTO_MAX_SIDE, seed_field: Any = None) -> ReconRequest:
    """Check every field; raises Refusal("recon.*" or "number.*"). The seed is read (explorer.validation.seed,
    the app's one rule: a whole number in [0, 2^32-1]) only when `sample` is true: the posterior mean uses no
    seed, so a bad value in an unused box never blocks it. `seed_field` names the seed box in refusals."""
    vae_name(service, model)
    if not isinstance(sample, (bool, np.bool_)):
        raise Refusal("recon.bad_sample", value=repr(sample))
    seed_value = validation.seed(seed, seed_field) if sample else 0
    if fit not in FITS:
        raise Refusal("recon.bad_fit", value=repr(fit))
    side = validation.whole_number(max_side, "max_side", min(PHOTO_SIDES), max(PHOTO_SIDES))
    if side not in PHOTO_SIDES:
        raise Refusal("recon.bad_size", sizes=", ".join(map(str, PHOTO_SIDES)), value=side)
    return ReconRequest(model, bool(sample), seed_value, fit, side)


def vae_name(service, name: Any) -> str:
    """`name` if it is a VAE the service serves; Refusal("recon.unknown_model" | "recon.not_a_vae") otherwise."""
    if not isinstance(name, str) or name not in service.names():
        raise Refusal("recon.unknown_model", name=repr(name), known=", ".join(service.names()) or "none")
    kind = service.config(name).get("kind")
    if kind != "vae":
        raise Refusal("recon.not_a_vae", name=repr(name), kind=kind, vaes=", ".join(service.names("vae")))
    return name


def default_model(service, dataset: str) -> str | None:
    """The VAE a `dataset` ("mnist" or "photos") input starts on: the first installed of PREFERRED[dataset],
    else any VAE trained on it, else None."""
    installed = service.names("vae", dataset=dataset)
    return next((n for n in PREFERRED.get(dataset, ()) if n in installed), installed[0] if installed else None)


def default_comparison(service, name: str | None) -> str | None:
    """What a model is compared with by default: the 4-channel photo VAE beside any other photo model
    (e.g. taef2's 32 channels against our 4); nothing for a digit model."""
    if name and name != PHOTO_BASELINE and PHOTO_BASELINE in service.names("vae") and \
            service.config(name).get("dataset") == "photos":
        return PHOTO_BASELINE
    return None


def comparable(service, name: str, other: str) -> Message | None:
    """None when `other` sees the same input as `name` (same training data kind, so one prepared image serves
    both); otherwise the Message that says why the comparison would mislead (a digit VAE "reconstructs" a photo
    as a 28x28 grey crop that is not the image shown)."""
    data, other_data = (service.config(n).get("dataset", "mnist") for n in (name, other))
    if data == other_data:
        return None
    return Message("recon.compare_mismatch", other=other, other_data=dataset_label(other_data),
                   data=dataset_label(data), model=name)


def dataset_label(dataset: str) -> Message | str:
    """A data set's name as a Message ("MNIST digits", "photos"); an unknown one as it is."""
    return Message(f"recon.ds_{dataset}") if dataset in ("mnist", "photos") else str(dataset)


def working_side(service) -> int:
    """The default photo working size: 512 with an accelerator (CUDA, MPS, ZeroGPU), 256 on a CPU."""
    on_cpu = service.base_device.type == "cpu" and service.accelerator is None
    return CPU_PHOTO_SIDE if on_cpu else max(PHOTO_SIDES)


@dataclass(frozen=True)
class Prepared:
    """The model's input as displayed: (28, 28) digit or (H, W, 3) photo, float32 on the 8-bit grid; `note`
    says what decoding and preparation did (a Joined of Messages; str() is English)."""

    image: np.ndarray
    note: Joined


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
    mean over colour channels; mean/std/z are the latent without the batch axis, e.g. (c, h, w) or (2,).
    `note` (a Joined of Messages, or "") says what was done to the input and how it was measured."""

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
    note: Any = ""

    @property
    def latent_shape(self) -> list[int]:
        return list(self.z.shape)

    @property
    def compression_ratio(self) -> float:
        """Numbers in the displayed image / numbers in the latent."""
        return float(self.original.size / self.z.size)

    @property
    def kl(self) -> float:
        """KL(q(z|x) || N(0, I)) of this image, in nats, summed over latent elements; NaN for a deterministic
        encoder (posterior std 0, e.g. taef2), whose KL is not defined."""
        if not float(self.std.max()) > 0:
            return float("nan")
        var = self.std.astype(np.float64) ** 2
        return float(0.5 * np.sum(self.mean.astype(np.float64) ** 2 + var - 1.0 - np.log(np.maximum(var, 1e-30))))

    def as_json(self) -> dict[str, Any]:
        """What /reconstruct returns beside the image (PSNR of identical images is null, not Infinity)."""
        psnr = self.metrics["psnr"]
        return {"model": self.model, "mse": self.metrics["mse"], "psnr": psnr if math.isfinite(psnr) else None,
                "ssim": self.metrics["ssim"], "ssim_window": int(self.metrics.get("ssim_window", 11)),
                "latent_shape": self.latent_shape, "compression_ratio": self.compression_ratio,
                "image_shape": list(self.original.shape), "latent": "sample" if self.sampled else "mean",
                "seed": self.seed if self.sampled else None,
                "kl_nats": self.kl if math.isfinite(self.kl) else None, "preprocessing": str(self.note)}


# ---- input preparation ---------------------------------------------------------------------------------
def model_info(service, name: str) -> dict:
    """{"dataset", "factor", "pad_to", "family", "latent_shape"} of a VAE, without loading its weights.
    Raises Refusal("recon.unknown_model" | "recon.not_a_vae")."""
    config = service.config(vae_name(service, name))
    shapes = service.vae_shapes(name)
    factor = config.get("config", {}).get("factor") or shapes.get("factor") or 1  # external VAEs state f
    return {"dataset": config.get("dataset", "mnist"), "factor": int(factor),
            "pad_to": config.get("pad_to"), "family": config.get("family"), "latent_shape": shapes["latent_shape"]}


def prepare(clean: CleanImage | np.ndarray, dataset: str, factor: int, fit: str = "crop",
            max_side: int = image_input.PHOTO_MAX_SIDE) -> Prepared:
    """An input for a model trained on `dataset`: digits -> (28, 28) like MNIST; photos -> (H, W, 3)
    with sides multiples of `factor`, long side <= `max_side`. Quantised to 8 bits (what the PNG shows). The
    note lists what decoding did (EXIF, modes, frames), then the preparation."""
    if isinstance(clean, np.ndarray):
        clean = image_input.load_image(clean)
    if dataset == "mnist":
        digit, note = image_input.to_digit(clean)
        hint = [image_input.note("photo_on_digit_model", photo_model=PHOTO_BASELINE)] \
            if image_input.looks_like_photo(clean) else []
        return Prepared(quantize(digit), Joined([*clean.notes, note, *hint]))
    photo, notes = image_input.fit_photo(clean, factor, max_side=max_side, mode=fit)
    decoded = [n for n in clean.notes if n.code != "img.transparency"]  # fit_photo says how it was flattened
    return Prepared(quantize(photo), Joined(decoded + list(notes.parts)))


def _to_batch(image: np.ndarray, channels: int, pad_to: int | None) -> np.ndarray:
    """(H, W) or (H, W, 3) -> (1, channels, H', W'), zero-padded (centred) to pad_to if given."""
    x = image[None] if image.ndim == 2 else image.transpose(2, 0, 1)
    if x.shape[0] != channels:
        raise ValueError(f"expected {channels} image channel(s), got {x.shape[0]}")
    if pad_to and pad_to != x.shape[-1]:
        x = pad_centre(x, pad_to)
    return np.ascontiguousarray(x[None], dtype=np.float32)


def _from_batch(x: np.ndarray, height: int, width: int, colour: bool) -> np.ndarray:
    """(1, C, H', W') -> the centre (height, width) crop as (H, W) or (H, W, 3)."""
    out = crop_centre(x[0], height, width)
    return out.transpose(1, 2, 0) if colour else out[0]


def _encode_decode(service, name: str, batch: np.ndarray, sample: bool, seed: int) -> tuple[dict, np.ndarray]:
    """One encode/decode round trip of a (1, C, H, W) batch: (encoded dict, decoded batch)."""
    encoded = service.encode(name, batch, sample=sample, seed=seed)
    return encoded, service.decode(name, encoded["z"])


def reconstruct(service, name: str, image: np.ndarray, *, sample: bool = False, seed: int = 0,
                note: Any = "") -> Reconstruction:
    """Encode `image` (a prepared (28, 28) digit or (H, W, 3) photo in [0, 1]) with VAE `name`, decode
    the posterior mean (or a sample with `seed`), and measure MSE/PSNR/SSIM on the displayed 8-bit arrays.
    The chapter VAE's zero padding (28 -> 32) is undone before anything is measured. Raises
    Refusal("recon.needs_digit" | "recon.needs_multiple" | "recon.unknown_model" | "recon.not_a_vae")."""
    info = model_info(service, name)
    image = quantize(np.asarray(image, np.float32))
    colour = info["dataset"] == "photos"
    if colour and image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if not colour and image.ndim == 3:
        image = quantize(image_input.luminance(image))
    height, width = image.shape[:2]
    if not colour and image.shape != (28, 28):
        raise Refusal("recon.needs_digit", name=name, width=width, height=height)
    factor = info["factor"]
    if colour and (height % factor or width % factor):
        raise Refusal("recon.needs_multiple", name=name, factor=factor, width=width, height=height)
    batch = _to_batch(image, 3 if colour else 1, info["pad_to"])
    if colour:  # a photo is heavy work: a GPU worker on ZeroGPU (a digit takes ~10 ms and stays here)
        encoded, decoded = service.heavy(_encode_decode, name, batch, sample, int(seed), seconds=PHOTO_GPU_SECONDS)
    else:
        encoded, decoded = _encode_decode(service, name, batch, sample, int(seed))
    recon = quantize(_from_batch(decoded, height, width, colour))
    error = np.abs(image - recon)
    if error.ndim == 3:
        error = error.mean(axis=2)
    metrics = image_metrics(image, recon)
    if metrics["ssim_window"] < 11:  # say so: an SSIM on a smaller window is not the paper's 11x11 figure
        parts = list(note.parts) if isinstance(note, Joined) else ([note] if note else [])
        note = Joined(parts + [Message("recon.ssim_window", window=int(metrics["ssim_window"]))])
    return Reconstruction(model=name, original=image, reconstruction=recon, error=error.astype(np.float32),
                          metrics=metrics, mean=encoded["mean"][0], std=encoded["std"][0],
                          z=encoded["z"][0], sampled=bool(sample), seed=int(seed), note=note)


def reconstruct_any(service, name: str, source: Any, *, sample: bool = False, seed: int = 0,
                    fit: str = "crop", max_side: int = image_input.PHOTO_MAX_SIDE) -> Reconstruction:
    """Any upload (see image_input.load_image) -> prepared for `name` -> Reconstruction."""
    info = model_info(service, name)
    prepared = prepare(image_input.load_image(source), info["dataset"], info["factor"], fit, max_side)
    return reconstruct(service, name, prepared.image, sample=sample, seed=seed, note=prepared.note)


def resolve_source(source: Any) -> Any:
    """A source description (what the tab keeps in a gr.State) -> something image_input.load_image reads:
    {"kind": "digit", "index": i} (held-out MNIST test digit), {"kind": "photo", "name": n} (held-out photo),
    {"kind": "file" | "sketch", "value": path or array}. Raises Refusal("img.no_image") for anything else."""
    from . import data

    kind = source.get("kind") if isinstance(source, dict) else None
    if kind == "digit":
        return data.load_mnist("test").images[int(source["index"])]
    if kind == "photo":
        return data.load_photo(source["name"])
    if kind in ("file", "sketch") and source.get("value") is not None:
        return source["value"]
    if kind == "sketch":
        raise image_input.refuse("empty_drawing")
    raise image_input.refuse("no_image")


def source_key(source: Any) -> tuple:
    """A hashable key that names a source description's content (a drawing by its pixels' digest)."""
    import hashlib

    if not isinstance(source, dict):
        return ("none",)
    value = source.get("value")
    if isinstance(value, dict):
        value = value.get("composite")
    if isinstance(value, np.ndarray):
        value = hashlib.sha1(np.ascontiguousarray(value).tobytes()).hexdigest() + str(value.shape)
    return (source.get("kind"), source.get("index"), source.get("name"), None if value is None else str(value))


def run_request(service, request: ReconRequest, source: Any) -> Reconstruction:
    """reconstruct_any for a validated ReconRequest."""
    return reconstruct_any(service, request.model, source, sample=request.sample, seed=request.seed,
                           fit=request.fit, max_side=request.max_side)


def sampling_noise(sampled: Reconstruction, mean: Reconstruction) -> dict[str, float]:
    """How much a sampled z changes the output: max |pixel change| and PSNR of the sampled
    reconstruction against the posterior-mean one (same model, same input)."""
    if sampled.reconstruction.shape != mean.reconstruction.shape:
        raise ValueError("the two reconstructions must come from the same input")
    change = np.abs(sampled.reconstruction - mean.reconstruction)
    return {"max_abs_change": float(change.max()), "mean_abs_change": float(change.mean()),
            "psnr_vs_mean": image_metrics(mean.reconstruction, sampled.reconstruction)["psnr"]}


# ---- pictures of the latent and the error (pixels; their words live in the view) ---------------------------
def error_scale(*errors: np.ndarray) -> float:
    """A shared colour-scale top for one or more error maps: their largest value, at least 1/255."""
    return max([1.0 / 255.0] + [float(e.max()) for e in errors if e.size])


def latent_channel_images(z: np.ndarray, target: int = 96) -> list[ChannelImage]:
    """A spatial latent (c, h, w) -> one grey uint8 image per channel (min-max scaled per channel, so its
    own pattern is visible; `low`/`high` give the channel's actual range, for a caption)."""
    if z.ndim != 3:
        raise ValueError(f"a spatial latent is (c, h, w); got shape {z.shape}")
    return [ChannelImage(upscale(min_max_grey(channel), target), i, float(channel.min()), float(channel.max()))
            for i, channel in enumerate(z)]


def grid_columns(count: int, aspect: float = 2.0) -> int:
    """Columns for `count` tiles in a grid about `aspect` times as wide as tall: up to 4 in one row; else a
    divisor of `count` near sqrt(aspect * count) when one is close (8 -> 4x2, 12 -> 6x2, 16 -> 8x2, 32 -> 8x4),
    else ceil(sqrt(aspect * count)) columns with a short last row (e.g. 13 -> 6, 6, 1)."""
    if count <= 4:
        return max(1, count)
    ideal = math.sqrt(aspect * count)
    divisors = [d for d in range(1, count + 1) if count % d == 0 and ideal / 1.5 <= d <= ideal * 1.5]
    wider = [d for d in divisors if d >= ideal - 1e-9]  # full rows, at least as wide as the ideal
    return min(wider) if wider else (max(divisors) if divisors else math.ceil(ideal))


def latent_grid(z: np.ndarray, width: int = 768, gap: int = 2) -> tuple[np.ndarray, int]:
    """All channels of a spatial latent (c, h, w) tiled into one grey uint8 image about `width` px wide, each
    channel min-max scaled to its own range and enlarged by whole pixels (nearest neighbour), `gap` px of
    mid-grey between tiles. Returns (image (H, W), columns). Any channel count lays out (see grid_columns)."""
    if z.ndim != 3:
        raise ValueError(f"a spatial latent is (c, h, w); got shape {z.shape}")
    count, h, w = z.shape
    columns = grid_columns(count)
    rows = math.ceil(count / columns)
    k = max(1, (width - gap * (columns - 1)) // (columns * w))
    tile_h, tile_w = h * k, w * k
    grid = np.full((rows * tile_h + gap * (rows - 1), columns * tile_w + gap * (columns - 1)), 128, np.uint8)
    for i, channel in enumerate(z):
        r, c = divmod(i, columns)
        top, left = r * (tile_h + gap), c * (tile_w + gap)
        grid[top: top + tile_h, left: left + tile_w] = np.repeat(np.repeat(min_max_grey(channel), k, 0), k, 1)
    return grid, columns


# ---- rate-distortion ----------------------------------------------------------------------------------
def rate_distortion_points(service) -> list[dict]:
    """One row per shipped, trained VAE with a held-out PSNR in its metrics.json:
    {name, dataset, channels, factor, compression_ratio, psnr, ssim, sweep (True for sd-vae-mnist-c<k>),
    photos_f8 (a photo VAE with f=8: our 4-channel one and taef2's 32 channels, measured by
    `python -m explorer.evaluation` on the same held-out photos), heldout (the photos' names, if listed)}."""
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
                     "ssim": metrics.get("ssim"), "sweep": bool(SWEEP_NAME.match(name)),
                     "photos_f8": service.config(name).get("dataset") == "photos" and shapes.get("factor") == 8,
                     "heldout": sorted(metrics.get("per_photo", {}))})
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
