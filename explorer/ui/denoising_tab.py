"""Denoising tab: latent diffusion step by step, played in the browser, the same request in pixel space beside it
on request, and the public /generate API. Layout and wiring only.

Sampling is explorer/generation.py; what is shown is explorer/views/denoising.py; the player (play, pause, scrub,
arrow keys, speed, the schedule plot's marker, the status line in the page's language) is JavaScript in
denoising_assets/. The server computes once per Generate (an identical request from another page is served from
a bounded cache) and sends every step at once; playback makes no server call. Generate is a generator event: when
the page goes away (reload, closed tab), Gradio closes it at its next yield and the sampler stops at its next step.
"""
from __future__ import annotations

import itertools
import tempfile
import threading
import time
from pathlib import Path

import gradio as gr
import numpy as np

from ..checkpoint import CheckpointError
from ..diffusion import DEFAULT_SPACING, SPACINGS
from ..evaluate_diffusion import EVAL_SETTINGS, GUIDANCE_GRID
from ..generation import GUIDANCE_RANGE, RunCache, denoiser_for, generate, schedule_of, validate_request
from ..messages import normalise_lang, word
from ..views import denoising as views
from .i18n import register, tr, tr_format
from .learn import maths_panel

register(views.STRINGS)
ASSETS = Path(__file__).resolve().parent / "denoising_assets"
PROGRESS_SECONDS = 0.4  # how often a running Generate reports progress (and Gradio can notice a page gone away)
RUNS = RunCache(max_items=32)  # finished runs' payloads by (request, model): shared by every page
_keys = itertools.count(1)


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _plotly_js() -> str:
    import plotly

    return str(Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js")


def run_payload(service, request, should_stop=None) -> dict:
    """One space's run for the player, from the cache or computed now: {"payload", "timesteps", "timings"}."""
    model = denoiser_for(service, request.space)

    def compute() -> dict:
        g = generate(service, request, model=model, should_stop=should_stop)
        frames = views.run_frames(request.space, g.x_t[:, 0], g.x0_images[:, 0], g.current_images[:, 0])
        timings = g.timings()
        return {"payload": views.run_payload(request.space, g.model, g.vae, frames, timings),
                "timesteps": g.timesteps, "timings": timings}

    return RUNS.get_or_compute((request, model), compute)


class FramesFiles:
    """The /generate frames files (.npz) in one temporary folder, the newest `keep` kept (Gradio copies each into
    its own cache when the call returns, so older ones are not needed)."""

    def __init__(self, keep: int = 64):
        self.folder = Path(tempfile.mkdtemp(prefix="explorer-frames-"))
        self.keep, self.lock, self.count = keep, threading.Lock(), 0

    def write(self, arrays: dict) -> str:
        with self.lock:
            self.count += 1
            path = self.folder / f"frames-{self.count:06d}.npz"
            stale = self.folder / f"frames-{self.count - self.keep:06d}.npz"
        np.savez_compressed(path, **arrays)
        stale.unlink(missing_ok=True)
        return str(path)


def build_denoising_tab(service, ui=None) -> None:
    """The tab; `ui` is the app's AppContext (its language radio words the Python-side text)."""
    try:
        latent_model = denoiser_for(service, "latent")
    except ValueError:
        latent_model = None
    try:
        has_pixel = bool(denoiser_for(service, "pixel"))
    except ValueError:
        has_pixel = False
    graded = service.metrics(latent_model).get("agreement", {}) if latent_model else {}
    default_guidance = graded.get("settings", {}).get("guidance", EVAL_SETTINGS["guidance"])
    schedule = schedule_of(service.config(latent_model)) if latent_model else None
    denoisers = [(n, service.config(n).get("space", "?"), service.metrics(n)) for n in service.names("denoiser")]
    accuracy = service.metrics("mnist-classifier").get("accuracy") if "mnist-classifier" in service.names() else None
    best = {n: m["agreement"]["settings"]["guidance"] for n, _, m in denoisers
            if m.get("agreement", {}).get("settings", {}).get("guidance") is not None}
    gr.set_static_paths([_plotly_js()])
    frames_files = FramesFiles()

    def quality(lang: str) -> str:
        return views.quality_markdown(denoisers, accuracy, list(GUIDANCE_GRID), lang)

    # ---- layout ------------------------------------------------------------------------------------------------
    gr.Markdown(tr("den.intro"))
    maths_panel("diffusion", service)
    if latent_model is None:
        gr.Markdown(tr("den.missing"))
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            digit = gr.Dropdown([(str(d), d) for d in range(10)] + [("-1", -1)], value=3, label=tr("den.digit"))
            seed = gr.Number(0, label=tr("den.seed"))  # checked (and worded) by validate_request, not by Gradio
            sampler = gr.Radio([("DDIM", "ddim"), ("DDPM", "ddpm")], value="ddim", label=tr("den.sampler"))
            steps = gr.Slider(1, 1000, value=50, step=1, label=tr("den.steps"))
            spacing = gr.Radio(list(SPACINGS), value=DEFAULT_SPACING, label=tr("den.spacing"))
            guidance = gr.Slider(*GUIDANCE_RANGE, value=default_guidance, step=0.5, label=tr("den.guidance"))
            with_pixel = gr.Checkbox(False, label=tr("den.with_pixel"), interactive=has_pixel)
            generate_btn = gr.Button(tr("den.generate"), variant="primary")
        with gr.Column(scale=3):
            progress = gr.Markdown()
            player = gr.HTML(views.idle_payload(schedule), html_template=_asset("player.html"),
                             css_template=_asset("player.css"), js_on_load=_asset("player.js"),
                             plotly_path=_plotly_js(), elem_id="den-player")
    comparison = gr.Markdown()
    quality_md = gr.Markdown(quality("en"))
    if schedule is not None:
        t_first = schedule.num_train_timesteps - 1  # where trailing spacing always starts
        abar_first = float(schedule.alphas_cumprod[t_first])
        gr.Markdown(tr_format("den.spacing_note", t_first=t_first, abar=abar_first, root=abar_first ** 0.5))
    timings_state = gr.State(None)  # (latent timings, pixel timings or None) of the run on show

    # hidden inputs/outputs of the public /generate endpoint (validated by the function, not by widgets)
    with gr.Row(visible=False):
        api_digit, api_seed, api_steps = gr.Number(label="digit"), gr.Number(label="seed"), gr.Number(label="steps")
        api_sampler, api_guidance = gr.Textbox(label="sampler"), gr.Number(label="guidance")
        api_space = gr.Textbox(label="space")
        api_final = gr.Image(label=tr("den.api_final"), format="png", type="numpy")
        api_frames = gr.File(label=tr("den.frames_file"))
        api_json = gr.JSON(label="timings")
        api_button = gr.Button("generate")

    # ---- handlers ----------------------------------------------------------------------------------------------
    def on_generate(digit_v, seed_v, steps_v, sampler_v, guidance_v, spacing_v, with_pixel_v, lang_v=None):
        """Validate, then compute in a worker thread while yielding progress every PROGRESS_SECONDS; the last yield
        sends the whole run to the player. If the page goes away, Gradio closes this generator at a yield and
        `finally` tells the sampler to stop."""
        lang = normalise_lang(lang_v)
        spaces = ("latent", "pixel") if with_pixel_v and has_pixel else ("latent",)
        try:
            requests = [validate_request(digit_v, seed_v, steps_v, sampler_v, guidance_v, s, spacing_v) for s in spaces]
        except ValueError as exc:
            raise gr.Error(word(exc, lang)) from exc
        stop, box = threading.Event(), {}

        def work():
            try:
                box["runs"] = [run_payload(service, r, stop.is_set) for r in requests]
            except BaseException as exc:  # noqa: BLE001 - handed to the generator, which raises it for Gradio
                box["error"] = exc

        worker = threading.Thread(target=work, name="denoising-generate", daemon=True)
        start = time.perf_counter()
        worker.start()
        try:
            while worker.is_alive():
                worker.join(PROGRESS_SECONDS)
                if worker.is_alive():
                    seconds = time.perf_counter() - start
                    yield gr.update(), views.word("den.computing", lang, steps=requests[0].steps, seconds=seconds), \
                        gr.update(), gr.update()
        finally:
            stop.set()  # reached on GeneratorExit too: the sampler stops at its next step
        if "error" in box:
            exc = box["error"]
            if isinstance(exc, ValueError):
                raise gr.Error(word(exc, lang)) from exc
            if isinstance(exc, CheckpointError):
                raise gr.Error(views.word("den.err.checkpoint", lang, detail=exc)) from exc
            raise exc
        runs = box["runs"]
        payload = views.player_payload(f"run-{next(_keys)}", schedule, runs[0]["timesteps"],
                                       [r["payload"] for r in runs])
        timings = (runs[0]["timings"], runs[1]["timings"] if len(runs) > 1 else None)
        yield payload, "", views.comparison_markdown(*timings, lang, best), timings

    def on_language(timings, lang_v):
        """Re-word the Python-made tables (the player re-words itself in the browser)."""
        lang = normalise_lang(lang_v)
        table = views.comparison_markdown(*timings, lang, best) if timings else ""
        return table, quality(lang)

    def generate_api(digit, seed, steps, sampler, guidance, space):
        """Generate one digit step by step. digit: 0-9, or -1 for unconditional; seed: 0..2^32-1; steps: 1-1000;
        sampler: "ddpm" or "ddim"; guidance: classifier-free guidance scale 0-20; space: "latent" or "pixel".
        Returns the final 28x28 image (PNG); ONE frames file (.npz, numpy.load) holding every step: timesteps (S,),
        alphas_cumprod (S,), snr (S,), x_t and pred_x0 (S, C, h, w) float32 in the diffused space, x0_images and
        current_images (S, 28, 28) uint8 decoded, final (28, 28) uint8; and JSON with the settings used and the
        timings measured on this machine (total_s, denoise_s, decode_s, per_step_ms, ...). Not cached: every call
        samples, so its timings are real."""
        try:
            req = validate_request(digit, seed, steps, sampler, guidance, space)
            g = generate(service, req)
            arrays = views.frames_arrays(g, schedule_of(service.config(g.model), req.spacing))
        except (ValueError, CheckpointError) as exc:
            raise gr.Error(str(exc)) from exc  # the API answers in English
        return arrays["final"], frames_files.write(arrays), g.timings()

    # ---- events ------------------------------------------------------------------------------------------------
    lang_in = [ui.language] if ui is not None else []
    # Generate: trigger_mode="once" makes the frontend ignore clicks while a run is pending, with no extra server
    # event (a "re-enable the button" event after the run would be a request during playback). preprocess=False: the
    # boxes' raw values reach validate_request, which refuses a bad one in the page's language (Gradio's own range
    # check would answer in English, naming no box).
    generate_btn.click(on_generate, [digit, seed, steps, sampler, guidance, spacing, with_pixel, *lang_in],
                       [player, progress, comparison, timings_state], api_visibility="private",
                       concurrency_id="denoising", preprocess=False, show_progress="minimal", trigger_mode="once")
    if ui is not None:
        ui.language.change(on_language, [timings_state, ui.language], [comparison, quality_md],
                           api_visibility="private", show_progress="hidden")
    api_button.click(generate_api, [api_digit, api_seed, api_steps, api_sampler, api_guidance, api_space],
                     [api_final, api_frames, api_json], api_name="generate", concurrency_id="denoising")
