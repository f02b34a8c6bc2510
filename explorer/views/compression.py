"""What the Compression tab shows, as plain values: the result Markdown, the resolution table, the two figures,
the preset tables (this project's VAEs, measured here; the field's, published) and the presets' settings.
No Gradio here (tested without a server); explorer/ui/compression_tab.py registers STRINGS and wires it up.

Refusals come from explorer.compression as explorer.messages.Refusal and are worded with `word(err, lang)`;
the UI labels live in STRINGS below ("key": ("English", "中文")), worded here by `text`.
"""
from __future__ import annotations

import math

import plotly.graph_objects as go

from ..compression import (PUBLISHED_VAES, check_vae, compression, counted_input_shape, published_setting,
                           resolution_table, vae_ratio, vae_setting)
from ..messages import normalise_lang, word

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
    "comp.preset": ("Preset VAE (sets H, W, C, f, c and padding)", "预设 VAE（设置 H、W、C、f、c 与补零）"),
    "comp.height": ("Height H (pixels)", "高度 H（像素）"),
    "comp.width": ("Width W (pixels)", "宽度 W（像素）"),
    "comp.image_channels": ("Image channels C", "图像通道数 C"),
    "comp.factor": ("Downsampling factor f", "下采样因子 f"),
    "comp.latent_channels": ("Latent channels c", "潜通道数 c"),
    "comp.zero_pad": ("Zero-pad H and W up to a multiple of f (as chapter-vae-mnist pads 28x28 digits to 32x32)",
                      "把 H 和 W 补零到 f 的倍数（如 chapter-vae-mnist 把 28x28 的数字补到 32x32）"),
    "comp.result": ("Result", "结果"),
    "comp.table": ("Common resolutions with this f and c", "此 f 与 c 下的常见分辨率"),
    "comp.ours_table": ("This project's VAEs (measured here, on images they never saw)",
                        "本项目的 VAE（本机实测，使用训练时未见过的图像）"),
    "comp.field_table": ("VAEs of the field (published figures, at 512x512x3)", "业界的 VAE（论文/模型卡数据，按 512x512x3）"),
    "comp.plot": ("Latent size against resolution and channels", "潜变量大小随分辨率与通道数的变化"),
    "comp.custom": ("Custom", "自定义"),
    "comp.ours": ("{name} (this project)", "{name}（本项目）"),
    "comp.measured": ("measured here, {split}", "本机实测，{split}"),
    "comp.result_md": (
        "**Pixels** {h} x {w} x {c_img} = **{pixel_dims:,}** elements  \n"
        "**Latent** {lh} x {lw} x {c} = **{latent_dims:,}** elements (shape [{c}, {lh}, {lw}])  \n"
        "**Compression ratio** {pixel_dims:,} / {latent_dims:,} = **{ratio}x**  \n"
        "**Bytes per latent** fp32 {fp32:,} B, fp16 {fp16:,} B "
        "(the image itself: {pixel_bytes:,} B as 8-bit pixels)",
        "**像素** {h} x {w} x {c_img} = **{pixel_dims:,}** 个元素  \n"
        "**潜变量** {lh} x {lw} x {c} = **{latent_dims:,}** 个元素（形状 [{c}, {lh}, {lw}]）  \n"
        "**压缩率** {pixel_dims:,} / {latent_dims:,} = **{ratio}x**  \n"
        "**每个潜变量的字节数** fp32 {fp32:,} B，fp16 {fp16:,} B（图像本身：8 位像素共 {pixel_bytes:,} B）"),
    "comp.padded_md": (
        "  \n**Zero-padded** the encoder gets {nh} x {nw} x {c_img}; the ratio counts the image's own "
        "{pixel_dims:,} values, since the padding carries no information.",
        "  \n**补零** 编码器拿到的是 {nh} x {nw} x {c_img}；压缩率只计图像本身的 {pixel_dims:,} 个值，"
        "因为补的零不带任何信息。"),
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
    # the figures
    "comp.fig_left": ("Latent elements at f={factor}", "f={factor} 时的潜变量元素数"),
    "comp.fig_right": ("Compression ratio vs c (C={image_channels})", "压缩率随 c 的变化（C={image_channels}）"),
    "comp.x_resolution": ("resolution (square side, px)", "分辨率（正方形边长，像素）"),
    "comp.y_elements": ("latent elements", "潜变量元素数"),
    "comp.y_ratio": ("ratio (x)", "压缩率（倍）"),
    "comp.x_channels": ("latent channels c", "潜通道数 c"),
}

# Chinese for the words of explorer.compression.PUBLISHED_VAES (names and sources); a name or source left out
# (e.g. "SDXL VAE", a repository id) is the same in both languages.
PRESET_WORDS_ZH = {
    "Chapter VAE (f8, c4)": "本章的 VAE (f8, c4)",
    "SD 1.x / 2.x VAE (original)": "SD 1.x / 2.x VAE（原版）",
    "SD3 VAE (16 ch)": "SD3 VAE（16 通道）",
    "FLUX VAE (16 ch)": "FLUX VAE（16 通道）",
    "FLUX.2 VAE (32 ch)": "FLUX.2 VAE（32 通道）",
    "SD3 paper, 8 ch": "SD3 论文，8 通道",
    "SD3 paper, 4 ch": "SD3 论文，4 通道",
    "TAESD (tiny SD VAE, ~2.4M params)": "TAESD（微型 SD VAE，约 2.4M 参数）",
    "TAEF2 (tiny FLUX.2 VAE, ~2.7M params)": "TAEF2（微型 FLUX.2 VAE，约 2.7M 参数）",
    "the chapter": "本章",
    "SD VAE card, COCO 256^2": "SD VAE 模型卡，COCO 256^2",
    "SDXL VAE card, COCO 256^2": "SDXL VAE 模型卡，COCO 256^2",
    "SD3 paper Table 3": "SD3 论文表 3",
    "FLUX.1 config": "FLUX.1 配置文件",
    "FLUX.2 VAE config": "FLUX.2 VAE 配置文件",
    "LDM paper Table 8, ImageNet val": "LDM 论文表 8，ImageNet 验证集",
}

CUSTOM = "custom"  # the preset dropdown's value for "type your own"
DEFAULT_PRESET = "Chapter VAE (f8, c4)"
INPUTS = ("height", "width", "image_channels", "factor", "latent_channels", "zero_pad")  # a setting's keys
RESOLUTION_COLUMNS = ("comp.col_resolution", "comp.col_shape", "comp.col_pixel_dims", "comp.col_latent_dims",
                      "comp.col_ratio", "comp.col_kib")
FIGURE_HEIGHT = 360


def text(key: str, lang: str | None = "en", **values) -> str:
    """The label `key` of STRINGS in `lang`, formatted with `values`."""
    english, chinese = STRINGS[key]
    chosen = chinese if normalise_lang(lang) == "zh" else english
    return chosen.format(**values) if values else chosen


def preset_word(english: str, lang: str | None) -> str:
    """A published VAE's name or source in `lang`."""
    return PRESET_WORDS_ZH.get(english, english) if normalise_lang(lang) == "zh" else english


def ratio_text(ratio: float) -> str:
    """The result's ratio: one decimal, two when a second is needed (48.0, 16.0, 12.25, 5.33)."""
    return f"{ratio:.1f}" if abs(ratio * 10 - round(ratio * 10)) < 1e-9 else f"{ratio:.2f}"


# ---- the result ----------------------------------------------------------------------------------------------
def format_result(height, width, image_channels, factor, latent_channels, zero_pad=False,
                  lang: str | None = "en") -> str:
    """Markdown for one calculation, in the chapter's printout style, in `lang`. Raises Refusal on bad input."""
    r = compression(height, width, image_channels, factor, latent_channels, zero_pad)
    c_img, h, w = r.pixel_shape
    c, lh, lw = r.latent_shape
    shown = text("comp.result_md", lang, h=h, w=w, c_img=c_img, c=c, lh=lh, lw=lw, pixel_dims=r.pixel_dims,
                 latent_dims=r.latent_dims, ratio=ratio_text(r.ratio), fp32=r.bytes_fp32, fp16=r.bytes_fp16,
                 pixel_bytes=r.pixel_bytes_uint8)
    if r.padded:
        shown += text("comp.padded_md", lang, nh=r.network_shape[1], nw=r.network_shape[2], c_img=c_img,
                      pixel_dims=r.pixel_dims)
    return shown


def table_frame(factor: int, latent_channels: int, image_channels: int, lang: str | None = "en") -> dict:
    """resolution_table as a Dataframe value with headers in `lang` (fp16 size rounded to 0.1 KiB)."""
    rows = [[r["resolution"], r["latent_shape"], r["pixel_dims"], r["latent_dims"], r["ratio"],
             round(r["latent_kib_fp16"], 1)] for r in resolution_table(factor, latent_channels, image_channels)]
    return empty_table_frame(lang) | {"data": rows}


def empty_table_frame(lang: str | None = "en") -> dict:
    """The resolution table's headers in `lang`, with no rows."""
    return {"headers": [text(key, lang) for key in RESOLUTION_COLUMNS], "data": []}


# ---- the figures ---------------------------------------------------------------------------------------------
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


def log_axis(values: list[float]) -> dict:
    """Axis settings for a log axis over `values` with clean, plainly written ticks (no minor labels)."""
    ticks = log_ticks(min(values), max(values))
    return {"type": "log", "tickmode": "array", "tickvals": ticks, "ticktext": [f"{t:g}" for t in ticks]}


def framed(fig: go.Figure, title: str, height: int = FIGURE_HEIGHT) -> go.Figure:
    """One plot per figure, laid out so that nothing overlaps from a 390 px phone to a desktop: the title on
    the top-left line, a one-line horizontal legend under it (above the plot area), axis titles with automatic
    margins, and the mode bar vertical at the right edge (never over the title)."""
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left", "y": 0.98, "yanchor": "top", "yref": "container",
               "font": {"size": 14}},
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.0, "yanchor": "bottom"},
        height=height, margin={"l": 10, "r": 30, "t": 78, "b": 10}, modebar={"orientation": "v"})
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def latent_size_figure(factor: int, image_channels: int = 3, lang: str | None = "en") -> go.Figure:
    """Latent elements against the square resolution, for c = 4, 8, 16 at this f (labels in `lang`); says why
    when no common resolution is divisible by f."""
    fig = go.Figure()
    rows = []
    for c in (4, 8, 16):
        rows = resolution_table(factor, c, image_channels)
        fig.add_trace(go.Scatter(x=[row["side"] for row in rows], y=[row["latent_dims"] for row in rows],
                                 mode="lines+markers", name=f"c={c}"))
    if not rows:
        fig.add_annotation(text=text("comp.fig_no_side", lang, factor=factor), xref="x domain", yref="y domain",
                           x=0.5, y=0.5, showarrow=False)
    fig.update_xaxes(title_text=text("comp.x_resolution", lang))
    fig.update_yaxes(title_text=text("comp.y_elements", lang))
    return framed(fig, text("comp.fig_left", lang, factor=factor))


def ratio_figure(image_channels: int = 3, lang: str | None = "en") -> go.Figure:
    """The ratio f^2 C / c against c (log-log) for f = 4, 8, 16, with clean ticks; labels in `lang`."""
    fig = go.Figure()
    channels, ratios = [1, 2, 3, 4, 8, 16, 32, 64], []
    for f in (4, 8, 16):
        ratios += [f * f * image_channels / c for c in channels]
        fig.add_trace(go.Scatter(x=channels, y=ratios[-len(channels):], mode="lines+markers", name=f"f={f}",
                                 line={"dash": "dot"}))
    fig.update_xaxes(title_text=text("comp.x_channels", lang), type="log", tickmode="array", tickvals=channels,
                     ticktext=[str(c) for c in channels])
    fig.update_yaxes(title_text=text("comp.y_ratio", lang), **log_axis(ratios))
    return framed(fig, text("comp.fig_right", lang, image_channels=image_channels))


def refused_figure(problem: str) -> go.Figure:
    """An empty figure that says why there is nothing to draw."""
    fig = go.Figure()
    fig.add_annotation(text=problem, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font={"size": 14})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.update_layout(height=FIGURE_HEIGHT, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def calculate(height, width, image_channels, factor, latent_channels, zero_pad, lang: str | None) -> tuple:
    """(result Markdown, resolution table, latent-size figure, ratio figure) for the typed numbers, in `lang`.
    Never raises: a number that cannot be used is shown, marked, in the result area instead of a result; the
    table and figures depend on (C, f, c) only, and are emptied (the figures say why) while one of those cannot
    be used."""
    try:
        result = format_result(height, width, image_channels, factor, latent_channels, zero_pad, lang)
    except ValueError as exc:
        result = text("comp.refused", lang, problem=word(exc, lang))
    try:
        image_channels, factor, latent_channels = check_vae(image_channels, factor, latent_channels)
    except ValueError as exc:
        refused = refused_figure(text("comp.fig_none", lang, problem=word(exc, lang)))
        return result, empty_table_frame(lang), refused, refused
    return (result, table_frame(factor, latent_channels, image_channels, lang),
            latent_size_figure(factor, image_channels, lang), ratio_figure(image_channels, lang))


# ---- presets -------------------------------------------------------------------------------------------------
def shape_text(shape: list[int]) -> str:
    """[4, 64, 64] -> "4x64x64"."""
    return "x".join(map(str, shape))


def input_text(shape: list[int], pad_to: int | None, lang: str | None) -> str:
    """A VAE's counted input ("1x28x28"), saying so when the network gets it zero-padded to `pad_to`."""
    return text("comp.padded", lang, shape=shape_text(shape), side=pad_to) if pad_to else shape_text(shape)


def _rounded(value, digits: int):
    return round(value, digits) if isinstance(value, (int, float)) and math.isfinite(value) else None


TABLE_HEADERS = ("VAE", "f", "c", "comp.col_input", "comp.col_latent", "comp.col_ratio", "PSNR (dB)", "SSIM",
                 "rFID", "comp.col_source")


def _headers(lang: str | None, drop: tuple[str, ...] = ()) -> list[str]:
    return [text(h, lang) if h in STRINGS else h for h in TABLE_HEADERS if h not in drop]


def field_frame(lang: str | None = "en") -> dict:
    """The published VAEs at 512x512x3, one row each: name, f, c, input, latent, ratio, PSNR, SSIM, rFID, source
    (words in `lang`), as a Dataframe value."""
    rows = []
    for p in PUBLISHED_VAES:
        r = compression(**published_setting(p))
        rows.append([preset_word(p.name, lang), p.factor, p.latent_channels, shape_text(r.pixel_shape),
                     shape_text(r.latent_shape), round(r.ratio, 2), p.psnr, p.ssim, p.rfid,
                     preset_word(p.source, lang)])
    return {"headers": _headers(lang), "data": rows}


def project_vaes(service) -> list[str]:
    """This project's VAEs that the calculator can reproduce (a spatial latent with a factor f)."""
    return [name for name in service.names("vae") if vae_setting(service.vae_shapes(name)) is not None]


def project_frame(service, lang: str | None = "en") -> dict:
    """This project's VAEs at the input they really run at (digits 28x28x1, photos 512x512x3; an MLP VAE's flat
    code has no f, shown "-"), with the held-out PSNR and SSIM read from each one's metrics.json (empty where none was measured: never made up),
    in the columns of field_frame but rFID (not measured here)."""
    rows = []
    for name in service.names("vae"):
        shapes, metrics = service.vae_shapes(name), service.metrics(name)
        ratio = vae_ratio(shapes)
        split = metrics.get("split")
        rows.append([text("comp.ours", lang, name=name), shapes.get("factor", "-"), shapes["latent_shape"][0],
                     input_text(counted_input_shape(shapes), shapes.get("pad_to"), lang),
                     shape_text(shapes["latent_shape"]), _rounded(ratio, 2),
                     None if metrics.get("untrained") else _rounded(metrics.get("psnr"), 2),
                     None if metrics.get("untrained") else _rounded(metrics.get("ssim"), 3),
                     text("comp.measured", lang, split=split) if split else ""])
    return {"headers": _headers(lang, drop=("rFID",)), "data": rows}  # rFID: not measured here


def preset_settings(service) -> dict[str, dict]:
    """Preset value -> compression()'s keyword arguments (all of INPUTS). This project's VAEs first, named
    "<name> (this project)", at the size they really run at (vae_setting); then the published VAEs at 512x512x3.
    So a preset, its table row and the Reconstruction tab give one ratio."""
    settings = {text("comp.ours", "en", name=name): vae_setting(service.vae_shapes(name))
                for name in project_vaes(service)}
    settings.update({p.name: published_setting(p) for p in PUBLISHED_VAES})
    return settings


def preset_label(value: str, lang: str | None) -> str:
    """A preset's dropdown label in `lang` (its value is the English label)."""
    suffix = text("comp.ours", "en", name="")
    if value.endswith(suffix):
        return text("comp.ours", lang, name=value[:-len(suffix)])
    return preset_word(value, lang)


def preset_after_edit(preset: str | None, settings: dict[str, dict], image_channels, factor,
                      latent_channels) -> str:
    """The preset dropdown's value once the student has typed (C, f, c): the chosen preset while the boxes still
    hold its VAE's numbers (a new H or W keeps the VAE), else CUSTOM (a preset is named again only when picked
    again)."""
    setting = settings.get(preset)
    if setting is not None and (setting["image_channels"], setting["factor"], setting["latent_channels"]) == (
            image_channels, factor, latent_channels):
        return preset
    return CUSTOM


# ---- tables as HTML ------------------------------------------------------------------------------------------
TABLE_CSS = """<style>
.cx-table{overflow-x:auto;max-width:100%;margin:4px 0 12px;scrollbar-width:thin;
  scrollbar-color:var(--neutral-400) transparent}
.cx-table::-webkit-scrollbar{height:8px}.cx-table::-webkit-scrollbar-thumb{background:var(--neutral-400);border-radius:4px}
.cx-table .cx-caption{font-size:var(--text-sm);color:var(--body-text-color-subdued);margin:0 0 4px}
.cx-table table{border-collapse:collapse;font-size:var(--text-sm);width:auto;min-width:100%;margin:0}
.cx-table table th,.cx-table table td{padding:4px 8px !important;border:0;border-bottom:1px solid var(--border-color-primary);
  text-align:left;vertical-align:top;word-break:normal;overflow-wrap:normal;hyphens:none;line-height:1.35}
.cx-table table th{font-weight:600;background:var(--background-fill-secondary);min-width:4em;box-sizing:content-box}
.cx-table table td{white-space:nowrap}
.cx-table table td.cx-num{text-align:right;font-variant-numeric:tabular-nums}
</style>"""


def _cell(value) -> tuple[str, str]:
    """(class, text) of one cell: numbers right-aligned, None empty, text escaped."""
    import html

    if value is None:
        return "cx-num", ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "cx-num", f"{value:g}" if isinstance(value, float) else str(value)
    return "", html.escape(str(value))


def table_html(frame: dict, caption: str, elem_id: str) -> str:
    """A table value ({"headers", "data"}) as an HTML table for gr.HTML: sized by its content, each cell on one
    line (headers wrap only between words: never inside a word or a number), scrolling sideways in its own box,
    with a visible scroll bar, when it is wider than the screen. Every row shows: no inner vertical scroll box
    (issue 14, D2 and D4)."""
    import html

    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in frame["headers"])
    body = []
    for row in frame["data"]:
        cells = []
        for i, value in enumerate(row):
            kind, shown = _cell(value)
            kind = "cx-name" if i == 0 else kind
            cells.append(f'<td class="{kind}">{shown}</td>' if kind else f"<td>{shown}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'{TABLE_CSS}<div class="cx-table" id="{elem_id}"><div class="cx-caption">{html.escape(caption)}</div>'
            f'<table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')


def panels(height, width, image_channels, factor, latent_channels, zero_pad, lang: str | None) -> tuple:
    """calculate()'s result with the resolution table as HTML: (result Markdown, table HTML, two figures)."""
    result, frame, left, right = calculate(height, width, image_channels, factor, latent_channels, zero_pad, lang)
    return result, table_html(frame, text("comp.table", lang), "comp-table"), left, right


def preset_tables(service, lang: str | None) -> tuple[str, str]:
    """(this project's VAEs, the field's VAEs) as HTML tables in `lang`, the project's first."""
    return (table_html(project_frame(service, lang), text("comp.ours_table", lang), "comp-ours-table"),
            table_html(field_frame(lang), text("comp.field_table", lang), "comp-field-table"))
