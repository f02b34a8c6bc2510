"""Image quality metrics on [0, 1] float arrays: MSE, PSNR (dB) and SSIM (Wang et al. 2004)."""
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


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two images (H, W) or (H, W, C) in [0, 1], Gaussian window sigma 1.5 as in the paper."""
    from skimage.metrics import structural_similarity

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {a.shape} vs {b.shape}")
    channel_axis = 2 if a.ndim == 3 else None
    return float(structural_similarity(a, b, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False, channel_axis=channel_axis))


def image_metrics(original: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
    value = mse(original, reconstruction)
    return {"mse": value, "psnr": psnr_from_mse(value), "ssim": ssim(original, reconstruction)}
