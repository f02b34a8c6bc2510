"""The Blocks app: one tab per module, all sharing one ModelService, plus the /models API."""
from __future__ import annotations

import gradio as gr

from .i18n import build_i18n, register, tr

STRINGS = {
    "app.title": ("# Latent Space Explorer\nHow a VAE compresses images into a latent space, and why Stable "
                  "Diffusion diffuses there. Every model here was trained on this project's offline data; "
                  "every number is measured.",
                  "# 潜空间探索器 (Latent Space Explorer)\nVAE 如何把图像压缩进潜空间（latent space），以及 Stable "
                  "Diffusion 为什么在潜空间里做扩散。这里的每个模型都用本项目的离线数据训练，每个数字都是实测的。"),
    "app.reconstruction": ("Reconstruction", "重建"),
    "app.latent_map": ("Latent map", "潜空间地图"),
    "app.denoising": ("Denoising", "去噪过程"),
    "app.pending": ("This tab is not built yet (see the project's open issues). Nothing here is faked.",
                    "此标签页尚未完成（见项目的待办 issue）。这里不展示任何伪造内容。"),
}
register(STRINGS)


def build_demo(service, tabs: dict | None = None) -> gr.Blocks:
    """Build the app over `service`. `tabs` maps a tab key to a builder `fn(service)`; tabs left out show a
    plain "not built yet" note."""
    tabs = tabs if tabs is not None else default_tabs()

    def models() -> list[dict]:
        """Every model the server holds: name, kind, dataset, latent_shape, params and held-out metrics."""
        return service.models()

    with gr.Blocks(title="Latent Space Explorer") as demo:
        gr.Markdown(tr("app.title"))
        with gr.Tabs():
            for key, label in (("reconstruction", "app.reconstruction"), ("latent_map", "app.latent_map"),
                               ("denoising", "app.denoising"), ("compression", "comp.tab")):
                with gr.Tab(tr(label), id=key):
                    builder = tabs.get(key)
                    if builder is None:
                        gr.Markdown(tr("app.pending"))
                    else:
                        builder(service)
        gr.api(models, api_name="models")

        def ping() -> str:
            """Runs no model: the transport floor that benchmarks compare every endpoint against."""
            return "ok"

        gr.api(ping, api_name="ping")
    return demo


TAB_KEYS = ("reconstruction", "latent_map", "denoising", "compression")


def default_tabs() -> dict:
    """Every tab whose module `explorer/ui/<key>_tab.py` exists, as {key: build_<key>_tab}."""
    import importlib

    tabs = {}
    for key in TAB_KEYS:
        try:
            module = importlib.import_module(f"explorer.ui.{key}_tab")
        except ModuleNotFoundError as exc:
            if exc.name != f"explorer.ui.{key}_tab":
                raise
            continue
        tabs[key] = getattr(module, f"build_{key}_tab")
    return tabs


def launch_kwargs() -> dict:
    return {"i18n": build_i18n(), "show_error": True, "max_file_size": "10mb"}
