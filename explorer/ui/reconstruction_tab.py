"""Reconstruction tab: layout and wiring only. What a VAE keeps and loses: pick a held-out digit or photo,
upload or draw; see original, reconstruction and error map (PNG, lossless), MSE/PSNR/SSIM, the latent as a
channel grid, mean against sampled z, a second model side by side, and the rate-distortion figures.

Logic: explorer/reconstruction.py (validate_request, run_request, defaults); pictures and words:
explorer/views/reconstruction.py. Public API: /reconstruct (image file, model[, sample, seed, fit, max_side])
-> reconstruction PNG + JSON, refusals in English.

Every user action runs ONE event (`show`): the page load, a new source, a control the user changed. Its js stamps a request token; a reply older than the newest
request this page has sent is dropped (gr.skip), so what is shown is always what the controls say. A refused
input (bad seed while sampling, an unreadable file, an empty drawing) clears the results and says why, in the
page's language, in place of them; the seed is read only when sampling.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

import gradio as gr

from ..messages import Message, Refusal, normalise_lang, word
from ..generation import RunCache
from ..imaging import to_uint8
from ..reconstruction import (PHOTO_SIDES, comparable, default_comparison, default_model, error_scale,
                              rate_distortion_points, resolve_source, run_request, sampling_noise, source_key,
                              validate_request, working_side)
from ..views import reconstruction as view
from .i18n import register, tr, tr_pair
from .learn import maths_panel
from .session_choice import choices_and_value, session_of
from ..session_models import session_service

register(view.STRINGS)
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]
NONE = "(none)"
PICTURES = (1, 2, 3, 5, 6, 8)  # the outputs of `show` that are images (original, reconstruction, errors, grid)
STAMP_JS = "(...args) => { args[args.length - 1] = performance.timeOrigin + performance.now(); return args; }"
EXAMPLES_JS = """element.addEventListener('click', (event) => {
  const cell = event.target.closest('[data-index]'); if (!cell) return;
  element.querySelectorAll('.rec-example.selected').forEach(c => c.classList.remove('selected'));
  cell.classList.add('selected'); trigger('example_click', {index: Number(cell.dataset.index)}); });"""
# E1: the brush is the active tool as soon as the Draw tab opens (Gradio starts with no tool selected).
BRUSH_JS = """() => { const pick = () => { const root = document.querySelector('#rec-sketch');
  if (root) { root.style.userSelect = 'none'; root.style.webkitUserSelect = 'none'; }
  const brush = root && root.querySelector('button[aria-label="Brush"], button[title="Brush"]');
  if (brush && !brush.classList.contains('highlight')) brush.click(); return !!brush; };
  let tries = 0; const again = () => { if (!pick() && tries++ < 40) setTimeout(again, 50); }; again(); }"""


class Results:
    """A few recent reconstructions by (request, source content, page's models), shared by every page: a
    language switch or a comparison toggled back re-words results instead of running the model again. Equal
    requests running at once compute once (explorer.generation.RunCache): an example click changes source, model
    and comparison together, and a class clicking the same example shares one run; a refusal reaches every
    waiter and is not cached."""

    def __init__(self, service, size: int = 8):
        self.service, self.cache = service, RunCache(max_items=size)

    def get(self, request, source, service=None):
        """`service`: the page's view of the models (explorer.session_models.session_service); a student's
        model is cached under its own token, never mixed with another page's or run's."""
        service = service or self.service
        key = (request, source_key(source), getattr(service, "token", None))
        return self.cache.get_or_compute(key, lambda: run_request(service, request, resolve_source(source)),
                                         share_errors=(Exception,))


class Newest:
    """The newest request token each page (session) has sent; an older request's reply is stale."""

    def __init__(self):
        self.lock, self.tokens = threading.Lock(), {}

    def stale(self, session: str, token) -> bool:
        token = float(token or 0)
        with self.lock:
            if token < self.tokens.get(session, 0.0):
                return True
            self.tokens[session] = token
            return False


def build_reconstruction_tab(service, ui=None) -> None:
    """The tab; `ui` (explorer.ui.app.AppContext) gives the page's language for Python-side text."""
    vaes = service.names("vae")
    if not vaes:
        gr.Markdown(tr("rec.no_vae"))
    first_model = default_model(service, "mnist") or (vaes[0] if vaes else None)
    examples = view.heldout_examples()
    results, newest = Results(service), Newest()
    pictures: OrderedDict = OrderedDict()  # session -> what its page's images show: a re-wording resends none
    pictures_lock = threading.Lock()

    gr.Markdown(tr("rec.intro"), latex_delimiters=LATEX)
    maths_panel("vae", service)
    source = gr.State(examples[0][0])
    token = gr.Number(0, visible=False)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            with gr.Tabs():
                with gr.Tab(tr("rec.examples")):
                    gr.Markdown(tr("rec.gallery"))  # above, not a floating label that covers the top row
                    gallery = gr.HTML(view.examples_html(examples), css_template=view.EXAMPLES_CSS,
                                      js_on_load=EXAMPLES_JS, elem_id="rec-gallery")
                with gr.Tab(tr("rec.upload")):
                    upload = gr.File(label=tr("rec.upload_file"), type="filepath",
                                     file_types=[".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp",
                                                 ".pgm", ".ppm", ".pnm"])
                with gr.Tab(tr("rec.draw")) as draw_tab:
                    gr.Markdown(tr("rec.sketch"))  # above the canvas: the sketchpad's toolbar would cover a label
                    sketch = gr.Sketchpad(show_label=False, canvas_size=(280, 280), fixed_canvas=True, type="numpy",
                                          image_mode="RGBA", format="png", layers=False, transforms=(),
                                          brush=gr.Brush(default_size=12, colors=["#000000"], color_mode="fixed"),
                                          elem_id="rec-sketch")
                    use_sketch = gr.Button(tr("rec.use_sketch"), variant="primary")
            model = gr.Dropdown(vaes, value=first_model, label=tr("rec.model"))
            latent_mode = gr.Radio([(tr("rec.mean"), "mean"), (tr("rec.sample"), "sample")], value="mean",
                                   label=tr("rec.latent_mode"))
            seed = gr.Textbox("0", label=tr("rec.seed"), max_lines=1)  # checked in Python, only when sampling
            with gr.Row():
                fit = gr.Radio([(tr("rec.crop"), "crop"), (tr("rec.resize"), "resize")], value="crop",
                               label=tr("rec.fit"))
                size = gr.Radio(list(PHOTO_SIDES), value=working_side(service), label=tr("rec.size"))
            compare = gr.Dropdown([(tr("rec.none"), NONE)] + [(v, v) for v in vaes], value=NONE,
                                  label=tr("rec.compare"))
        with gr.Column(scale=2):
            note = gr.Markdown(elem_id="rec-note")
            with gr.Row():
                original = gr.Image(label=tr("rec.original"), format="png", interactive=False, height=260)
                recon = gr.Image(label=tr("rec.reconstruction"), format="png", interactive=False, height=260)
                error = gr.Image(label=tr("rec.error"), format="png", interactive=False, height=260)
            with gr.Row(visible=False) as compare_row:
                recon_b = gr.Image(label=tr("rec.recon_b"), format="png", interactive=False, height=260)
                error_b = gr.Image(label=tr("rec.error_b"), format="png", interactive=False, height=260)
            metrics = gr.Markdown()
            channels = gr.Image(label=tr("rec.channels"), format="png", interactive=False, visible=False)
            channels_md = gr.Markdown()
            latent_md = gr.Markdown()

    gr.Markdown(tr("rec.rd_title"))
    points = rate_distortion_points(service)
    by_c, by_ratio = view.rate_distortion_figures(points, "en")
    with gr.Row():
        rd_c = gr.Plot(by_c, label=tr("rec.rd_plot_c"), min_width=320)
        rd_ratio = gr.Plot(by_ratio, label=tr("rec.rd_plot_ratio"), min_width=320)
    gr.Markdown(tr("rec.rd_explain"), latex_delimiters=LATEX)
    gr.Markdown(tr_pair("rec.rd_table", view.rate_distortion_table(points, "en"),
                        view.rate_distortion_table(points, "zh")))
    language = ui.language if ui is not None else gr.State("en")
    language.change(lambda lang: view.rate_distortion_figures(points, normalise_lang(lang)), language,
                    [rd_c, rd_ratio], api_visibility="private", show_progress="hidden")

    # ---- handlers ---------------------------------------------------------------------------------------
    outputs = [note, original, recon, error, compare_row, recon_b, error_b, metrics, channels, channels_md,
               latent_md]

    def cleared(markdown: str) -> tuple:
        return (markdown, None, None, None, gr.Row(visible=False), None, None, "", gr.Image(value=None, visible=False),
                "", "")

    def show(src, name, mode, seed_value, fit_mode, side, other, lang, stamp, request: gr.Request):
        lang, session = normalise_lang(lang), getattr(request, "session_hash", None) or ""
        if newest.stale(session, stamp):
            return tuple(gr.skip() for _ in outputs)
        models = session_service(service, session)  # the shared models, plus this page's own (if trained)
        try:
            req = validate_request(models, name, mode == "sample", seed_value, fit_mode, side,
                                   seed_field=Message("recon.field_seed"))
            a = results.get(req, src, models)
            warning = comparable(models, name, other) if other and other != NONE else None
            b = results.get(replace(req, model=other), src, models) \
                if other and other != NONE and warning is None else None
            noise = sampling_noise(a, results.get(replace(req, sample=False, seed=0), src, models)) \
                if req.sample else None
        except (ValueError, RuntimeError) as err:  # a refused input, or a model that cannot take it
            key = None
            shown = cleared(view.refusal_markdown(err, lang, failed=not isinstance(err, Refusal)))
            if not newest.stale(session, stamp):  # also a toast: on a phone the results are below the fold
                gr.Warning(word(err, lang))
        else:
            vmax = error_scale(a.error, *([b.error] if b else []))
            grid, grid_md = view.channel_grid(a.z, lang)
            shown = (view.notes_markdown(a, b, vmax, lang, warning), view.display(a.original),
                     view.display(a.reconstruction), view.heat_map(a.error, vmax), gr.Row(visible=b is not None),
                     view.display(b.reconstruction) if b else None, view.heat_map(b.error, vmax) if b else None,
                     view.metrics_table([a, b] if b else [a], lang), gr.Image(value=grid, visible=grid is not None),
                     grid_md, view.latent_markdown(a, noise, lang))
            key = (req, source_key(src), other, getattr(models, "token", None))
            if pictures.get(session) == key:  # only the words changed (a language switch): keep the page's images
                shown = tuple(gr.skip() if i in PICTURES else value for i, value in enumerate(shown))
        if newest.stale(session, stamp):  # a newer request arrived while this one ran: its reply will follow
            return tuple(gr.skip() for _ in outputs)
        with pictures_lock:
            pictures[session] = key
            pictures.move_to_end(session)
            while len(pictures) > 4096:  # the most recent pages
                pictures.popitem(last=False)
        return shown

    def pick_example(current_model, current_compare, evt: gr.EventData, request: gr.Request):
        """The clicked example; a photo switches to the photo default (taef2 when installed) compared with the
        4-channel photo VAE, a digit back to a digit VAE, when the current model was trained on the other kind."""
        payload = getattr(evt, "_data", None)
        index = payload.get("index") if isinstance(payload, dict) else None
        if not isinstance(index, int) or not 0 <= index < len(examples):
            return gr.skip(), gr.skip(), gr.skip()
        chosen = examples[index][0]
        wanted = "photos" if chosen["kind"] == "photo" else "mnist"
        models = session_service(service, session_of(request))  # this page's own model counts as a digit VAE
        current = models.config(current_model).get("dataset") if current_model in models.names("vae") else None
        best = default_model(service, wanted)
        if current == wanted or best is None:
            return chosen, gr.skip(), gr.skip()
        compare_with = default_comparison(service, best) if wanted == "photos" else None
        keep = current_compare in models.names("vae") and models.config(current_compare).get("dataset") == wanted
        return chosen, best, compare_with or (current_compare if keep else NONE)

    pick = {"api_visibility": "private", "concurrency_limit": None}
    gallery.example_click(pick_example, [model, compare], [source, model, compare], **pick)
    upload.upload(lambda path: {"kind": "file", "value": path} if path else gr.skip(), upload, source, **pick)
    use_sketch.click(lambda value: {"kind": "sketch", "value": value.get("composite") if isinstance(value, dict)
                                    else value}, sketch, source, **pick)
    draw_tab.select(None, None, None, js=BRUSH_JS, api_visibility="private", queue=False)
    refresh = gr.State(0)  # bumped when the page's list of models changed what the dropdowns show
    if ui is not None:  # the student's model (Exercises tab) joins both model choices, for this page only
        def my_models(current, current_compare, bumped, lang, request: gr.Request):
            chosen, value = choices_and_value(vaes, current, request, lang, first_model)
            others, other = choices_and_value([(tr("rec.none"), NONE)] + [(v, v) for v in vaes], current_compare,
                                              request, lang, NONE)
            changed = (value, other) != (current, current_compare)
            return (gr.Dropdown(choices=chosen, value=value), gr.Dropdown(choices=others, value=other),
                    (bumped + 1) if changed else gr.skip())

        gr.on([ui.tabs.select, language.change], my_models, [model, compare, refresh, language],
              [model, compare, refresh], api_visibility="private", show_progress="hidden", queue=False)
    # One event per user action: the page load, a new source, the user's own edits (`.input`, not `.change`:
    # an example that also switches the model and the comparison must not send one event per changed box), and a
    # model list that replaced the chosen model. The seed is read when submitted or left, not per keystroke.
    root = gr.context.Context.root_block
    triggers = ([root.load] if root is not None else []) + [
        source.change, model.input, latent_mode.input, seed.submit, seed.blur, fit.input, size.input, compare.input,
        refresh.change, language.change]
    gr.on(triggers, show, [source, model, latent_mode, seed, fit, size, compare, language, token], outputs, js=STAMP_JS,
          trigger_mode="always_last", show_progress="full", api_visibility="private",
          concurrency_id="reconstruction")

    # ---- public API -------------------------------------------------------------------------------------
    api_image = gr.File(visible=False, type="filepath", label="image")
    api_model = gr.Textbox(first_model, visible=False, label="model")
    api_sample = gr.Checkbox(False, visible=False, label="sample")
    api_seed = gr.Number(0, visible=False, label="seed")  # validated by validate_request (one rule for seeds)
    api_fit = gr.Textbox("crop", visible=False, label="fit")
    api_side = gr.Number(max(PHOTO_SIDES), visible=False, label="max_side")
    api_recon = gr.Image(format="png", visible=False, label="reconstruction")
    api_json = gr.JSON(visible=False, label="metrics")
    api_trigger = gr.Button(visible=False)

    def reconstruct_image(image, model, sample=False, seed=0, fit="crop", max_side=512):
        """Reconstruct an image file with a VAE from /models. Digits are centred and scaled like MNIST
        (28x28); photos are shrunk to `max_side` (256 or 512) px on the long side, then centre-cropped ("crop")
        or resized ("resize") to a multiple of f. `seed` (0..2^32-1) is read only when `sample`. Returns the
        reconstruction as a lossless PNG at the model's working size, and JSON {mse, psnr, ssim, ssim_window,
        latent_shape, compression_ratio, image_shape, latent, seed, kl_nats, preprocessing, model}; metrics are
        measured on the 8-bit arrays the PNGs hold. Refusals are English messages."""
        try:
            req = validate_request(service, model, sample, seed, fit, max_side)
            if not image:
                raise Refusal("recon.no_image_file")
            r = run_request(service, req, image)
        except ValueError as err:
            raise gr.Error(str(err)) from err
        return to_uint8(r.reconstruction), r.as_json()

    api_trigger.click(reconstruct_image, [api_image, api_model, api_sample, api_seed, api_fit, api_side],
                      [api_recon, api_json], api_name="reconstruct", concurrency_id="reconstruction")
