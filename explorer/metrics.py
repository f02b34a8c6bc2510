"""Image quality metrics on [0, 1] float arrays: MSE, PSNR (dB) and SSIM (Wang et al. 2004), the SSIM on a
window that fits small images."""
from __future__ import annotations

import math

import numpy as np


def mse(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    return float(np.mean((a - b) ** 2))


def psnr_from_mse(value: float, data_range: float = 1.0) -> float:
    return math.inf if value <= 0 else 10.0 * math.log10(data_range**2 / value)


def psnr(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    return psnr_from_mse(mse(a, b), data_range)


SSIM_WINDOW = 11  # Wang et al. 2004: an 11x11 Gaussian window, sigma 1.5 (skimage: truncate 3.5 -> radius 5)


def ssim_window(shape: tuple[int, ...]) -> int:
    """The SSIM window side for an image of `shape` (H, W[, C]): 11, or the largest odd side that fits a
    smaller image (e.g. 7 for 8x8, 9 for 9x12). Raises ValueError below 3x3 (no SSIM is defined there)."""
    side = min(shape[:2])
    window = min(SSIM_WINDOW, side if side % 2 else side - 1)
    if window < 3:
        raise ValueError(f"SSIM needs an image of at least 3x3 pixels; got {shape[1]}x{shape[0]}")
    return window


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two images (H, W) or (H, W, C) in [0, 1], Gaussian window sigma 1.5 as in the paper. An image
    smaller than 11x11 is measured on the largest odd window that fits (see ssim_window), with sigma scaled
    down in proportion (radius / 3.5, skimage's truncation); `image_metrics` reports the window used."""
    from skimage.metrics import structural_similarity

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    channel_axis = 2 if a.ndim == 3 else None
    window = ssim_window(a.shape)
    sigma = 1.5 if window == SSIM_WINDOW else (window // 2) / 3.5
    return float(structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=sigma,
                                       use_sample_covariance=False, channel_axis=channel_axis))


def image_metrics(original: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
    """{"mse", "psnr" (dB, inf when identical), "ssim", "ssim_window" (side of the SSIM window used)}."""
    value = mse(original, reconstruction)
    return {"mse": value, "psnr": psnr_from_mse(value), "ssim": ssim(original, reconstruction),
            "ssim_window": ssim_window(np.shape(original))}
