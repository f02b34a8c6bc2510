"""Latent map tab: the held-out digits encoded by a VAE and projected to 2-D (UMAP or PCA), points clicked to
pick A and B, a slider that morphs A into B live, the SD-style (KL 1e-6) vs regularised (KL 1) comparison,
and the 2-D VAE's latent plane. Public APIs: /latent_map and /interpolate.

Only wiring lives here; the logic is in explorer/latent_map.py. The live slider and the clickable map are
gr.HTML components whose JavaScript is in latent_map_assets/: a pair's 33 frames are decoded in one batch
when the pair is chosen and swapped in the browser while dragging; the exact alpha is decoded on release
through a server function.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np

from ..latent_map import (FRAMES, REGULARISED_MODEL, SD_KL_MODEL, LatentMapExplorer, PairPath, image_strip,
                          png_data_uri, random_pair, tile_grid, to_uint8)
from .i18n import register, text, tr

ASSETS = Path(__file__).resolve().parent / "latent_map_assets"
SPRITE_COLS = 25
PLANE_GRID = 21  # frames per side for the 2-D plane's live sliders
MANIFOLD_GRID = 15  # digits per side of the decoded manifold drawn under the scatter
COMPARE_STEPS = 9
COMPARE_PAIRS = 50
STRIP_ZOOM = 3

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
        "Stable Diffusion's VAE uses a tiny KL weight (1e-6): reconstructions are sharp, but the latent space has "
        "holes, so the way from A to B can pass through images that are not digits. A KL weight of 1 (the textbook "
        "VAE) packs the codes close to a Gaussian, so every in-between latent decodes to something digit-like, "
        "at a price in reconstruction quality (PSNR).",
        "### 为什么要正则化？同一对数字：小 KL 与 KL=1 的对比\n"
        "Stable Diffusion 的 VAE 用很小的 KL 权重（1e-6）：重建很清晰，但潜空间中有“空洞”，从 A 到 B 的路径可能经过"
        "不像数字的图像。KL 权重为 1（教科书式 VAE）会把编码压向高斯分布，中间的每个潜变量都解码成像数字的图像，"
        "代价是重建质量（PSNR）下降。"),
    "lmap.compare": ("Compare on this pair", "用这一对数字比较"),
    "lmap.api_image": ("/interpolate result", "/interpolate 结果"),
    "lmap.no_models": ("No MNIST VAE checkpoint is installed, so there is no latent map to draw.",
                       "未安装 MNIST VAE 检查点，因此无法绘制潜空间地图。"),
    # text computed in Python (shown as "English / 中文")
    "lmap.umap_pending": ("UMAP is being computed for this model (about 10-25 s the first time); showing PCA "
                          "until it is ready.", "正在为该模型计算 UMAP（首次约 10-25 秒）；完成前先显示 PCA。"),
    "lmap.umap_failed": ("UMAP could not be computed; showing PCA.", "UMAP 计算失败；改为显示 PCA。"),
    "lmap.planar": ("This latent already is 2-D: the map shows the latent plane itself.",
                    "该潜变量本身就是二维的：地图直接显示潜平面。"),
    "lmap.path": ("path A→B", "A→B 路径"),
    "lmap.digit": ("digit", "数字"),
    "lmap.preview": ("preview: nearest pre-decoded frame, α =", "预览：最接近的预解码帧，α ="),
    "lmap.exact": ("exact decode by the server at α =", "服务器精确解码，α ="),
    "lmap.exact_plane": ("exact decode by the server", "服务器精确解码"),
    "lmap.preview_plane": ("preview: nearest pre-decoded grid point", "预览：最接近的预解码网格点"),
    "lmap.decoding": ("decoding…", "解码中…"),
    "lmap.strip": ("steps in the strip", "条带中的步数"),
    "lmap.cmp_kl_weight": ("KL weight in training", "训练时的 KL 权重"),
    "lmap.cmp_psnr": ("held-out reconstruction PSNR (dB)", "留出集重建 PSNR（dB）"),
    "lmap.cmp_ssim": ("held-out reconstruction SSIM", "留出集重建 SSIM"),
    "lmap.cmp_blend": ("middle frame vs a 50/50 pixel blend of A and B, PSNR dB (high = double exposure): "
                       "this pair / mean of random pairs",
                       "中间帧与 A、B 像素 50/50 叠加图的 PSNR（dB，越高越像“双重曝光”）：这一对 / 随机多对的平均"),
    "lmap.cmp_confidence": ("digit classifier's confidence on the in-between frames (1 = clearly a digit): "
                            "this pair / mean of random pairs",
                            "数字分类器对中间帧的置信度（1 = 明确是某个数字）：这一对 / 随机多对的平均"),
    "lmap.cmp_evenness": ("path evenness, largest step / mean step (1 = every step changes the picture equally): "
                          "this pair / mean of random pairs",
                          "路径均匀度：最大步长 / 平均步长（1 = 每一步变化相同）：这一对 / 随机多对的平均"),
    "lmap.cmp_note": ("Pair: A = #{a} (digit {la}), B = #{b} (digit {lb}), {method}, {steps} steps; random pairs: "
                      "{pairs} pairs of different digits (seed 0). PSNR/SSIM come from each checkpoint's "
                      "metrics.json (500 held-out digits). Re-run: `python -m explorer.latent_map`.",
                      "这一对：A = #{a}（数字 {la}），B = #{b}（数字 {lb}），{method}，{steps} 步；随机多对："
                      "{pairs} 对不同数字（种子 0）。PSNR/SSIM 来自各检查点的 metrics.json（500 张留出数字）。"
                      "复现：`python -m explorer.latent_map`。"),
    "lmap.compare_missing": ("The comparison needs both {a} and {b}; missing: {missing}.",
                             "比较需要 {a} 和 {b}；缺少：{missing}。"),
}
register(STRINGS)


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _plotly_js() -> str:
    import plotly

    return str(Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js")


def _sprite(images: np.ndarray) -> tuple[str, int, int]:
    """All held-out digits in one PNG (SPRITE_COLS per row) for hover previews: (data URI, width, height)."""
    n, h, w = images.shape
    rows = -(-n // SPRITE_COLS)
    padded = np.zeros((rows * SPRITE_COLS, h, w), dtype=np.float32)
    padded[:n] = images
    sheet = tile_grid(padded, rows, SPRITE_COLS)
    return png_data_uri(sheet), sheet.shape[1], sheet.shape[0]


def _zoom(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling by an integer factor (every pixel stays exactly what the model produced)."""
    return np.kron(image, np.ones((factor, factor), dtype=image.dtype))


def _lang(request: gr.Request | None) -> str:
    """"zh" when the browser asks for Chinese first (as Gradio's own i18n does), else "en"."""
    headers = getattr(request, "headers", None) or {}
    return "zh" if str(headers.get("accept-language", "")).strip().lower().startswith("zh") else "en"


def _fmt(value, digits: int = 2) -> str:
    return "n/a" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.{digits}f}"


def build_latent_map_tab(service) -> None:
    explorer = LatentMapExplorer(service)
    digits = explorer.digits
    n_digits = len(digits)
    models = explorer.models()
    default_model = SD_KL_MODEL if SD_KL_MODEL in models else next(
        (m for m in models if not explorer.is_planar(m)), models[0] if models else None)
    default_a = int(np.flatnonzero(digits.labels == 3)[0])
    default_b = int(np.flatnonzero(digits.labels == 8)[0])
    gr.set_static_paths([_plotly_js()])
    sprite, sprite_w, sprite_h = _sprite(digits.images)
    if default_model is not None:  # encode the default model's digits + PCA now, so the first page is instant
        threading.Thread(target=_prepare, args=(explorer, default_model), name="latent-map-prepare",
                         daemon=True).start()

    # ---- value builders (pure Python, no Gradio) -------------------------------------------------
    def shown_projection(model: str, projection: str, lang: str):
        """(projection object, its name, notice): the requested one if ready, else PCA plus a notice."""
        if explorer.is_planar(model):
            return explorer.projections.get(model, "pca"), "latent", text("lmap.planar", lang)
        state = explorer.projections.status(model, projection)
        if state.startswith("failed"):
            return explorer.projections.get(model, "pca"), "pca", text("lmap.umap_failed", lang) + " " + state
        proj = explorer.projections.get(model, projection)
        if proj is not None:
            return proj, projection, ""
        return explorer.projections.get(model, "pca"), "pca", text("lmap.umap_pending", lang)

    def axis_titles(proj, name: str) -> list[str]:
        if name == "latent":
            return ["z1", "z2"]
        if name == "pca":
            r = proj.explained_variance_ratio
            return [f"PC 1 ({100 * r[0]:.0f}% of variance)", f"PC 2 ({100 * r[1]:.0f}%)"]
        return ["UMAP 1", "UMAP 2"]

    def pair_key(model, a, b, method) -> str:
        return f"{model}|{a}|{b}|{method}"

    def map_value(model, projection, a, b, method, show_grid, lang) -> tuple[dict, str, bool]:
        """The map's props.value, the status Markdown, and whether a UMAP fit is still pending."""
        proj, name, notice = shown_projection(model, projection, lang)
        coords = proj.coords
        xy = explorer.path_xy(model, a, b, method, FRAMES, proj)
        shape = "x".join(map(str, explorer.latent_shape(model)))
        value = {"key": pair_key(model, a, b, method), "model": model, "projection": name,
                 "planar": name == "latent", "axis": axis_titles(proj, name),
                 "title": f"{model}: latent {shape} → 2-D ({name.upper() if name != 'latent' else 'z1, z2'})",
                 "points": {"x": coords[:, 0].round(4).tolist(), "y": coords[:, 1].round(4).tolist(),
                            "label": digits.labels.tolist()},
                 "a": a, "b": b, "path": {"x": xy[:, 0].round(4).tolist(), "y": xy[:, 1].round(4).tolist()},
                 "grid": manifold(model) if (name == "latent" and show_grid) else None,
                 "labels": {"path": text("lmap.path", lang), "digit": text("lmap.digit", lang)}}
        status = f"**{model}**: latent {shape} = {int(np.prod(explorer.latent_shape(model)))} numbers per digit"
        if name == "pca":
            status += f"; PCA keeps {100 * proj.explained_variance_ratio.sum():.0f}% of the variance in 2-D"
        if notice:
            status += f"  \n*{notice}*"
        pending = name == "pca" and projection == "umap" and explorer.projections.status(model, "umap") == "pending"
        return value, status, pending

    def player_value(pp: PairPath, lang: str) -> dict:
        la, lb = int(digits.labels[pp.index_a]), int(digits.labels[pp.index_b])
        digit = text("lmap.digit", lang)
        return {"key": pair_key(pp.model, pp.index_a, pp.index_b, pp.method), "model": pp.model,
                "index_a": pp.index_a, "index_b": pp.index_b, "method": pp.method,
                "caption": f"A = #{pp.index_a} ({digit} {la}) → B = #{pp.index_b} ({digit} {lb}), {pp.method}, "
                           f"{pp.model}",
                "frames": [png_data_uri(f) for f in pp.frames],
                "labels": {k: text(f"lmap.{k}", lang) for k in ("preview", "exact", "decoding", "strip")}}

    manifold_cache: dict[str, dict] = {}
    plane_cache: dict[str, dict] = {}

    def manifold(model: str) -> dict:
        if model not in manifold_cache:
            extent = explorer.plane_extent(model)
            frames, xs, ys = explorer.plane_grid(model, MANIFOLD_GRID, extent)
            half_x, half_y = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
            manifold_cache[model] = {"src": png_data_uri(tile_grid(frames, MANIFOLD_GRID, MANIFOLD_GRID)),
                                     "x0": float(xs[0] - half_x), "x1": float(xs[-1] + half_x),
                                     "y0": float(ys[0] - half_y), "y1": float(ys[-1] + half_y)}
        return manifold_cache[model]

    def plane_value(model: str, lang: str) -> dict:
        if model not in plane_cache:
            extent = explorer.plane_extent(model)
            frames, _, _ = explorer.plane_grid(model, PLANE_GRID, extent)
            plane_cache[model] = {"model": model, "extent": list(extent), "n": PLANE_GRID,
                                  "frames": [png_data_uri(f) for f in frames]}
        labels = {"preview": text("lmap.preview_plane", lang), "exact": text("lmap.exact_plane", lang),
                  "decoding": text("lmap.decoding", lang)}
        return {**plane_cache[model], "labels": labels}

    def render(model, projection, a, b, method, show_grid, lang):
        """Everything a new pair / model / method needs: (map, player, status, timer)."""
        try:
            explorer.check_model(model)
            a, b = explorer.check_pair(a, b)
            pp = explorer.pair_path(model, a, b, method, FRAMES)
            value, status, pending = map_value(model, projection, a, b, method, show_grid, lang)
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc
        return value, player_value(pp, lang), status, gr.Timer(active=pending)

    # ---- layout ----------------------------------------------------------------------------------
    gr.Markdown(tr("lmap.intro"))
    if not models:
        gr.Markdown(tr("lmap.no_models"))
    with gr.Row():
        with gr.Column(scale=3):
            with gr.Row():
                model_dd = gr.Dropdown(models, value=default_model, label=tr("lmap.model"))
                projection_radio = gr.Radio([("UMAP", "umap"), ("PCA", "pca")], value="umap",
                                            label=tr("lmap.projection"))
            status_md = gr.Markdown()
            map_html = gr.HTML(
                {"message": "…"}, html_template=_asset("map.html"), css_template=_asset("map.css"),
                js_on_load=_asset("map.js"), plotly_path=_plotly_js(), sprite=sprite, sprite_cols=SPRITE_COLS,
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
                server_functions=[latent_map_exact_fn(explorer)])
            with gr.Column(visible=False) as plane_col:
                gr.Markdown(tr("lmap.plane_intro"))
                plane_html = gr.HTML({"message": "…"}, html_template=_asset("plane.html"),
                                     css_template=_asset("player.css"), js_on_load=_asset("plane.js"),
                                     elem_id="lsx-plane", server_functions=[latent_map_plane_exact_fn(explorer)])
    timer = gr.Timer(2.0, active=False)

    gr.Markdown(tr("lmap.compare_intro"))
    compare_btn = gr.Button(tr("lmap.compare"))
    with gr.Row():
        compare_sd = gr.Image(label=SD_KL_MODEL, format="png", type="numpy", interactive=False,
                              buttons=["download"])
        compare_kl = gr.Image(label=REGULARISED_MODEL, format="png", type="numpy", interactive=False,
                              buttons=["download"])
    compare_md = gr.Markdown()

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
    pair_outputs = [index_a, index_b, map_html, player_html, status_md, timer]
    view_inputs = [model_dd, projection_radio, interp_radio, grid_cb]

    def on_load(request: gr.Request):
        if default_model is None:
            return gr.update(), gr.update(), "", gr.Timer(active=False)
        return render(default_model, "umap", default_a, default_b, "lerp", True, _lang(request))

    def with_pair(a, b, model, projection, method, show_grid, lang):
        return (a, b, *render(model, projection, a, b, method, show_grid, lang))

    def on_indices(a, b, model, projection, method, show_grid, request: gr.Request):
        return with_pair(a, b, model, projection, method, show_grid, _lang(request))

    def on_random(relation: str):
        def handler(model, projection, method, show_grid, request: gr.Request):
            a, b = random_pair(digits.labels, seed=time.time_ns() % (2**32), relation=relation)
            return with_pair(a, b, model, projection, method, show_grid, _lang(request))
        return handler

    def on_click(a, b, which, model, projection, method, show_grid, evt: gr.EventData, request: gr.Request):
        payload = getattr(evt, "_data", None)
        try:
            index = explorer.check_pair(payload.get("index") if isinstance(payload, dict) else None, 0)[0]
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc
        a, b = (index, b) if which == "A" else (a, index)
        return (*with_pair(a, b, model, projection, method, show_grid, _lang(request)),
                "B" if which == "A" else "A")

    def on_model(model, projection, a, b, method, show_grid, request: gr.Request):
        lang = _lang(request)
        planar = model in models and explorer.is_planar(model)
        out = render(model, projection, a, b, method, show_grid, lang)
        plane = plane_value(model, lang) if planar else gr.update()
        return (*out, gr.Column(visible=planar), plane, gr.Checkbox(visible=planar),
                gr.Radio(interactive=not planar))

    def on_view(model, projection, a, b, method, show_grid, request: gr.Request):
        """Projection or grid toggled: only the map changes."""
        try:
            value, status, pending = map_value(model, projection, *explorer.check_pair(a, b), method, show_grid,
                                               _lang(request))
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc
        return value, status, gr.Timer(active=pending)

    def on_tick(model, projection, a, b, method, show_grid, request: gr.Request):
        if projection != "umap" or explorer.projections.status(model, "umap") == "pending":
            return gr.update(), gr.update(), gr.Timer(active=projection == "umap")
        return on_view(model, projection, a, b, method, show_grid, request)

    def on_compare(a, b, method, request: gr.Request):
        missing = [m for m in (SD_KL_MODEL, REGULARISED_MODEL) if m not in models]
        if missing:
            message = text("lmap.compare_missing", _lang(request)).format(
                a=SD_KL_MODEL, b=REGULARISED_MODEL, missing=", ".join(missing))
            return None, None, message
        try:
            rows = explorer.compare([SD_KL_MODEL, REGULARISED_MODEL], a, b, method, COMPARE_STEPS)
        except ValueError as exc:
            raise gr.Error(str(exc)) from exc
        lang = _lang(request)
        stats = [explorer.path_statistics(r["model"], COMPARE_PAIRS, 0, method, COMPARE_STEPS) for r in rows]

        def t(key: str) -> str:
            return text(f"lmap.cmp_{key}", lang)

        lines = [f"| | {' | '.join(r['model'] for r in rows)} |", "|---|" + "---|" * len(rows)]

        def line(label: str, values: list[str]) -> None:
            lines.append(f"| {label} | {' | '.join(values)} |")

        line(t("kl_weight"), [f"{r['kl_weight']:g}" for r in rows])
        line(t("psnr"), [f"**{_fmt(r['psnr'])}**" for r in rows])
        line(t("ssim"), [_fmt(r["ssim"], 3) for r in rows])
        line(t("blend"), [f"{_fmt(r['blend_psnr'], 1)} / {_fmt(st['blend_psnr'], 1)}" for r, st in zip(rows, stats)])
        line(t("confidence"), [f"{_fmt(r['digit_confidence'], 3)} / {_fmt(st['digit_confidence'], 3)}"
                               for r, st in zip(rows, stats)])
        line(t("evenness"), [f"{_fmt(r['evenness'])} / {_fmt(st['evenness'])}" for r, st in zip(rows, stats)])
        lines.append("\n" + t("note").format(a=int(a), la=digits.labels[int(a)], b=int(b), lb=digits.labels[int(b)],
                                              method=method, steps=COMPARE_STEPS, pairs=COMPARE_PAIRS))
        table = lines
        strips = [to_uint8(_zoom(image_strip(r["frames"]), STRIP_ZOOM)) for r in rows]
        return strips[0], strips[1], "\n".join(table)

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
    gr.on(None, on_load, [], [map_html, player_html, status_md, timer], **private)
    gr.on([use_btn.click, index_a.submit, index_b.submit], on_indices,
          [index_a, index_b, model_dd, projection_radio, interp_radio, grid_cb], pair_outputs, **private)
    for button, relation in ((random_btn, "any"), (same_btn, "same"), (diff_btn, "different")):
        button.click(on_random(relation), view_inputs[:3] + [grid_cb], pair_outputs, **private)
    map_html.point_click(on_click, [index_a, index_b, target, *view_inputs], [*pair_outputs, target], **private)
    interp_radio.change(on_indices, [index_a, index_b, model_dd, projection_radio, interp_radio, grid_cb],
                        pair_outputs, **private)
    model_dd.change(on_model, [model_dd, projection_radio, index_a, index_b, interp_radio, grid_cb],
                    [map_html, player_html, status_md, timer, plane_col, plane_html, grid_cb, projection_radio],
                    **private)
    gr.on([projection_radio.change, grid_cb.change], on_view,
          [model_dd, projection_radio, index_a, index_b, interp_radio, grid_cb], [map_html, status_md, timer],
          **private)
    timer.tick(on_tick, [model_dd, projection_radio, index_a, index_b, interp_radio, grid_cb],
               [map_html, status_md, timer], **private)
    compare_btn.click(on_compare, [index_a, index_b, interp_radio], [compare_sd, compare_kl, compare_md],
                      api_visibility="private")
    api_button.click(interpolate_api, [api_index_a, api_index_b, api_alpha, api_method, api_model], api_image,
                     api_name="interpolate")
    gr.api(latent_map, api_name="latent_map")


def _prepare(explorer: LatentMapExplorer, model: str) -> None:
    """Background warm-up of the default view: latents and PCA of `model`, then its UMAP fit is queued (it runs
    in the projection worker, ~10-25 s, so the map usually shows UMAP by the time a student opens the tab)."""
    try:
        explorer.projections.get(model, "pca")
        explorer.projections.start(model, "umap")
    except Exception:  # noqa: BLE001 - a broken checkpoint is reported when a user asks for it
        pass


def latent_map_exact_fn(explorer: LatentMapExplorer):
    """The player's server function: the exact decode at the released alpha (+ its map position)."""

    def latent_map_exact(payload: dict) -> dict:
        try:
            if not isinstance(payload, dict):
                raise ValueError("expected {model, index_a, index_b, alpha, method}")
            projection = payload.get("projection")
            # the map names the 2-D VAE's own plane "latent"; its projection object is the identity
            fitted = {"umap": "umap", "pca": "pca", "latent": "pca"}.get(projection)
            image, xy = explorer.exact(payload.get("model"), payload.get("index_a"), payload.get("index_b"),
                                       payload.get("alpha"), payload.get("method"), fitted)
        except ValueError as exc:
            return {"error": str(exc)}
        return {"image": png_data_uri(image), "xy": None if xy is None else [float(xy[0]), float(xy[1])],
                "projection": projection}

    return latent_map_exact


def latent_map_plane_exact_fn(explorer: LatentMapExplorer):
    """The plane player's server function: the exact decode of a point (z1, z2) of a 2-D latent."""

    def latent_map_plane_exact(payload: dict) -> dict:
        try:
            if not isinstance(payload, dict):
                raise ValueError("expected {model, z1, z2}")
            image = explorer.decode_point(explorer.check_model(payload.get("model")), payload.get("z1"),
                                          payload.get("z2"))
        except ValueError as exc:
            return {"error": str(exc)}
        return {"image": png_data_uri(image)}

    return latent_map_plane_exact
