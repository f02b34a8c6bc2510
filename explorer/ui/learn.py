"""Wiring of the teaching text shared by the whole app: the header's overview (collapsed by default behind a
one-line summary, so the tabs stay above the fold at 1366x768) and the maths panels any tab can open with
`maths_panel(topic, service)`. What they say lives in explorer/views/overview.py (pure, tested without Gradio);
this module turns its parts into translatable Markdown (`tr` / `tr_format`) and lays them out.
"""
from __future__ import annotations

import gradio as gr
from gradio.i18n import I18nData

from ..views.overview import (DIFFUSION_TITLE, LATEX, MATHS_TITLE, STRINGS, Part, maths_parts, overview_columns,
                              summary)
from .i18n import register, tr, tr_format

register(STRINGS)
OVERVIEW_ID = "overview"

__all__ = ["LATEX", "STRINGS", "build_overview", "maths_panel"]


def _label(part: Part) -> I18nData:
    key, values = part
    return tr_format(key, **values) if values else tr(key)


def _markdown(parts: list[Part]) -> None:
    for part in parts:
        gr.Markdown(_label(part), latex_delimiters=LATEX)


def maths_panel(topic: str, service, open: bool = False, title: str = MATHS_TITLE) -> gr.Accordion:
    """An accordion (titled "The maths of this tab" unless `title` names another key) with the formulas of
    `topic` ("vae", "diffusion" or "compression") and the shipped models' numbers; call it inside a tab's
    builder. ValueError for an unknown topic."""
    parts = maths_parts(topic, service)
    with gr.Accordion(tr(title), open=open) as panel:
        _markdown(parts)
    return panel


def build_overview(service, open: bool = False) -> gr.Accordion:
    """The header's overview: why latent space, the VAE's structure, the gains, the savings arithmetic.
    Collapsed by default; its title is a one-line summary with the headline numbers."""
    left, right = overview_columns(service)
    with gr.Accordion(_label(summary(service)), open=open, elem_id=OVERVIEW_ID) as panel:
        with gr.Row(equal_height=False):
            with gr.Column():
                _markdown(left)
            with gr.Column():
                _markdown(right)
                maths_panel("diffusion", service, title=DIFFUSION_TITLE)
    return panel
