"""What the Denoising tab draws, as pure functions: per-step panels (noisy channels on a diverging colour
scale, decoded images), the frame strip the /generate API returns, the noise-schedule figure and the
latent-vs-pixel comparison rows. Numpy in, uint8 images / plotly figures / dicts out; no models here.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .diffusion import NoiseSchedule

PANEL = 112  # side of a UI panel in pixels (28x28 digits x4; 4 latent channels of 7x7 in a 2x2 grid, x7)
API_PANEL = 56  # side of a panel in the /generate frames (digits x2): small files travel fast
GAP = 4
CHANNEL_RANGE = {"latent": 3.0, "pixel": 1.5}  # colour scale +-range of raw x_t (x_T ~ N(0, I))


def to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 (rounded), the exact pixels a PNG stores."""
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def zoom(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling of (H, W[, C]) by an integer factor (keeps pixels visibly square)."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def diverging(values: np.ndarray, vmax: float) -> np.ndarray:
    """(H, W) values -> (H, W, 3) uint8: blue for negative, white for 0, red for positive, saturating at vmax."""
    v = np.clip(np.asarray(values, dtype=np.float32) / vmax, -1.0, 1.0)[..., None]
    white, red, blue = np.array([1.0, 1.0, 1.0]), np.array([0.80, 0.10, 0.15]), np.array([0.10, 0.30, 0.80])
    rgb = np.where(v >= 0, white + v * (red - white), white - v * (blue - white))
    return to_uint8(rgb)


def channel_panel(x: np.ndarray, vmax: float, size: int = PANEL) -> np.ndarray:
    """(C, h, w) raw sample -> (size, size, 3) uint8: channels tiled in a square grid (1-pixel white
    gaps), each zoomed by the largest integer factor that fits."""
    c, h, w = x.shape
    cols = int(np.ceil(np.sqrt(c)))
    rows = int(np.ceil(c / cols))
    factor = max(1, min((size - (rows - 1)) // (rows * h), (size - (cols - 1)) // (cols * w)))
    grid = np.full((rows * h * factor + (rows - 1), cols * w * factor + (cols - 1), 3), 255, np.uint8)
    for i in range(c):
        r, k = divmod(i, cols)
        top, left = r * (h * factor + 1), k * (w * factor + 1)
        grid[top:top + h * factor, left:left + w * factor] = zoom(diverging(x[i], vmax), factor)
    return _fit(grid, size)


def image_panel(image: np.ndarray, size: int = PANEL) -> np.ndarray:
    """(1, 28, 28) or (28, 28) image in [0, 1] -> (size, size, 3) uint8 grey, zoomed by size // 28."""
    grey = to_uint8(np.asarray(image).reshape(image.shape[-2:]))
    return _fit(np.repeat(zoom(grey, max(1, size // grey.shape[0]))[..., None], 3, axis=2), size)


def _fit(panel: np.ndarray, size: int) -> np.ndarray:
    """Centre a panel on a white size x size canvas."""
    out = np.full((size, size, 3), 255, np.uint8)
    h, w = min(panel.shape[0], size), min(panel.shape[1], size)
    top, left = (size - h) // 2, (size - w) // 2
    out[top:top + h, left:left + w] = panel[:h, :w]
    return out


def step_panels(x_t: np.ndarray, x0_image: np.ndarray, current_image: np.ndarray, space: str,
                size: int = PANEL) -> list[np.ndarray]:
    """The three panels of one step: noisy channels of x_t (C, h, w), decoded x0_hat, decoded x_t."""
    return [channel_panel(x_t, CHANNEL_RANGE[space], size), image_panel(x0_image, size),
            image_panel(current_image, size)]


def frame_strip(panels: list[np.ndarray], gap: int = GAP) -> np.ndarray:
    """Equal square panels side by side with white gaps: one (S, n*S + (n-1)*gap, 3) frame."""
    size = panels[0].shape[0]
    out = np.full((size, len(panels) * size + (len(panels) - 1) * gap, 3), 255, np.uint8)
    for i, p in enumerate(panels):
        out[:, i * (size + gap): i * (size + gap) + size] = p
    return out


# The schedule figure's words, in English; a UI passes its own translation of each (same keys, same fields).
SCHEDULE_LABELS = {
    "x_axis": "timestep t (1000 = pure noise)",
    "abar_axis": "ᾱ_t (signal kept)",
    "snr_axis": "SNR (log)",
    "abar": "ᾱ_t",
    "snr": "SNR = ᾱ/(1-ᾱ)",
    "sampled": "sampled t",
    "now": "now: t={t}",
}


def schedule_figure(schedule: NoiseSchedule, timesteps: list[int] | None = None, current: int | None = None,
                    title: str = "", labels: dict[str, str] | None = None) -> go.Figure:
    """alpha-bar (left axis) and SNR (right axis, log) against t; the run's timesteps as dots; the
    current step as a vertical line with its values. `labels`: the words shown, keyed as SCHEDULE_LABELS
    (its English by default)."""
    words = {**SCHEDULE_LABELS, **(labels or {})}
    abar, snr = schedule.alphas_cumprod.numpy(), schedule.snr().numpy()
    t = np.arange(len(abar))
    every = max(1, len(t) // 250)
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=t[::every], y=abar[::every], name=words["abar"], line={"color": "#1f77b4"}),
                  secondary_y=False)
    fig.add_trace(go.Scatter(x=t[::every], y=snr[::every], name=words["snr"], line={"color": "#d62728", "dash": "dot"}),
                  secondary_y=True)
    if timesteps:
        ts = np.asarray(timesteps)
        fig.add_trace(go.Scatter(x=ts, y=abar[ts], mode="markers", name=words["sampled"],
                                 marker={"size": 5, "color": "#555"},
                                 hovertemplate="t=%{x}<br>ᾱ=%{y:.4f}<extra></extra>"), secondary_y=False)
    if current is not None:
        _current_marker(fig, current, abar, snr, words["now"].format(t=current))
    fig.update_xaxes(title_text=words["x_axis"], range=[-10, len(t) + 10])
    fig.update_yaxes(title_text=words["abar_axis"], range=[0, 1.02], secondary_y=False)
    fig.update_yaxes(title_text=words["snr_axis"], type="log", secondary_y=True)
    fig.update_layout(height=300, margin={"l": 50, "r": 50, "t": 50 if title else 36, "b": 40}, title=title or None,
                      legend={"orientation": "h", "y": -0.3}, uirevision="schedule")
    return fig


def _current_marker(fig: go.Figure, current: int, abar: np.ndarray, snr: np.ndarray, name: str) -> None:
    """The current step: a vertical line, a dot on the ᾱ curve (legend entry `name`) and its values above."""
    fig.add_vline(x=current, line={"color": "#ff7f0e", "width": 3})
    fig.add_trace(go.Scatter(x=[current], y=[abar[current]], mode="markers", name=name,
                             marker={"size": 12, "color": "#ff7f0e"}), secondary_y=False)
    fig.add_annotation(x=current, y=1.02, yref="paper", yanchor="bottom", showarrow=False,
                       xanchor="left" if current < len(abar) / 2 else "right",  # the text stays inside the plot
                       text=f"t={current}  ᾱ={abar[current]:.4g}  SNR={snr[current]:.3g}")


def speedup_rows(latent: dict, pixel: dict | None) -> list[dict]:
    """Comparison rows from two /generate timing dicts (see Generation.timings): what each space costs
    per step and in total, and the ratio pixel / latent where both ran."""
    def ratio(a, b):
        return None if pixel is None or not a or b is None else b / a

    rows = [{"what": "dims", "latent": latent["dims_per_step"], "pixel": pixel and pixel["dims_per_step"],
             "ratio": ratio(latent["dims_per_step"], pixel and pixel["dims_per_step"])},
            {"what": "params", "latent": latent["params"], "pixel": pixel and pixel["params"],
             "ratio": ratio(latent["params"], pixel and pixel["params"])},
            {"what": "step_ms", "latent": latent["median_step_ms"], "pixel": pixel and pixel["median_step_ms"],
             "ratio": ratio(latent["median_step_ms"], pixel and pixel["median_step_ms"])},
            {"what": "denoise_s", "latent": latent["denoise_s"], "pixel": pixel and pixel["denoise_s"],
             "ratio": ratio(latent["denoise_s"], pixel and pixel["denoise_s"])},
            {"what": "decode_s", "latent": latent["decode_s"], "pixel": pixel and pixel["decode_s"], "ratio": None},
            {"what": "total_s", "latent": latent["total_s"], "pixel": pixel and pixel["total_s"],
             "ratio": ratio(latent["total_s"], pixel and pixel["total_s"])}]
    return rows
