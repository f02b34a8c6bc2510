"""Bilingual UI text (English / 简体中文). Every tab module declares
`STRINGS = {"key": ("English", "中文")}` and uses `tr("key")` for static labels; the app merges all
tables into one `gr.I18n` at launch. Gradio translates these in the browser by its language.
"""
from __future__ import annotations

import gradio as gr
from gradio.i18n import I18nData

LANGUAGES = ("en", "zh")
_TABLES: dict[str, tuple[str, str]] = {}


def register(strings: dict[str, tuple[str, str]]) -> None:
    """Add a module's STRINGS table; a key defined twice with different text is a bug."""
    for key, pair in strings.items():
        if key in _TABLES and _TABLES[key] != pair:
            raise ValueError(f"i18n key {key!r} defined twice with different text")
        _TABLES[key] = pair


def tr(key: str) -> I18nData:
    """A translatable string for a static label; the key must be registered before launch."""
    return I18nData(key)


def text(key: str, lang: str = "en") -> str:
    """The plain string for `key` in `lang` (for text computed in Python, such as error messages)."""
    english, chinese = _TABLES[key]
    return chinese if lang.startswith("zh") else english


def bilingual(key: str) -> str:
    """"English / 中文" in one string, for messages shown before the language is known."""
    english, chinese = _TABLES[key]
    return f"{english} / {chinese}"


def all_strings() -> dict[str, tuple[str, str]]:
    return dict(_TABLES)


def build_i18n() -> gr.I18n:
    """One gr.I18n with every registered table ("en" and "zh"; zh-CN etc. fall back to zh)."""
    en = {k: v[0] for k, v in _TABLES.items()}
    zh = {k: v[1] for k, v in _TABLES.items()}
    return gr.I18n(en=en, zh=zh, **{"zh-CN": zh, "zh-Hans": zh})
