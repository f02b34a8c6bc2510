"""explorer.compression: the arithmetic and its error messages."""
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
    (("abc", 512, 3, 8, 4), "whole number"), ((None, 512, 3, 8, 4), "height must be a whole number, but it is empty"),
    ((512, " ", 3, 8, 4), "width must be a whole number, but it is empty"),
    ((4, 4, 3, 8, 4), "try 8"), ((10**9, 8, 3, 8, 4), "between 1"),
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

    from explorer.compression import CompressionError

    with pytest.raises(CompressionError) as caught:
        compression(500, 512, 3, 8, 4)
    error = caught.value
    assert (error.code, error.quantity, error.values) == ("not_divisible", "height",
                                                          {"side": 500, "factor": 8, "lower": 496, "upper": 504})
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error) == "height 500 is not divisible by f=8; try 496 or 504" and copy.code == error.code


def test_a_huge_whole_number_is_out_of_range_not_a_crash():
    with pytest.raises(ValueError, match="height must be between 1 and 16384"):
        compression(10**400, 512, 3, 8, 4)


def test_resolution_table_sides_match_its_rows():
    rows = resolution_table(256, 4)
    assert [r["side"] for r in rows] == [256, 512, 768, 1024]  # 384 is not divisible by 256
    assert [r["resolution"] for r in rows] == [f"{s}x{s}" for s in (256, 512, 768, 1024)]


# ---- the tab's words follow the page's language -----------------------------------------------------------------
# Kept in Chinese text: data sets, a repository owner and a unit.
KEPT_IN_CHINESE = {"coco", "imagenet", "madebyollin", "kib"}


def leftover_english(shown) -> list[str]:
    """English prose words left in a text meant to be Chinese (model names, units and maths excluded)."""
    from tests.test_i18n import english_words

    return [w for w in english_words(str(shown)) if w.lower() not in KEPT_IN_CHINESE]


def figure_labels(fig) -> list[str]:
    """Every piece of text a ratio figure shows: subplot titles, axis titles, trace names, hover and point text."""
    layout = fig.layout
    shown = [a.text for a in layout.annotations]
    shown += [axis.title.text for axis in (layout.xaxis, layout.yaxis, layout.xaxis2, layout.yaxis2)]
    for trace in fig.data:
        shown += [trace.name, trace.hovertemplate] + list(trace.hovertext or []) + list(trace.text or [])
    return [s for s in shown if s]


def test_ratio_figure_is_worded_in_chinese():
    from explorer.ui.compression_tab import ratio_figure

    english, chinese = figure_labels(ratio_figure(8, 3, "en")), figure_labels(ratio_figure(8, 3, "zh"))
    assert english[:6] == ["Latent elements at f=8", "Compression ratio vs c", "resolution (square side, px)",
                           "latent elements", "latent channels c", "ratio (x)"]
    assert chinese[:6] == ["f=8 时的潜变量元素数", "压缩率随 c 的变化", "分辨率（正方形边长，像素）", "潜变量元素数",
                           "潜通道数 c", "压缩率（倍）"]
    assert chinese[6:] == english[6:] == ["c=4", "c=8", "c=16", "f=4", "f=8", "f=16"]  # legend: symbols only
    assert not [s for s in chinese if leftover_english(s)], [s for s in chinese if leftover_english(s)]


def test_ratio_figure_plots_each_latent_size_at_its_own_resolution():
    from explorer.ui.compression_tab import ratio_figure

    left = ratio_figure(256, 3, "en").data[0]
    assert list(left.x) == [256, 512, 768, 1024] and list(left.y) == [4 * s * s // 256**2 for s in left.x]


def test_result_and_tables_are_worded_in_chinese(tiny_service):
    from explorer.ui.compression_tab import format_result, preset_frame, table_frame

    assert "**Compression ratio** 786,432 / 16,384 = **48.0x**" in format_result(512, 512, 3, 8, 4, "en")
    result = format_result(512, 512, 3, 8, 4, "zh")
    assert "**压缩率** 786,432 / 16,384 = **48.0x**" in result and not leftover_english(result), result
    table, presets = table_frame(8, 4, 3, "zh"), preset_frame(tiny_service, "zh")
    assert table["headers"][:2] == ["分辨率", "潜变量形状"] and table["data"][0][:2] == ["256x256", "4x32x32"]
    assert presets["headers"][-1] == "来源" and presets["data"][0][0] == "本章的 VAE (f8, c4)"
    assert any(row[0] == "tiny-sd-mnist（本项目）" for row in presets["data"])
    shown = table["headers"] + presets["headers"] + [cell for row in presets["data"] for cell in row
                                                     if isinstance(cell, str)]
    assert not [s for s in shown if leftover_english(s)], [s for s in shown if leftover_english(s)]
    assert table_frame(8, 4, 3, "en")["headers"][0] == "resolution"
    assert preset_frame(tiny_service, "en")["data"][0][0] == "Chapter VAE (f8, c4)"


def test_every_published_preset_word_has_chinese():
    """A preset added to explorer.compression with English prose in its name or source needs Chinese here."""
    from explorer.compression import PUBLISHED_VAES
    from explorer.ui.compression_tab import preset_word

    for p in PUBLISHED_VAES:
        for english in (p.name, p.source):
            assert not leftover_english(preset_word(english, "zh")), english


@pytest.mark.parametrize("args", [(500, 512, 3, 8, 4), (4, 4, 3, 8, 4), (None, 512, 3, 8, 4), (512, 512, 3, 0, 4),
                                  (512, 512, 2.5, 8, 4), (512, 512, 3, 8, 10**6)])
def test_refusals_are_worded_in_chinese_and_the_api_keeps_english(args):
    import gradio as gr

    from explorer.compression import REFUSALS
    from explorer.ui.compression_tab import REFUSALS_ZH, compression_api, on_change

    assert set(REFUSALS_ZH) == set(REFUSALS)
    with pytest.raises(ValueError) as english:
        compression(*args)
    message = on_change(*args, "zh")[0]  # shown in the result area, not raised
    assert message.startswith("⚠️ **无法按这些数字计算：**"), message
    assert not leftover_english(message) and any(word in message for word in ("必须", "整除", "空的")), message
    with pytest.raises(gr.Error) as api:
        compression_api(*args)
    assert api.value.message == str(english.value)


def test_the_language_switch_redraws_the_tab(tiny_service):
    """Built into an app, the tab listens to the language radio: the handler it wires gives Chinese for "zh"."""
    from types import SimpleNamespace

    import gradio as gr

    from explorer.ui.compression_tab import build_compression_tab

    with gr.Blocks() as demo:
        language = gr.Radio(["en", "zh"], value="en")
        build_compression_tab(tiny_service, SimpleNamespace(language=language, tabs=None))
    listeners = [f for f in demo.fns.values() if (language._id, "change") in f.targets]
    assert len(listeners) == 2
    outputs = {}
    for listener in listeners:
        args = [block.value for block in listener.inputs[:-1]] + ["zh"]
        returned = listener.fn(*args)
        outputs.update(zip([type(b).__name__ + str(b._id) for b in listener.outputs],
                           returned if isinstance(returned, tuple) else (returned,)))
    figures = [v for v in outputs.values() if hasattr(v, "layout")]
    assert len(figures) == 1 and figure_labels(figures[0])[1] == "压缩率随 c 的变化"
    texts = [v for v in outputs.values() if isinstance(v, str)]
    assert len(texts) == 1 and "**压缩率** 786,432 / 16,384 = **48.0x**" in texts[0]
    frames = [v for v in outputs.values() if isinstance(v, dict)]
    assert sorted(f["headers"][0] for f in frames) == ["VAE", "分辨率"]


# ---- live as you type: a refused number replaces the result, never leaves a stale one ----------------------------
@pytest.mark.parametrize("lang, expected", [("en", "the width box is empty; type a whole number"),
                                            ("zh", "“宽度”输入框是空的，请填写一个整数")])
def test_an_empty_box_is_called_empty(lang, expected):
    from explorer.ui.compression_tab import on_change

    result, table, figure = on_change(512, None, 3, 8, 4, lang)
    assert expected in result and "None" not in result
    assert len(table["data"]) == 5 and figure.data  # the table and figure depend on C, f and c only: still true


@pytest.mark.parametrize("args, problem", [((512, 512, 3, 7, 4), "height 512 is not divisible by f=7"),
                                           ((500, 512, 3, 8, 4), "height 500 is not divisible by f=8"),
                                           ((512, 512, 3, 0, 4), "downsampling factor f must be between 1"),
                                           ((512, 512, 3, None, 4), "the downsampling factor f box is empty")])
def test_a_refused_number_leaves_no_stale_result(args, problem):
    from explorer.ui.compression_tab import on_change

    result, table, figure = on_change(*args, "en")
    assert result.startswith("⚠️ **Cannot compute these numbers:**") and problem in result, result
    assert "48.0x" not in result and "Compression ratio" not in result
    factor = args[3]
    if factor in (None, 0):  # f itself is unusable: no table rows, and the figure says why instead of plotting
        assert table["data"] == [] and table["headers"][0] == "resolution"
        assert not figure.data and problem in figure.layout.annotations[0].text
    else:  # the table and figure are drawn for the f and c typed (f=7: no common resolution is divisible by 7)
        assert [row[0] for row in table["data"]] == [r["resolution"] for r in resolution_table(factor, 4, 3)]
        assert figure.layout.annotations[0].text == f"Latent elements at f={factor}"
        empty = [a.text for a in figure.layout.annotations if "No common resolution" in a.text]
        assert empty == (["No common resolution is divisible by f=7"] if factor == 7 else [])


def test_the_preset_turns_custom_when_its_numbers_are_edited(tiny_service):
    from explorer.ui.compression_tab import CUSTOM, preset_after_edit, preset_choices

    presets = preset_choices(tiny_service)
    ours = next(name for name in presets if "(this project)" in name)
    channels, factor, latent = presets[ours][1]
    assert preset_after_edit(ours, presets, channels, factor, latent) == ours
    assert preset_after_edit(ours, presets, channels, 8 if factor != 8 else 4, latent) == CUSTOM
    assert preset_after_edit("Chapter VAE (f8, c4)", presets, 3, 8, 4) == "Chapter VAE (f8, c4)"
    assert preset_after_edit("Chapter VAE (f8, c4)", presets, 3, 8, 3) == CUSTOM
    assert preset_after_edit(CUSTOM, presets, 3, 8, 4) == CUSTOM  # a preset is named only when picked


def test_the_tab_turns_the_preset_custom_on_typing(tiny_service):
    """Built, the boxes' input events (typing, not a preset filling them) feed the preset dropdown."""
    import gradio as gr

    from explorer.ui.compression_tab import CUSTOM, build_compression_tab

    with gr.Blocks() as demo:
        build_compression_tab(tiny_service)
    dropdown = next(b for b in demo.blocks.values() if isinstance(b, gr.Dropdown))
    listener = next(f for f in demo.fns.values() if dropdown in f.outputs)
    assert {event for _, event in listener.targets} == {"input"} and len(listener.targets) == 3
    assert listener.fn("Chapter VAE (f8, c4)", 3, 8, 3) == CUSTOM


@pytest.mark.parametrize("low, high, ticks", [(0.75, 768, [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]),
                                              (1, 64, [1, 2, 5, 10, 20, 50, 100]), (20, 70, [20, 50, 100])])
def test_log_ticks_are_1_2_5_steps_covering_the_range(low, high, ticks):
    from explorer.ui.compression_tab import log_ticks

    assert log_ticks(low, high) == pytest.approx(ticks)


def test_ratio_axis_uses_clean_ticks():
    from explorer.ui.compression_tab import ratio_figure

    fig = ratio_figure(8, 3, "en")
    ratios = [y for trace in fig.data[3:] for y in trace.y]
    y = fig.layout.yaxis2
    assert y.type == "log" and y.tickmode == "array"
    assert list(y.ticktext) == ["0.5", "1", "2", "5", "10", "20", "50", "100", "200", "500", "1000"]
    assert y.tickvals[0] <= min(ratios) and y.tickvals[-1] >= max(ratios)
    assert list(fig.layout.xaxis2.tickvals) == [1, 2, 3, 4, 8, 16, 32, 64]


def test_presets_table_states_each_rows_input_and_counts_real_pixels(shipped_service):
    """Published VAEs at 512x512x3 (ratio f^2 * 3 / c); this project's at their own input, and the chapter VAE's
    28x28 digits padded to 32x32 count 784 pixels: 12.25x, as /models metrics and the README give it."""
    from explorer.ui.compression_tab import preset_frame

    frame = preset_frame(shipped_service, "en")
    headers = frame["headers"]
    rows = {row[0]: dict(zip(headers, row)) for row in frame["data"]}
    ratio, shape = headers[5], headers[3]
    assert ratio == "ratio" and shape == "input C x H x W"
    for p in PUBLISHED_VAES:
        row = rows[p.name]
        assert row[shape] == "3x512x512"
        assert row[ratio] == pytest.approx(p.factor ** 2 * 3 / p.latent_channels, abs=0.01)
    chapter = rows["chapter-vae-mnist (this project)"]
    assert chapter[ratio] == 12.25 == shipped_service.metrics("chapter-vae-mnist")["compression_ratio"]
    assert chapter[shape] == "1x28x28 (zero-padded to 32x32 for the network)" and chapter[headers[4]] == "4x4x4"
    c4 = rows["sd-vae-mnist-c4 (this project)"]
    assert (c4[shape], c4[ratio]) == ("1x28x28", 4.0)
    for name in shipped_service.names("vae"):
        measured = shipped_service.metrics(name).get("compression_ratio")
        if measured is not None:
            assert rows[f"{name} (this project)"][ratio] == pytest.approx(measured, abs=0.005), name
    zh = preset_frame(shipped_service, "zh")
    assert "1x28x28（为网络补零到 32x32）" in [cell for row in zh["data"] for cell in row]


def test_format_ratio():
    from explorer.compression import format_ratio

    assert [format_ratio(r) for r in (48.0, 12.25, 784 / 147, 4.0, 12.0)] == ["48", "12.25", "5.33", "4", "12"]
