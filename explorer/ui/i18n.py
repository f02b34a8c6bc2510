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
- Gradio's OWN strings follow the switch too. Checked in gradio 6.31's frontend: a component mounted in one
  locale keeps the strings it rendered (the upload drop zone "Drop File Here - or - Click to Upload" stayed
  Chinese after switching back); a toast's title is its type capitalised ("Error", never translated); the
  upload size limit is an English `Error` thrown by the client ("File(s) exceed the maximum allowed size of
  ..."); a Number's range check is an English server message. So `load_js` also installs one observer that
  rewords, in the page's language, every text node outside Markdown, tables and plots that is one of Gradio's
  own strings in the other language: pairs read from Gradio's own locale bundles (the hashed `en-*.js` and
  `zh-CN-*.js` assets, whose default export is the whole table), plus `GRADIO_EXTRA_PAIRS` (toast titles) and
  `GRADIO_PATTERNS` (the messages with values).
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


@functools.lru_cache(maxsize=1)
def _locale_assets() -> dict[str, str]:
    """{"en": file name, "zh": file name} of Gradio's English and zh-CN locale bundles, where present."""
    assets = Path(gr.__file__).resolve().parent / "templates" / "frontend" / "assets"
    found = {}
    for lang, stem in (("en", "en"), ("zh", "zh-CN")):
        for path in sorted(assets.glob(f"{stem}-*.js")):
            head = path.read_text(encoding="utf-8", errors="ignore")
            if "as _name" in head and "as upload_text" in head:  # a locale bundle, not another asset
                found[lang] = path.name
                break
    return found


# Strings Gradio's frontend shows in English whatever the locale (not in its locale bundles): toast titles and
# the status tracker's "processing |".
GRADIO_EXTRA_PAIRS = [("Error", "错误"), ("Warning", "警告"), ("Info", "提示"), ("Success", "成功"),
                      ("processing |", "处理中 |")]
# Gradio's messages with values, as (English regex, Chinese replacement, Chinese regex, English replacement).
GRADIO_PATTERNS = [
    (r"^File\(s\) exceed the maximum allowed size of (.+?): (.+)$", "文件超过允许的最大大小 $1：$2",
     r"^文件超过允许的最大大小 (.+?)：(.+)$", "File(s) exceed the maximum allowed size of $1: $2"),
    (r"^Value (.+) is less than minimum value (.+)\.$", "数值 $1 小于最小值 $2。",
     r"^数值 (.+) 小于最小值 (.+)。$", "Value $1 is less than minimum value $2."),
    (r"^Value (.+) is greater than maximum value (.+)\.$", "数值 $1 大于最大值 $2。",
     r"^数值 (.+) 大于最大值 (.+)。$", "Value $1 is greater than maximum value $2."),
    (r"^queue: (\d+)/(\d*) \|$", "排队：$1/$2 |", r"^排队：(\d+)/(\d*) \|$", "queue: $1/$2 |"),
]


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
  lseRewordGradio(document.body);
  return mod ? lang : lseCurrent();
}
const LSE_BUNDLES = %(bundles)s, LSE_EXTRA = %(extra)s, LSE_PATTERNS = %(patterns)s;
const LSE_SKIP = ".prose, .md, table, .js-plotly-plot, textarea, code, pre, script, style, svg, #%(radio)s";
async function lsePairs() {
  if (window.__lsePairs) return window.__lsePairs;
  const pairs = new Map();
  const add = (en, zh) => {
    if (typeof en !== "string" || typeof zh !== "string" || en === zh || /[{}<>]/.test(en + zh)) return;
    const pair = [en.trim(), zh.trim()];
    if (!pair[0] || !pair[1]) return;
    if (!pairs.has(pair[0])) pairs.set(pair[0], pair);
    if (!pairs.has(pair[1])) pairs.set(pair[1], pair);
  };
  try {
    const load = async f => (await import(new URL("assets/" + f, document.baseURI).href)).default || {};
    const [en, zh] = await Promise.all([load(LSE_BUNDLES.en), load(LSE_BUNDLES.zh)]);
    const walk = (a, b) => { for (const k in a) { if (k === "_name" || !(k in b)) continue;
      if (typeof a[k] === "object" && a[k]) walk(a[k], b[k]); else add(a[k], b[k]); } };
    walk(en, zh);
    const or = [en.common && en.common.or, zh.common && zh.common.or];
    if (or[0] && or[1]) add(`- ${or[0]} -`, `- ${or[1]} -`);  // the drop zone's "- or -"
  } catch (err) { console.warn("language switch: Gradio's locale bundles were not found", err); }
  for (const [en, zh] of LSE_EXTRA) add(en, zh);
  return (window.__lsePairs = pairs);
}
function lseRewordText(node, pairs, index) {
  const text = node.nodeValue, core = text.trim();
  if (!core || (node.parentElement && node.parentElement.closest(LSE_SKIP))) return;
  let wanted = null;
  const pair = pairs.get(core);
  if (pair) wanted = pair[index];
  else for (const p of LSE_PATTERNS) {
    const from = new RegExp(index === 1 ? p[0] : p[2]);
    if (from.test(core)) { wanted = core.replace(from, index === 1 ? p[1] : p[3]); break; }
  }
  if (wanted !== null && wanted !== core) node.nodeValue = text.replace(core, wanted);
}
function lseRewordGradio(root) {
  const pairs = window.__lsePairs;
  if (!pairs || !root) return;
  const index = lseCurrent() === "zh" ? 1 : 0;
  if (root.nodeType === 3) return lseRewordText(root, pairs, index);
  if (root.nodeType !== 1) return;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) lseRewordText(n, pairs, index);
}
""" % {"key": json.dumps(STORAGE_KEY), "locales": json.dumps(FRONTEND_LOCALES), "core": json.dumps(_core_asset()),
       "tabs": json.dumps(tab_labels, ensure_ascii=False), "bundles": json.dumps(_locale_assets()),
       "extra": json.dumps(GRADIO_EXTRA_PAIRS, ensure_ascii=False),
       "patterns": json.dumps(GRADIO_PATTERNS, ensure_ascii=False), "radio": LANGUAGE_ELEM_ID}


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
    requestAnimationFrame(() => setTimeout(() => { lseRelabelTabs(); lseRewordGradio(document.body); }, 30));
  }).observe(document.documentElement, {attributes: true, attributeFilter: ["lang"]});
  await lsePairs();
  // Gradio's own strings in components mounted later (a tab opened, a toast shown) or re-rendered stale
  new MutationObserver(mutations => {
    for (const m of mutations) {
      if (m.type === "characterData") lseRewordGradio(m.target);
      else for (const added of m.addedNodes) lseRewordGradio(added);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
  const shown = await lseApply(wanted);
  lseRelabelTabs();
  return shown;
}""".replace("%(radio)s", LANGUAGE_ELEM_ID)
