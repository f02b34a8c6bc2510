"""Figures drawn in Python follow the page's language: the Latent map tab's scatter (its title, axes, legend and
hover words, the 2-D VAE's plane), built in English and in Chinese, and redrawn by each tab's language-change event.
Runs on tiny random-init checkpoints. (The Denoising tab's schedule plot is drawn in the browser now: see
tests/test_denoising_tab.py and tests/test_browser_denoising.py.)"""
from __future__ import annotations

import re

import gradio as gr
import pytest

from explorer.ui.latent_map_tab import build_latent_map_tab
from explorer.views.latent_map import LatentMapViews

CJK = re.compile(r"[\u3400-\u9fff]")
ENGLISH_WORD = re.compile(r"\b(?!UMAP\b|SNR\b|PCA\b)[A-Za-z]{3,}\b")  # prose, not an abbreviation or a symbol


def figure_words(fig) -> dict[str, str]:
    """Every label a plotly figure shows: axis titles, trace names, annotations and the title."""
    layout = fig.layout
    words = {name: axis.title.text for name in ("xaxis", "yaxis", "yaxis2")
             if (axis := getattr(layout, name, None)) is not None and axis.title.text}
    words.update({f"trace {i}": trace.name for i, trace in enumerate(fig.data) if trace.name})
    words.update({f"annotation {i}": a.text for i, a in enumerate(layout.annotations or ())})
    if layout.title.text:
        words["title"] = layout.title.text
    return words


def english_prose(label: str) -> list[str]:
    """Words of English prose in a label (model names such as tiny-sd-mnist excepted)."""
    return ENGLISH_WORD.findall(re.sub(r"\b[\w]+(?:-[\w]+)+\b", " ", label))


def language_handler(demo: gr.Blocks, language: gr.Radio, output: gr.components.Component):
    """The function the language radio's change event runs that redraws `output`."""
    for fn in demo.fns.values():
        if (language._id, "change") in fn.targets and output in fn.outputs:
            return fn.fn
    raise AssertionError(f"no language.change event redraws {output}")


def build(service, builder) -> tuple[gr.Blocks, gr.Radio]:
    """One tab in a Blocks with the app's language radio (as explorer.ui.app passes it)."""
    from explorer.ui.app import AppContext

    with gr.Blocks() as demo:
        language = gr.Radio(["en", "zh"], value="en")
        with gr.Tabs() as tabs, gr.Tab("tab"):
            builder(service, AppContext(language=language, tabs=tabs))
    return demo, language


# ---- the latent map -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def views(tiny_service):
    from explorer.latent_map import LatentMapExplorer

    return LatentMapViews(LatentMapExplorer(tiny_service))


def test_latent_map_in_chinese(views):
    value, status, _ = views.map_value("tiny-sd-mnist", "pca", 1, 2, "lerp", False, "zh")
    x, y = value["axis"]
    assert re.fullmatch(r"主成分 1（占方差的 \d+%）", x) and re.fullmatch(r"主成分 2（\d+%）", y), value["axis"]
    assert value["title"] == "tiny-sd-mnist：潜变量 4x7x7 → 二维（PCA）"
    assert value["labels"] == {"path": "A→B 路径", "digit": "数字"}  # legend entry, legend title, hover text
    assert status.startswith("**tiny-sd-mnist**：潜变量 4x7x7 = 196 个数表示一个数字")
    for label in (x, y, value["title"], *value["labels"].values(), status):
        assert not english_prose(label), label


def test_latent_map_in_english(views):
    value, status, _ = views.map_value("tiny-sd-mnist", "pca", 1, 2, "lerp", False, "en")
    assert re.fullmatch(r"PC 1 \(\d+% of variance\)", value["axis"][0]) and value["axis"][1].startswith("PC 2 (")
    assert value["title"] == "tiny-sd-mnist: latent 4x7x7 → 2-D (PCA)"
    assert value["labels"] == {"path": "path A→B", "digit": "digit"}
    assert status.startswith("**tiny-sd-mnist**: latent 4x7x7 = 196 numbers per digit")
    assert LatentMapViews.axis_titles(None, "umap", "zh") == ["UMAP 1", "UMAP 2"]  # a method's name


def test_the_2d_vae_map_and_plane_in_both_languages(views):
    zh, _, _ = views.map_value("tiny-2d", "pca", 1, 2, "lerp", True, "zh")
    assert zh["axis"] == ["z1", "z2"] and zh["grid"] is not None
    assert zh["title"] == "tiny-2d：潜变量 2 → 二维（z1, z2）"
    en, _, _ = views.map_value("tiny-2d", "pca", 1, 2, "lerp", True, "en")
    assert en["title"] == "tiny-2d: latent 2 → 2-D (z1, z2)"
    plane = views.plane_value("tiny-2d", "zh")["labels"]
    assert all(CJK.search(w) and not english_prose(w) for w in plane.values()), plane


def test_latent_map_tab_redraws_the_map_when_the_language_changes(tiny_service):
    demo, language = build(tiny_service, build_latent_map_tab)
    html = {b.elem_id: b for b in demo.blocks.values() if isinstance(b, gr.HTML) and b.elem_id}
    on_language = language_handler(demo, language, html["lsx-map"])
    outputs = next(fn.outputs for fn in demo.fns.values() if fn.fn is on_language)
    assert html["lsx-plane"] in outputs and html["lsx-player"] in outputs
    result = on_language(7, 9, "tiny-2d", "pca", "lerp", True, "zh", None)
    value, plane = result[outputs.index(html["lsx-map"])], result[outputs.index(html["lsx-plane"])]
    assert (result[0], result[1], value["a"], value["b"]) == (7, 9, 7, 9)  # the pair and its path are kept
    assert value["title"] == "tiny-2d：潜变量 2 → 二维（z1, z2）" and plane["labels"]["decoding"] == "解码中…"
    value = on_language(7, 9, "tiny-sd-mnist", "pca", "lerp", True, "en", None)[outputs.index(html["lsx-map"])]
    assert value["title"] == "tiny-sd-mnist: latent 4x7x7 → 2-D (PCA)" and value["a"] == 7


def test_latent_map_comparison_table_follows_the_language_without_measuring_again(tiny_service):
    demo, language = build(tiny_service, build_latent_map_tab)
    table = next(b for b in demo.blocks.values() if isinstance(b, gr.Markdown)
                 and any(language_handler_targets(demo, language, b)))
    on_language = language_handler(demo, language, table)
    tables = {"en": "| KL weight in training | 1e-06 |", "zh": "| 训练时的 KL 权重 | 1e-06 |"}
    assert on_language(tables, "zh", None) == tables["zh"] and on_language(tables, "en", None) == tables["en"]
    assert isinstance(on_language(None, "zh", None), dict)  # no comparison yet: nothing to re-word


def language_handler_targets(demo: gr.Blocks, language: gr.Radio, output) -> list:
    """The language.change events whose only output is `output`."""
    return [fn for fn in demo.fns.values() if (language._id, "change") in fn.targets and fn.outputs == [output]]
