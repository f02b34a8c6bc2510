"""explorer.compression (the arithmetic, its refusals) and explorer.views.compression (what the Compression tab
shows), plus the tab's wiring."""
import math

import pytest

from explorer.compression import PUBLISHED_VAES, compression, resolution_table


def test_chapter_example_is_48x():
    r = compression(512, 512, 3, 8, 4)
    assert (r.pixel_dims, r.latent_shape, r.latent_dims) == (786_432, [4, 64, 64], 16_384)
    assert r.ratio == 48.0 and r.bytes_fp32 == 65_536 and r.bytes_fp16 == 32_768


@pytest.mark.parametrize("h,w,c,f,lc,ratio", [(1024, 1024, 3, 8, 16, 12.0), (256, 256, 3, 4, 3, 16.0),
                                               (28, 28, 1, 4, 4, 4.0), (512, 768, 3, 16, 16, 48.0)])
def test_ratio_is_f_squared_times_channels_over_latent_channels(h, w, c, f, lc, ratio):
    assert compression(h, w, c, f, lc).ratio == pytest.approx(ratio) == f * f * c / lc


@pytest.mark.parametrize("args,message", [
    ((500, 512, 3, 8, 4), "not divisible by f=8; try 496 or 504"),
    ((0, 512, 3, 8, 4), "between 1"), ((-8, 512, 3, 8, 4), "between 1"),
    ((512, 512, 3, 0, 4), "between 1"), ((512, 512, 3, 8, 0), "between 1"),
    ((float("nan"), 512, 3, 8, 4), "whole number"), ((512.5, 512, 3, 8, 4), "whole number"),
    (("abc", 512, 3, 8, 4), "whole number"), ((None, 512, 3, 8, 4), "height H is empty: give a whole number"),
    ((512, " ", 3, 8, 4), "width W is empty: give a whole number from 1 to 16384"),
    ((4, 4, 3, 8, 4), "try 8"), ((10**9, 8, 3, 8, 4), "between 1"),
    (("1e2", 512, 3, 8, 4), "height H must be a whole number from 1 to 16384, got '1e2'"),
    ((True, 512, 3, 8, 4), "whole number"), ((512, 512, 3, "8.5", 4), "downsampling factor f must be a whole"),
    ((512, 512, 3, 8, 4, "yes"), "zero_pad must be true or false"),
])
def test_bad_input_gets_a_clear_message(args, message):
    with pytest.raises(ValueError, match=message):
        compression(*args)


def test_resolution_table_and_presets():
    rows = resolution_table(8, 4)
    assert [r["resolution"] for r in rows][0] == "256x256" and all(r["ratio"] == 48.0 for r in rows)
    assert [r["resolution"] for r in resolution_table(7, 4)] == []  # nothing divisible by 7 in the list
    names = {p.name for p in PUBLISHED_VAES}
    assert any("SDXL" in n for n in names) and any("FLUX" in n for n in names)
    assert {(p.factor, p.latent_channels) for p in PUBLISHED_VAES} >= {(4, 3), (8, 4), (16, 16), (16, 8), (32, 64), (32, 16), (8, 16)}
    assert all(p.psnr is None or 15 < p.psnr < 35 for p in PUBLISHED_VAES) and not math.isnan(rows[0]["latent_dims"])


# ---- refusals: English for the API, with codes for the UI ------------------------------------------------------
def test_refusals_carry_codes_and_survive_pickling():
    import pickle

    from explorer.messages import Message, Refusal, word

    with pytest.raises(Refusal) as caught:
        compression(500, 512, 3, 8, 4)
    error = caught.value
    assert (error.code, error.values) == ("comp.not_divisible", {"field": Message("comp.field.height"), "side": 500,
                                                                  "factor": 8, "lower": 496, "upper": 504})
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error) == "height H 500 is not divisible by f=8; try 496 or 504" and copy.code == error.code
    assert word(copy, "zh") == "高度 H 500 不能被 f=8 整除；试试 496 或 504"


def test_whole_numbers_follow_the_apps_one_rule():
    """explorer.validation's rule: "12.0" and 12.0 are 12; booleans, fractions and exponents are refused, naming
    the field (so "1e2" is never read as 100, nor 1.5 rounded)."""
    from explorer.messages import Refusal

    assert compression("512", " 512.0 ", 3.0, "8", 4).latent_shape == [4, 64, 64]
    for bad, code in (("1e2", "number.not_whole"), (True, "number.not_whole"), (1.5, "number.not_whole"),
                      ("", "number.empty"), (-8, "number.out_of_range")):
        with pytest.raises(Refusal) as caught:
            compression(512, 512, 3, bad, 4)
        assert caught.value.code == code and str(caught.value.values["field"]) == "downsampling factor f", bad


def test_zero_padding_counts_the_image_not_the_padding():
    """28x28 digits through an f=8 VAE: refused as they are, 12.25x once zero-padded to 32x32 (the chapter VAE)."""
    with pytest.raises(ValueError, match="height H 28 is not divisible by f=8; try 24 or 32"):
        compression(28, 28, 1, 8, 4)
    r = compression(28, 28, 1, 8, 4, zero_pad=True)
    assert (r.pixel_shape, r.network_shape, r.latent_shape) == ([1, 28, 28], [1, 32, 32], [4, 4, 4])
    assert r.ratio == 784 / 64 == 12.25 and r.padded
    unpadded = compression(32, 32, 1, 8, 4, zero_pad=True)  # nothing to pad: the same as without
    assert not unpadded.padded and unpadded.ratio == 16.0 == compression(32, 32, 1, 8, 4).ratio


def test_a_huge_whole_number_is_out_of_range_not_a_crash():
    with pytest.raises(ValueError, match="height H must be between 1 and 16384"):
        compression(10**400, 512, 3, 8, 4)


def test_resolution_table_sides_match_its_rows():
    rows = resolution_table(256, 4)
    assert [r["side"] for r in rows] == [256, 512, 768, 1024]  # 384 is not divisible by 256
    assert [r["resolution"] for r in rows] == [f"{s}x{s}" for s in (256, 512, 768, 1024)]


# ---- the tab's words follow the page's language -----------------------------------------------------------------
# Kept in Chinese text: data sets, a repository owner and a unit.
KEPT_IN_CHINESE = {"coco", "imagenet", "madebyollin", "kib", "taef"}  # TAEF2: a model name


def leftover_english(shown) -> list[str]:
    """English prose words left in a text meant to be Chinese (model names, units and maths excluded)."""
    from tests.test_i18n import english_words

    return [w for w in english_words(str(shown)) if w.lower() not in KEPT_IN_CHINESE]


def figure_labels(fig) -> list[str]:
    """Every piece of text a figure shows: title, annotations, axis titles, trace names, hover and point text."""
    layout = fig.layout
    shown = [layout.title.text] + [a.text for a in layout.annotations]
    shown += [axis.title.text for axis in (layout.xaxis, layout.yaxis)]
    for trace in fig.data:
        shown += [trace.name, trace.hovertemplate] + list(trace.hovertext or []) + list(trace.text or [])
    return [s for s in shown if s]


def both_figures(factor, image_channels, lang):
    from explorer.views.compression import latent_size_figure, ratio_figure

    return latent_size_figure(factor, image_channels, lang), ratio_figure(image_channels, lang)


def test_ratio_figures_are_worded_in_chinese():
    (en_left, en_right), (zh_left, zh_right) = both_figures(8, 3, "en"), both_figures(8, 3, "zh")
    assert figure_labels(en_left) == ["Latent elements at f=8", "resolution (square side, px)", "latent elements",
                                      "c=4", "c=8", "c=16"]
    assert figure_labels(en_right) == ["Compression ratio vs c (C=3)", "latent channels c", "ratio (x)",
                                       "f=4", "f=8", "f=16"]
    assert figure_labels(zh_left) == ["f=8 时的潜变量元素数", "分辨率（正方形边长，像素）", "潜变量元素数",
                                      "c=4", "c=8", "c=16"]  # legend: symbols only
    assert figure_labels(zh_right)[:3] == ["压缩率随 c 的变化（C=3）", "潜通道数 c", "压缩率（倍）"]
    chinese = figure_labels(zh_left) + figure_labels(zh_right)
    assert not [s for s in chinese if leftover_english(s)], [s for s in chinese if leftover_english(s)]


def test_figure_titles_and_legends_cannot_overlap():
    """Issue 14, D3: one plot per figure (no subplot titles to collide at 390 px); the title sits in the top
    margin, the one-line legend between it and the plot area, axis titles take their own margins, and the mode
    bar stands vertical at the right edge instead of over the title."""
    for fig in both_figures(8, 3, "zh"):
        layout = fig.layout
        assert not layout.annotations and layout.title.yref == "container" and layout.title.xanchor == "left"
        assert layout.legend.orientation == "h" and layout.legend.yanchor == "bottom" and layout.legend.y >= 1
        assert layout.margin.t >= 70 and layout.xaxis.automargin and layout.yaxis.automargin
        assert layout.modebar.orientation == "v"


def test_ratio_figure_plots_each_latent_size_at_its_own_resolution():
    from explorer.views.compression import latent_size_figure

    left = latent_size_figure(256, 3, "en").data[0]
    assert list(left.x) == [256, 512, 768, 1024] and list(left.y) == [4 * s * s // 256**2 for s in left.x]


def test_result_and_tables_are_worded_in_chinese(tiny_service):
    from explorer.views.compression import field_frame, format_result, project_frame, table_frame

    assert "**Compression ratio** 786,432 / 16,384 = **48.0x**" in format_result(512, 512, 3, 8, 4, False, "en")
    result = format_result(512, 512, 3, 8, 4, False, "zh")
    assert "**压缩率** 786,432 / 16,384 = **48.0x**" in result and not leftover_english(result), result
    table, field, ours = table_frame(8, 4, 3, "zh"), field_frame("zh"), project_frame(tiny_service, "zh")
    assert table["headers"][:2] == ["分辨率", "潜变量形状"] and table["data"][0][:2] == ["256x256", "4x32x32"]
    assert field["headers"][-1] == ours["headers"][-1] == "来源" and field["data"][0][0] == "本章的 VAE (f8, c4)"
    assert any(row[0] == "tiny-sd-mnist（本项目）" for row in ours["data"])
    shown = table["headers"] + field["headers"] + [cell for frame in (field, ours) for row in frame["data"]
                                                   for cell in row if isinstance(cell, str)]
    assert not [s for s in shown if leftover_english(s)], [s for s in shown if leftover_english(s)]
    assert table_frame(8, 4, 3, "en")["headers"][0] == "resolution"
    assert field_frame("en")["data"][0][0] == "Chapter VAE (f8, c4)"


def test_every_published_preset_word_has_chinese():
    """A preset added to explorer.compression with English prose in its name or source needs Chinese here."""
    from explorer.views.compression import preset_word

    for p in PUBLISHED_VAES:
        for english in (p.name, p.source):
            assert not leftover_english(preset_word(english, "zh")), english


@pytest.mark.parametrize("args", [(500, 512, 3, 8, 4), (4, 4, 3, 8, 4), (None, 512, 3, 8, 4), (512, 512, 3, 0, 4),
                                  (512, 512, 2.5, 8, 4), (512, 512, 3, 8, 10**6), (512, "1e2", 3, 8, 4)])
def test_refusals_are_worded_in_chinese_and_the_api_keeps_english(args):
    import gradio as gr

    from explorer.ui.compression_tab import compression_api
    from explorer.views.compression import calculate

    with pytest.raises(ValueError) as english:
        compression(*args)
    message = calculate(*args, False, "zh")[0]  # shown in the result area, not raised
    assert message.startswith("⚠️ **无法按这些数字计算：**"), message
    assert not leftover_english(message) and any(word in message for word in ("必须", "整除", "为空")), message
    assert any(name in message for name in ("高度 H", "宽度 W", "图像通道数 C", "下采样因子 f", "潜通道数 c"))
    with pytest.raises(gr.Error) as api:
        compression_api(*args)
    assert api.value.message == str(english.value)


def test_the_tab_has_no_chinese_bridge_of_its_own():
    """Chinese for refusals lives in explorer/locale_zh.py only (issue 15): no per-tab table, no local class."""
    import explorer.compression as pure
    import explorer.ui.compression_tab as tab
    from explorer.locale_zh import ZH
    from explorer.messages import ENGLISH

    assert not hasattr(pure, "CompressionError") and not hasattr(pure, "REFUSALS")
    assert not [name for name in dir(tab) if "ZH" in name or "REFUSAL" in name]
    codes = [code for code in ENGLISH if code.startswith("comp.")]
    assert len(codes) >= 9 and all(code in ZH for code in codes)


def language_outputs(demo, language) -> dict:
    """What every handler of the language radio's change event returns for "zh", by output component."""
    listeners = [f for f in demo.fns.values() if (language._id, "change") in f.targets]
    outputs = {}
    for listener in listeners:
        args = [block.value for block in listener.inputs[:-1]] + ["zh"]
        returned = listener.fn(*args)
        outputs.update(zip(listener.outputs, returned if isinstance(returned, tuple) else (returned,)))
    return outputs


def test_the_language_switch_redraws_the_tab(tiny_service):
    """Built into an app, the tab listens to the language radio: the handlers it wires give Chinese for "zh"."""
    from types import SimpleNamespace

    import gradio as gr

    from explorer.ui.compression_tab import build_compression_tab

    with gr.Blocks() as demo:
        language = gr.Radio(["en", "zh"], value="en")
        build_compression_tab(tiny_service, SimpleNamespace(language=language, tabs=None))
    outputs = language_outputs(demo, language)
    figures = [v for v in outputs.values() if hasattr(v, "layout")]
    assert sorted(f.layout.title.text for f in figures) == ["f=8 时的潜变量元素数", "压缩率随 c 的变化（C=3）"]
    texts = [v for v in outputs.values() if isinstance(v, str)]
    results = [t for t in texts if t.startswith("**")]
    assert len(results) == 1 and "**压缩率** 786,432 / 16,384 = **48.0x**" in results[0]
    tables = sorted(t for t in texts if "<table>" in t)
    assert len(tables) == 3 and len(texts) == 4
    assert ["<th>分辨率</th>" in t for t in tables].count(True) == 1
    assert ["（本项目）" in t for t in tables].count(True) == 1 and not any("(this project)" in t for t in tables)


# ---- live as you type: a refused number replaces the result, never leaves a stale one ----------------------------
@pytest.mark.parametrize("lang, expected", [("en", "width W is empty: give a whole number from 1 to 16384"),
                                            ("zh", "宽度 W为空：请填写 1 到 16384 之间的整数")])
def test_an_empty_box_is_called_empty(lang, expected):
    from explorer.views.compression import calculate

    result, table, left, right = calculate(512, None, 3, 8, 4, False, lang)
    assert expected in result and "None" not in result
    assert len(table["data"]) == 5 and left.data and right.data  # they depend on C, f and c only: still drawn


@pytest.mark.parametrize("args, problem", [((512, 512, 3, 7, 4), "height H 512 is not divisible by f=7"),
                                           ((500, 512, 3, 8, 4), "height H 500 is not divisible by f=8"),
                                           ((512, 512, 3, 0, 4), "downsampling factor f must be between 1"),
                                           ((512, 512, 3, None, 4), "downsampling factor f is empty")])
def test_a_refused_number_leaves_no_stale_result(args, problem):
    from explorer.views.compression import calculate

    result, table, left, right = calculate(*args, False, "en")
    assert result.startswith("⚠️ **Cannot compute these numbers:**") and problem in result, result
    assert "48.0x" not in result and "Compression ratio" not in result
    factor = args[3]
    if factor in (None, 0):  # f itself is unusable: no table rows, and the figures say why instead of plotting
        assert table["data"] == [] and table["headers"][0] == "resolution"
        for figure in (left, right):
            assert not figure.data and problem in figure.layout.annotations[0].text
    else:  # the table and figures are drawn for the f and c typed (f=7: no common resolution is divisible by 7)
        assert [row[0] for row in table["data"]] == [r["resolution"] for r in resolution_table(factor, 4, 3)]
        assert left.layout.title.text == f"Latent elements at f={factor}" and right.data
        empty = [a.text for a in left.layout.annotations if "No common resolution" in a.text]
        assert empty == (["No common resolution is divisible by f=7"] if factor == 7 else [])


def test_the_preset_turns_custom_when_its_numbers_are_edited(tiny_service):
    from explorer.views.compression import CUSTOM, preset_after_edit, preset_settings

    settings = preset_settings(tiny_service)
    ours = next(name for name in settings if "(this project)" in name)
    channels, factor, latent = (settings[ours][k] for k in ("image_channels", "factor", "latent_channels"))
    assert preset_after_edit(ours, settings, channels, factor, latent) == ours
    assert preset_after_edit(ours, settings, channels, 8 if factor != 8 else 4, latent) == CUSTOM
    assert preset_after_edit("Chapter VAE (f8, c4)", settings, 3, 8, 4) == "Chapter VAE (f8, c4)"
    assert preset_after_edit("Chapter VAE (f8, c4)", settings, 3, 8, 3) == CUSTOM
    assert preset_after_edit(CUSTOM, settings, 3, 8, 4) == CUSTOM  # a preset is named only when picked


def test_the_tab_turns_the_preset_custom_on_typing(tiny_service):
    """Built, the boxes' input events (typing, not a preset filling them) feed the preset dropdown."""
    import gradio as gr

    from explorer.ui.compression_tab import build_compression_tab
    from explorer.views.compression import CUSTOM

    with gr.Blocks() as demo:
        build_compression_tab(tiny_service)
    dropdown = next(b for b in demo.blocks.values() if isinstance(b, gr.Dropdown))
    listener = next(f for f in demo.fns.values() if dropdown in f.outputs)
    assert {event for _, event in listener.targets} == {"input"} and len(listener.targets) == 3
    assert listener.fn("Chapter VAE (f8, c4)", 3, 8, 3) == CUSTOM


@pytest.mark.parametrize("low, high, ticks", [(0.75, 768, [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]),
                                              (1, 64, [1, 2, 5, 10, 20, 50, 100]), (20, 70, [20, 50, 100])])
def test_log_ticks_are_1_2_5_steps_covering_the_range(low, high, ticks):
    from explorer.views.compression import log_ticks

    assert log_ticks(low, high) == pytest.approx(ticks)


def test_ratio_axis_uses_clean_ticks():
    from explorer.views.compression import ratio_figure

    fig = ratio_figure(3, "en")
    ratios = [y for trace in fig.data for y in trace.y]
    y = fig.layout.yaxis
    assert y.type == "log" and y.tickmode == "array"
    assert list(y.ticktext) == ["0.5", "1", "2", "5", "10", "20", "50", "100", "200", "500", "1000"]
    assert y.tickvals[0] <= min(ratios) and y.tickvals[-1] >= max(ratios)
    assert list(fig.layout.xaxis.tickvals) == [1, 2, 3, 4, 8, 16, 32, 64]


def test_presets_table_states_each_rows_input_and_counts_real_pixels(shipped_service):
    """Published VAEs at 512x512x3 (ratio f^2 * 3 / c); this project's at their own input, and the chapter VAE's
    28x28 digits padded to 32x32 count 784 pixels: 12.25x, as /models metrics and the README give it."""
    from explorer.views.compression import field_frame, project_frame

    field, ours = field_frame("en"), project_frame(shipped_service, "en")
    headers = field["headers"]
    assert ours["headers"] == [h for h in headers if h != "rFID"]  # rFID is not measured here
    rows = {row[0]: dict(zip(headers, row)) for row in field["data"]}
    rows.update({row[0]: dict(zip(ours["headers"], row)) for row in ours["data"]})
    ratio, shape = headers[5], headers[3]
    assert ratio == "ratio" and shape == "input C x H x W"
    for p in PUBLISHED_VAES:
        row = rows[p.name]
        assert row[shape] == "3x512x512"
        assert row[ratio] == pytest.approx(p.factor ** 2 * 3 / p.latent_channels, abs=0.01)
    assert rows["FLUX.2 VAE (32 ch)"][ratio] == 6.0 and rows["FLUX.2 VAE (32 ch)"][headers[4]] == "32x64x64"
    chapter = rows["chapter-vae-mnist (this project)"]
    assert chapter[ratio] == 12.25 == shipped_service.metrics("chapter-vae-mnist")["compression_ratio"]
    assert chapter[shape] == "1x28x28 (zero-padded to 32x32 for the network)" and chapter[headers[4]] == "4x4x4"
    c4 = rows["sd-vae-mnist-c4 (this project)"]
    assert (c4[shape], c4[ratio]) == ("1x28x28", 4.0)
    for name in shipped_service.names("vae"):
        measured = shipped_service.metrics(name)
        if measured.get("compression_ratio") is not None:
            row = rows[f"{name} (this project)"]
            assert row[ratio] == pytest.approx(measured["compression_ratio"], abs=0.005), name
            assert row["PSNR (dB)"] == pytest.approx(measured["psnr"], abs=0.005), name
    zh = project_frame(shipped_service, "zh")
    assert "1x28x28（为网络补零到 32x32）" in [cell for row in zh["data"] for cell in row]


# ---- issue 14, F2: a project preset sets the size its model really runs at ----------------------------------------
def test_every_project_preset_gives_the_ratio_of_its_table_row_and_metrics(shipped_service):
    """Before: picking "chapter-vae-mnist (this project)" set only C, f, c and left H = W = 512, so the result
    said 512x512x1 -> 16.0x while the table, metrics.json and the Reconstruction tab say 12.25x. Now every project
    preset sets H, W, C, f, c and zero-padding, and its result agrees with its row and its measured ratio."""
    from explorer.compression import vae_ratio
    from explorer.views.compression import format_result, preset_settings, project_frame, ratio_text

    settings = preset_settings(shipped_service)
    rows = {row[0]: row for row in project_frame(shipped_service, "en")["data"]}
    ours = [name for name in settings if name.endswith(" (this project)")]
    assert len(ours) >= 7 and set(ours) == {name for name, row in rows.items() if row[1] != "-"}
    for preset in ours:
        name = preset.removesuffix(" (this project)")
        shapes, setting = shipped_service.vae_shapes(name), settings[preset]
        result = compression(**setting)
        assert result.latent_shape == shapes["latent_shape"], name
        assert result.ratio == pytest.approx(vae_ratio(shapes)) == pytest.approx(rows[preset][5], abs=0.005), name
        measured = shipped_service.metrics(name).get("compression_ratio")
        if measured is not None:
            assert result.ratio == pytest.approx(measured, abs=0.005), name
        assert f"= **{ratio_text(result.ratio)}x**" in format_result(**setting), name
    chapter = settings["chapter-vae-mnist (this project)"]
    assert chapter == {"height": 28, "width": 28, "image_channels": 1, "factor": 8, "latent_channels": 4,
                       "zero_pad": True}
    assert "784 / 64 = **12.25x**" in format_result(**chapter)
    photos = settings["sd-vae-photos-f8c4 (this project)"]
    assert (photos["height"], photos["width"], photos["image_channels"]) == (512, 512, 3)


def test_the_tabs_preset_fills_every_box(shipped_service):
    """The dropdown's handler writes all six inputs (before: three, leaving H = W = 512 for a digit model)."""
    import gradio as gr

    from explorer.ui.compression_tab import build_compression_tab

    with gr.Blocks() as demo:
        build_compression_tab(shipped_service)
    dropdown = next(b for b in demo.blocks.values() if isinstance(b, gr.Dropdown))
    listener = next(f for f in demo.fns.values() if (dropdown._id, "input") in f.targets)
    # one event fills the six boxes and draws the panels (issue 12: not one event per box it fills)
    assert [type(b).__name__ for b in listener.outputs[:6]] == ["Number"] * 5 + ["Checkbox"]
    assert listener.fn("chapter-vae-mnist (this project)", "en")[:6] == (28, 28, 1, 8, 4, True)
    assert listener.fn("sd-vae-mnist-c4 (this project)", "en")[:6] == (28, 28, 1, 4, 4, False)
    sdxl = listener.fn("SDXL VAE", "en")
    assert sdxl[:6] == (512, 512, 3, 8, 4, False) and "48.0x" in sdxl[6]


class PhotoCatalogue:
    """A catalogue holding one photo autoencoder shaped like taef2 (f=8, c=32), with or without metrics."""

    def __init__(self, metrics: dict):
        self._metrics = metrics

    def names(self, kind=None, dataset=None):
        return ["taef2"]

    def vae_shapes(self, name):
        return {"input_shape": [3, 512, 512], "factor": 8, "latent_shape": [32, 64, 64]}

    def metrics(self, name):
        return dict(self._metrics)


def test_a_taef2_shaped_preset_is_6x_and_shows_only_a_measured_psnr():
    """Issue 13: the FLUX.2 tiny autoencoder as a project preset: 512x512x3 -> 32x64x64 = 6x, its PSNR read from
    its metrics.json, and no number at all when none was measured."""
    from explorer.views.compression import preset_settings, project_frame

    measured = project_frame(PhotoCatalogue({"psnr": 30.41, "ssim": 0.8871, "split": "photos-held-out"}))
    row = dict(zip(measured["headers"], measured["data"][0]))
    assert (row["VAE"], row["input C x H x W"], row["latent c x H/f x W/f"], row["ratio"]) == (
        "taef2 (this project)", "3x512x512", "32x64x64", 6.0)
    assert (row["PSNR (dB)"], row["SSIM"], row["source"]) == (30.41, 0.887, "measured here, photos-held-out")
    bare = dict(zip(measured["headers"], project_frame(PhotoCatalogue({}))["data"][0]))
    assert bare["PSNR (dB)"] is None and bare["SSIM"] is None and bare["source"] == "" and bare["ratio"] == 6.0
    assert compression(**preset_settings(PhotoCatalogue({}))["taef2 (this project)"]).ratio == 6.0


def test_the_shipped_taef2_preset_reads_its_metrics_json(shipped_service):
    """Once checkpoints/taef2 is installed, its row quotes metrics.json's PSNR (never a typed-in number)."""
    if "taef2" not in shipped_service.names("vae"):
        pytest.skip("checkpoints/taef2 is not installed on this branch")
    from explorer.views.compression import project_frame

    rows = {row[0]: row for row in project_frame(shipped_service, "en")["data"]}
    row = rows["taef2 (this project)"]
    assert (row[3], row[4], row[5]) == ("3x512x512", "32x64x64", 6.0)
    assert row[6] == pytest.approx(shipped_service.metrics("taef2")["psnr"], abs=0.005)


def test_the_project_table_is_not_hidden_in_a_scroll_box(shipped_service):
    """Issue 14, D4: this project's VAEs get their own table, before the field's, as static HTML tables with every
    row in the page (a gr.Dataframe's 500 px max_height hid the project's rows below 15 published ones)."""
    import gradio as gr

    from explorer.ui.compression_tab import build_compression_tab
    from explorer.views.compression import field_frame, project_frame

    with gr.Blocks() as demo:
        build_compression_tab(shipped_service)
    assert not [b for b in demo.blocks.values() if isinstance(b, gr.Dataframe)]
    html = [b.value for b in demo.blocks.values() if isinstance(b, gr.HTML)]
    ours = next(i for i, v in enumerate(html) if 'id="comp-ours-table"' in v)
    field = next(i for i, v in enumerate(html) if 'id="comp-field-table"' in v)
    assert ours < field
    assert html[ours].count("<tr>") == len(project_frame(shipped_service)["data"]) + 1
    assert html[field].count("<tr>") == len(field_frame()["data"]) + 1
    assert "max-height" not in html[ours] and "overflow-y" not in html[ours]


def test_table_html_never_breaks_inside_a_word():
    """Issue 14, D2: cells wrap only between words (no break-all / anywhere), names stay on one line, numbers are
    right-aligned and never wrapped, text is escaped; a wide table scrolls sideways in its own box."""
    from explorer.views.compression import table_html

    shown = table_html({"headers": ["VAE", "ratio"], "data": [["a<b> (this project)", 12.25], ["x", None]]},
                       "cap", "t1")
    assert "word-break:normal" in shown and "overflow-wrap:normal" in shown and "overflow-x:auto" in shown
    assert "break-all" not in shown and "anywhere" not in shown
    assert '<td class="cx-name">a&lt;b&gt; (this project)</td><td class="cx-num">12.25</td>' in shown
    assert '<td class="cx-num"></td>' in shown and 'id="t1"' in shown


def test_format_ratio():
    from explorer.compression import format_ratio

    assert [format_ratio(r) for r in (48.0, 12.25, 784 / 147, 4.0, 12.0)] == ["48", "12.25", "5.33", "4", "12"]
