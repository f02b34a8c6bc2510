"""The Blocks app: a header (title, language switch, the overview of the chapter's four questions, collapsed
behind a one-line summary), one tab per module, all sharing one ModelService, plus the /models and /ping APIs;
and the launch settings every entry point uses (`launch_kwargs`: the i18n table, the app-wide CSS)."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import gradio as gr

from .i18n import LANGUAGE_ELEM_ID, LANGUAGE_NAMES, build_i18n, load_js, register, switch_js, tab_label_pairs, tr
from . import gradio_fixes
from .learn import build_overview

STRINGS = {
    "app.title": ("# Latent Space Explorer\nHow a VAE compresses images into a latent space, and why Stable "
                  "Diffusion diffuses there. Every model here was trained on this project's offline data; "
                  "every number is measured.",
                  "# 潜空间探索器 (Latent Space Explorer)\nVAE 如何把图像压缩进潜空间（latent space），以及 Stable "
                  "Diffusion 为什么在潜空间里做扩散。这里的每个模型都用本项目的离线数据训练，每个数字都是实测的。"),
    "app.reconstruction": ("Reconstruction", "重建"),
    "app.latent_map": ("Latent map", "潜空间地图"),
    "app.denoising": ("Denoising", "去噪过程"),
    "app.compression": ("Compression", "压缩率"),
    "app.exercises": ("Exercises", "练习"),
    "app.pending": ("This tab is not built yet (see the project's open issues). Nothing here is faked.",
                    "此标签页尚未完成（见项目的待办 issue）。这里不展示任何伪造内容。"),
}
register(STRINGS)

TAB_KEYS = ("reconstruction", "latent_map", "denoising", "compression", "exercises")
TAB_LABELS = {key: f"app.{key}" for key in TAB_KEYS}
TABS_ID = "explorer-tabs"
# App-wide CSS (issue 14 D). Tables: a cell never breaks inside a word or a number ("sd-/vae/-mni/st-c4" at
# 390 px): short cells stay on one line, long ones (gradio_fixes.TABLES_JS marks them lsx-long) wrap at spaces;
# a table wider than its box scrolls sideways inside it, with a shadow on each side that has more to see.
APP_CSS = """
.gradio-container table td, .gradio-container table th,
.gradio-container table td *, .gradio-container table th * {
  word-break: normal !important; overflow-wrap: normal !important; hyphens: none !important;
}
.gradio-container table td, .gradio-container table th { white-space: nowrap; }
.gradio-container table .lsx-long, .gradio-container table .lsx-long * { white-space: normal; }
/* a long cell wraps at spaces only: Chinese runs stay whole too ("参数" is not split between two lines) */
.gradio-container table .lsx-long, .gradio-container table .lsx-long * { word-break: keep-all !important; }
.gradio-container table td.lsx-long { min-width: 14em; }
.gradio-container .prose table, .gradio-container .md table {
  display: block; max-width: 100%; overflow-x: auto; -webkit-overflow-scrolling: touch;
}
.lsx-scroll-host { position: relative; }
.lsx-scroll-host::before, .lsx-scroll-host::after {
  content: ""; position: absolute; top: 0; bottom: 0; width: 16px; pointer-events: none; z-index: 5;
  opacity: 0; transition: opacity .15s;
}
.lsx-scroll-host::before { left: 0; background: linear-gradient(to right, rgba(0, 0, 0, .22), transparent); }
.lsx-scroll-host::after { right: 0; background: linear-gradient(to left, rgba(0, 0, 0, .22), transparent); }
.lsx-scroll-host[data-lsx-more="left"]::before, .lsx-scroll-host[data-lsx-more="both"]::before,
.lsx-scroll-host[data-lsx-more="right"]::after, .lsx-scroll-host[data-lsx-more="both"]::after { opacity: 1; }
"""
RESIZE_JS = "() => { setTimeout(() => window.dispatchEvent(new Event('resize')), 80); }"


@dataclass(frozen=True)
class AppContext:
    """What a tab builder may wire to besides the service: `language` (a gr.Radio whose value, "en" or "zh",
    follows the page's language; pass it as an input to word Python-side messages with `i18n.text`), `tabs`
    (the gr.Tabs; return `gr.Tabs(selected="<tab key>")` to switch tabs) and `components` (components a tab
    shares with tabs built after it, by a "<tab key>.<name>" key, e.g. "latent_map.model"). A builder receives
    it when it takes a second parameter: `def build_<key>_tab(service, ui)`."""

    language: gr.Radio
    tabs: gr.Tabs
    components: dict = field(default_factory=dict)


def _accepts_context(builder) -> bool:
    try:
        return len(inspect.signature(builder).parameters) >= 2
    except (TypeError, ValueError):
        return False


def build_demo(service, tabs: dict | None = None) -> gr.Blocks:
    """Build the app over `service`. `tabs` maps a tab key to a builder `fn(service)`; tabs left out show a
    plain "not built yet" note."""
    gradio_fixes.apply()
    tabs = tabs if tabs is not None else default_tabs()

    def models() -> list[dict]:
        """Every model the server holds: name, kind, dataset, latent_shape, params and held-out metrics."""
        return service.models()

    with gr.Blocks(title="Latent Space Explorer · 潜空间探索器") as demo:
        with gr.Row(equal_height=True):
            with gr.Column(scale=4):
                gr.Markdown(tr("app.title"))
            with gr.Column(scale=1, min_width=200):
                language = gr.Radio([(name, code) for code, name in LANGUAGE_NAMES.items()], value="en",
                                    label="Language / 语言", elem_id=LANGUAGE_ELEM_ID)
        build_overview(service)
        with gr.Tabs(elem_id=TABS_ID) as tab_set:
            ui = AppContext(language=language, tabs=tab_set)
            for key in TAB_KEYS:
                with gr.Tab(tr(TAB_LABELS[key]), id=key, elem_id=f"tab-{key}") as tab:
                    builder = tabs.get(key)
                    if builder is None:
                        gr.Markdown(tr("app.pending"))
                    elif _accepts_context(builder):
                        builder(service, ui)
                    else:
                        builder(service)
                # Plotly sizes a figure redrawn in a hidden tab (e.g. after a language switch) at its 700 px
                # default; a resize once the tab shows lets each plot fill its box again.
                tab.select(None, None, None, js=RESIZE_JS, api_visibility="private", queue=False)
        tab_labels = tab_label_pairs(demo)
        language.input(None, language, language, js=switch_js(tab_labels), api_visibility="private", queue=False)
        demo.load(None, None, language, js=load_js(tab_labels), api_visibility="private", queue=False)
        demo.load(None, None, None, js=gradio_fixes.TABLES_JS, api_visibility="private", queue=False)
        gr.api(models, api_name="models")

        def ping() -> str:
            """Runs no model: the transport floor that benchmarks compare every endpoint against."""
            return "ok"

        gr.api(ping, api_name="ping")
    return demo


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
    """Keyword arguments for demo.launch(); call it after build_demo (the i18n table includes the text the
    tabs registered while being built)."""
    return {"i18n": build_i18n(), "show_error": True, "max_file_size": "10mb", "css": APP_CSS}
