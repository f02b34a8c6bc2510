"""Latent map tab: layout and wiring only. The held-out digits encoded by a VAE and projected to 2-D (UMAP or
PCA), points clicked (or tapped) to pick A and B, a slider that morphs A into B live, the SD-style (KL 1e-6) vs
regularised (KL 1) comparison, and the 2-D VAE's latent plane. Public APIs: /latent_map and /interpolate.

The logic is in explorer/latent_map/, the values the components show in explorer/views/latent_map.py. The live
slider and the clickable map are gr.HTML components whose JavaScript is in latent_map_assets/: a pair's 33
frames are decoded in one batch when the pair is chosen and swapped in the browser while dragging.

Digit indices are plain text boxes read by the one whole-number rule in Python (a gr.Number would round "1.5"
and read "1e2" as 100), only by the handlers that use them: a bad index never blocks the model, projection,
method or language; it is refused in the status line and the player, in the page's language.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np

from ..latent_map import REGULARISED_MODEL, SD_KL_MODEL, LatentMapExplorer, random_pair, to_uint8
from ..messages import Refusal, word
from ..views.latent_map import SPRITE_COLS, STRINGS, LatentMapViews, page_language, sprite, warning
from .i18n import register, tr
from .session_choice import dropdown, my_model
from ..session_models import SessionService

ASSETS = Path(__file__).resolve().parent / "latent_map_assets"
register(STRINGS)


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _plotly_js() -> str:
    import plotly

    return str(Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js")


def _lang(choice: str | None, request: gr.Request | None) -> str:
    return page_language(choice, getattr(request, "headers", None))


def build_latent_map_tab(service, ui=None) -> None:
    """`ui` (optional): the app's context; its `language` radio words the text computed in Python, and the model
    dropdown is shared as ui.components["latent_map.model"] (the Exercises tab opens the map on a model)."""
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

    def scoped(model, request) -> tuple[LatentMapExplorer, LatentMapViews]:
        """(explorer, views) that show `model`: the shared ones, or, for this page's own model (trained in the
        Exercises tab), a pair over the page's view of the models, kept with that model (freed with it)."""
        entry = my_model(request)
        if entry is None or model != entry.name:
            return explorer, views
        own = entry.caches.get("latent_map")
        if own is None:
            own_explorer = LatentMapExplorer(SessionService(service, entry), digits)
            own = entry.caches.setdefault("latent_map", (own_explorer, LatentMapViews(own_explorer)))
        return own

    def model_of(payload) -> str | None:
        return payload.get("model") if isinstance(payload, dict) else None

    # plain functions: Gradio marks server functions with an attribute, which bound methods cannot take
    def latent_map_exact(payload: dict, request: gr.Request) -> dict:
        return scoped(model_of(payload), request)[1].latent_map_exact(payload)

    def latent_map_plane_exact(payload: dict, request: gr.Request) -> dict:
        return scoped(model_of(payload), request)[1].latent_map_plane_exact(payload)

    # ---- layout ----------------------------------------------------------------------------------
    gr.Markdown(tr("lmap.intro") if models else tr("lmap.no_models"))
    with gr.Row():
        with gr.Column(scale=3, min_width=300):
            with gr.Row():
                model_dd = gr.Dropdown(models, value=default_model, label=tr("lmap.model"), elem_id="lsx-model",
                                       min_width=200)
                if ui is not None:
                    ui.components["latent_map.model"] = model_dd  # the Exercises tab opens the map on a model
                projection_radio = gr.Radio([("UMAP", "umap"), ("PCA", "pca")], value="umap",
                                            label=tr("lmap.projection"), min_width=160)
            status_md = gr.Markdown(elem_id="lsx-status")
            map_html = gr.HTML(
                {"message": "…"}, html_template=_asset("map.html"), css_template=_asset("map.css"),
                js_on_load=_asset("map.js"), plotly_path=_plotly_js(), sprite=sprite_uri, sprite_cols=SPRITE_COLS,
                sprite_width=sprite_w, sprite_height=sprite_h, digit_px=int(digits.images.shape[-1]),
                elem_id="lsx-map", min_height=320)
            grid_cb = gr.Checkbox(True, label=tr("lmap.grid"), visible=False)
        with gr.Column(scale=2, min_width=300):
            with gr.Row():
                index_a = gr.Textbox(str(default_a), label=tr("lmap.index_a"), elem_id="lsx-index-a", min_width=120)
                index_b = gr.Textbox(str(default_b), label=tr("lmap.index_b"), elem_id="lsx-index-b", min_width=120)
            with gr.Row():
                use_btn = gr.Button(tr("lmap.use"), size="sm")
                random_btn = gr.Button(tr("lmap.random"), size="sm")
                same_btn = gr.Button(tr("lmap.same"), size="sm")
                diff_btn = gr.Button(tr("lmap.different"), size="sm")
            with gr.Row():
                target = gr.Radio(["A", "B"], value="A", label=tr("lmap.target"), elem_id="lsx-target")
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
    compare_sd = gr.Image(label=SD_KL_MODEL, format="png", type="numpy", interactive=False, buttons=["download"])
    compare_kl = gr.Image(label=REGULARISED_MODEL, format="png", type="numpy", interactive=False,
                          buttons=["download"])
    compare_md = gr.Markdown()
    compare_tables = gr.State(None)  # the last comparison's table (or refusal) in both languages

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
    def show(model, projection, a, b, method, show_grid, lang, request=None):
        """(map, player, status, timer) for the page's current choices; a refused pair is shown, not raised."""
        try:
            page = scoped(model, request)[1].page(model, projection, a, b, method, show_grid, lang)
        except Refusal as exc:  # a model or method the map cannot show: say so, change nothing else
            return gr.update(), gr.update(), warning(exc, lang), gr.Timer(active=False)
        return page.map, page.player, page.status, gr.Timer(active=page.pending)

    def on_load(request: gr.Request):
        if default_model is None:
            return gr.update(), gr.update(), "", gr.Timer(active=False)
        return show(default_model, "umap", default_a, default_b, "lerp", True, _lang(None, request))

    def on_indices(a, b, model, projection, method, show_grid, choice, request: gr.Request):
        return (a, b, *show(model, projection, a, b, method, show_grid, _lang(choice, request), request))

    def on_random(relation: str):
        def handler(model, projection, method, show_grid, choice, request: gr.Request):
            a, b = random_pair(digits.labels, seed=time.time_ns() % (2**32), relation=relation)
            return on_indices(str(a), str(b), model, projection, method, show_grid, choice, request)
        return handler

    def on_click(a, b, which, model, projection, method, show_grid, choice, evt: gr.EventData,
                 request: gr.Request):
        try:
            index = str(views.parse_clicked(getattr(evt, "_data", None)))
        except Refusal as exc:
            raise gr.Error(word(exc, _lang(choice, request))) from exc
        a, b = (index, b) if which == "A" else (a, index)
        return (*on_indices(a, b, model, projection, method, show_grid, choice, request),
                "B" if which == "A" else "A")

    def plane_update(model, lang: str, request=None):
        """The 2-D plane's value worded in `lang` when `model` is a 2-D VAE; otherwise no change."""
        ex, vw = scoped(model, request)
        return vw.plane_value(model, lang) if model in ex.models() and ex.is_planar(model) else gr.update()

    def on_model(model, projection, a, b, method, show_grid, choice, request: gr.Request):
        lang = _lang(choice, request)
        ex = scoped(model, request)[0]
        planar = model in ex.models() and ex.is_planar(model)
        return (*show(model, projection, a, b, method, show_grid, lang, request), gr.Column(visible=planar),
                plane_update(model, lang, request), gr.Checkbox(visible=planar), gr.Radio(interactive=not planar))

    def on_language(a, b, model, projection, method, show_grid, choice, request: gr.Request):
        """Redraw the map, player and 2-D plane in the new language (same model, pair and path)."""
        return (*on_indices(a, b, model, projection, method, show_grid, choice, request),
                plane_update(model, _lang(choice, request), request))

    def on_view(model, projection, a, b, method, show_grid, choice, request: gr.Request):
        """Projection or grid toggled: only the map and the status change."""
        lang = _lang(choice, request)
        try:
            value, status, pending = scoped(model, request)[1].map_value(model, projection, a, b, method,
                                                                          show_grid, lang)
        except Refusal as exc:
            return gr.update(), warning(exc, lang), gr.Timer(active=False)
        return value, status, gr.Timer(active=pending)

    def on_tick(model, projection, a, b, method, show_grid, choice, request: gr.Request):  # a UMAP fit done?
        if projection != "umap" or scoped(model, request)[0].projections.status(model, "umap") == "pending":
            return gr.update(), gr.update(), gr.Timer(active=projection == "umap")
        return on_view(model, projection, a, b, method, show_grid, choice, request)

    def on_compare(a, b, method, model, choice, request: gr.Request):
        """Both strips, the table in the page's language, and the table in both (kept for a language switch).
        With the student's own model chosen, it is compared with the shipped VAE of the same latent."""
        entry = my_model(request)
        pair = (SD_KL_MODEL, REGULARISED_MODEL)
        if entry is not None and model == entry.name:
            pair = (entry.name, entry.shipped_twin if entry.shipped_twin in models else REGULARISED_MODEL)
        strip_a, strip_b, tables = scoped(model, request)[1].compare(a, b, method, pair)
        return (gr.Image(strip_a, label=pair[0]), gr.Image(strip_b, label=pair[1]), tables[_lang(choice, request)],
                tables)

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

    language = getattr(ui, "language", None) or gr.State(None)  # every handler's last input
    private = {"api_visibility": "private", "show_progress": "hidden"}
    view_inputs = [model_dd, projection_radio, interp_radio, grid_cb]
    state_inputs = [model_dd, projection_radio, index_a, index_b, interp_radio, grid_cb, language]
    pair_inputs = [index_a, index_b, *view_inputs, language]
    pair_outputs = [index_a, index_b, map_html, player_html, status_md, timer]
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

        def my_models(current, choice, request: gr.Request):  # the student's model joins, for this page only
            return dropdown(models, current, request, _lang(choice, request), default_model)

        gr.on([ui.tabs.select, language.change], my_models, [model_dd, language], model_dd, queue=False,
              **private)
        language.change(on_language_compare, [compare_tables, language], compare_md, **private)
    compare_btn.click(on_compare, [index_a, index_b, interp_radio, model_dd, language],
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
