"""The student's own model (trained in the Exercises tab, kept in explorer.session_models.STORE) as a choice in the
other tabs' model dropdowns, for that page (session) only. Layout helpers only: the tabs call `session_of` to
find the page's session, `session_service` (explorer.session_models) to run their logic on it, and `dropdown` to
re-list their choices when a tab is selected or the language changes.
"""
from __future__ import annotations

import gradio as gr

from ..session_models import STORE, SessionModel
from .i18n import register, text

STRINGS = {
    "my.label": ("{name} · your model (this page only)", "{name} · 你的模型（仅本页）"),
}
register(STRINGS)


def session_of(request) -> str | None:
    """The page's session hash from a gr.Request; for an HTML component's server function (which Gradio hands
    the raw HTTP request, whose JSON body carries the page's session_hash) from that body; else None."""
    session = getattr(request, "session_hash", None) if request is not None else None
    if session:
        return session
    body = getattr(request, "_json", None)  # starlette caches the parsed body the component server read
    return body.get("session_hash") if isinstance(body, dict) else None


def my_model(request) -> SessionModel | None:
    """The page's model from the store, or None."""
    return STORE.get(session_of(request))


def label(entry: SessionModel, lang: str | None) -> str:
    """How a dropdown lists the student's model: its name and "your model (this page only)" in `lang`."""
    return text("my.label", lang, name=entry.name)


def choices_and_value(base: list, current, request, lang: str | None, fallback) -> tuple[list, object]:
    """A model dropdown's choices and value for this page: the `base` choices (names or (label, value) pairs),
    then the student's model if this page has one. The value stays `current` while it is still a choice; a
    student's model that is gone (page closed, or replaced by a new run) gives way to the new one, else to
    `fallback`. Plain data, so a handler can compare it with what the page shows (inside an event, a
    gr.Dropdown is only an update and has no readable `.value`)."""
    entry = my_model(request)
    choices = list(base) + ([(label(entry, lang), entry.name)] if entry is not None else [])
    values = [c[1] if isinstance(c, (tuple, list)) else c for c in choices]
    if current in values:
        value = current
    elif current is not None and entry is not None and str(current).startswith("my-"):
        value = entry.name
    else:
        value = fallback
    return choices, value


def dropdown(base: list, current, request, lang: str | None, fallback) -> gr.Dropdown:
    """The update of a model dropdown for this page (see `choices_and_value`)."""
    choices, value = choices_and_value(base, current, request, lang, fallback)
    return gr.Dropdown(choices=choices, value=value)
