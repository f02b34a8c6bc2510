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
    (("abc", 512, 3, 8, 4), "whole number"), ((None, 512, 3, 8, 4), "whole number"),
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
# Kept in Chinese text: data sets, a repository owner, a unit, and Python's None quoted as the value a box sent.
KEPT_IN_CHINESE = {"coco", "imagenet", "madebyollin", "kib", "none"}


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
    with pytest.raises(gr.Error) as chinese:
        on_change(*args, "zh")
    message = chinese.value.message
    assert not leftover_english(message) and ("必须" in message or "整除" in message), message
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
