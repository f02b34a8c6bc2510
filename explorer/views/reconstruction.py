"""The Reconstruction tab's views: results of explorer/reconstruction.py in, panel images, Markdown, tables and
plotly figures out, every word in the page's language ("en" / "zh"). No Gradio here; tested without a server.

Owns: the tab's static label table (STRINGS, English/中文 pairs that explorer/ui/reconstruction_tab.py registers
with explorer.ui.i18n), the held-out example thumbnails, the displayed panels (nearest-neighbour enlargement,
the error heat map on one shared colour scale), the latent as a channel grid, the notes / metrics / latent
Markdown, a refusal shown in place of results, and the two rate-distortion figures and their table.
Python-made words are Messages (English below, Chinese in explorer/locale_zh.py).
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import plotly.graph_objects as go

from .. import data
from ..compression import format_ratio
from ..imaging import colormap, png_data_uri, to_uint8, upscale
from ..messages import Message, define, word
from ..reconstruction import (Reconstruction, channel_gains, dataset_label, latent_grid, sd3_points)

DISPLAY_SIDE = 224  # small images are enlarged (nearest neighbour, values unchanged) to about this size
BLUE, GREEN, GREY, RED = "#1f77b4", "#2ca02c", "#7f7f7f", "#d62728"

# Static labels of the tab (registered with explorer.ui.i18n by the tab; the browser switches them).
STRINGS = {
    "rec.intro": (
        "### What does the VAE keep, and what does it lose?\n"
        "Pick a held-out digit or photo (never seen in training), upload an image or draw a digit. The encoder "
        "squeezes it into a small latent $z$; the decoder rebuilds the image from $z$ alone. The heat map shows "
        "where the two differ. Images are served as lossless PNG; metrics are measured on exactly the pixels shown, "
        "at the model's working size (digits 28x28; photos at the working size you pick, a multiple of $f$).",
        "### VAE 保留了什么，又丢掉了什么？\n"
        "选择一个留出的数字或照片（训练从未见过），或上传图片、手绘一个数字。编码器把它压缩成一个小小的潜变量 $z$，"
        "解码器只凭 $z$ 重建图像。热力图显示两者的差别。图像以无损 PNG 传输；指标就在显示的像素上、在模型的工作分辨率下计算"
        "（数字 28x28；照片按你选择的工作尺寸，且为 $f$ 的整数倍）。"),
    "rec.examples": ("Held-out examples", "留出样本"),
    "rec.gallery": ("Click one (digits: MNIST test split; photos: astronaut, coffee)",
                    "点击选择（数字：MNIST 测试集；照片：astronaut、coffee）"),
    "rec.upload": ("Upload", "上传"),
    "rec.upload_file": ("Image file (PNG, JPEG, GIF, BMP, TIFF, WebP, PGM; up to 10 MB)",
                        "图片文件（PNG、JPEG、GIF、BMP、TIFF、WebP、PGM；最大 10 MB）"),
    "rec.draw": ("Draw", "手绘"),
    "rec.sketch": ("Draw a digit with the mouse or a finger (it is centred and scaled like MNIST)",
                   "用鼠标或手指画一个数字（会像 MNIST 那样居中并缩放）"),
    "rec.use_sketch": ("Reconstruct my drawing", "重建我的手绘"),
    "rec.model": ("Model", "模型"),
    "rec.latent_mode": ("Latent z", "潜变量 z"),
    "rec.mean": ("posterior mean  z = μ", "后验均值  z = μ"),
    "rec.sample": ("sample  z = μ + σ·ε", "采样  z = μ + σ·ε"),
    "rec.seed": ("Seed for ε (0 to 4294967295; used only when sampling)", "ε 的随机种子（0 到 4294967295；仅采样时使用）"),
    "rec.fit": ("Photos: fit to a multiple of f by", "照片：调整为 f 的整数倍的方式"),
    "rec.crop": ("centre crop", "中心裁剪"),
    "rec.resize": ("resize", "缩放"),
    "rec.size": ("Photos: working size (long side, px; 512 costs seconds on a CPU)",
                 "照片：工作尺寸（长边像素；512 在 CPU 上需要数秒）"),
    "rec.compare": ("Compare with (optional)", "对比模型（可选）"),
    "rec.none": ("(none)", "（无）"),
    "rec.original": ("Original (model input)", "原图（模型输入）"),
    "rec.reconstruction": ("Reconstruction", "重建"),
    "rec.error": ("|error| heat map", "|误差| 热力图"),
    "rec.recon_b": ("Reconstruction, compared model", "重建（对比模型）"),
    "rec.error_b": ("|error|, compared model (same colour scale)", "|误差|（对比模型，同一色标）"),
    "rec.channels": ("The latent z, one tile per channel", "潜变量 z：每个通道一块"),
    "rec.rd_title": ("### Why 4 latent channels, not 3? And why do newer VAEs use 16-32? Measured",
                     "### 为什么是 4 个潜通道而不是 3 个？新的 VAE 为什么用 16-32 个？用测量回答"),
    "rec.rd_plot_c": ("Rate-distortion: held-out PSNR against latent channels c", "率失真：留出集 PSNR 随潜通道数 c 的变化"),
    "rec.rd_plot_ratio": ("Rate-distortion: held-out PSNR against compression ratio", "率失真：留出集 PSNR 随压缩率的变化"),
    "rec.rd_explain": (
        "More channels let the VAE keep more of the image, so PSNR rises with $c$. But every channel also makes "
        "the latent bigger (at $f=8$, $c=4$ is 48x fewer numbers than the RGB pixels, $c=16$ only 12x, $c=32$ 6x), "
        "and the diffusion model must model and process every one of those numbers at every denoising step. So $c$ "
        "is a trade-off: the VAE's reconstruction quality caps the quality of every generated image, while a bigger "
        "latent costs the diffusion model compute and capacity. Nothing magic separates 3 from 4: it is one step on "
        "this curve. Stable Diffusion 1.x/2.x and SDXL use $f=8$, $c=4$; SD3 and FLUX.1 moved to 16 channels "
        "(+3.5 dB over 4 in SD3's Table 3) and FLUX.2 to 32, with much larger diffusion models to use them.\n\n"
        "**Read with care:** the SD3 points are photos from a different data set; compare the *shape* of the curves, "
        "not their absolute dB. Our MNIST points are the 500 held-out digits; the photo points (our 4-channel VAE and "
        "FLUX.2's tiny autoencoder taef2, 32 channels) are the same held-out photos, astronaut and coffee; both are "
        "read from each checkpoint's metrics.json and `python -m explorer.evaluation` re-measures them. Our photo "
        "VAE was trained on a dozen photos, taef2 distilled from FLUX.2's VAE: not only the channels differ.",
        "通道越多，VAE 能保留的信息越多，所以 PSNR 随 $c$ 上升。但每多一个通道，潜变量也更大（$f=8$ 时，$c=4$ 比 RGB "
        "像素少 48 倍，$c=16$ 只少 12 倍，$c=32$ 只少 6 倍），而扩散模型在每一步去噪时都要建模并处理其中的每一个数字。"
        "所以 $c$ 是一种权衡：VAE 的重建质量是所有生成图像质量的上限，而更大的潜变量要花费扩散模型更多的计算与容量。"
        "3 和 4 之间没有什么魔法：它只是这条曲线上的一步。Stable Diffusion 1.x/2.x 与 SDXL 采用 $f=8$、$c=4$；SD3 与 "
        "FLUX.1 改用 16 个通道（SD3 表 3：比 4 通道高 3.5 dB），FLUX.2 用 32 个，并配以大得多的扩散模型来利用它们。\n\n"
        "**注意：** SD3 的点来自另一个数据集上的照片；请比较曲线的*形状*，而不是绝对 dB 值。我们的 MNIST 点是 500 个留出的"
        "数字；照片点（我们的 4 通道 VAE 与 FLUX.2 的小型自编码器 taef2，32 通道）在同样的留出照片 astronaut 与 coffee 上"
        "测得；都读自每个检查点的 metrics.json，`python -m explorer.evaluation` 可重新测量。我们的照片 VAE 只用十几张照片"
        "训练，taef2 则蒸馏自 FLUX.2 的 VAE：不同的不只是通道数。"),
    "rec.no_vae": ("No VAE checkpoint is installed yet.", "尚未安装任何 VAE 检查点。"),
}

define({
    "recon.refused": "**This input cannot be used:** {reason}",
    "recon.failed": "**The model could not process this input:** {reason}",
    "recon.cleared": "(The results of the previous input were cleared.)",
    "recon.no_example": "no example {index}",
    "recon.note_a": "**{model}** input {shape}: {note}; {z}.",
    "recon.note_b": "**{model}** input {shape}: {note}.",
    "recon.z_mean": "z = posterior mean",
    "recon.z_sampled": "z sampled (seed {seed})",
    "recon.scale": "Heat map colour scale: black = 0, pale yellow = {vmax} (max |error|{both}); 1.0 would be full "
                   "white-black contrast. Small images are shown enlarged with nearest neighbour (each pixel a square); "
                   "metrics use the working-size arrays.",
    "recon.both": " of both models",
    "recon.metrics_header": "| model | MSE | PSNR (dB) | SSIM | latent | ratio | KL (nats) |",
    "recon.latent_head": "**z shape** {shape} = {numbers} numbers; **image** {image} = {pixels} numbers; **ratio** "
                         "{pixels} / {numbers} = **{ratio}x** for this image.",
    "recon.sigma": "Posterior σ: mean {mean}, max {max} (sampling adds σ·ε; a tiny σ means sampling barely changes z).",
    "recon.noise": "**Sampling noise** (this sample against the posterior-mean reconstruction): max pixel change "
                   "{max}, mean {mean}, PSNR {psnr}.",
    "recon.identical": "∞ (identical)",
    "recon.flat": "This VAE's latent is just these numbers (no spatial layout, so no channel images):",
    "recon.flat_header": "| | μ | σ | z used |",
    "recon.grid": "**{count} channels** of {height}x{width}, {columns} per row, each scaled to its own range "
                  "(black = its minimum, white = its maximum). Values: {ranges}.",
    "recon.grid_range": "c{channel} [{low}, {high}]",
    "recon.grid_span": "from {low} to {high} across channels",
    "recon.rd_header": "| series | model | c | PSNR (dB) | ratio | step | dB per doubling of c |",
    "recon.rd_ours": "ours (MNIST, f=4)",
    "recon.rd_photos": "photo VAEs (held-out photos, f=8)",
    "recon.rd_sd3": "SD3 paper (photos, f=8)",
    "recon.rd_missing": "{n} of the 5 MNIST channel-sweep checkpoints (c1, c2, c3, c4, c8) are installed; the rest "
                        "appear here once trained.",
    "recon.rd_left": "PSNR vs latent channels c",
    "recon.rd_right": "PSNR vs compression ratio",
    "recon.rd_ours_trace": "ours: MNIST, f=4",
    "recon.rd_photo_trace": "photos, f=8: ours c4, taef2 c32",
    "recon.rd_sd3_trace": "SD3 paper: photos, f=8",
    "recon.rd_others_trace": "other VAEs",
    "recon.rd_sd3_point": "SD3 paper, {channels} ch",
    "recon.rd_x_channels": "latent channels c",
    "recon.rd_x_ratio": "compression ratio (pixels / latent numbers)",
    "recon.rd_y": "held-out PSNR (dB)",
})


def say(code: str, lang: str, **values: Any) -> str:
    """Message(code, **values) worded in `lang`."""
    return Message(code, **values).word(lang)


# ---- examples and panels --------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def heldout_examples() -> tuple[tuple[dict, np.ndarray, str], ...]:
    """(source, thumbnail uint8, caption): the first held-out digit of each class, then the held-out photos."""
    test = data.load_mnist("test")
    items = []
    for label in range(10):
        index = int(np.flatnonzero(test.labels == label)[0])
        items.append(({"kind": "digit", "index": index}, upscale(to_uint8(test.images[index]), 56),
                      f"{label} · #{index}"))  # the gallery's label says these are MNIST's test split
    for name in data.photo_names("test"):
        photo = data.load_photo(name)
        step = max(1, max(photo.shape[:2]) // 96)
        items.append(({"kind": "photo", "name": name}, to_uint8(photo[::step, ::step]), name))
    return tuple(items)


# A grid that wraps to the width it gets (5-6 per row on a desktop column, 4 on a phone): every example is
# visible at once, no scroll box (issue 14, D4).
EXAMPLES_CSS = """
.rec-examples { display: grid; grid-template-columns: repeat(auto-fill, minmax(64px, 1fr)); gap: 6px; }
.rec-example { display: flex; flex-direction: column; align-items: center; gap: 2px; padding: 3px; cursor: pointer;
  border: 2px solid transparent; border-radius: 6px; background: var(--block-background-fill, #fff);
  font-size: 11px; color: var(--body-text-color, #222); }
.rec-example img { width: 100%; aspect-ratio: 1 / 1; object-fit: contain; image-rendering: pixelated;
  background: #000; border-radius: 3px; }
.rec-example.photo img { image-rendering: auto; }
.rec-example:hover { border-color: var(--color-accent-soft, #fdba74); }
.rec-example.selected { border-color: var(--color-accent, #f97316); }
"""


def examples_html(examples, selected: int = 0) -> str:
    """The held-out examples as one HTML grid of buttons (data-index = position in `examples`), thumbnails
    inlined as PNG data URIs; the one at `selected` is marked."""
    cells = []
    for i, (source, thumbnail, caption) in enumerate(examples):
        classes = "rec-example" + (" photo" if source.get("kind") == "photo" else "") + \
            (" selected" if i == selected else "")
        cells.append(f'<button type="button" class="{classes}" data-index="{i}" title="{caption}">'
                     f'<img alt="{caption}" src="{png_data_uri(thumbnail)}"><span>{caption}</span></button>')
    return '<div class="rec-examples">' + "".join(cells) + "</div>"


def display(image: np.ndarray) -> np.ndarray:
    """A working-size float image as shown: uint8, enlarged (nearest neighbour) to about DISPLAY_SIDE px."""
    return upscale(to_uint8(image), DISPLAY_SIDE)


def heat_map(error: np.ndarray, vmax: float) -> np.ndarray:
    """|error| (H, W) on the shared colour scale [0, vmax], enlarged like the images."""
    return upscale(colormap(error, vmax), DISPLAY_SIDE)


def channel_grid(z: np.ndarray, lang: str) -> tuple[np.ndarray | None, str]:
    """(grid image or None, Markdown) for a latent: a spatial one (c, h, w) as one tile per channel (any c lays
    out; see reconstruction.latent_grid) with each channel's range (listed up to 8 channels, else the span);
    a flat one gives (None, "")."""
    if z.ndim != 3:
        return None, ""
    grid, columns = latent_grid(z)
    lows, highs = z.reshape(len(z), -1).min(axis=1), z.reshape(len(z), -1).max(axis=1)
    if len(z) <= 8:
        ranges = ", ".join(say("recon.grid_range", lang, channel=i, low=f"{lo:.2f}", high=f"{hi:.2f}")
                           for i, (lo, hi) in enumerate(zip(lows, highs)))
    else:
        ranges = say("recon.grid_span", lang, low=f"{float(lows.min()):.2f}", high=f"{float(highs.max()):.2f}")
    return grid, say("recon.grid", lang, count=len(z), height=z.shape[1], width=z.shape[2], columns=columns,
                     ranges=ranges)


# ---- Markdown --------------------------------------------------------------------------------------------
def refusal_markdown(error: Exception, lang: str, failed: bool = False) -> str:
    """A refused input in place of the results (which are cleared, so nothing old looks current)."""
    code = "recon.failed" if failed else "recon.refused"
    return say(code, lang, reason=word(error, lang)) + "  \n" + say("recon.cleared", lang)


def notes_markdown(a: Reconstruction, b: Reconstruction | None, vmax: float, lang: str,
                   warning: Message | None = None) -> str:
    """The Markdown above the images: each model's input and what was done to it, the z used, the heat map's
    colour scale (`vmax`, shared by both models), and `warning` (e.g. why a comparison was left out)."""
    z_used = say("recon.z_sampled", lang, seed=a.seed) if a.sampled else say("recon.z_mean", lang)
    lines = [say("recon.note_a", lang, model=a.model, shape=_shape(a.original), note=word(a.note, lang), z=z_used)]
    if b is not None:
        lines.append(say("recon.note_b", lang, model=b.model, shape=_shape(b.original), note=word(b.note, lang)))
    if warning is not None:
        lines.append("⚠ " + word(warning, lang))
    lines.append(say("recon.scale", lang, vmax=f"{vmax:.3f}", both=say("recon.both", lang) if b else ""))
    return "  \n".join(lines)


def metrics_table(results: list[Reconstruction], lang: str = "en") -> str:
    """One Markdown row per reconstruction: MSE, PSNR, SSIM, latent shape, compression ratio, KL."""
    lines = [say("recon.metrics_header", lang), "|---|---|---|---|---|---|---|"]
    for r in results:
        j = r.as_json()
        psnr = "∞" if j["psnr"] is None else f"{j['psnr']:.2f}"
        shape = "x".join(str(s) for s in j["latent_shape"])
        lines.append(f"| {r.model} | {j['mse']:.5f} | {psnr} | {j['ssim']:.4f} | {shape} | "
                     f"{format_ratio(j['compression_ratio'])}x | "
                     f"{'–' if j['kl_nats'] is None else format(j['kl_nats'], '.1f')} |")
    return "\n".join(lines)


def latent_markdown(r: Reconstruction, noise: dict | None = None, lang: str = "en") -> str:
    """Shape, size and ratio of the latent; for a flat latent the numbers themselves; with `noise`
    (see reconstruction.sampling_noise), how much the sampled z changed the output."""
    numbers, pixels = r.z.size, r.original.size
    head = (say("recon.latent_head", lang, shape=list(r.z.shape), numbers=f"{numbers:,}", pixels=f"{pixels:,}",
                image="x".join(map(str, r.original.shape)), ratio=format_ratio(r.compression_ratio)) + "  \n"
            + say("recon.sigma", lang, mean=f"{float(r.std.mean()):.3g}", max=f"{float(r.std.max()):.3g}"))
    if noise is not None:
        psnr = noise["psnr_vs_mean"]
        shown = say("recon.identical", lang) if psnr == float("inf") else f"{psnr:.1f} dB"
        head += "  \n" + say("recon.noise", lang, max=f"{noise['max_abs_change']:.3f}",
                              mean=f"{noise['mean_abs_change']:.4f}", psnr=shown)
    if r.z.ndim == 1:
        rows = "\n".join(f"| z{i + 1} | {r.mean[i]:+.3f} | {r.std[i]:.3f} | {r.z[i]:+.3f} |" for i in range(numbers))
        return f"{head}\n\n{say('recon.flat', lang)}\n\n{say('recon.flat_header', lang)}\n|---|---|---|---|\n{rows}"
    return head


def _shape(image: np.ndarray) -> str:
    return "x".join(map(str, image.shape))


# ---- rate-distortion -------------------------------------------------------------------------------------
def _series(points: list[dict]) -> tuple[list[dict], list[dict], list[dict]]:
    """(MNIST channel sweep, f=8 photo VAEs, the rest), each sorted by channels."""
    def key(p):
        return p["channels"]

    sweep = sorted((p for p in points if p["sweep"]), key=key)
    photos = sorted((p for p in points if p.get("photos_f8")), key=key)
    others = [p for p in points if not p["sweep"] and not p.get("photos_f8")]
    return sweep, photos, others


def _layout(fig: go.Figure, title: str, x_title: str, lang: str) -> go.Figure:
    """A figure that reads on a 390 px phone as on a desktop: its title in the layout (left, above the plot
    area), the legend in its own band below the x-axis title, margins that leave room for both."""
    fig.update_layout(title={"text": title, "x": 0, "xanchor": "left", "y": 0.98, "yanchor": "top",
                             "font": {"size": 14}},
                      height=430, margin={"l": 56, "r": 12, "t": 48, "b": 150},
                      legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -0.22, "yanchor": "top",
                              "font": {"size": 11}},
                      xaxis={"title": {"text": x_title, "standoff": 6}},
                      yaxis={"title": {"text": say("recon.rd_y", lang)}})
    return fig


def rate_distortion_figures(points: list[dict], lang: str = "en") -> tuple[go.Figure, go.Figure]:
    """Two single-panel figures (side by side on a desktop, stacked on a phone): PSNR against latent channels
    (our f=4 MNIST sweep; the f=8 photo VAEs, ours c4 and taef2 c32, on the same held-out photos; SD3's
    published f=8 sweep), and PSNR against compression ratio for every shipped VAE with SD3 beside them.
    Every label in `lang`."""
    sweep, photos, others = _series(points)
    sd3 = sd3_points()
    by_c = go.Figure()
    if sweep:
        by_c.add_trace(go.Scatter(
            x=[p["channels"] for p in sweep], y=[p["psnr"] for p in sweep], mode="lines+markers+text",
            text=[f"{p['psnr']:.1f}" for p in sweep], textposition="top center", cliponaxis=False,
            name=say("recon.rd_ours_trace", lang), marker={"size": 9, "color": BLUE}, line={"color": BLUE},
            hovertext=[f"{p['name']}: {p['psnr']:.2f} dB, {format_ratio(p['compression_ratio'])}x" for p in sweep],
            hoverinfo="text"))
    if photos:
        by_c.add_trace(go.Scatter(
            x=[p["channels"] for p in photos], y=[p["psnr"] for p in photos], mode="lines+markers+text",
            text=[p["name"] for p in photos], textposition="middle left", cliponaxis=False,
            name=say("recon.rd_photo_trace", lang), marker={"size": 10, "color": GREEN, "symbol": "diamond"},
            line={"color": GREEN},
            hovertext=[f"{p['name']}: {p['psnr']:.2f} dB, {format_ratio(p['compression_ratio'])}x" for p in photos],
            hoverinfo="text"))
    by_c.add_trace(go.Scatter(
        x=[p["channels"] for p in sd3], y=[p["psnr"] for p in sd3], mode="lines+markers+text",
        text=[f"{p['psnr']:.2f}" for p in sd3], textposition="bottom center", cliponaxis=False,
        name=say("recon.rd_sd3_trace", lang), line={"dash": "dash", "color": GREY},
        marker={"symbol": "square", "size": 8, "color": GREY},
        hovertext=[say("recon.rd_sd3_point", lang, channels=p["channels"]) for p in sd3], hoverinfo="text+y"))
    by_c.update_xaxes(type="log", tickvals=[1, 2, 3, 4, 8, 16, 32])
    _layout(by_c, say("recon.rd_left", lang), say("recon.rd_x_channels", lang), lang)

    by_ratio = go.Figure()
    by_ratio.add_trace(go.Scatter(
        x=[p["compression_ratio"] for p in sd3], y=[p["psnr"] for p in sd3], mode="lines+markers",
        line={"dash": "dash", "color": GREY}, marker={"symbol": "square", "size": 8, "color": GREY},
        name=say("recon.rd_sd3_trace", lang), hoverinfo="text+y",
        hovertext=[say("recon.rd_sd3_point", lang, channels=p["channels"]) for p in sd3]))
    for series, colour, symbol, code in ((sweep, BLUE, "circle", "recon.rd_ours_trace"),
                                         (photos, GREEN, "diamond", "recon.rd_photo_trace"),
                                         (others, RED, "triangle-up", "recon.rd_others_trace")):
        if series:
            by_ratio.add_trace(go.Scatter(
                x=[p["compression_ratio"] for p in series], y=[p["psnr"] for p in series],
                mode="lines+markers" if series is not others else "markers", name=say(code, lang),
                marker={"size": 9, "color": colour, "symbol": symbol}, line={"color": colour},
                hovertext=[f"{p['name']} ({word(dataset_label(p['dataset']), lang)}): {p['psnr']:.2f} dB, "
                           f"{format_ratio(p['compression_ratio'])}x" for p in series], hoverinfo="text"))
    by_ratio.update_xaxes(type="log", tickvals=[2, 5, 10, 20, 50, 100, 200, 500])
    _layout(by_ratio, say("recon.rd_right", lang), say("recon.rd_x_ratio", lang), lang)
    return by_c, by_ratio


def rate_distortion_table(points: list[dict], lang: str = "en") -> str:
    """Markdown: the measured PSNR step between consecutive channel counts, ours (MNIST; photos) and SD3's."""
    sweep, photos, _ = _series(points)
    lines = [say("recon.rd_header", lang), "|---|---|---|---|---|---|---|"]
    for code, series in (("recon.rd_ours", sweep), ("recon.rd_photos", photos), ("recon.rd_sd3", sd3_points())):
        gains = {g["to"]: g for g in channel_gains(series)}
        for p in series:
            g = gains.get(p["channels"])
            step = f"{g['from']}→{g['to']}: {g['gain_db']:+.2f} dB" if g else ""
            per = f"{g['db_per_doubling']:+.2f}" if g else ""
            name = p["name"] if "SD3" not in p["name"] else "-"
            lines.append(f"| {say(code, lang)} | {name} | {p['channels']} | {p['psnr']:.2f} | "
                         f"{format_ratio(p['compression_ratio'])}x | {step} | {per} |")
    if len(sweep) < 5:
        lines.append(f"\n*{say('recon.rd_missing', lang, n=len(sweep))}*")
    return "\n".join(lines)
