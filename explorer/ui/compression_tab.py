"""Compression tab: latent size and compression ratio for any resolution, factor and channel count,
with the published VAEs of the field and this project's own models as presets."""
from __future__ import annotations

import gradio as gr
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..compression import COMMON_RESOLUTIONS, PUBLISHED_VAES, compression, resolution_table
from .i18n import register, tr

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
}
register(STRINGS)

CUSTOM = "Custom / 自定义"
TABLE_HEADERS = ["resolution / 分辨率", "latent shape / 潜变量形状", "pixel dims / 像素数", "latent dims / 潜变量数",
                 "ratio / 压缩率", "latent KiB (fp16)"]
PRESET_HEADERS = ["VAE", "f", "c", "ratio @512²x3 / 压缩率", "PSNR (dB)", "SSIM", "rFID", "source / 来源"]


def format_result(height, width, image_channels, factor, latent_channels) -> str:
    """Markdown for one calculation, in the chapter's printout style. Raises ValueError on bad input."""
    r = compression(height, width, image_channels, factor, latent_channels)
    c_img, h, w = r.pixel_shape
    c, lh, lw = r.latent_shape
    return (f"**Pixels** {h} x {w} x {c_img} = **{r.pixel_dims:,}** elements  \n"
            f"**Latent** {lh} x {lw} x {c} = **{r.latent_dims:,}** elements (shape [{c}, {lh}, {lw}])  \n"
            f"**Compression ratio** {r.pixel_dims:,} / {r.latent_dims:,} = **{r.ratio:.1f}x**  \n"
            f"**Bytes per latent** fp32 {r.bytes_fp32:,} B, fp16 {r.bytes_fp16:,} B "
            f"(the image itself: {r.pixel_bytes_uint8:,} B as 8-bit pixels)")


def table_rows(factor: int, latent_channels: int, image_channels: int) -> list[list]:
    """resolution_table as rows for a Dataframe (fp16 size rounded to 0.1 KiB)."""
    return [[r["resolution"], r["latent_shape"], r["pixel_dims"], r["latent_dims"], r["ratio"],
             round(r["latent_kib_fp16"], 1)] for r in resolution_table(factor, latent_channels, image_channels)]


def ratio_figure(factor: int, image_channels: int = 3) -> go.Figure:
    """Left: latent elements vs resolution for several c; right: ratio vs c for f = 4, 8, 16."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(f"Latent elements at f={factor}", "Compression ratio vs c"))
    for c in (4, 8, 16):
        rows = resolution_table(factor, c, image_channels)
        fig.add_trace(go.Scatter(x=list(COMMON_RESOLUTIONS), y=[row["latent_dims"] for row in rows],
                                 mode="lines+markers", name=f"c={c}"), row=1, col=1)
    channels = [1, 2, 3, 4, 8, 16, 32, 64]
    for f in (4, 8, 16):
        fig.add_trace(go.Scatter(x=channels, y=[f * f * image_channels / c for c in channels], mode="lines+markers",
                                 name=f"f={f}", line={"dash": "dot"}), row=1, col=2)
    fig.update_xaxes(title_text="resolution (square side, px)", row=1, col=1)
    fig.update_yaxes(title_text="latent elements", row=1, col=1)
    fig.update_xaxes(title_text="latent channels c", type="log", row=1, col=2)
    fig.update_yaxes(title_text="ratio (x)", type="log", row=1, col=2)
    fig.update_layout(height=380, margin={"l": 40, "r": 20, "t": 40, "b": 40}, legend={"orientation": "h"})
    return fig


def preset_rows(service) -> list[list]:
    """Published VAEs, then this project's VAEs with their measured held-out figures."""
    rows = []
    for p in PUBLISHED_VAES:
        ratio = compression(512, 512, 3, p.factor, p.latent_channels).ratio
        rows.append([p.name, p.factor, p.latent_channels, round(ratio, 1),
                     p.psnr, p.ssim, p.rfid, p.source])
    for name in service.names("vae"):
        shapes, metrics = service.vae_shapes(name), service.metrics(name)
        c_img = shapes["input_shape"][0]
        dims_in = c_img * shapes["input_shape"][1] * shapes["input_shape"][2]
        dims_lat = 1
        for s in shapes["latent_shape"]:
            dims_lat *= s
        psnr, ssim = metrics.get("psnr"), metrics.get("ssim")
        rows.append([f"{name} (this project)", shapes.get("factor", "-"), shapes["latent_shape"][0],
                     round(dims_in / dims_lat, 1), None if psnr is None else round(psnr, 2),
                     None if ssim is None else round(ssim, 3), None, f"measured here, {metrics.get('split', '')}"])
    return rows


def preset_choices(service) -> dict[str, tuple[int, int, int]]:
    """Preset name -> (image channels, f, c)."""
    choices = {p.name: (3, p.factor, p.latent_channels) for p in PUBLISHED_VAES}
    for name in service.names("vae"):
        shapes = service.vae_shapes(name)
        if "factor" in shapes:
            choices[f"{name} (this project)"] = (shapes["input_shape"][0], shapes["factor"], shapes["latent_shape"][0])
    return choices


def compression_api(height: int, width: int, image_channels: int = 3, factor: int = 8,
                    latent_channels: int = 4) -> dict:
    """Latent size and compression ratio: pixel_dims, latent_shape, latent_dims, ratio (and bytes)."""
    try:
        return compression(height, width, image_channels, factor, latent_channels).as_dict()
    except ValueError as exc:
        raise gr.Error(str(exc)) from exc


def build_compression_tab(service) -> None:
    presets = preset_choices(service)
    gr.Markdown(tr("comp.intro"), latex_delimiters=[{"left": "$$", "right": "$$", "display": True},
                                                     {"left": "$", "right": "$", "display": False}])
    with gr.Row():
        with gr.Column(scale=1):
            preset = gr.Dropdown([CUSTOM, *presets], value="Chapter VAE (f8, c4)", label=tr("comp.preset"))
            with gr.Row():
                height = gr.Number(512, label=tr("comp.height"), precision=0, minimum=1)
                width = gr.Number(512, label=tr("comp.width"), precision=0, minimum=1)
            with gr.Row():
                image_channels = gr.Number(3, label=tr("comp.image_channels"), precision=0, minimum=1)
                factor = gr.Number(8, label=tr("comp.factor"), precision=0, minimum=1)
                latent_channels = gr.Number(4, label=tr("comp.latent_channels"), precision=0, minimum=1)
        with gr.Column(scale=1):
            result = gr.Markdown(format_result(512, 512, 3, 8, 4), label=tr("comp.result"))
    table = gr.Dataframe(value=table_rows(8, 4, 3), label=tr("comp.table"), interactive=False, headers=TABLE_HEADERS)
    plot = gr.Plot(ratio_figure(8), label=tr("comp.plot"))
    gr.Dataframe(value=preset_rows(service), label=tr("comp.presets_table"), interactive=False, wrap=True,
                 headers=PRESET_HEADERS)

    def on_preset(name):
        if name not in presets:
            return gr.update(), gr.update(), gr.update()
        c_img, f, c = presets[name]
        return c_img, f, c

    def on_change(h, w, c_img, f, c):
        try:
            text = format_result(h, w, c_img, f, c)
            rows = table_rows(int(f), int(c), int(c_img))
        except (TypeError, ValueError) as exc:
            raise gr.Error(str(exc)) from exc
        return text, rows, ratio_figure(int(f), int(c_img))

    preset.change(on_preset, preset, [image_channels, factor, latent_channels], api_visibility="private")
    gr.on([height.change, width.change, image_channels.change, factor.change, latent_channels.change],
          on_change, [height, width, image_channels, factor, latent_channels], [result, table, plot],
          api_visibility="private", show_progress="hidden")
    gr.api(compression_api, api_name="compression")
