"""Bilingual UI text (English / 简体中文) and the language switch.

Every tab module declares `STRINGS = {"key": ("English", "中文")}`, calls `register(STRINGS)` and uses
`tr("key")` for static labels and Markdown; `build_i18n()` merges all tables into one `gr.I18n` at launch, and
the browser translates them by its language (Gradio's frontend picks the locale from `navigator.language`).

- `tr_format("key", value=...)`: static text that quotes numbers computed at build time (from the running
  models): both languages are formatted now and registered under a derived key. Call it while the Blocks are
  being built, i.e. before `build_i18n()`.
- `text("key", lang, **values)`: the string in one language, for text computed in Python (gr.Error, tables).
- `bilingual("key")`: "English / 中文" in one string, where the language is not known.
- The visible switch: `LANGUAGE_NAMES` and the JavaScript `switch_js` / `load_js` that `explorer.ui.app` wires
  to a radio. Gradio 6 has no public API to change the locale, so the JS imports the frontend's own i18n module
  (the hashed `core-*.js` asset that exports `changeLocale`, the function the footer's Settings > Language menu
  calls) and calls it; every tr() label re-renders in place. The choice is kept in localStorage.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path

import gradio as gr
from gradio.i18n import I18nData

LANGUAGES = ("en", "zh")
LANGUAGE_NAMES = {"en": "English", "zh": "中文"}  # each language named in itself, never translated
FRONTEND_LOCALES = {"en": "en", "zh": "zh-CN"}  # the locale handed to the frontend (zh-CN also has Gradio's own)
STORAGE_KEY = "latent-explorer-lang"
LANGUAGE_ELEM_ID = "lang-switch"  # elem_id of the radio
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


def normalise_lang(lang: str | None) -> str:
    """"zh", "zh-CN", "zh-Hans" ... -> "zh"; anything else (None included) -> "en"."""
    return "zh" if isinstance(lang, str) and lang.lower().startswith("zh") else "en"


def text(key: str, lang: str | None = "en", **values) -> str:
    """The plain string for `key` in `lang`, formatted with `values` when given (for text computed in Python,
    such as error messages)."""
    english, chinese = _TABLES[key]
    chosen = chinese if normalise_lang(lang) == "zh" else english
    return chosen.format(**values) if values else chosen


def bilingual(key: str, **values) -> str:
    """"English / 中文" in one string, for messages shown before the language is known."""
    return f"{text(key, 'en', **values)} / {text(key, 'zh', **values)}"


def tr_format(key: str, **values) -> I18nData:
    """A translatable string whose registered templates (`key`) are formatted with `values` in both languages
    and registered under `key#<hash>`, so the browser switches it like any static label. Use it at build time
    for text that quotes numbers from the running models."""
    return tr_pair(key, text(key, "en", **values), text(key, "zh", **values))


def tr_pair(key: str, english: str, chinese: str) -> I18nData:
    """Text made at build time in both languages (e.g. a table of measured numbers), registered under
    `key#<hash>` so the browser switches it like any static label."""
    digest = hashlib.sha1(f"{english}\0{chinese}".encode()).hexdigest()[:10]
    derived = f"{key}#{digest}"
    register({derived: (english, chinese)})
    return I18nData(derived)


def all_strings() -> dict[str, tuple[str, str]]:
    return dict(_TABLES)


def build_i18n() -> gr.I18n:
    """One gr.I18n with every registered table. The frontend chooses zh-CN for Chinese browsers (it knows
    zh-CN and zh-TW); "zh" covers zh-TW and any other zh-* by svelte-i18n's fallback to the base language."""
    en = {k: v[0] for k, v in _TABLES.items()}
    zh = {k: v[1] for k, v in _TABLES.items()}
    return gr.I18n(en=en, zh=zh, **{"zh-CN": zh, "zh-Hans": zh})


# ---- the visible language switch ----------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _core_asset() -> str:
    """File name of the frontend module that exports changeLocale (hashed per Gradio release), or ""."""
    assets = Path(gr.__file__).resolve().parent / "templates" / "frontend" / "assets"
    for path in sorted(assets.glob("core-*.js")):
        try:
            if "as changeLocale" in path.read_text(encoding="utf-8", errors="ignore"):
                return path.name
        except OSError:
            continue
    return ""


def tab_label_pairs(blocks: gr.Blocks) -> dict[str, list[str]]:
    """{label in either language: [English, 中文]} for every gr.Tab in `blocks` labelled with tr(...)."""
    pairs: dict[str, list[str]] = {}
    for block in blocks.blocks.values():
        label = getattr(block, "label", None)
        if isinstance(block, gr.Tab) and isinstance(label, I18nData) and label.key in _TABLES:
            english, chinese = _TABLES[label.key]
            pairs[english] = pairs[chinese] = [english, chinese]
    return pairs


def _js_helpers(tab_labels: dict[str, list[str]]) -> str:
    """Shared JS: find Gradio's i18n module, read/apply the locale, and relabel tab buttons.

    Why relabel: a gr.Tab that has never been opened is not mounted, so its button keeps the label it was
    first translated to when the locale changes later (checked in Chromium with gradio 6.31). Once a tab is
    opened, Gradio's own (correct) label replaces ours."""
    return """
const LSE_KEY = %(key)s, LSE_LOCALES = %(locales)s, LSE_CORE = %(core)s, LSE_TABS = %(tabs)s;
async function lseI18n() {
  if (window.__lseI18n) return window.__lseI18n;
  const urls = performance.getEntriesByType("resource").map(e => e.name)
    .filter(n => /\\/assets\\/core-[^/]*\\.js(\\?|$)/.test(n));
  if (LSE_CORE) urls.push(new URL("assets/" + LSE_CORE, document.baseURI).href);
  for (const url of urls) {
    try {
      const mod = await import(url);
      if (typeof mod.changeLocale === "function") return (window.__lseI18n = mod);
    } catch (err) { /* try the next candidate */ }
  }
  console.warn("language switch: Gradio's i18n module was not found; use Settings > Language");
  return null;
}
function lseCurrent() {
  return (document.documentElement.lang || "en").toLowerCase().startsWith("zh") ? "zh" : "en";
}
function lseRelabelTabs() {
  const index = lseCurrent() === "zh" ? 1 : 0;
  document.querySelectorAll(".tabs button").forEach(button => {
    for (const node of button.childNodes) {
      const pair = node.nodeType === 3 ? LSE_TABS[node.textContent.trim()] : null;
      if (pair && node.textContent.trim() !== pair[index]) node.textContent = pair[index];
    }
  });
}
async function lseApply(lang) {
  const mod = await lseI18n();
  if (mod && lseCurrent() !== lang) mod.changeLocale(LSE_LOCALES[lang] || "en");
  return mod ? lang : lseCurrent();
}
""" % {"key": json.dumps(STORAGE_KEY), "locales": json.dumps(FRONTEND_LOCALES), "core": json.dumps(_core_asset()),
       "tabs": json.dumps(tab_labels, ensure_ascii=False)}


def switch_js(tab_labels: dict[str, list[str]]) -> str:
    """For the radio's `.input` (js=, no Python fn): switch the page to the chosen language and remember it."""
    return "async (lang) => {" + _js_helpers(tab_labels) + """
  lang = lang === "zh" ? "zh" : "en";
  try { localStorage.setItem(LSE_KEY, lang); } catch (err) {}
  return await lseApply(lang);
}"""


def load_js(tab_labels: dict[str, list[str]]) -> str:
    """For `demo.load` (js=, output: the radio): apply the language the student chose last time (else the
    browser's), relabel tabs on every locale change, and keep the radio in step when the language is changed
    from the footer's Settings menu. Returns the language shown, for the radio."""
    return "async () => {" + _js_helpers(tab_labels) + """
  let saved = null;
  try { saved = localStorage.getItem(LSE_KEY); } catch (err) {}
  const navigatorLang = (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
  const wanted = saved === "zh" || saved === "en" ? saved : navigatorLang;
  new MutationObserver(() => {
    const now = lseCurrent();
    const input = document.querySelector(`#%(radio)s input[value="${now}"]`);
    if (input && !input.checked) input.click();
    requestAnimationFrame(() => setTimeout(lseRelabelTabs, 30));
  }).observe(document.documentElement, {attributes: true, attributeFilter: ["lang"]});
  const shown = await lseApply(wanted);
  lseRelabelTabs();
  return shown;
}""".replace("%(radio)s", LANGUAGE_ELEM_ID)
