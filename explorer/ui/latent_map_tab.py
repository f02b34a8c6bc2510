"""Latent map tab: the held-out digits encoded by a VAE and projected to 2-D (UMAP or PCA), points clicked to
pick A and B, a slider that morphs A into B live, the SD-style (KL 1e-6) vs regularised (KL 1) comparison,
and the 2-D VAE's latent plane. Public APIs: /latent_map and /interpolate.

Only wiring lives here: the logic is in explorer/latent_map.py, and the values the components show are built
by explorer/ui/latent_map_views.py. The live slider and the clickable map are gr.HTML components whose
JavaScript is in latent_map_assets/: a pair's 33 frames are decoded in one batch when the pair is chosen and
swapped in the browser while dragging; the exact alpha is decoded on release through a server function.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np

from ..latent_map import REGULARISED_MODEL, SD_KL_MODEL, IndexRefused, LatentMapExplorer, random_pair, to_uint8
from .i18n import register, text, tr
from .latent_map_views import SPRITE_COLS, LatentMapViews, sprite

ASSETS = Path(__file__).resolve().parent / "latent_map_assets"

STRINGS = {
    "lmap.intro": (
        "### The latent space, seen from above\n"
        "Each dot is one of the 500 held-out digits, encoded by the VAE and projected from its latent "
        "(for example 4 x 7 x 7 = 196 numbers) to 2-D. Hover a dot to see the digit. **Click a dot to pick A, "
        "click another to pick B** (or type their indices), then **drag the slider**: the latent between A and B "
        "is decoded while you drag. The line on the map is that path (its in-between latents projected by the same "
        "reducer as the dots); the red ring is where you are.",
        "### 俯瞰潜空间\n"
        "每个点是 500 张留出测试数字之一：先由 VAE 编码，再把它的潜变量（例如 4 x 7 x 7 = 196 个数）投影到二维。"
        "鼠标悬停可以看到该数字。**点击一个点选为 A，再点击另一个点选为 B**（或直接输入编号），然后**拖动滑块**："
        "拖动时就会解码 A 与 B 之间的潜变量。地图上的线就是这条路径（中间的潜变量与点用同一个降维器投影），红圈是当前位置。"),
    "lmap.model": ("VAE", "VAE 模型"),
    "lmap.projection": ("Projection to 2-D", "二维投影方法"),
    "lmap.interp": ("Interpolation", "插值方式"),
    "lmap.index_a": ("A: digit index (0-499)", "A：数字编号（0-499）"),
    "lmap.index_b": ("B: digit index (0-499)", "B：数字编号（0-499）"),
    "lmap.use": ("Use these indices", "使用这两个编号"),
    "lmap.random": ("Random pair", "随机一对"),
    "lmap.same": ("Same digit", "相同数字"),
    "lmap.different": ("Different digits", "不同数字"),
    "lmap.target": ("Next click on the map sets", "下一次点击地图设置"),
    "lmap.grid": ("Show the decoded manifold under the points", "在点的下方显示解码后的流形"),
    "lmap.plane_intro": (
        "### The 2-D VAE's latent plane\nThis VAE squeezes each digit into just **two numbers**, so the map above is "
        "the latent plane itself (no projection). Every point of the plane decodes to a digit: move the two sliders.",
        "### 二维 VAE 的潜平面\n这个 VAE 只用**两个数**表示一个数字，所以上面的地图就是潜平面本身（无需投影）。"
        "平面上的每个点都能解码成一个数字：拖动这两个滑块试试。"),
    "lmap.compare_intro": (
        "### Why regularise? Small KL vs KL 1 on the same pair\n"
        "Stable Diffusion's VAE uses a tiny KL weight (1e-6): it reconstructs sharply, but nothing makes its codes "
        "fill the space between digits, so the way from A to B is free to pass through images that look like "
        "neither (often a double exposure of A and B). A KL weight of 1 (the textbook VAE) pulls every code "
        "towards N(0, I), packing the digits together, at a price in reconstruction quality (PSNR). Both models "
        "below share one network; the table measures these effects on your pair and on 50 random pairs, so you "
        "can judge how large they are here.",
        "### 为什么要正则化？同一对数字：小 KL 与 KL=1 的对比\n"
        "Stable Diffusion 的 VAE 用很小的 KL 权重（1e-6）：重建很清晰，但没有任何约束让编码填满数字之间的空间，"
        "所以从 A 到 B 的路径可能经过两者都不像的图像（常常是 A 和 B 的“双重曝光”）。KL 权重为 1（教科书式 VAE）"
        "把每个编码拉向 N(0, I)，让数字彼此靠拢，代价是重建质量（PSNR）下降。下面两个模型的网络结构相同；"
        "表格在你选的这一对和 50 对随机数字上测量这些效应，你可以自己判断它们在这里有多大。"),
    "lmap.compare": ("Compare on this pair", "用这一对数字比较"),
    "lmap.api_image": ("/interpolate result", "/interpolate 结果"),
    "lmap.no_models": ("No MNIST VAE checkpoint is installed, so there is no latent map to draw.",
                       "未安装 MNIST VAE 检查点，因此无法绘制潜空间地图。"),
}
ERRORS = {  # refusals worded from IndexRefused's parts
    "lmap.failed": ("This input cannot be used", "无法使用此输入"),
    "lmap.err.empty": ("{name} is empty: give a whole number from 0 to {last}",
                       "{name} 为空：请输入 0 到 {last} 之间的整数"),
    "lmap.err.not_whole": ("{name} must be a whole number from 0 to {last}, got {value!r}",
                           "{name} 必须是 0 到 {last} 之间的整数，收到的是 {value!r}"),
    "lmap.err.out_of_range": ("{name} = {value} is out of range: the map has {count} digits, use 0 to {last}",
                              "{name} = {value} 超出范围：地图上共有 {count} 个数字，请用 0 到 {last}"),
}
register(STRINGS)
register(ERRORS)
INDEX_NAMES = {"index_a": "A", "index_b": "B"}  # how the boxes are called on the page


def message(exc: Exception, lang: str) -> str:
    """A refusal for the page, in its language: the digit-index problems worded from their parts, anything
    else (a model that cannot do this, say) with its English detail."""
    if isinstance(exc, IndexRefused):
        name = exc.values["name"]
        detail = text(f"lmap.err.{exc.code}", lang, **{**exc.values, "name": INDEX_NAMES.get(name, name)})
    else:
        detail = str(exc)
    return f"{text('lmap.failed', lang)}: {detail}"


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _plotly_js() -> str:
    import plotly

    return str(Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js")


def _lang(choice: str | None, request: gr.Request | None) -> str:
    """The page's language: the app's language switch when there is one (`choice`), else the browser's first
    Accept-Language. "zh" for any Chinese, else "en"."""
    if not choice:
        headers = getattr(request, "headers", None) or {}
        choice = str(headers.get("accept-language", ""))
    return "zh" if choice.strip().lower().startswith("zh") else "en"


def build_latent_map_tab(service, ui=None) -> None:
    """`ui` (optional): the app's context; its `language` radio words the text computed in Python."""
    explorer = LatentMapExplorer(service)
    views = LatentMapViews(explorer)
    digits = explorer.digits
    models = explorer.models()
    default_model = SD_KL_MODEL if SD_KL_MODEL in models else next(
        (m for m in models if not explorer.is_planar(m)), models[0] if models else None)
    default_a = int(np.flatnonzero(digits.labels == 3)[0])
    default_b = int(np.flatnonzero(digits.labels == 8)[0])
    gr.set_static_paths([_plotly_js()])
    sprite_uri, sprite_w, sprite_h = sprite(digits.images)
    if default_model is not None:  # encode the default model's digits + PCA now, so the first page is instant
        threading.Thread(target=_prepare, args=(explorer, default_model), name="latent-map-prepare",
                         daemon=True).start()

    # plain functions (Gradio marks server functions with an attribute, which bound methods cannot take)
    def latent_map_exact(payload: dict) -> dict:
        return views.latent_map_exact(payload)

    def latent_map_plane_exact(payload: dict) -> dict:
        return views.latent_map_plane_exact(payload)

    def render(model, projection, a, b, method, show_grid, lang):
        """(map, player, status, timer) for a new pair / model / method; bad input -> gr.Error."""
        try:
            value, player, status, pending = views.render(model, projection, a, b, method, show_grid, lang)
        except ValueError as exc:
            raise gr.Error(message(exc, lang)) from exc
        return value, player, status, gr.Timer(active=pending)

    # ---- layout ----------------------------------------------------------------------------------
    gr.Markdown(tr("lmap.intro"))
    if not models:
        gr.Markdown(tr("lmap.no_models"))
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                model_dd = gr.Dropdown(models, value=default_model, label=tr("lmap.model"))
                if ui is not None:
                    ui.components["latent_map.model"] = model_dd  # the Exercises tab opens the map on a model
                projection_radio = gr.Radio([("UMAP", "umap"), ("PCA", "pca")], value="umap",
                                            label=tr("lmap.projection"))
            status_md = gr.Markdown()
            map_html = gr.HTML(
                {"message": "…"}, html_template=_asset("map.html"), css_template=_asset("map.css"),
                js_on_load=_asset("map.js"), plotly_path=_plotly_js(), sprite=sprite_uri, sprite_cols=SPRITE_COLS,
                sprite_width=sprite_w, sprite_height=sprite_h, digit_px=int(digits.images.shape[-1]),
                elem_id="lsx-map", min_height=540)
            grid_cb = gr.Checkbox(True, label=tr("lmap.grid"), visible=False)
        with gr.Column(scale=2):
            with gr.Row():
                index_a = gr.Number(default_a, label=tr("lmap.index_a"), precision=0)
                index_b = gr.Number(default_b, label=tr("lmap.index_b"), precision=0)
            with gr.Row():
                use_btn = gr.Button(tr("lmap.use"), size="sm")
                random_btn = gr.Button(tr("lmap.random"), size="sm")
                same_btn = gr.Button(tr("lmap.same"), size="sm")
                diff_btn = gr.Button(tr("lmap.different"), size="sm")
            with gr.Row():
                target = gr.Radio(["A", "B"], value="A", label=tr("lmap.target"))
                interp_radio = gr.Radio(["lerp", "slerp"], value="lerp", label=tr("lmap.interp"))
            player_html = gr.HTML(
                {"message": "…"}, html_template=_asset("player.html"),
                css_template=_asset("player.css"), js_on_load=_asset("player.js"), elem_id="lsx-player",
                server_functions=[latent_map_exact])
            with gr.Column(visible=False) as plane_col:
                gr.Markdown(tr("lmap.plane_intro"))
                plane_html = gr.HTML({"message": "…"}, html_template=_asset("plane.html"),
                                     css_template=_asset("player.css"), js_on_load=_asset("plane.js"),
                                     elem_id="lsx-plane", server_functions=[latent_map_plane_exact])
    timer = gr.Timer(2.0, active=False)

    gr.Markdown(tr("lmap.compare_intro"))
    compare_btn = gr.Button(tr("lmap.compare"))
    # one strip above the other: each is a wide, short image (9 frames side by side)
    compare_sd = gr.Image(label=SD_KL_MODEL, format="png", type="numpy", interactive=False, buttons=["download"])
    compare_kl = gr.Image(label=REGULARISED_MODEL, format="png", type="numpy", interactive=False,
                          buttons=["download"])
    compare_md = gr.Markdown()
    compare_tables = gr.State(None)  # the last comparison's table in both languages

    # hidden inputs/output of the public /interpolate endpoint (validated by the function, not by widgets)
    with gr.Row(visible=False):
        api_index_a = gr.Number(label="index_a")
        api_index_b = gr.Number(label="index_b")
        api_alpha = gr.Number(label="alpha")
        api_method = gr.Textbox(label="method")
        api_model = gr.Textbox(label="model")
        api_image = gr.Image(label=tr("lmap.api_image"), format="png", type="numpy")
        api_button = gr.Button("interpolate")

    # ---- events ----------------------------------------------------------------------------------
    language = getattr(ui, "language", None) or gr.State(None)  # every handler's last input
    pair_outputs = [index_a, index_b, map_html, player_html, status_md, timer]
    view_inputs = [model_dd, projection_radio, interp_radio, grid_cb]
    state_inputs = [model_dd, projection_radio, index_a, index_b, interp_radio, grid_cb, language]

    def on_load(request: gr.Request):
        if default_model is None:
            return gr.update(), gr.update(), "", gr.Timer(active=False)
        return render(default_model, "umap", default_a, default_b, "lerp", True, _lang(None, request))

    def with_pair(a, b, model, projection, method, show_grid, lang):
        return (a, b, *render(model, projection, a, b, method, show_grid, lang))

    def on_indices(a, b, model, projection, method, show_grid, choice, request: gr.Request):
        return with_pair(a, b, model, projection, method, show_grid, _lang(choice, request))

    def on_random(relation: str):
        def handler(model, projection, method, show_grid, choice, request: gr.Request):
            a, b = random_pair(digits.labels, seed=time.time_ns() % (2**32), relation=relation)
            return with_pair(a, b, model, projection, method, show_grid, _lang(choice, request))
        return handler

    def on_click(a, b, which, model, projection, method, show_grid, choice, evt: gr.EventData,
                 request: gr.Request):
        payload = getattr(evt, "_data", None)
        try:
            index = explorer.check_pair(payload.get("index") if isinstance(payload, dict) else None, 0)[0]
        except ValueError as exc:
            raise gr.Error(message(exc, _lang(choice, request))) from exc
        a, b = (index, b) if which == "A" else (a, index)
        return (*with_pair(a, b, model, projection, method, show_grid, _lang(choice, request)),
                "B" if which == "A" else "A")

    def is_planar(model) -> bool:
        """Whether `model` is an installed VAE with a 2-D latent (its map is the latent plane itself)."""
        return model in models and explorer.is_planar(model)

    def plane_update(model, lang: str):
        """The 2-D plane's value worded in `lang` when `model` is the 2-D VAE; otherwise no change."""
        return views.plane_value(model, lang) if is_planar(model) else gr.update()

    def on_model(model, projection, a, b, method, show_grid, choice, request: gr.Request):
        lang = _lang(choice, request)
        planar = is_planar(model)
        out = render(model, projection, a, b, method, show_grid, lang)
        return (*out, gr.Column(visible=planar), plane_update(model, lang), gr.Checkbox(visible=planar),
                gr.Radio(interactive=not planar))

    def on_language(a, b, model, projection, method, show_grid, choice, request: gr.Request):
        """The page's language changed: redraw the map and the player in it (same model, pair and path) and
        re-word the 2-D plane when it is shown."""
        lang = _lang(choice, request)
        return (*with_pair(a, b, model, projection, method, show_grid, lang), plane_update(model, lang))

    def on_view(model, projection, a, b, method, show_grid, choice, request: gr.Request):
        """Projection or grid toggled: only the map changes."""
        lang = _lang(choice, request)
        try:
            value, status, pending = views.map_value(model, projection, a, b, method, show_grid, lang)
        except ValueError as exc:
            raise gr.Error(message(exc, lang)) from exc
        return value, status, gr.Timer(active=pending)

    def on_tick(model, projection, a, b, method, show_grid, choice, request: gr.Request):
        if projection != "umap" or explorer.projections.status(model, "umap") == "pending":
            return gr.update(), gr.update(), gr.Timer(active=projection == "umap")
        return on_view(model, projection, a, b, method, show_grid, choice, request)

    def on_compare(a, b, method, choice, request: gr.Request):
        """Both strips, the table in the page's language, and the table in both (kept for a language switch)."""
        lang = _lang(choice, request)
        try:
            strip_sd, strip_kl, tables = views.compare(a, b, method)
        except ValueError as exc:
            raise gr.Error(message(exc, lang)) from exc
        return strip_sd, strip_kl, tables[lang], tables

    def on_language_compare(tables, choice, request: gr.Request):
        """The comparison table, if one is shown, in the new language (no new measurement)."""
        return tables[_lang(choice, request)] if tables else gr.update()

    def interpolate_api(index_a, index_b, alpha, method, model):
        """Decode the latent at `alpha` (0..1) between held-out digits `index_a` and `index_b` (indices from
        /latent_map) with `method` "lerp" or "slerp" and VAE `model`. Returns the 28x28 PNG; alpha 0 and 1
        give exactly the decodings of A and B."""
        try:
            return to_uint8(explorer.interpolate(model, index_a, index_b, alpha, method))
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc

    def latent_map(model: str, method: str = "umap") -> list[dict]:
        """Every held-out digit encoded by `model` and projected to 2-D with `method` ("umap" or "pca"):
        a list of {x, y, label, index}. The first UMAP call for a model may wait ~10-25 s for the fit."""
        try:
            return explorer.points(model, method)
        except (ValueError, TimeoutError) as exc:
            raise gr.Error(str(exc)) from exc

    private = {"api_visibility": "private", "show_progress": "hidden"}
    pair_inputs = [index_a, index_b, model_dd, projection_radio, interp_radio, grid_cb, language]
    gr.on(None, on_load, [], [map_html, player_html, status_md, timer], **private)
    gr.on([use_btn.click, index_a.submit, index_b.submit, interp_radio.change], on_indices, pair_inputs,
          pair_outputs, **private)
    for button, relation in ((random_btn, "any"), (same_btn, "same"), (diff_btn, "different")):
        button.click(on_random(relation), [*view_inputs, language], pair_outputs, **private)
    map_html.point_click(on_click, [index_a, index_b, target, *view_inputs, language], [*pair_outputs, target],
                         **private)
    model_dd.change(on_model, state_inputs,
                    [map_html, player_html, status_md, timer, plane_col, plane_html, grid_cb, projection_radio],
                    **private)
    gr.on([projection_radio.change, grid_cb.change], on_view, state_inputs, [map_html, status_md, timer], **private)
    timer.tick(on_tick, state_inputs, [map_html, status_md, timer], **private)
    if ui is not None:  # re-word the Python-made text and redraw the map when the page's language changes
        language.change(on_language, pair_inputs, [*pair_outputs, plane_html], **private)
        language.change(on_language_compare, [compare_tables, language], compare_md, **private)
    compare_btn.click(on_compare, [index_a, index_b, interp_radio, language],
                      [compare_sd, compare_kl, compare_md, compare_tables], api_visibility="private")
    api_button.click(interpolate_api, [api_index_a, api_index_b, api_alpha, api_method, api_model], api_image,
                     api_name="interpolate")
    gr.api(latent_map, api_name="latent_map")


def _prepare(explorer: LatentMapExplorer, model: str) -> None:
    """Background warm-up of the default view: latents and PCA of `model` (a second of torch work). UMAP is not
    touched here: importing it compiles with numba for ~10 s, which must not compete with the app's start-up;
    the first page load queues its fit (see LatentMapViews.shown_projection)."""
    try:
        explorer.projections.get(model, "pca")
    except Exception:  # noqa: BLE001 - a broken checkpoint is reported when a user asks for it
        pass
