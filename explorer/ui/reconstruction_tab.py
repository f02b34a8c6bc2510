"""Reconstruction tab: what a VAE keeps and loses. Pick a held-out digit or photo, upload or draw; see
original, reconstruction and error map (PNG, lossless), MSE/PSNR/SSIM, the latent itself, mean against
sampled z, a second model side by side, and the rate-distortion answer to "why 4 latent channels?".

Public API: /reconstruct (image file, model name[, sample, seed, fit]) -> reconstruction PNG + JSON.
All logic lives in explorer/reconstruction.py and explorer/image_input.py; this file only wires, and words in
the page's language what those pure modules return as data (notes and refusals as image_input Phrases, channel
ranges, rate-distortion points); the figure is redrawn when the language changes. The API keeps English.
"""
from __future__ import annotations

from functools import lru_cache

import gradio as gr
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import data
from ..compression import format_ratio
from ..image_input import PHRASES, ImageInputError, Phrase, Phrases, load_image, refuse
from ..reconstruction import (Reconstruction, channel_gains, colormap, error_scale, latent_channel_images,
                              rate_distortion_points, reconstruct, reconstruct_any, sampling_noise, sd3_points,
                              to_uint8, upscale)
from .i18n import bilingual, normalise_lang, register, text, tr, tr_pair
from .learn import maths_panel

STRINGS = {
    "rec.intro": (
        "### What does the VAE keep, and what does it lose?\n"
        "Pick a held-out digit or photo (never seen in training), upload an image or draw a digit. The encoder "
        "squeezes it into a small latent $z$; the decoder rebuilds the image from $z$ alone. The heat map shows "
        "where the two differ. Images are served as lossless PNG; metrics are measured on exactly the pixels shown, "
        "at the model's working size (digits 28x28; photos up to 512 px on the long side, a multiple of $f$).",
        "### VAE 保留了什么，又丢掉了什么？\n"
        "选择一个留出的数字或照片（训练从未见过），或上传图片、手绘一个数字。编码器把它压缩成一个小小的潜变量 $z$，"
        "解码器只凭 $z$ 重建图像。热力图显示两者的差别。图像以无损 PNG 传输；指标就在显示的像素上、在模型的工作分辨率下计算"
        "（数字 28x28；照片长边最多 512 像素，且为 $f$ 的整数倍）。"),
    "rec.examples": ("Held-out examples", "留出样本"),
    "rec.gallery": ("Click one (digits: MNIST test split; photos: astronaut, coffee)",
                    "点击选择（数字：MNIST 测试集；照片：astronaut、coffee）"),
    "rec.upload": ("Upload", "上传"),
    "rec.upload_file": ("Image file (PNG, JPEG, GIF, BMP, TIFF, WebP; up to 10 MB)",
                        "图片文件（PNG、JPEG、GIF、BMP、TIFF、WebP；最大 10 MB）"),
    "rec.draw": ("Draw", "手绘"),
    "rec.sketch": ("Draw a digit (it is centred and scaled like MNIST)", "画一个数字（会像 MNIST 那样居中并缩放）"),
    "rec.use_sketch": ("Reconstruct my drawing", "重建我的手绘"),
    "rec.model": ("Model", "模型"),
    "rec.latent_mode": ("Latent z", "潜变量 z"),
    "rec.mean": ("posterior mean  z = μ", "后验均值  z = μ"),
    "rec.sample": ("sample  z = μ + σ·ε", "采样  z = μ + σ·ε"),
    "rec.seed": ("Seed for ε", "ε 的随机种子"),
    "rec.fit": ("Photos: fit to a multiple of f by", "照片：调整为 f 的整数倍的方式"),
    "rec.crop": ("centre crop", "中心裁剪"),
    "rec.resize": ("resize", "缩放"),
    "rec.compare": ("Compare with (optional)", "对比模型（可选）"),
    "rec.none": ("(none)", "（无）"),
    "rec.original": ("Original (model input)", "原图（模型输入）"),
    "rec.reconstruction": ("Reconstruction", "重建"),
    "rec.error": ("|error| heat map", "|误差| 热力图"),
    "rec.recon_b": ("Reconstruction, compared model", "重建（对比模型）"),
    "rec.error_b": ("|error|, compared model (same colour scale)", "|误差|（对比模型，同一色标）"),
    "rec.channels": ("The latent z, one image per channel", "潜变量 z：每个通道一张图"),
    "rec.rd_title": ("### Why 4 latent channels, not 3? Measured", "### 为什么是 4 个潜通道而不是 3 个？用测量回答"),
    "rec.rd_plot": ("Rate-distortion: held-out PSNR against latent channels and compression ratio",
                    "率失真：留出集 PSNR 随潜通道数与压缩率的变化"),
    "rec.rd_explain": (
        "More channels let the VAE keep more of the image, so PSNR rises with $c$. But every channel also makes "
        "the latent bigger (at $f=8$, $c=4$ is 48x fewer numbers than the RGB pixels, $c=16$ only 12x), and the "
        "diffusion model must model and process every one of those numbers at every denoising step. So $c$ is a "
        "trade-off: the VAE's reconstruction quality caps the quality of every generated image, while a bigger "
        "latent costs the diffusion model compute and capacity. Nothing magic separates 3 from 4: it is one step "
        "on this curve (the table measures that step here). The Latent Diffusion paper found $f$ = 4 to 16 "
        "balances quality and speed, and Stable Diffusion 1.x/2.x and SDXL use its $f=8$, $c=4$ setting. SD3 "
        "moved to 16 channels (+3.5 dB over 4 in its Table 3), with a much larger diffusion model to use them.\n\n"
        "**Read with care:** the SD3 points are photos from a different data set; compare the *shape* of the two "
        "curves, not their absolute dB. Our points are the 500 held-out MNIST digits (posterior mean), read from "
        "each checkpoint's metrics.json; `python -m explorer.evaluation` re-measures them.",
        "通道越多，VAE 能保留的信息越多，所以 PSNR 随 $c$ 上升。但每多一个通道，潜变量也更大（$f=8$ 时，$c=4$ 比 RGB "
        "像素少 48 倍，$c=16$ 只少 12 倍），而扩散模型在每一步去噪时都要建模并处理其中的每一个数字。所以 $c$ 是一种权衡："
        "VAE 的重建质量是所有生成图像质量的上限，而更大的潜变量要花费扩散模型更多的计算与容量。3 和 4 之间没有什么魔法："
        "它只是这条曲线上的一步（下表给出本机实测的这一步）。Latent Diffusion 论文发现 $f$ = 4 到 16 能兼顾质量与速度，"
        "Stable Diffusion 1.x/2.x 与 SDXL 采用了其中 $f=8$、$c=4$ 的设置。SD3 改用 16 个通道（其表 3：比 4 通道高 "
        "3.5 dB），并配以大得多的扩散模型来利用它们。\n\n"
        "**注意：** SD3 的点来自另一个数据集上的照片；请比较两条曲线的*形状*，而不是绝对 dB 值。我们的点是 500 个留出的 "
        "MNIST 数字（后验均值），读自每个检查点的 metrics.json；`python -m explorer.evaluation` 可重新测量。"),
    "rec.bad_input": ("This input cannot be used", "无法使用此输入"),
    "rec.failed": ("The model could not process this input", "模型无法处理此输入"),
    "rec.no_vae": ("No VAE checkpoint is installed yet.", "尚未安装任何 VAE 检查点。"),
    "rec.note_a": ("**{model}** input {shape}: {note}; {z}.", "**{model}** 输入 {shape}：{note}；{z}。"),
    "rec.note_b": ("**{model}** input {shape}: {note}.", "**{model}** 输入 {shape}：{note}。"),
    "rec.z_mean": ("z = posterior mean", "z = 后验均值"),
    "rec.z_sampled": ("z sampled (seed {seed})", "z 为采样（种子 {seed}）"),
    "rec.scale": ("Heat map colour scale: black = 0, pale yellow = {vmax} (max |error|{both}); 1.0 would be full "
                  "white-black contrast. Small images are shown enlarged with nearest neighbour (each pixel a square); "
                  "metrics use the working-size arrays.",
                  "热力图色标：黑 = 0，浅黄 = {vmax}（|误差| 的最大值{both}）；1.0 对应黑白之间的全部反差。小图用最近邻放大显示"
                  "（每个像素一个方块）；指标在工作分辨率的数组上计算。"),
    "rec.both": (" of both models", "，取两个模型中的较大者"),
    "rec.metrics_header": ("| model | MSE | PSNR (dB) | SSIM | latent | ratio | KL (nats) |",
                           "| 模型 | MSE | PSNR (dB) | SSIM | 潜变量 | 压缩率 | KL (nats) |"),
    "rec.latent_head": ("**z shape** {shape} = {numbers} numbers; **image** {image} = {pixels} numbers; **ratio** "
                        "{pixels} / {numbers} = **{ratio}x** for this image.",
                        "**z 形状** {shape} = {numbers} 个数；**图像** {image} = {pixels} 个数；**压缩率** "
                        "{pixels} / {numbers} = **{ratio}x**（针对这张图像）。"),
    "rec.sigma": ("Posterior σ: mean {mean}, max {max} (sampling adds σ·ε; a tiny σ means sampling barely changes z).",
                  "后验 σ：平均 {mean}，最大 {max}（采样加上 σ·ε；σ 很小时，采样几乎不改变 z）。"),
    "rec.noise": ("**Sampling noise** (this sample against the posterior-mean reconstruction): max pixel change {max}, "
                  "mean {mean}, PSNR {psnr}.",
                  "**采样噪声**（本次采样与后验均值重建相比）：像素最大变化 {max}，平均 {mean}，PSNR {psnr}。"),
    "rec.identical": ("∞ (identical)", "∞（完全相同）"),
    "rec.flat": ("This VAE's latent is just these numbers (no spatial layout, so no channel images):",
                 "这个 VAE 的潜变量就是这几个数（没有空间结构，所以没有通道图）："),
    "rec.flat_header": ("| | μ | σ | z used |", "| | μ | σ | 使用的 z |"),
    "rec.rd_header": ("| sweep | c | PSNR (dB) | ratio | step | dB per doubling of c |",
                      "| 系列 | c | PSNR (dB) | 压缩率 | 变化 | c 每翻一倍的 dB |"),
    "rec.rd_ours": ("ours (MNIST, f=4)", "本项目（MNIST，f=4）"),
    "rec.rd_sd3": ("SD3 paper (photos, f=8)", "SD3 论文（照片，f=8）"),
    "rec.rd_missing": ("{n} of the 5 MNIST channel-sweep checkpoints (c1, c2, c3, c4, c8) are installed; the rest "
                       "appear here once trained.",
                       "MNIST 通道扫描的 5 个检查点（c1、c2、c3、c4、c8）中已安装 {n} 个；其余训练完成后会出现在这里。"),
    "rec.rd_left": ("PSNR vs latent channels c", "PSNR 与潜通道数 c"),
    "rec.rd_right": ("PSNR vs compression ratio (pixels / latent numbers)", "PSNR 与压缩率（像素数 / 潜变量的数）"),
    "rec.rd_ours_trace": ("ours: SD-style VAE, MNIST, f=4", "本项目：SD 式 VAE，MNIST，f=4"),
    "rec.rd_sd3_trace": ("SD3 paper Table 3: photos, f=8 (different data set)", "SD3 论文表 3：照片，f=8（不同数据集）"),
    "rec.rd_others_trace": ("ours: other shipped VAEs", "本项目：其他随附的 VAE"),
    "rec.rd_sd3_point": ("SD3 paper, {channels} ch", "SD3 论文，{channels} 通道"),
    "rec.rd_x_channels": ("latent channels c", "潜通道数 c"),
    "rec.rd_x_ratio": ("compression ratio (x)", "压缩率（倍）"),
    "rec.rd_y": ("held-out PSNR (dB)", "留出集 PSNR (dB)"),
    "rec.ds_mnist": ("MNIST digits", "MNIST 数字"),
    "rec.ds_photos": ("photos", "照片"),
    "rec.channel_caption": ("channel {channel}: [{low:.2f}, {high:.2f}]", "通道 {channel}：[{low:.2f}, {high:.2f}]"),
    "rec.bad_seed": ("seed must be a whole number from 0 to 2147483647, got {value}",
                     "种子必须是 0 到 2147483647 之间的整数，收到的是 {value}"),
    "rec.no_example": ("no example {index}", "没有第 {index} 个样本"),
}

# Chinese for every note and refusal of explorer/image_input.py (its PHRASES hold the English), as "rec.in.<code>".
PHRASES_ZH = {
    "exif_unreadable": "EXIF 数据无法读取，已忽略",
    "exif_unapplied": "无法应用 EXIF 方向 {orientation}，按存储的方向使用",
    "exif_rotated": "已按 EXIF 方向 {orientation} 转正",
    "sixteen_bit": "16 位图像已缩放到 [0, 1]",
    "integer_scaled": "整数图像已乘以 1/{scale:.0f}",
    "float_image": "浮点图像",
    "float_scaled": "浮点图像已乘以 1/{scale:.3g}",
    "palette": "调色板图像已展开",
    "cmyk": "CMYK 已转换为 RGB",
    "mode_converted": "{mode} 已转换为 RGB",
    "first_frame": "使用了 {frames} 帧中的第一帧",
    "transparency": "含有透明部分",
    "ink_inverted": "浅色背景上的深色笔迹，已反转为 MNIST 的黑底白字",
    "ink_light": "深色背景上的浅色笔迹",
    "colour_to_grey": "彩色已转换为灰度",
    "digit_as_is": "28x28 输入按原样使用（{details}）",
    "digit_centred": "{width}x{height} -> 28x28（仿照 MNIST）：{details}；裁剪到笔迹范围，缩放进 20x20 的框内，按质心居中",
    "alpha_to_white": "透明部分已铺到白色背景上",
    "grey_to_rgb": "灰度已复制到 R、G、B 三个通道",
    "long_side_capped": "已缩放 {width}x{height} -> {new_w}x{new_h}（为节省 CPU 时间，长边最多 {max_side} 像素）",
    "centre_cropped": "已中心裁剪 {width}x{height} -> {new_w}x{new_h}（f={factor} 的整数倍）",
    "resized_to_f": "已缩放 {width}x{height} -> {new_w}x{new_h}（f={factor} 的整数倍；宽高比略有变化）",
    "resized_to_f_same_aspect": "已缩放 {width}x{height} -> {new_w}x{new_h}（f={factor} 的整数倍）",
    "photo_on_digit_model": "这看起来是一张照片：数字 VAE 只会从中看出一个 28x28 的数字（要把它当作照片重建，请选择照片 VAE，"
                            "例如 sd-vae-photos-f8c4）",
    "photo_as_is": "{width}x{height} 按原样使用（已是 f={factor} 的整数倍）",
    "no_pixels": "图像没有像素（{width}x{height}）",
    "too_many_pixels": "图像为 {width}x{height} 像素（{megapixels:.0f} 百万像素）；上限为 {max_megapixels:.0f} 百万像素、"
                       "每边 {max_side} 像素（它可能是解压炸弹）",
    "too_small": "图像为 {width}x{height} 像素；每边至少需要 {min_side} 像素",
    "too_narrow": "图像为 {width}x{height} 像素：宽高比超过 {max_aspect:.0f}:1，既不是照片也不是数字",
    "empty_file": "文件是空的",
    "file_too_big": "文件大小为 {megabytes:.1f} MB；上限为 {limit:.0f} MB",
    "bomb": "被判定为解压炸弹而拒绝：{detail}",
    "not_an_image": "这不是本应用能读取的图像文件（支持：{formats}）",
    "unreadable": "图像文件已损坏或无法读取（{detail}）",
    "truncated": "图像文件已损坏或被截断（{detail}）",
    "unsupported_mode": "不支持的图像模式 {mode!r}（{detail}）",
    "bad_array_shape": "图像数组的形状必须是 (H, W)、(H, W, 3) 或 (H, W, 4)，而不是 {shape}",
    "bad_array_type": "不支持的数组类型 {dtype}",
    "no_image": "没有提供图像",
    "empty_drawing": "画布是空的",
    "file_not_found": "找不到上传的文件",
    "unreadable_source": "无法从 {kind} 类型的对象读取图像",
    "fully_transparent": "图像完全透明：什么也没画",
    "no_contrast": "没有找到数字：图像是空白的，或几乎没有对比度",
    "blank": "没有找到数字：图像是空白的",
    "bad_fit": "fit 必须是 'crop' 或 'resize'，而不是 {mode!r}",
    "too_small_for_f": "缩放后图像为 {width}x{height} 像素；每边至少需要 f={factor} 像素",
}
# A code without Chinese registers an empty text, which tests/test_i18n.py reports.
STRINGS.update({f"rec.in.{code}": (english, PHRASES_ZH.get(code, "")) for code, english in PHRASES.items()})
register(STRINGS)

LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]
NONE = "(none)"
DEFAULT_MODEL = "sd-vae-mnist-c4"
DISPLAY_SIDE = 224  # small images are enlarged (nearest neighbour, values unchanged) to about this size
JOINERS = {"en": "; ", "zh": "；"}  # between the phrases of a note
DATASET_KEYS = {"mnist": "rec.ds_mnist", "photos": "rec.ds_photos"}
BLUE, GREY, RED = "#1f77b4", "#7f7f7f", "#d62728"


# ---- sources ------------------------------------------------------------------------------------------
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


def resolve(source: dict):
    """A source description (kept in gr.State) -> something image_input.load_image reads."""
    kind = source.get("kind") if isinstance(source, dict) else None
    if kind == "digit":
        return data.load_mnist("test").images[int(source["index"])]
    if kind == "photo":
        return data.load_photo(source["name"])
    if kind in ("file", "sketch"):
        return source["value"]
    raise refuse("no_image")


# ---- words in the page's language ---------------------------------------------------------------------
def localise(item, lang: str | None):
    """A Phrase or Phrases from explorer.image_input (nested ones too) in `lang`; anything else unchanged."""
    if isinstance(item, Phrases):
        return JOINERS[normalise_lang(lang)].join(localise(part, lang) for part in item.parts)
    if isinstance(item, Phrase):
        return text(f"rec.in.{item.code}", lang, **{k: localise(v, lang) for k, v in item.values.items()})
    return item


def message(key: str, lang: str | None, detail) -> str:
    """An error message in the page's language; for the API (`lang` None) the headline in both languages and
    the detail in English. `detail`: text, a Phrase, or an exception (an ImageInputError's phrase is used)."""
    if not lang:
        return f"{bilingual(key)}: {detail}"
    phrase = detail.phrase if isinstance(detail, ImageInputError) else None
    return f"{text(key, lang)}: {localise(phrase or detail, lang)}"


def dataset_name(dataset, lang: str) -> str:
    """A data set's name in `lang` (an unknown one as it is)."""
    return text(DATASET_KEYS[dataset], lang) if dataset in DATASET_KEYS else str(dataset)


# ---- figures and text ---------------------------------------------------------------------------------
def rate_distortion_figure(points: list[dict], lang: str = "en") -> go.Figure:
    """Left: PSNR vs latent channels (our f=4 MNIST sweep, SD3's f=8 photo sweep). Right: PSNR vs
    compression ratio for every shipped VAE, with SD3 beside them. Every label in `lang`."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(text("rec.rd_left", lang), text("rec.rd_right", lang)))
    sweep = sorted((p for p in points if p["sweep"]), key=lambda p: p["channels"])
    sd3 = sd3_points()
    _channel_traces(fig, sweep, sd3, lang)
    _ratio_traces(fig, sweep, sd3, [p for p in points if not p["sweep"]], lang)
    fig.update_xaxes(title_text=text("rec.rd_x_channels", lang), type="log", tickvals=[1, 2, 3, 4, 8, 16],
                     row=1, col=1)
    fig.update_xaxes(title_text=text("rec.rd_x_ratio", lang), type="log", row=1, col=2,
                     tickvals=[1, 2, 5, 10, 20, 50, 100, 200, 500, 1000])
    fig.update_yaxes(title_text=text("rec.rd_y", lang), row=1, col=1)
    fig.update_layout(height=440, margin={"l": 50, "r": 20, "t": 64, "b": 40},  # titles clear the block label
                      legend={"orientation": "h", "y": -0.2})
    return fig


def _channel_traces(fig: go.Figure, sweep: list[dict], sd3: list[dict], lang: str) -> None:
    """The left panel: PSNR against c for our sweep (with the legend entries) and SD3's."""
    if sweep:
        fig.add_trace(go.Scatter(
            x=[p["channels"] for p in sweep], y=[p["psnr"] for p in sweep], mode="lines+markers+text",
            text=[f"{p['psnr']:.1f}" for p in sweep], textposition="top center",
            name=text("rec.rd_ours_trace", lang), marker={"size": 10, "color": BLUE}, legendgroup="ours",
            hovertext=[f"{p['name']}: {p['psnr']:.2f} dB, {format_ratio(p['compression_ratio'])}x" for p in sweep],
            hoverinfo="text"), row=1, col=1)
    fig.add_trace(go.Scatter(
        x=[p["channels"] for p in sd3], y=[p["psnr"] for p in sd3], mode="lines+markers+text",
        text=[f"{p['psnr']:.2f}" for p in sd3], textposition="bottom center", name=text("rec.rd_sd3_trace", lang),
        line={"dash": "dash", "color": GREY}, marker={"symbol": "square", "size": 9, "color": GREY},
        legendgroup="sd3"), row=1, col=1)


def _ratio_traces(fig: go.Figure, sweep: list[dict], sd3: list[dict], others: list[dict], lang: str) -> None:
    """The right panel: PSNR against compression ratio for SD3, our sweep and our other VAEs."""
    fig.add_trace(go.Scatter(
        x=[p["compression_ratio"] for p in sd3], y=[p["psnr"] for p in sd3], mode="lines+markers",
        line={"dash": "dash", "color": GREY}, marker={"symbol": "square", "size": 9, "color": GREY},
        showlegend=False, legendgroup="sd3", hoverinfo="text+y",
        hovertext=[text("rec.rd_sd3_point", lang, channels=p["channels"]) for p in sd3]), row=1, col=2)
    if sweep:
        fig.add_trace(go.Scatter(
            x=[p["compression_ratio"] for p in sweep], y=[p["psnr"] for p in sweep], mode="lines+markers+text",
            text=[f"c{p['channels']}" for p in sweep], textposition="top center", showlegend=False,
            marker={"size": 10, "color": BLUE}, legendgroup="ours",
            hovertext=[p["name"] for p in sweep], hoverinfo="text+y"), row=1, col=2)
    if others:
        fig.add_trace(go.Scatter(
            x=[p["compression_ratio"] for p in others], y=[p["psnr"] for p in others], mode="markers+text",
            text=[p["name"] for p in others], textposition="top left", name=text("rec.rd_others_trace", lang),
            marker={"symbol": "diamond", "size": 10, "color": RED},
            hovertext=[f"{p['name']} ({dataset_name(p['dataset'], lang)}): {p['psnr']:.2f} dB" for p in others],
            hoverinfo="text"), row=1, col=2)


def rate_distortion_table(points: list[dict], lang: str = "en") -> str:
    """Markdown: the measured PSNR step between consecutive channel counts, ours and SD3's."""
    sweep = [p for p in points if p["sweep"]]
    lines = [text("rec.rd_header", lang), "|---|---|---|---|---|---|"]
    for label, series in ((text("rec.rd_ours", lang), sweep), (text("rec.rd_sd3", lang), sd3_points())):
        gains = {g["to"]: g for g in channel_gains(series)}
        for p in sorted(series, key=lambda p: p["channels"]):
            g = gains.get(p["channels"])
            step = f"{g['from']}→{g['to']}: {g['gain_db']:+.2f} dB" if g else ""
            per = f"{g['db_per_doubling']:+.2f}" if g else ""
            ratio = format_ratio(p["compression_ratio"])
            lines.append(f"| {label} | {p['channels']} | {p['psnr']:.2f} | {ratio}x | {step} | {per} |")
    if len(sweep) < 5:
        lines.append(f"\n*{text('rec.rd_missing', lang, n=len(sweep))}*")
    return "\n".join(lines)


def metrics_table(results: list[Reconstruction], lang: str = "en") -> str:
    lines = [text("rec.metrics_header", lang), "|---|---|---|---|---|---|---|"]
    for r in results:
        j = r.as_json()
        psnr = "∞" if j["psnr"] is None else f"{j['psnr']:.2f}"
        shape = "x".join(str(s) for s in j["latent_shape"])
        lines.append(f"| {r.model} | {j['mse']:.5f} | {psnr} | {j['ssim']:.4f} | {shape} | "
                     f"{format_ratio(j['compression_ratio'])}x | {j['kl_nats']:.1f} |")
    return "\n".join(lines)


def latent_text(r: Reconstruction, noise: dict | None = None, lang: str = "en") -> str:
    """Shape, size and ratio of the latent; for a 2-D latent the numbers themselves; with `noise`
    (see sampling_noise), how much the sampled z changed the output."""
    numbers, pixels = r.z.size, r.original.size
    head = (text("rec.latent_head", lang, shape=list(r.z.shape), numbers=f"{numbers:,}", pixels=f"{pixels:,}",
                 image="x".join(map(str, r.original.shape)), ratio=format_ratio(r.compression_ratio)) + "  \n"
            + text("rec.sigma", lang, mean=f"{float(r.std.mean()):.3g}", max=f"{float(r.std.max()):.3g}"))
    if noise is not None:
        psnr = noise["psnr_vs_mean"]
        shown = text("rec.identical", lang) if psnr == float("inf") else f"{psnr:.1f} dB"
        head += "  \n" + text("rec.noise", lang, max=f"{noise['max_abs_change']:.3f}",
                               mean=f"{noise['mean_abs_change']:.4f}", psnr=shown)
    if r.z.ndim == 1:
        rows = "\n".join(f"| z{i + 1} | {r.mean[i]:+.3f} | {r.std[i]:.3f} | {r.z[i]:+.3f} |" for i in range(numbers))
        return f"{head}\n\n{text('rec.flat', lang)}\n\n{text('rec.flat_header', lang)}\n|---|---|---|---|\n{rows}"
    return head


def notes_text(a: Reconstruction, b: Reconstruction | None, vmax: float, lang: str) -> str:
    """The Markdown above the images: each model's input and what was done to it, the z used, and the heat
    map's colour scale (`vmax`, shared by both models)."""
    z_used = text("rec.z_sampled", lang, seed=a.seed) if a.sampled else text("rec.z_mean", lang)
    lines = [text("rec.note_a", lang, model=a.model, shape=_shape(a.original), note=localise(a.note, lang),
                  z=z_used)]
    if b is not None:
        lines.append(text("rec.note_b", lang, model=b.model, shape=_shape(b.original), note=localise(b.note, lang)))
    lines.append(text("rec.scale", lang, vmax=f"{vmax:.3f}", both=text("rec.both", lang) if b else ""))
    return "  \n".join(lines)


def channel_gallery(z: np.ndarray, lang: str) -> list[tuple[np.ndarray, str]]:
    """(image, caption in `lang`) for each channel of a spatial latent (c, h, w)."""
    return [(c.image, text("rec.channel_caption", lang, channel=c.channel, low=c.low, high=c.high))
            for c in latent_channel_images(z)]


def _shape(image: np.ndarray) -> str:
    return "x".join(map(str, image.shape))


def _display(image: np.ndarray) -> np.ndarray:
    return upscale(to_uint8(image), DISPLAY_SIDE)


# ---- the tab ------------------------------------------------------------------------------------------
def build_reconstruction_tab(service, ui=None) -> None:
    """The tab; `ui` (explorer.ui.app.AppContext) gives the page's language for Python-side text."""
    vaes = service.names("vae")
    if not vaes:
        gr.Markdown(tr("rec.no_vae"))
    default_model = DEFAULT_MODEL if DEFAULT_MODEL in vaes else (vaes[0] if vaes else None)
    examples = heldout_examples()

    gr.Markdown(tr("rec.intro"), latex_delimiters=LATEX)
    maths_panel("vae", service)
    source = gr.State(examples[0][0])
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            with gr.Tabs():
                with gr.Tab(tr("rec.examples")):
                    gr.Markdown(tr("rec.gallery"))  # above, not a floating label that covers the top row
                    gallery = gr.Gallery([(img, cap) for _, img, cap in examples], label=tr("rec.gallery"),
                                         show_label=False, columns=3, height="auto", allow_preview=False,
                                         format="png", interactive=False, object_fit="contain")
                with gr.Tab(tr("rec.upload")):
                    upload = gr.File(label=tr("rec.upload_file"), type="filepath",
                                     file_types=[".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"])
                with gr.Tab(tr("rec.draw")):
                    sketch = gr.Sketchpad(label=tr("rec.sketch"), canvas_size=(280, 280), fixed_canvas=True,
                                          type="numpy", image_mode="RGBA", format="png", layers=False,
                                          brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"))
                    use_sketch = gr.Button(tr("rec.use_sketch"), variant="primary")
            model = gr.Dropdown(vaes, value=default_model, label=tr("rec.model"))
            latent_mode = gr.Radio([(tr("rec.mean"), "mean"), (tr("rec.sample"), "sample")], value="mean",
                                   label=tr("rec.latent_mode"))
            with gr.Row():
                seed = gr.Number(0, label=tr("rec.seed"), precision=0, minimum=0, maximum=2**31 - 1)
                fit = gr.Radio([(tr("rec.crop"), "crop"), (tr("rec.resize"), "resize")], value="crop",
                               label=tr("rec.fit"))
            compare = gr.Dropdown([(tr("rec.none"), NONE)] + [(v, v) for v in vaes], value=NONE,
                                  label=tr("rec.compare"))
        with gr.Column(scale=2):
            note = gr.Markdown()
            with gr.Row():
                original = gr.Image(label=tr("rec.original"), format="png", interactive=False, height=260)
                recon = gr.Image(label=tr("rec.reconstruction"), format="png", interactive=False, height=260)
                error = gr.Image(label=tr("rec.error"), format="png", interactive=False, height=260)
            with gr.Row(visible=False) as compare_row:
                recon_b = gr.Image(label=tr("rec.recon_b"), format="png", interactive=False, height=260)
                error_b = gr.Image(label=tr("rec.error_b"), format="png", interactive=False, height=260)
            metrics = gr.Markdown()
            channels = gr.Gallery(label=tr("rec.channels"), columns=8, height=230, allow_preview=False,
                                  format="png", interactive=False, object_fit="contain")
            latent_md = gr.Markdown()

    gr.Markdown(tr("rec.rd_title"))
    points = rate_distortion_points(service)
    rd_plot = gr.Plot(rate_distortion_figure(points, "en"), label=tr("rec.rd_plot"))
    gr.Markdown(tr("rec.rd_explain"), latex_delimiters=LATEX)
    gr.Markdown(tr_pair("rec.rd_table", rate_distortion_table(points, "en"), rate_distortion_table(points, "zh")))
    language = ui.language if ui is not None else gr.State("en")
    language.change(lambda lang: rate_distortion_figure(points, lang), language, rd_plot, api_visibility="private",
                    show_progress="hidden")

    # ---- handlers ---------------------------------------------------------------------------------------
    def checked_seed(seed_value, lang: str | None) -> int:
        try:
            seed_float = float(0 if seed_value is None else seed_value)
        except (TypeError, ValueError):
            seed_float = float("nan")
        if not (seed_float == seed_float and seed_float.is_integer() and 0 <= seed_float <= 2**31 - 1):
            raise gr.Error(message("rec.bad_input", lang, text("rec.bad_seed", lang, value=repr(seed_value))))
        return int(seed_float)

    def run_one(name: str, src: dict, sample: bool, seed_value, fit_mode: str, lang: str | None) -> Reconstruction:
        seed_int = checked_seed(seed_value, lang)
        try:
            return reconstruct_any(service, name, resolve(src), sample=sample, seed=seed_int,
                                   fit=fit_mode or "crop")
        except ImageInputError as exc:
            raise gr.Error(message("rec.bad_input", lang, exc)) from exc
        except (ValueError, RuntimeError) as exc:  # unknown model, or a model that cannot take this input
            raise gr.Error(message("rec.failed", lang, exc)) from exc

    def show(src, name, mode, seed_value, fit_mode, other, lang):
        if not name:
            raise gr.Error(text("rec.no_vae", lang))
        sample = mode == "sample"
        a = run_one(name, src, sample, seed_value, fit_mode, lang)
        b = run_one(other, src, sample, seed_value, fit_mode, lang) if other and other != NONE else None
        vmax = error_scale(a.error, *([b.error] if b else []))
        spatial = a.z.ndim == 3
        noise = sampling_noise(a, reconstruct(service, name, a.original)) if sample else None
        return (notes_text(a, b, vmax, lang), _display(a.original), _display(a.reconstruction),
                upscale(colormap(a.error, vmax), DISPLAY_SIDE), gr.Row(visible=b is not None),
                _display(b.reconstruction) if b else None,
                upscale(colormap(b.error, vmax), DISPLAY_SIDE) if b else None,
                metrics_table([a, b] if b else [a], lang),
                gr.Gallery(value=channel_gallery(a.z, lang) if spatial else [], visible=spatial),
                latent_text(a, noise, lang))

    view_inputs = [source, model, latent_mode, seed, fit, compare, language]
    view_outputs = [note, original, recon, error, compare_row, recon_b, error_b, metrics, channels, latent_md]

    def pick_example(current_model: str, lang: str, evt: gr.SelectData):
        """The clicked example; a photo switches to a photo VAE (a digit back to a digit VAE) when the
        current model was trained on the other kind of image."""
        index = evt.index if isinstance(evt.index, int) else int(evt.index[0])
        if not 0 <= index < len(examples):
            raise gr.Error(message("rec.bad_input", lang, text("rec.no_example", lang, index=index)))
        chosen = examples[index][0]
        wanted = "photos" if chosen["kind"] == "photo" else "mnist"
        current = service.config(current_model).get("dataset") if current_model in vaes else None
        candidates = service.names("vae", dataset=wanted)
        if current != wanted and candidates:
            best = default_model if default_model in candidates else candidates[0]
            return chosen, gr.Dropdown(value=best)
        return chosen, gr.Dropdown()

    def pick_upload(path, lang):
        if not path:
            return gr.update()
        try:
            load_image(path)  # refuse a bad file now, so it never becomes the current source
        except ImageInputError as exc:
            raise gr.Error(message("rec.bad_input", lang, exc)) from exc
        return {"kind": "file", "value": path}

    def pick_sketch(value, lang):
        composite = value.get("composite") if isinstance(value, dict) else value
        if composite is None:  # nothing drawn yet
            raise gr.Error(message("rec.bad_input", lang, refuse("empty_drawing")))
        try:
            load_image(composite)  # validate now; the State keeps the small RGBA array
        except ImageInputError as exc:
            raise gr.Error(message("rec.bad_input", lang, exc)) from exc
        return {"kind": "sketch", "value": composite}

    common = {"api_visibility": "private", "concurrency_id": "reconstruction"}
    gallery.select(pick_example, [model, language], [source, model], **common)
    upload.upload(pick_upload, [upload, language], source, **common)
    use_sketch.click(pick_sketch, [sketch, language], source, **common)
    # No triggers: runs when the page loads (default model, first held-out digit) and whenever any input,
    # the chosen source included, changes.
    gr.on(None, show, view_inputs, view_outputs, trigger_mode="always_last", show_progress="minimal", **common)

    # ---- public API -------------------------------------------------------------------------------------
    api_image = gr.File(visible=False, type="filepath", label="image")
    api_model = gr.Textbox(default_model, visible=False, label="model")
    api_sample = gr.Checkbox(False, visible=False, label="sample")
    api_seed = gr.Number(0, visible=False, label="seed")  # validated by checked_seed (NaN, range, fractions)
    api_fit = gr.Textbox("crop", visible=False, label="fit")
    api_recon = gr.Image(format="png", visible=False, label="reconstruction")
    api_json = gr.JSON(visible=False, label="metrics")
    api_trigger = gr.Button(visible=False)

    def reconstruct_image(image, model, sample=False, seed=0, fit="crop"):
        """Reconstruct an image file with a VAE from /models. Digits are centred and scaled like MNIST
        (28x28); photos are shrunk to 512 px on the long side, then centre-cropped ("crop") or resized
        ("resize") to a multiple of f. Returns the reconstruction as a lossless PNG at the model's working
        size, and JSON {mse, psnr, ssim, latent_shape, compression_ratio, image_shape, latent, seed, kl_nats,
        preprocessing, model}; metrics are measured on the 8-bit arrays the PNGs hold."""
        checked_seed(seed, None)
        if not image:
            raise gr.Error(message("rec.bad_input", None, "no image file was given"))
        if fit not in ("crop", "resize"):
            raise gr.Error(message("rec.bad_input", None, f"fit must be 'crop' or 'resize', not {fit!r}"))
        r = run_one(model, {"kind": "file", "value": image}, bool(sample), seed, fit, None)
        return to_uint8(r.reconstruction), r.as_json()

    api_trigger.click(reconstruct_image, [api_image, api_model, api_sample, api_seed, api_fit],
                      [api_recon, api_json], api_name="reconstruct", concurrency_id="reconstruction")
