"""Compression tab: layout and wiring only. What it shows is computed in explorer/views/compression.py (pure);
the arithmetic and its refusals are explorer/compression.py.

The tab updates as the student types: a number it cannot use is shown, marked and worded in the page's language,
in the result area; the table and figures (which depend on C, f and c only) are emptied while those are unusable.
A preset sets every input (H, W, C, f, c and zero-padding) to the size its VAE really runs at, so the result,
the preset tables and the Reconstruction tab give one ratio. The /compression API answers in English and raises.
"""
from __future__ import annotations

import gradio as gr

from ..compression import compression
from ..messages import normalise_lang
from ..views import compression as view
from .i18n import LANGUAGES, register, tr, tr_pair

register(view.STRINGS)

LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]
PRIVATE = {"api_visibility": "private", "show_progress": "hidden"}


def compression_api(height: int, width: int, image_channels: int = 3, factor: int = 8, latent_channels: int = 4,
                    zero_pad: bool = False) -> dict:
    """Latent size and compression ratio of an (image_channels, height, width) image under a VAE with
    downsampling `factor` and `latent_channels`: pixel_shape, pixel_dims, latent_shape, latent_dims, ratio, bytes,
    network_shape. `zero_pad`: pad H and W up to a multiple of f (the ratio still counts H x W x C).
    An impossible setting is refused with an English message naming the field and the allowed range."""
    try:
        return compression(height, width, image_channels, factor, latent_channels, zero_pad).as_dict()
    except ValueError as exc:
        raise gr.Error(str(exc)) from exc


def preset_dropdown(settings: dict[str, dict]) -> gr.Dropdown:
    """The preset picker: "Custom", then each preset labelled in both languages (the browser switches them)."""
    choices = [(tr("comp.custom"), view.CUSTOM)] + [
        (tr_pair("comp.preset_name", view.preset_label(value, "en"), view.preset_label(value, "zh")), value)
        for value in settings]
    return gr.Dropdown(choices, value=view.DEFAULT_PRESET, label=tr("comp.preset"))


def build_compression_tab(service, ui=None) -> None:
    """The tab; `ui` (explorer.ui.app.AppContext) gives the page's language, in which the result, the tables
    and the figures are worded and redrawn when it changes."""
    settings = view.preset_settings(service)
    start = settings[view.DEFAULT_PRESET]
    first = view.panels(*(start[key] for key in view.INPUTS), "en")
    language = ui.language if ui is not None else gr.State("en")

    gr.Markdown(tr("comp.intro"), latex_delimiters=LATEX)
    with gr.Row():
        with gr.Column(scale=1, min_width=300):
            preset = preset_dropdown(settings)
            # no precision/minimum on the boxes: Gradio would round or refuse (in English) before the tab's own
            # checks, and block every event that reads the box (issue 14, A)
            with gr.Row():
                height = gr.Number(start["height"], label=tr("comp.height"), min_width=120)
                width = gr.Number(start["width"], label=tr("comp.width"), min_width=120)
            with gr.Row():
                image_channels = gr.Number(start["image_channels"], label=tr("comp.image_channels"), min_width=90)
                factor = gr.Number(start["factor"], label=tr("comp.factor"), min_width=90)
                latent_channels = gr.Number(start["latent_channels"], label=tr("comp.latent_channels"),
                                            min_width=90)
            zero_pad = gr.Checkbox(start["zero_pad"], label=tr("comp.zero_pad"))
        with gr.Column(scale=1, min_width=300):
            result = gr.Markdown(first[0], label=tr("comp.result"), elem_id="comp-result")
    with gr.Row():  # side by side on a laptop, one above the other on a phone; each figure carries its title
        with gr.Column(min_width=320):
            size_plot = gr.Plot(first[2], show_label=False, elem_id="comp-size-plot")
        with gr.Column(min_width=320):
            ratio_plot = gr.Plot(first[3], show_label=False, elem_id="comp-ratio-plot")
    table = gr.HTML(first[1])
    # static tables as HTML sized by their content: no inner scroll box, no word broken (issue 14, D2 and D4)
    presets = {lang: view.preset_tables(service, lang) for lang in LANGUAGES}
    ours_table, field_table = gr.HTML(presets["en"][0]), gr.HTML(presets["en"][1])

    boxes = [height, width, image_channels, factor, latent_channels, zero_pad]

    panels = [result, table, size_plot, ratio_plot]

    def on_preset(name, lang):
        """The preset's six inputs into the boxes and its panels, in one event ("Custom" leaves them)."""
        if name not in settings:
            return tuple(gr.update() for _ in boxes + panels)
        values = tuple(settings[name][key] for key in view.INPUTS)
        return (*values, *view.panels(*values, lang))

    # The user's own edits only (`.input`): a preset that fills six boxes must not send six events (issue 12).
    preset.input(on_preset, [preset, language], boxes + panels, **PRIVATE)
    gr.on([image_channels.input, factor.input, latent_channels.input],
          lambda name, *numbers: view.preset_after_edit(name, settings, *numbers),
          [preset, image_channels, factor, latent_channels], preset, trigger_mode="always_last", **PRIVATE)
    gr.on([box.input for box in boxes] + [language.change], view.panels, [*boxes, language], panels,
          trigger_mode="always_last", **PRIVATE)
    language.change(lambda lang: presets[normalise_lang(lang)], language, [ours_table, field_table], **PRIVATE)
    gr.api(compression_api, api_name="compression")
