"""Image conversions every area shares: float [0, 1] <-> 8-bit, nearest-neighbour enlargement for display,
centred pad/crop, PNG bytes and data URIs, and a perceptual colour ramp for heat maps.

Pure numpy + Pillow; no model, no Gradio. Conventions: float images are (H, W) grey or (H, W, C) in [0, 1];
uint8 images are what a PNG stores. Other modules should use these rather than keep their own copies.
"""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

# An "inferno"-like ramp (black -> purple -> red -> orange -> pale yellow), 5 stops sampled from matplotlib's
# inferno colormap (van der Walt & Smith 2015): perceptually ordered, readable in greyscale print.
INFERNO_STOPS = np.array([0.0, 0.25, 0.5, 0.75, 1.0])
INFERNO_RGB = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], np.float64)


def quantize(image: np.ndarray) -> np.ndarray:
    """Round to the 8-bit grid a PNG stores: float32 in [0, 1] whose values are k / 255."""
    return (np.round(np.clip(image, 0.0, 1.0) * 255.0) / 255.0).astype(np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Float in [0, 1] (values outside are clipped) -> uint8 0..255, rounded to nearest."""
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def upscale(image: np.ndarray, target: int = 224) -> np.ndarray:
    """Nearest-neighbour enlargement by the integer factor that brings the long side closest to `target`
    (never shrinks): every pixel becomes a k x k square, values unchanged. (H, W[, C]) -> (kH, kW[, C])."""
    k = max(1, int(round(target / max(image.shape[:2]))))
    return image if k == 1 else np.repeat(np.repeat(image, k, axis=0), k, axis=1)


def pad_centre(x: np.ndarray, size: int) -> np.ndarray:
    """Zero-pad the last two axes of `x` (..., H, W) to (..., size, size), the image centred (an odd
    remainder goes to the bottom/right). Sides already >= size are left as they are."""
    total_h, total_w = max(0, size - x.shape[-2]), max(0, size - x.shape[-1])
    pad = [(0, 0)] * (x.ndim - 2) + [(total_h // 2, total_h - total_h // 2), (total_w // 2, total_w - total_w // 2)]
    return np.pad(x, pad)


def crop_centre(x: np.ndarray, height: int, width: int) -> np.ndarray:
    """The centre (height, width) window of the last two axes of `x` (..., H, W): the inverse of pad_centre."""
    top, left = (x.shape[-2] - height) // 2, (x.shape[-1] - width) // 2
    return x[..., top: top + height, left: left + width]


def png_bytes(image: np.ndarray) -> bytes:
    """A uint8 (H, W) or (H, W, 3|4) array (or a float one in [0, 1], converted by to_uint8) as PNG bytes."""
    array = image if image.dtype == np.uint8 else to_uint8(image)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG")
    return buffer.getvalue()


def png_data_uri(image: np.ndarray) -> str:
    """`image` as a data:image/png;base64 URI, for gr.HTML players and inline pictures."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def colormap(values: np.ndarray, vmax: float) -> np.ndarray:
    """(H, W) values in [0, vmax] -> (H, W, 3) uint8 on the inferno-like ramp (0 black, vmax pale yellow);
    values above vmax take the top colour."""
    t = np.clip(np.asarray(values, np.float64) / max(float(vmax), 1e-12), 0.0, 1.0)
    rgb = np.stack([np.interp(t, INFERNO_STOPS, INFERNO_RGB[:, i]) for i in range(3)], axis=-1)
    return np.round(rgb).astype(np.uint8)


def min_max_grey(values: np.ndarray) -> np.ndarray:
    """Any real (H, W) array scaled to its own range as uint8 (a constant array is black)."""
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values, dtype=np.float64)
    return to_uint8(scaled)
