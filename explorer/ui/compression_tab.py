"""Compression tab: latent size and compression ratio for any resolution, factor and channel count,
with the published VAEs of the field and this project's own models as presets.

Everything worded in Python (the result, both tables, the figure, error messages) follows the page's language
and is redrawn when it changes; explorer.compression gives English refusals with codes, worded here. The tab
updates as the student types: a number it cannot use is shown, marked, in the result area, and the table and
figure (which depend on C, f and c only) are emptied while those are unusable. The /compression API keeps
English and raises."""
from __future__ import annotations

import math

import gradio as gr
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gradio.i18n import I18nData

from ..compression import (PUBLISHED_VAES, QUANTITIES, REFUSALS, CompressionError, check_vae, compression,
                           counted_input_shape, resolution_table, vae_ratio)
from .i18n import LANGUAGES, normalise_lang, register, text, tr, tr_format, tr_pair

STRINGS = {
    "comp.tab": ("Compression", "压缩率"),
    "comp.intro": (
        "### How much smaller is the latent?\n"
        "A VAE with downsampling factor $f$ and $c$ latent channels turns an $H \\times W \\times C$ image into "
        "an $\\frac{H}{f} \\times \\frac{W}{f} \\times c$ latent:\n\n"
        "$$\\text{ratio} = \\frac{H \\cdot W \\cdot C}{\\frac{H}{f} \\cdot \\frac{W}{f} \\cdot c} = \\frac{f^2 C}{c}$$\n\n"
        "Stable Diffusion: $512 \\times 512 \\times 3 = 786{,}432 \\rightarrow 64 \\times 64 \\times 4 = 16{,}384$, "
        "**48x** fewer numbers for the diffusion model to process at every step. Pick a preset or type your own.",
        "### 潜变量（latent）小了多少？\n"
        "下采样因子为 $f$、潜通道数为 $c$ 的 VAE 把 $H \\times W \\times C$ 的图像变成 "
        "$\\frac{H}{f} \\times \\frac{W}{f} \\times c$ 的潜变量：\n\n"
        "$$\\text{压缩率} = \\frac{H \\cdot W \\cdot C}{\\frac{H}{f} \\cdot \\frac{W}{f} \\cdot c} = \\frac{f^2 C}{c}$$\n\n"
        "Stable Diffusion：$512 \\times 512 \\times 3 = 786{,}432 \\rightarrow 64 \\times 64 \\times 4 = 16{,}384$，"
        "扩散模型每一步要处理的数字少了 **48 倍**。选择一个预设，或自己输入。"),
    "comp.preset": ("Preset VAE", "预设 VAE"),
    "comp.height": ("Height H (pixels)", "高度 H（像素）"),
    "comp.width": ("Width W (pixels)", "宽度 W（像素）"),
    "comp.image_channels": ("Image channels C", "图像通道数 C"),
    "comp.factor": ("Downsampling factor f", "下采样因子 f"),
    "comp.latent_channels": ("Latent channels c", "潜通道数 c"),
    "comp.result": ("Result", "结果"),
    "comp.table": ("Common resolutions with this f and c", "此 f 与 c 下的常见分辨率"),
    "comp.presets_table": ("VAEs of the field (published figures) and this project's models (measured here)",
                           "业界 VAE（论文/模型卡数据）与本项目的模型（本机实测）"),
    "comp.plot": ("Latent size against resolution and channels", "潜变量大小随分辨率与通道数的变化"),
    "comp.custom": ("Custom", "自定义"),
    "comp.ours": ("{name} (this project)", "{name}（本项目）"),
    "comp.measured": ("measured here, {split}", "本机实测，{split}"),
    "comp.result_md": (
        "**Pixels** {h} x {w} x {c_img} = **{pixel_dims:,}** elements  \n"
        "**Latent** {lh} x {lw} x {c} = **{latent_dims:,}** elements (shape [{c}, {lh}, {lw}])  \n"
        "**Compression ratio** {pixel_dims:,} / {latent_dims:,} = **{ratio:.1f}x**  \n"
        "**Bytes per latent** fp32 {fp32:,} B, fp16 {fp16:,} B "
        "(the image itself: {pixel_bytes:,} B as 8-bit pixels)",
        "**像素** {h} x {w} x {c_img} = **{pixel_dims:,}** 个元素  \n"
        "**潜变量** {lh} x {lw} x {c} = **{latent_dims:,}** 个元素（形状 [{c}, {lh}, {lw}]）  \n"
        "**压缩率** {pixel_dims:,} / {latent_dims:,} = **{ratio:.1f}x**  \n"
        "**每个潜变量的字节数** fp32 {fp32:,} B，fp16 {fp16:,} B（图像本身：8 位像素共 {pixel_bytes:,} B）"),
    # table columns
    "comp.col_resolution": ("resolution", "分辨率"),
    "comp.col_shape": ("latent shape", "潜变量形状"),
    "comp.col_pixel_dims": ("pixel dims", "像素数"),
    "comp.col_latent_dims": ("latent dims", "潜变量数"),
    "comp.col_ratio": ("ratio", "压缩率"),
    "comp.col_kib": ("latent KiB (fp16)", "潜变量 KiB (fp16)"),
    "comp.col_input": ("input C x H x W", "输入 C x H x W"),
    "comp.col_latent": ("latent c x H/f x W/f", "潜变量 c x H/f x W/f"),
    "comp.padded": ("{shape} (zero-padded to {side}x{side} for the network)", "{shape}（为网络补零到 {side}x{side}）"),
    "comp.refused": ("⚠️ **Cannot compute these numbers:** {problem}.", "⚠️ **无法按这些数字计算：** {problem}。"),
    "comp.fig_no_side": ("No common resolution is divisible by f={factor}", "没有常见分辨率能被 f={factor} 整除"),
    "comp.fig_none": ("No figure for these numbers: {problem}", "这些数字无法作图：{problem}"),
    "comp.col_source": ("source", "来源"),
    # the figure
    "comp.fig_left": ("Latent elements at f={factor}", "f={factor} 时的潜变量元素数"),
    "comp.fig_right": ("Compression ratio vs c", "压缩率随 c 的变化"),
    "comp.x_resolution": ("resolution (square side, px)", "分辨率（正方形边长，像素）"),
    "comp.y_elements": ("latent elements", "潜变量元素数"),
    "comp.y_ratio": ("ratio (x)", "压缩率（倍）"),
}
# Chinese for explorer.compression's refusals (REFUSALS) and the quantities they name (QUANTITIES).
REFUSALS_ZH = {
    "empty": "“{quantity}”输入框是空的，请填写一个整数",
    "not_whole": "{quantity} 必须是整数，收到的是 {value}",
    "out_of_range": "{quantity} 必须在 {low} 到 {high} 之间，收到的是 {number}",
    "not_divisible": "{quantity} {side} 不能被 f={factor} 整除；试试 {lower} 或 {upper}",
    "not_divisible_small": "{quantity} {side} 不能被 f={factor} 整除；试试 {upper}",
}
QUANTITIES_ZH = {"height": "高度", "width": "宽度", "image_channels": "图像通道数", "factor": "下采样因子 f",
                 "latent_channels": "潜通道数 c"}
# The page words a few refusals for a box rather than an API argument.
REFUSALS_UI_EN = {"empty": "the {quantity} box is empty; type a whole number"}
STRINGS.update({f"comp.err.{code}": (REFUSALS_UI_EN.get(code, english), REFUSALS_ZH.get(code, ""))
                for code, english in REFUSALS.items()})
STRINGS.update({f"comp.q.{key}": (english, QUANTITIES_ZH.get(key, "")) for key, english in QUANTITIES.items()})
register(STRINGS)

# Chinese for the words of explorer.compression.PUBLISHED_VAES (names and sources); a name or source left out
# (e.g. "SDXL VAE", a repository id) is the same in both languages.
PRESET_WORDS_ZH = {
    "Chapter VAE (f8, c4)": "本章的 VAE (f8, c4)",
    "SD 1.x / 2.x VAE (original)": "SD 1.x / 2.x VAE（原版）",
    "SD3 VAE (16 ch)": "SD3 VAE（16 通道）",
    "FLUX VAE (16 ch)": "FLUX VAE（16 通道）",
    "SD3 paper, 8 ch": "SD3 论文，8 通道",
    "SD3 paper, 4 ch": "SD3 论文，4 通道",
    "TAESD (tiny SD VAE, ~2.4M params)": "TAESD（微型 SD VAE，约 2.4M 参数）",
    "the chapter": "本章",
    "SD VAE card, COCO 256^2": "SD VAE 模型卡，COCO 256^2",
    "SDXL VAE card, COCO 256^2": "SDXL VAE 模型卡，COCO 256^2",
    "SD3 paper Table 3": "SD3 论文表 3",
    "FLUX.1 config": "FLUX.1 配置文件",
    "LDM paper Table 8, ImageNet val": "LDM 论文表 8，ImageNet 验证集",
}

CUSTOM = "custom"  # the preset dropdown's value for "type your own"
DEFAULT_PRESET = "Chapter VAE (f8, c4)"
RESOLUTION_COLUMNS = ("comp.col_resolution", "comp.col_shape", "comp.col_pixel_dims", "comp.col_latent_dims",
                      "comp.col_ratio", "comp.col_kib")


def preset_word(english: str, lang: str | None) -> str:
    """A published VAE's name or source in `lang`."""
    return PRESET_WORDS_ZH.get(english, english) if normalise_lang(lang) == "zh" else english


def refusal(exc: ValueError, lang: str | None) -> str:
    """compression()'s refusal in `lang` (any other ValueError as it is)."""
    if not isinstance(exc, CompressionError):
        return str(exc)
    return text(f"comp.err.{exc.code}", lang, quantity=text(f"comp.q.{exc.quantity}", lang), **exc.values)


def format_result(height, width, image_channels, factor, latent_channels, lang: str | None = "en") -> str:
    """Markdown for one calculation, in the chapter's printout style, in `lang`. Raises ValueError on bad
    input."""
    r = compression(height, width, image_channels, factor, latent_channels)
    c_img, h, w = r.pixel_shape
    c, lh, lw = r.latent_shape
    return text("comp.result_md", lang, h=h, w=w, c_img=c_img, c=c, lh=lh, lw=lw, pixel_dims=r.pixel_dims,
                latent_dims=r.latent_dims, ratio=r.ratio, fp32=r.bytes_fp32, fp16=r.bytes_fp16,
                pixel_bytes=r.pixel_bytes_uint8)


def table_frame(factor: int, latent_channels: int, image_channels: int, lang: str | None = "en") -> dict:
    """resolution_table as a Dataframe value with headers in `lang` (fp16 size rounded to 0.1 KiB)."""
    rows = [[r["resolution"], r["latent_shape"], r["pixel_dims"], r["latent_dims"], r["ratio"],
             round(r["latent_kib_fp16"], 1)] for r in resolution_table(factor, latent_channels, image_channels)]
    return empty_table_frame(lang) | {"data": rows}


def empty_table_frame(lang: str | None = "en") -> dict:
    """The resolution table's headers in `lang`, with no rows."""
    return {"headers": [text(key, lang) for key in RESOLUTION_COLUMNS], "data": []}


def log_ticks(low: float, high: float) -> list[float]:
    """Clean tick values for a log axis spanning [low, high]: 1, 2, 5 times powers of ten (0.5, 1, 2, 5, 10,
    20, 50, ...), from the last one at or below `low` to the first one at or above `high`."""
    ticks, decade = [], 10.0 ** math.floor(math.log10(low))
    while not ticks or ticks[-1] < high:
        ticks += [round(m * decade, 12) for m in (1, 2, 5)]
        decade *= 10
    first = max(i for i, t in enumerate(ticks) if t <= low)
    last = min(i for i, t in enumerate(ticks) if t >= high)
    return ticks[first:last + 1]


def _log_axis(values: list[float]) -> dict:
    """Axis settings for a log axis over `values` with clean, plainly written ticks (no minor labels)."""
    ticks = log_ticks(min(values), max(values))
    return {"type": "log", "tickmode": "array", "tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}


def ratio_figure(factor: int, image_channels: int = 3, lang: str | None = "en") -> go.Figure:
    """Left: latent elements vs resolution for several c; right: ratio vs c for f = 4, 8, 16. Labels in `lang`."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(text("comp.fig_left", lang, factor=factor),
                                                        text("comp.fig_right", lang)))
    for c in (4, 8, 16):
        rows = resolution_table(factor, c, image_channels)
        fig.add_trace(go.Scatter(x=[row["side"] for row in rows], y=[row["latent_dims"] for row in rows],
                                 mode="lines+markers", name=f"c={c}"), row=1, col=1)
    if not rows:  # say why the left plot is empty
        fig.add_annotation(text=text("comp.fig_no_side", lang, factor=factor), xref="x domain", yref="y domain",
                           x=0.5, y=0.5, showarrow=False)
    channels, ratios = [1, 2, 3, 4, 8, 16, 32, 64], []
    for f in (4, 8, 16):
        ratios += [f * f * image_channels / c for c in channels]
        fig.add_trace(go.Scatter(x=channels, y=ratios[-len(channels):], mode="lines+markers",
                                 name=f"f={f}", line={"dash": "dot"}), row=1, col=2)
    fig.update_xaxes(title_text=text("comp.x_resolution", lang), row=1, col=1)
    fig.update_yaxes(title_text=text("comp.y_elements", lang), row=1, col=1)
    fig.update_xaxes(title_text=text("comp.q.latent_channels", lang), type="log", tickmode="array",
                     tickvals=channels, ticktext=[str(c) for c in channels], row=1, col=2)
    fig.update_yaxes(title_text=text("comp.y_ratio", lang), **_log_axis(ratios), row=1, col=2)
    fig.update_layout(height=410, margin={"l": 40, "r": 20, "t": 40, "b": 80},
                      legend={"orientation": "h", "y": -0.22, "yanchor": "top"})  # below the axis titles
    return fig


def shape_text(shape: list[int]) -> str:
    """[4, 64, 64] -> "4x64x64"."""
    return "x".join(map(str, shape))


def input_text(shape: list[int], pad_to: int | None, lang: str | None) -> str:
    """A VAE's counted input ("1x28x28"), saying so when the network gets it zero-padded to `pad_to`."""
    return text("comp.padded", lang, shape=shape_text(shape), side=pad_to) if pad_to else shape_text(shape)


def _published_rows(lang: str | None) -> list[list]:
    """One row per published VAE, at 512x512x3: name, f, c, input, latent, ratio, PSNR, SSIM, rFID, source
    (words in `lang`)."""
    rows = []
    for p in PUBLISHED_VAES:
        r = compression(512, 512, 3, p.factor, p.latent_channels)
        rows.append([preset_word(p.name, lang), p.factor, p.latent_channels, shape_text(r.pixel_shape),
                     shape_text(r.latent_shape), round(r.ratio, 2), p.psnr, p.ssim, p.rfid,
                     preset_word(p.source, lang)])
    return rows


def _project_row(service, name: str, lang: str | None) -> list:
    """This project's VAE `name` at its own input (digits 28x28x1, photos 512x512x3) with its figures measured
    here, in the columns of _published_rows."""
    shapes, metrics = service.vae_shapes(name), service.metrics(name)
    psnr, ssim, ratio = metrics.get("psnr"), metrics.get("ssim"), vae_ratio(shapes)
    return [text("comp.ours", lang, name=name), shapes.get("factor", "-"), shapes["latent_shape"][0],
            input_text(counted_input_shape(shapes), shapes.get("pad_to"), lang), shape_text(shapes["latent_shape"]),
            None if ratio is None else round(ratio, 2), None if psnr is None else round(psnr, 2),
            None if ssim is None else round(ssim, 3), None, text("comp.measured", lang, split=metrics.get("split", ""))]


def preset_frame(service, lang: str | None = "en") -> dict:
    """Published VAEs, then this project's VAEs with their measured held-out figures, as a Dataframe value
    in `lang`. Each row states the input its ratio counts."""
    rows = _published_rows(lang) + [_project_row(service, name, lang) for name in service.names("vae")]
    headers = ["VAE", "f", "c", text("comp.col_input", lang), text("comp.col_latent", lang),
               text("comp.col_ratio", lang), "PSNR (dB)", "SSIM", "rFID", text("comp.col_source", lang)]
    return {"headers": headers, "data": rows}


def preset_choices(service) -> dict[str, tuple[I18nData, tuple[int, int, int]]]:
    """Preset value (its English name) -> (its label for the dropdown, which the browser switches;
    (image channels, f, c))."""
    choices = {p.name: (tr_pair("comp.preset_name", p.name, preset_word(p.name, "zh")),
                        (3, p.factor, p.latent_channels)) for p in PUBLISHED_VAES}
    for name in service.names("vae"):
        shapes = service.vae_shapes(name)
        if "factor" in shapes:
            choices[text("comp.ours", "en", name=name)] = (
                tr_format("comp.ours", name=name),
                (shapes["input_shape"][0], shapes["factor"], shapes["latent_shape"][0]))
    return choices


def compression_api(height: int, width: int, image_channels: int = 3, factor: int = 8,
                    latent_channels: int = 4) -> dict:
    """Latent size and compression ratio: pixel_dims, latent_shape, latent_dims, ratio (and bytes)."""
    try:
        return compression(height, width, image_channels, factor, latent_channels).as_dict()
    except ValueError as exc:
        raise gr.Error(str(exc)) from exc


def refused_figure(problem: str) -> go.Figure:
    """An empty figure that says why there is nothing to draw."""
    fig = go.Figure()
    fig.add_annotation(text=problem, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False,
                       font={"size": 15})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=410, margin={"l": 40, "r": 20, "t": 40, "b": 80})
    return fig


def on_change(h, w, c_img, f, c, lang: str | None):
    """The result, the resolution table and the figure for the typed numbers, in `lang`. Never raises: a
    number that cannot be used is shown, marked, in the result area instead of a result; the table and figure
    depend on (C, f, c) only, and are emptied (the figure says why) while one of those cannot be used."""
    try:
        result = format_result(h, w, c_img, f, c, lang)
    except ValueError as exc:
        result = text("comp.refused", lang, problem=refusal(exc, lang))
    try:
        c_img, f, c = check_vae(c_img, f, c)
    except ValueError as exc:
        return (result, empty_table_frame(lang),
                refused_figure(text("comp.fig_none", lang, problem=refusal(exc, lang))))
    return result, table_frame(f, c, c_img, lang), ratio_figure(f, c_img, lang)


def preset_after_edit(preset: str | None, presets: dict, image_channels, factor, latent_channels) -> str:
    """The preset dropdown's value once the student has typed (C, f, c): the chosen preset while the boxes still
    hold its numbers, else CUSTOM (a preset is named again only when picked again)."""
    if preset in presets and presets[preset][1] == (image_channels, factor, latent_channels):
        return preset
    return CUSTOM


def build_compression_tab(service, ui=None) -> None:
    """The tab; `ui` (explorer.ui.app.AppContext) gives the page's language, in which the result, the tables
    and the figure are worded and redrawn when it changes."""
    presets = preset_choices(service)
    # no precision/minimum on the boxes: Gradio would round or refuse (in English) before the tab's own checks
    gr.Markdown(tr("comp.intro"), latex_delimiters=[{"left": "$$", "right": "$$", "display": True},
                                                     {"left": "$", "right": "$", "display": False}])
    with gr.Row():
        with gr.Column(scale=1):
            choices = [(tr("comp.custom"), CUSTOM)] + [(label, name) for name, (label, _) in presets.items()]
            preset = gr.Dropdown(choices, value=DEFAULT_PRESET, label=tr("comp.preset"))
            with gr.Row():
                height = gr.Number(512, label=tr("comp.height"))
                width = gr.Number(512, label=tr("comp.width"))
            with gr.Row():
                image_channels = gr.Number(3, label=tr("comp.image_channels"))
                factor = gr.Number(8, label=tr("comp.factor"))
                latent_channels = gr.Number(4, label=tr("comp.latent_channels"))
        with gr.Column(scale=1):
            result = gr.Markdown(format_result(512, 512, 3, 8, 4), label=tr("comp.result"))
    table = gr.Dataframe(value=table_frame(8, 4, 3), label=tr("comp.table"), interactive=False)
    plot = gr.Plot(ratio_figure(8), label=tr("comp.plot"))
    preset_frames = {lang: preset_frame(service, lang) for lang in LANGUAGES}
    preset_table = gr.Dataframe(value=preset_frames["en"], label=tr("comp.presets_table"), interactive=False,
                                wrap=True)
    language = ui.language if ui is not None else gr.State("en")

    def on_preset(name):
        """The preset's (image channels, f, c) into the number boxes ("Custom" leaves them)."""
        if name not in presets:
            return gr.update(), gr.update(), gr.update()
        return presets[name][1]

    preset.change(on_preset, preset, [image_channels, factor, latent_channels], api_visibility="private")
    gr.on([image_channels.input, factor.input, latent_channels.input],
          lambda name, *numbers: preset_after_edit(name, presets, *numbers),
          [preset, image_channels, factor, latent_channels], preset, api_visibility="private",
          show_progress="hidden", trigger_mode="always_last")
    gr.on([height.change, width.change, image_channels.change, factor.change, latent_channels.change,
           language.change], on_change, [height, width, image_channels, factor, latent_channels, language],
          [result, table, plot], api_visibility="private", show_progress="hidden")
    language.change(lambda lang: preset_frames[normalise_lang(lang)], language, preset_table,
                    api_visibility="private", show_progress="hidden")
    gr.api(compression_api, api_name="compression")
