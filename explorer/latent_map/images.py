"""Image conversions the latent map sends to the page: [0, 1] floats to the exact uint8 pixels a PNG stores,
lossless PNG bytes and data URIs, and strips / grids of frames. Pure numpy + Pillow."""
from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 (rounded), the exact pixels a PNG stores."""
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    """A (H, W) or (H, W, 3) [0, 1] image as PNG bytes (lossless)."""
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def png_data_uri(image: np.ndarray) -> str:
    """A (H, W) or (H, W, 3) [0, 1] image as a "data:image/png;base64,..." URI (lossless)."""
    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode("ascii")


def image_strip(frames: np.ndarray, gap: int = 2) -> np.ndarray:
    """(n, H, W) -> one (H, n*W + (n-1)*gap) image, white gaps between frames."""
    n, h, w = frames.shape
    strip = np.ones((h, n * w + (n - 1) * gap), dtype=np.float32)
    for i, frame in enumerate(frames):
        strip[:, i * (w + gap): i * (w + gap) + w] = frame
    return strip


def tile_grid(frames: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """(rows*cols, H, W) in row-major order -> one (rows*H, cols*W) image; ValueError if n != rows*cols."""
    n, h, w = frames.shape
    if n != rows * cols:
        raise ValueError(f"{n} frames do not fill a {rows}x{cols} grid")
    return frames.reshape(rows, cols, h, w).transpose(0, 2, 1, 3).reshape(rows * h, cols * w)
