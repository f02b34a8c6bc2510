"""Latent size and compression ratio: pure arithmetic, plus the published VAEs of the field as presets.

ratio = (H * W * C_image) / ((H / f) * (W / f) * c)   e.g. 512x512x3 -> 64x64x4: 786,432 / 16,384 = 48x.

An impossible setting raises `CompressionError` (a ValueError) whose message is English (what the API returns);
it also carries a stable code from REFUSALS, the quantity (a key of QUANTITIES) and the values, so that the UI can
word it in the page's language without parsing English.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

MAX_SIDE = 16384
MAX_CHANNELS = 4096


@dataclass(frozen=True)
class CompressionResult:
    pixel_shape: list[int]  # [C, H, W]
    pixel_dims: int
    latent_shape: list[int]  # [c, H/f, W/f]
    latent_dims: int
    ratio: float
    bytes_fp32: int
    bytes_fp16: int
    pixel_bytes_uint8: int

    def as_dict(self) -> dict:
        return asdict(self)


# Every refusal, in English by a stable code. The Compression tab registers Chinese for each code and quantity
# (explorer/ui/compression_tab.py); the API shows the English.
REFUSALS: dict[str, str] = {
    "empty": "{quantity} must be a whole number, but it is empty",
    "not_whole": "{quantity} must be a whole number, got {value}",
    "out_of_range": "{quantity} must be between {low} and {high}, got {number}",
    "not_divisible": "{quantity} {side} is not divisible by f={factor}; try {lower} or {upper}",
    "not_divisible_small": "{quantity} {side} is not divisible by f={factor}; try {upper}",
}
QUANTITIES: dict[str, str] = {"height": "height", "width": "width", "image_channels": "image channels",
                              "factor": "downsampling factor f", "latent_channels": "latent channels c"}


class CompressionError(ValueError):
    """An impossible setting. str() is the English message; `code` (a key of REFUSALS), `quantity` (a key of
    QUANTITIES) and `values` let a UI word it in another language."""

    def __init__(self, code: str, quantity: str, values: dict):
        super().__init__(REFUSALS[code].format(quantity=QUANTITIES[quantity], **values))
        self.code, self.quantity, self.values = code, quantity, dict(values)

    def __reduce__(self):
        return type(self), (self.code, self.quantity, self.values)


def _is_empty(value) -> bool:
    """None or blank text: what an empty number box or a JSON null sends."""
    return value is None or (isinstance(value, str) and not value.strip())


def _as_whole(value) -> int | None:
    """`value` as an int when it is a finite whole number (a bool or None is not), else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        as_float = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return int(as_float) if math.isfinite(as_float) and as_float.is_integer() else None


def _check_int(quantity: str, value, low: int, high: int) -> int:
    """`value` as an int in [low, high]; CompressionError otherwise (`quantity` is a key of QUANTITIES)."""
    if _is_empty(value):
        raise CompressionError("empty", quantity, {})
    number = _as_whole(value)
    if number is None:
        raise CompressionError("not_whole", quantity, {"value": repr(value)})
    if not low <= number <= high:
        raise CompressionError("out_of_range", quantity, {"low": low, "high": high, "number": number})
    return number


def _check_divisible(quantity: str, side: int, factor: int) -> None:
    """CompressionError naming the nearest multiples of `factor` when `side` is not one."""
    if not side % factor:
        return
    lower, upper = side - side % factor, side - side % factor + factor
    if lower:
        raise CompressionError("not_divisible", quantity, {"side": side, "factor": factor, "lower": lower,
                                                           "upper": upper})
    raise CompressionError("not_divisible_small", quantity, {"side": side, "factor": factor, "upper": upper})


def check_vae(image_channels, factor, latent_channels) -> tuple[int, int, int]:
    """(image channels, f, c) as ints when each is a whole number in range (what the ratio f^2 C / c and the
    resolution table need, whatever the image size); CompressionError otherwise."""
    return (_check_int("image_channels", image_channels, 1, 64), _check_int("factor", factor, 1, 512),
            _check_int("latent_channels", latent_channels, 1, MAX_CHANNELS))


def compression(height, width, image_channels=3, factor=8, latent_channels=4) -> CompressionResult:
    """Latent size of an (image_channels, height, width) image under a VAE with downsampling `factor`
    and `latent_channels`. Raises CompressionError (a ValueError) with a readable message for impossible
    settings."""
    height = _check_int("height", height, 1, MAX_SIDE)
    width = _check_int("width", width, 1, MAX_SIDE)
    image_channels, factor, latent_channels = check_vae(image_channels, factor, latent_channels)
    _check_divisible("height", height, factor)
    _check_divisible("width", width, factor)
    pixel_dims = height * width * image_channels
    latent_shape = [latent_channels, height // factor, width // factor]
    latent_dims = latent_shape[0] * latent_shape[1] * latent_shape[2]
    return CompressionResult(
        pixel_shape=[image_channels, height, width], pixel_dims=pixel_dims,
        latent_shape=latent_shape, latent_dims=latent_dims, ratio=pixel_dims / latent_dims,
        bytes_fp32=4 * latent_dims, bytes_fp16=2 * latent_dims, pixel_bytes_uint8=pixel_dims)


def format_ratio(ratio: float) -> str:
    """A compression ratio as a student reads it: at most two decimals, no trailing zeros (48, 12.25, 5.33)."""
    return f"{ratio:.2f}".rstrip("0").rstrip(".")


# ---- a shipped VAE's own figures -------------------------------------------------------------------------------
DIGIT_SIDE = 28  # an MNIST digit is 28x28; a network that needs another side zero-pads it (`pad_to`)


def counted_input_shape(shapes: dict) -> list[int]:
    """[C, H, W] of the image a VAE's compression ratio counts, from ModelService.vae_shapes(). A digit
    zero-padded for the network (`pad_to`: the chapter VAE pads 28x28 to 32x32, since 28 is not divisible by
    f=8) counts as its 28x28 pixels only, as its held-out metrics (compression_ratio) and the README count it:
    the padding carries no information."""
    channels = shapes["input_shape"][0]
    return [channels, DIGIT_SIDE, DIGIT_SIDE] if shapes.get("pad_to") else list(shapes["input_shape"])


def vae_ratio(shapes: dict) -> float | None:
    """Pixel values of the counted input (counted_input_shape) per latent value; None without a latent."""
    latents = math.prod(shapes["latent_shape"]) if shapes.get("latent_shape") else 0
    return math.prod(counted_input_shape(shapes)) / latents if latents else None


@dataclass(frozen=True)
class VAEPreset:
    name: str
    factor: int
    latent_channels: int
    source: str
    psnr: float | None = None
    ssim: float | None = None
    rfid: float | None = None
    scale_factor: float | None = None
    note: str = ""


# Published figures (see README "Reference figures" for the sources).
PUBLISHED_VAES: tuple[VAEPreset, ...] = (
    VAEPreset("Chapter VAE (f8, c4)", 8, 4, "the chapter", note="512x512x3 -> 64x64x4 = 48x"),
    VAEPreset("SD 1.x / 2.x VAE (original)", 8, 4, "SD VAE card, COCO 256^2", 23.4, 0.69, 4.99, 0.18215),
    VAEPreset("SD VAE ft-MSE", 8, 4, "SD VAE card, COCO 256^2", 24.5, 0.71, 4.70, 0.18215),
    VAEPreset("SDXL VAE", 8, 4, "SDXL VAE card, COCO 256^2", 24.7, 0.73, 4.42, 0.13025),
    VAEPreset("SD3 VAE (16 ch)", 8, 16, "SD3 paper Table 3", 28.62, None, None, 1.5305, "shift 0.0609"),
    VAEPreset("FLUX VAE (16 ch)", 8, 16, "FLUX.1 config", None, None, None, 0.3611, "shift 0.1159"),
    VAEPreset("SD3 paper, 8 ch", 8, 8, "SD3 paper Table 3", 26.40),
    VAEPreset("SD3 paper, 4 ch", 8, 4, "SD3 paper Table 3", 25.12),
    VAEPreset("LDM KL-f4 (c3)", 4, 3, "LDM paper Table 8, ImageNet val", 27.53, 0.82, 0.27),
    VAEPreset("LDM KL-f8 (c4)", 8, 4, "LDM paper Table 8, ImageNet val", 24.19, 0.69, 0.90),
    VAEPreset("LDM KL-f16 (c16)", 16, 16, "LDM paper Table 8, ImageNet val", 24.08, 0.68, 0.87),
    VAEPreset("LDM KL-f16 (c8)", 16, 8, "LDM paper Table 8, ImageNet val", 21.94, 0.59, 2.63),
    VAEPreset("LDM KL-f32 (c64)", 32, 64, "LDM paper Table 8, ImageNet val", 22.27, 0.61, 2.04),
    VAEPreset("LDM KL-f32 (c16)", 32, 16, "LDM paper Table 8, ImageNet val", 20.38, 0.53, 7.3),
    VAEPreset("TAESD (tiny SD VAE, ~2.4M params)", 8, 4, "madebyollin/taesd"),
)

COMMON_RESOLUTIONS = (256, 384, 512, 768, 1024)


def resolution_table(factor: int, latent_channels: int, image_channels: int = 3,
                     resolutions=COMMON_RESOLUTIONS) -> list[dict]:
    """One row per square resolution divisible by `factor`: side, latent shape, dims, ratio, fp16 bytes."""
    rows = []
    for side in resolutions:
        if side % factor:
            continue
        result = compression(side, side, image_channels, factor, latent_channels)
        rows.append({"side": side, "resolution": f"{side}x{side}",
                     "latent_shape": "x".join(map(str, result.latent_shape)),
                     "pixel_dims": result.pixel_dims, "latent_dims": result.latent_dims,
                     "ratio": round(result.ratio, 2), "latent_kib_fp16": result.bytes_fp16 / 1024})
    return rows
