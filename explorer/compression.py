"""Latent size and compression ratio: pure arithmetic, plus the published VAEs of the field as presets.

ratio = (H * W * C_image) / ((H / f) * (W / f) * c)   e.g. 512x512x3 -> 64x64x4: 786,432 / 16,384 = 48x.

A side that f does not divide is refused (naming the nearest multiples), unless the caller asks for
`zero_pad`: then the network gets the image zero-padded up to the next multiple of f (as the chapter VAE pads a
28x28 digit to 32x32) and the ratio counts the image's own pixels only, since the padding carries no
information (28x28x1 -> 4x4x4: 784 / 64 = 12.25x).

An impossible setting raises `explorer.messages.Refusal` (a ValueError; str() is English, what the API returns)
with a code of this module (`comp.*`) or of `explorer.validation` (`number.*`, whole numbers by the app's one
rule); the field it names is a Message, so a UI words the whole refusal in the page's language with `word()`.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .messages import Message, Refusal, define
from .validation import whole_number

MAX_SIDE = 16384
MAX_IMAGE_CHANNELS = 64
MAX_FACTOR = 512
MAX_CHANNELS = 4096

define({
    "comp.not_divisible": "{field} {side} is not divisible by f={factor}; try {lower} or {upper}",
    "comp.not_divisible_small": "{field} {side} is not divisible by f={factor}; try {upper}",
    "comp.not_a_switch": "{field} must be true or false, got {value}",
    "comp.field.height": "height H",
    "comp.field.width": "width W",
    "comp.field.image_channels": "image channels C",
    "comp.field.factor": "downsampling factor f",
    "comp.field.latent_channels": "latent channels c",
    "comp.field.zero_pad": "zero_pad",
})


def field(name: str) -> Message:
    """The Message naming one of compression()'s inputs ("height", "width", "image_channels", "factor",
    "latent_channels", "zero_pad")."""
    return Message(f"comp.field.{name}")


@dataclass(frozen=True)
class CompressionResult:
    pixel_shape: list[int]  # [C, H, W] of the image itself
    pixel_dims: int
    latent_shape: list[int]  # [c, H'/f, W'/f]
    latent_dims: int
    ratio: float  # pixel_dims / latent_dims (the image's own pixels; padding is not counted)
    bytes_fp32: int
    bytes_fp16: int
    pixel_bytes_uint8: int
    network_shape: list[int]  # [C, H', W']: what the encoder gets (H' = H unless zero-padded)

    @property
    def padded(self) -> bool:
        return self.network_shape != self.pixel_shape

    def as_dict(self) -> dict:
        return asdict(self)


def _divisible(name: str, side: int, factor: int) -> None:
    """Refusal naming the nearest multiples of `factor` when `side` is not one."""
    if not side % factor:
        return
    lower, upper = side - side % factor, side - side % factor + factor
    if lower:
        raise Refusal("comp.not_divisible", field=field(name), side=side, factor=factor, lower=lower, upper=upper)
    raise Refusal("comp.not_divisible_small", field=field(name), side=side, factor=factor, upper=upper)


def _switch(value) -> bool:
    """A yes/no input: a bool (None, an absent value, is False); anything else is refused."""
    if value is None or isinstance(value, bool):
        return bool(value)
    raise Refusal("comp.not_a_switch", field=field("zero_pad"), value=repr(value))


def check_vae(image_channels, factor, latent_channels) -> tuple[int, int, int]:
    """(image channels, f, c) as ints when each is a whole number in range (what the ratio f^2 C / c and the
    resolution table need, whatever the image size); Refusal ("number.*") otherwise."""
    return (whole_number(image_channels, field("image_channels"), 1, MAX_IMAGE_CHANNELS),
            whole_number(factor, field("factor"), 1, MAX_FACTOR),
            whole_number(latent_channels, field("latent_channels"), 1, MAX_CHANNELS))


def compression(height, width, image_channels=3, factor=8, latent_channels=4, zero_pad=False) -> CompressionResult:
    """Latent size of an (image_channels, height, width) image under a VAE with downsampling `factor` and
    `latent_channels`. Sides in [1, 16384], C in [1, 64], f in [1, 512], c in [1, 4096], whole numbers by
    explorer.validation's rule. A side f does not divide is refused ("comp.not_divisible*") unless `zero_pad`:
    then the encoder's input is padded up to the next multiple of f, and the ratio still counts H x W x C.
    Raises Refusal (a ValueError) naming the field and the allowed range."""
    height = whole_number(height, field("height"), 1, MAX_SIDE)
    width = whole_number(width, field("width"), 1, MAX_SIDE)
    image_channels, factor, latent_channels = check_vae(image_channels, factor, latent_channels)
    if _switch(zero_pad):
        net_h, net_w = -(-height // factor) * factor, -(-width // factor) * factor
    else:
        _divisible("height", height, factor)
        _divisible("width", width, factor)
        net_h, net_w = height, width
    pixel_dims = height * width * image_channels
    latent_shape = [latent_channels, net_h // factor, net_w // factor]
    latent_dims = math.prod(latent_shape)
    return CompressionResult(
        pixel_shape=[image_channels, height, width], pixel_dims=pixel_dims,
        latent_shape=latent_shape, latent_dims=latent_dims, ratio=pixel_dims / latent_dims,
        bytes_fp32=4 * latent_dims, bytes_fp16=2 * latent_dims, pixel_bytes_uint8=pixel_dims,
        network_shape=[image_channels, net_h, net_w])


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
    VAEPreset("FLUX.2 VAE (32 ch)", 8, 32, "FLUX.2 VAE config"),
    VAEPreset("SD3 paper, 8 ch", 8, 8, "SD3 paper Table 3", 26.40),
    VAEPreset("SD3 paper, 4 ch", 8, 4, "SD3 paper Table 3", 25.12),
    VAEPreset("LDM KL-f4 (c3)", 4, 3, "LDM paper Table 8, ImageNet val", 27.53, 0.82, 0.27),
    VAEPreset("LDM KL-f8 (c4)", 8, 4, "LDM paper Table 8, ImageNet val", 24.19, 0.69, 0.90),
    VAEPreset("LDM KL-f16 (c16)", 16, 16, "LDM paper Table 8, ImageNet val", 24.08, 0.68, 0.87),
    VAEPreset("LDM KL-f16 (c8)", 16, 8, "LDM paper Table 8, ImageNet val", 21.94, 0.59, 2.63),
    VAEPreset("LDM KL-f32 (c64)", 32, 64, "LDM paper Table 8, ImageNet val", 22.27, 0.61, 2.04),
    VAEPreset("LDM KL-f32 (c16)", 32, 16, "LDM paper Table 8, ImageNet val", 20.38, 0.53, 7.3),
    VAEPreset("TAESD (tiny SD VAE, ~2.4M params)", 8, 4, "madebyollin/taesd"),
    VAEPreset("TAEF2 (tiny FLUX.2 VAE, ~2.7M params)", 8, 32, "madebyollin/taesd"),
)
PRESET_SIDE = 512  # the field's presets are shown at 512x512x3, the chapter's example


def published_setting(preset: VAEPreset) -> dict:
    """compression()'s keyword arguments for a published VAE at 512x512x3 (how the preset table shows it)."""
    return {"height": PRESET_SIDE, "width": PRESET_SIDE, "image_channels": 3, "factor": preset.factor,
            "latent_channels": preset.latent_channels, "zero_pad": False}


def vae_setting(shapes: dict) -> dict | None:
    """compression()'s keyword arguments that reproduce one of this project's VAEs at the size it really runs at,
    from ModelService.vae_shapes(): the counted input (a digit 28x28x1, a photo 512x512x3), its f and c, and
    zero_pad when the network pads the input (the chapter VAE: 28x28 -> 32x32). compression(**setting) then
    gives vae_shapes' latent_shape and vae_ratio(shapes). None for a VAE without a spatial latent (an MLP VAE's
    flat code has no f)."""
    latent = shapes.get("latent_shape") or []
    if "factor" not in shapes or len(latent) != 3:
        return None
    channels, height, width = counted_input_shape(shapes)
    return {"height": height, "width": width, "image_channels": channels, "factor": int(shapes["factor"]),
            "latent_channels": int(latent[0]), "zero_pad": bool(shapes.get("pad_to"))}

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
