"""The five exercises: answer checking against compression(), learning curves from the recorded history, the
held-out table, the 2-D latent statistics and the rate-distortion verdict; then the tab's handlers in both
languages (explorer/views/exercises.py, no server), on tiny random-init models (nothing to measure) and on the
shipped checkpoints; and the tab's wiring (explorer/ui/exercises_tab.py)."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest

from explorer import exercises as ex
from explorer.compression import compression
from explorer.metrics import psnr_from_mse


class FakeCatalogue:
    """A service stand-in: names, metrics, shapes and configs from dicts."""

    def __init__(self, models: dict[str, dict]):
        self.models = models

    def names(self, kind=None, dataset=None):
        return [n for n, m in self.models.items() if kind is None or m.get("kind", "vae") == kind]

    def metrics(self, name):
        return self.models[name]["metrics"]

    def vae_shapes(self, name):
        return self.models[name]["shapes"]

    def config(self, name):
        return {"dataset": self.models[name].get("dataset", "mnist")}


def digit_vae(channels: int, psnr: float | None, **metrics) -> dict:
    measured = {} if psnr is None else {"psnr": psnr, "mse": 10 ** (-psnr / 10), "n_images": 500,
                                        "split": "mnist-test", "ssim": 0.9}
    return {"metrics": {**measured, **metrics},
            "shapes": {"input_shape": [1, 28, 28], "latent_shape": [channels, 7, 7], "factor": 4}}


# ---- exercise 1 --------------------------------------------------------------------------------------------
def test_recipe_and_command_come_from_the_recipes():
    from explorer.recipes import RECIPES

    recipe = ex.training_recipe("sd-vae-mnist-c4")
    assert recipe["epochs"] == RECIPES["sd-vae-mnist-c4"].epochs
    assert recipe["kl_weight"] == RECIPES["sd-vae-mnist-c4"].config["kl_weight"]
    assert recipe["command"] == "python -m explorer.train sd-vae-mnist-c4"
    with pytest.raises(ValueError, match="no training recipe") as refused:
        ex.retrain_command("no-such-model")
    assert refused.value.code == "exercise.no_recipe"


def test_learning_curves_keep_rows_aligned_and_sorted():
    history = [{"epoch": 2, "loss": 5.0, "reconstruction": 4.0, "kl": 20.0},
               {"epoch": 1, "loss": 9.0, "reconstruction": 8.0, "kl": 10.0},
               {"epoch": 3, "loss": float("nan"), "reconstruction": 3.0, "kl": 30.0},  # dropped: not finite
               {"epoch": 4, "loss": 2.0}]  # dropped: missing terms
    curves = ex.learning_curves({"history": history})
    assert curves.epochs == [1, 2]
    assert curves.terms == {"loss": [9.0, 5.0], "reconstruction": [8.0, 4.0], "kl": [10.0, 20.0]}
    assert len(ex.learning_curves({})) == 0


@pytest.mark.parametrize("values, trend", [([1.0, 5.0], "rises"), ([5.0, 1.0], "falls"), ([5.0, 5.2], "flat"),
                                           ([3.0], "unknown"), ([0.0, 2.0], "unknown")])
def test_kl_trend(values, trend):
    assert ex.kl_trend(values) == trend


def test_shipped_c4_history_has_every_epoch_it_was_trained_for(shipped_service):
    metrics = shipped_service.metrics("sd-vae-mnist-c4")
    curves = ex.learning_curves(metrics)
    assert curves.epochs == list(range(1, metrics["epochs"] + 1))
    assert curves.terms["reconstruction"][-1] < curves.terms["reconstruction"][0]


# ---- exercise 2 --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, shape", [("64x64x4", (64, 64, 4)), ("4 x 64 x 64", (4, 64, 64)),
                                         ("[4, 64, 64]", (4, 64, 64)), ("64×64×4", (64, 64, 4)),
                                         ("64*64*4", (64, 64, 4)), ("  ", None), (None, None)])
def test_parse_shape(text, shape):
    assert ex.parse_shape(text) == shape


@pytest.mark.parametrize("text", ["abc", "64x", "4.5x64x64", "-4x64x64"])
def test_parse_shape_refuses_non_shapes(text):
    from explorer.messages import Refusal, word

    with pytest.raises(Refusal) as refused:
        ex.parse_shape(text)
    assert refused.value.code == "exercise.not_a_shape" and "请写成 c x h x w" in word(refused.value, "zh")


@pytest.mark.parametrize("text, value", [("16384", 16384), ("16,384", 16384), ("16 384", 16384), ("48x", 48),
                                         ("48×", 48), ("48:1", 48), ("48.0", 48), ("48 倍", 48), (12.5, 12.5),
                                         ("", None), (None, None)])
def test_parse_number(text, value):
    assert ex.parse_number(text) == value


@pytest.mark.parametrize("text", ["abc", "4x64x64", "nan", "inf", "1,5", float("nan")])
def test_parse_number_refuses_non_numbers(text):
    from explorer.messages import Refusal

    with pytest.raises(Refusal) as refused:
        ex.parse_number(text)
    assert refused.value.code == "exercise.not_a_number"


def test_refusals_pickle_and_have_chinese():
    import pickle

    from explorer.locale_zh import ZH
    from explorer.messages import ENGLISH, word

    with pytest.raises(ValueError) as refused:
        ex.check_best_model([], "x", "1")
    copy = pickle.loads(pickle.dumps(refused.value))
    assert str(copy) == "no mnist VAE with measured held-out metrics is installed"
    assert word(copy, "zh") == "尚未安装带有留出测试指标的 mnist VAE"
    codes = [code for code in ENGLISH if code.startswith("exercise.")]
    assert len(codes) == 5 and all(code in ZH for code in codes)


@pytest.mark.parametrize("question", ex.QUESTIONS)
def test_the_calculators_own_answers_are_correct_in_both_shape_orders(question):
    r = compression(question.height, question.width, question.image_channels, question.factor,
                    question.latent_channels)
    c, h, w = r.latent_shape
    for shape in (f"{h}x{w}x{c}", f"[{c}, {h}, {w}]"):
        check = ex.check_latent_answer(question, shape, str(r.latent_dims), f"{r.ratio:.3f}")
        assert check.all_correct, check


def test_wrong_empty_and_unreadable_answers_are_told_apart():
    q = ex.LatentQuestion(512, 512, 3, 8, 4)
    check = ex.check_latent_answer(q, "64x4x64", "", "forty-eight")
    assert (check.shape.status, check.dims.status, check.ratio.status) == ("wrong", "empty", "unreadable")
    assert not check.all_correct
    assert check.shape.expected == "64 x 64 x 4" and check.dims.expected == "16,384"
    assert ex.check_latent_answer(q, "64x64x4", "16385", "47").dims.status == "wrong"
    assert ex.check_latent_answer(q, "64x64x4", "16384", "48.4").ratio.status == "correct"  # within 1 %
    assert ex.check_latent_answer(q, "64x64x4", "16384", "49").ratio.status == "wrong"


def test_questions_cover_several_resolutions_and_channel_counts():
    assert len({(q.height, q.width) for q in ex.QUESTIONS}) >= 4
    assert len({q.latent_channels for q in ex.QUESTIONS}) >= 2
    assert any(q.height != q.width for q in ex.QUESTIONS)


# ---- exercise 3 --------------------------------------------------------------------------------------------
def test_heldout_table_sorts_by_mse_and_skips_unmeasured_models():
    service = FakeCatalogue({"a": digit_vae(4, 25.0), "b": digit_vae(2, 30.0), "c": digit_vae(8, None),
                             "u": digit_vae(4, 40.0, untrained=True),
                             "p": {**digit_vae(4, 35.0), "dataset": "photos"}})
    rows = ex.heldout_table(service)
    assert [r["name"] for r in rows] == ["b", "a", "p"]  # mnist by MSE, then photos
    assert rows[0]["latent_shape"] == "2x7x7" and rows[0]["ratio"] == pytest.approx(784 / 98)
    best = ex.best_model(rows)
    assert best["name"] == "b" and ex.best_model(rows, "video") is None


def test_check_best_model():
    service = FakeCatalogue({"a": digit_vae(4, 25.0), "b": digit_vae(2, 30.0)})
    rows = ex.heldout_table(service)
    right = ex.check_best_model(rows, "b", "30.02")
    assert (right.model, right.psnr, right.best) == ("correct", "correct", "b")
    assert right.best_psnr == pytest.approx(psnr_from_mse(rows[0]["mse"]))
    wrong = ex.check_best_model(rows, "a", "31")
    assert (wrong.model, wrong.psnr) == ("wrong", "wrong")
    assert (ex.check_best_model(rows, None, "x").model, ex.check_best_model(rows, None, "x").psnr) == \
        ("empty", "unreadable")
    with pytest.raises(ValueError, match="no mnist VAE"):
        ex.check_best_model([], "a", "1")


def test_shipped_table_matches_metrics_json(shipped_service):
    rows = ex.heldout_table(shipped_service)
    assert rows, "the shipped VAEs have held-out metrics"
    for row in rows:
        metrics = shipped_service.metrics(row["name"])
        assert row["mse"] == metrics["mse"]
        if shipped_service.config(row["name"])["dataset"] == "mnist":  # one MSE over the whole held-out set
            assert psnr_from_mse(row["mse"]) == pytest.approx(metrics["psnr"], abs=0.01)  # PSNR = 10 log10(1/MSE)
        else:  # photos: the mean of each held-out photo's PSNR, as evaluate_vae_photos defines it
            per_photo = [p["psnr"] for p in metrics["per_photo"].values()]
            assert metrics["psnr"] == pytest.approx(sum(per_photo) / len(per_photo))


# ---- exercise 4 --------------------------------------------------------------------------------------------
def test_latent_distribution_of_a_standard_normal_sample_looks_like_the_prior():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 100)
    centres = np.stack([np.cos(labels * 0.63), np.sin(labels * 0.63)], 1) * 1.2
    grouped = centres + 0.15 * rng.standard_normal((1000, 2))
    stats = ex.latent_distribution(grouped, labels)
    assert stats["nn_same_digit"] > 0.8 and ex.distribution_verdict(stats) == "prior_clusters"
    mixed = ex.latent_distribution(rng.standard_normal((1000, 2)), labels)
    assert mixed["within_2"] == pytest.approx(ex.PRIOR_WITHIN_2, abs=0.04)
    assert mixed["nn_same_digit"] < 0.2 and ex.distribution_verdict(mixed) == "prior_mixed"
    far = ex.latent_distribution(rng.standard_normal((1000, 2)) * 8 + 5, labels)
    assert ex.distribution_verdict(far) == "spread"
    with pytest.raises(ValueError):
        ex.latent_distribution(np.zeros((5, 3)), np.zeros(5))


# ---- exercise 5 --------------------------------------------------------------------------------------------
def test_channel_sweep_reads_only_measured_sd_mnist_models():
    service = FakeCatalogue({"sd-vae-mnist-c4": digit_vae(4, 29.0), "sd-vae-mnist-c3": digit_vae(3, 27.5),
                             "sd-vae-mnist-c8": digit_vae(8, None), "vae-mnist-kl1": digit_vae(4, 20.0),
                             "sd-vae-mnist-c4x": digit_vae(4, 10.0)})
    points = ex.channel_sweep(service)
    assert [(p.channels, p.psnr) for p in points] == [(3, 27.5), (4, 29.0)]
    answer = ex.rate_distortion_verdict(points)
    assert answer.verdict == "four_better" and answer.gain_db == pytest.approx(1.5)
    assert answer.ratio_3 == pytest.approx(784 / 147) and answer.ratio_4 == pytest.approx(4.0)


@pytest.mark.parametrize("psnr3, psnr4, verdict", [(27.0, 29.0, "four_better"), (29.0, 27.0, "three_enough"),
                                                   (28.0, 28.1, "no_difference")])
def test_rate_distortion_verdict(psnr3, psnr4, verdict):
    points = [ex.SweepPoint(3, 5.3, psnr3, "c3"), ex.SweepPoint(4, 4.0, psnr4, "c4")]
    assert ex.rate_distortion_verdict(points).verdict == verdict


def test_rate_distortion_is_unknown_without_both_3_and_4():
    answer = ex.rate_distortion_verdict([ex.SweepPoint(4, 4.0, 29.0, "c4"), ex.SweepPoint(8, 2.0, 31.0, "c8")])
    assert answer.verdict == "unknown" and answer.gain_db is None and answer.monotonic


def test_published_sweep_is_sd3_4_8_16_from_the_presets():
    from explorer.compression import PUBLISHED_VAES

    points = ex.published_channel_sweep()
    assert [p.channels for p in points] == [4, 8, 16]
    by_name = {p.name: p.psnr for p in PUBLISHED_VAES}
    assert [p.psnr for p in points] == [by_name[p.source] for p in points]
    assert points[0].psnr < points[1].psnr < points[2].psnr
    assert points[0].ratio == pytest.approx(48.0)


def test_headline_numbers(shipped_service, tiny_service):
    numbers = ex.headline_numbers(shipped_service)
    metrics = shipped_service.metrics("sd-vae-mnist-c4")
    assert (numbers["sd_pixels"], numbers["sd_latents"], numbers["sd_ratio"]) == (786432, 16384, 48.0)
    assert numbers["psnr"] == metrics["psnr"] and numbers["latent_shape"] == "4x7x7"
    assert ex.headline_numbers(tiny_service)["model"] is None  # no trained model, so no quoted PSNR


# ---- the tab's handlers, in both languages ------------------------------------------------------------------
@pytest.fixture(scope="module")
def tab():
    """The pure view module: every handler's wording and figures (no Gradio)."""
    from explorer.views import exercises

    return exercises


@pytest.fixture(scope="module")
def ui_tab():
    from explorer.ui import exercises_tab

    return exercises_tab


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_latent_check_messages_in_both_languages(tab, lang):
    answers = ["32x32x4", "4096", "48", "oops", "", "48"] + [""] * (3 * len(ex.QUESTIONS) - 6)
    text = tab.check_latents(answers, lang)
    assert text.count("✅") == 4 and "⚠️" in text and "⬜" in text
    assert ("全对" in text) == (lang == "zh")
    assert ("fully right" in text) == (lang == "en")
    for i, q in enumerate(ex.QUESTIONS, start=1):
        assert f"{q.solve().latent_dims:,}" in tab.reveal_latents(lang)


def test_every_message_key_the_tab_can_format_exists(tab, ui_tab):
    from explorer.ui.i18n import all_strings

    table = all_strings()
    assert set(tab.STRINGS) <= set(table)  # the tab registers the view's labels
    for status in ("correct", "wrong", "empty", "unreadable"):
        assert f"ex.{status}" in table
    for key in (*(f"ex1.{c}" for c in tab.TREND_CHOICES), *(f"ex4.{c}" for c in tab.DISTRIBUTION_CHOICES),
                *(f"ex5.{c}" for c in ex.PREDICTIONS)):
        assert key in table


def test_handlers_on_tiny_untrained_models_explain_instead_of_crashing(tab, tiny_service):
    assert tab.check_best([], "x", "1", "zh") == tab.text("ex3.none", "zh")
    assert "not installed" in tab.measure_distribution(tiny_service, "prior_mixed", "en")
    message, plot = tab.reveal_rate_distortion(tiny_service, "four_better", "en")
    assert "cannot be measured here yet" in message and "25.12" in message
    assert tab.reveal_rate_distortion(tiny_service, None, "zh")[0] == tab.text("ex.pick_first", "zh")
    assert tab.check_trend(ex.LearningCurves([], {}), 1e-6, "rises", "en") == tab.text("ex1.no_history", "en")


def test_handlers_on_the_shipped_models(tab, shipped_service):
    curves = ex.learning_curves(shipped_service.metrics("sd-vae-mnist-c4"))
    truth = ex.kl_trend(curves.terms["kl"])
    assert "✅" in tab.check_trend(curves, 1e-6, truth, "en")
    assert "❌" in tab.check_trend(curves, 1e-6, next(c for c in tab.TREND_CHOICES if c != truth), "zh")
    assert tab.check_trend(curves, 1e-6, None, "en") == tab.text("ex.pick_first", "en")

    rows = ex.heldout_table(shipped_service)
    best = ex.best_model(rows)
    answer = f"{psnr_from_mse(best['mse']):.2f}"
    assert tab.check_best(rows, best["name"], answer, "en").count("✅") == 2

    message = tab.measure_distribution(shipped_service, "prior_clusters", "zh")
    stats = ex.planar_statistics(shipped_service, ex.PLANAR_MODEL)
    assert stats["n"] == 500 and math.isfinite(stats["std_x"])
    assert f"{stats['within_2']:.1%}" in message and "测得的图景" in message

    loss, kl = tab.curves_figures(curves, "zh")
    assert loss.layout.title.text == tab.text("ex1.plot_left", "zh") and kl.layout.title.text == "KL 项（每张图，nats）"
    assert list(kl.data[0].y) == curves.terms["kl"] and list(loss.data[1].y) == curves.terms["reconstruction"]
    assert [t.name for t in loss.data] == ["总损失", "重建误差"]  # short names: the legend fits a phone


def test_the_tab_builds_alone_and_inside_the_app(ui_tab, tiny_service):
    tab = ui_tab
    import gradio as gr

    from explorer.ui.app import build_demo

    with gr.Blocks() as alone:
        tab.build_exercises_tab(tiny_service)
    assert any(isinstance(b, gr.Accordion) for b in alone.blocks.values())
    demo = build_demo(tiny_service, tabs={"exercises": tab.build_exercises_tab})
    tabs = [b for b in demo.blocks.values() if isinstance(b, gr.Tabs)]
    assert tabs and tabs[0].elem_id == "explorer-tabs"
    # the "open the latent map" button targets the app's Tabs: its event outputs that component
    fns = demo.fns.values() if isinstance(demo.fns, dict) else demo.fns
    assert any(tabs[0]._id in [o._id for o in fn.outputs] for fn in fns)


# ---- wording and units ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [("29.62 dB", 29.62), ("29.62dB", 29.62), (" 29.62  DB ", 29.62),
                                         ("48 x", 48), ("12.25 ×", 12.25), ("48倍", 48)])
def test_parse_number_accepts_a_trailing_unit(text, value):
    assert ex.parse_number(text) == pytest.approx(value)


def test_best_model_psnr_with_its_unit_is_read(tab):
    rows = ex.heldout_table(FakeCatalogue({"a": digit_vae(4, 25.0), "b": digit_vae(2, 30.0)}))
    assert ex.check_best_model(rows, "b", "30.00 dB").psnr == "correct"
    assert "⚠️" not in tab.check_best(rows, "b", "30.00 dB", "en")


@pytest.mark.parametrize("lang, message", [("en", "write it as c x h x w, e.g. 4x8x8"), ("zh", "请写成 c x h x w")])
def test_an_unreadable_shape_says_how_to_write_a_shape(tab, lang, message):
    answers = ["sixty-four", "twelve", ""] + [""] * (3 * len(ex.QUESTIONS) - 3)
    first = tab.check_latents(answers, lang).split("  \n")[0]
    shape, dims = first.split(" · ")[:2]
    assert message in shape and message not in dims
    assert tab.text("ex.unreadable", lang) in dims


def test_answer_boxes_show_the_format_not_an_answer():
    """The placeholders name the format; none of them is (or contains) a question's answer."""
    import gradio as gr

    from explorer.ui import exercises_tab
    from explorer.views import exercises as tab

    with gr.Blocks() as demo:
        exercises_tab.build_exercise2(gr.State("en"))
    boxes = [b for b in demo.blocks.values() if isinstance(b, gr.Textbox)]
    assert len(boxes) == 3 * len(ex.QUESTIONS)
    hints = {tab.text(b.placeholder.key, lang) for b in boxes for lang in ("en", "zh")}
    assert hints == {"c x h x w", "a whole number", "整数", "a number", "数字"}
    for q in ex.QUESTIONS:
        r = q.solve()
        c, h, w = r.latent_shape
        answers = {f"{h}x{w}x{c}", str(r.latent_dims), f"{r.ratio:g}"}
        assert not [a for a in answers for hint in hints if a in hint.replace(" ", "")]


def test_ratios_are_rounded_for_reading(tab):
    service = FakeCatalogue({"sd-vae-mnist-c3": digit_vae(3, 27.5), "sd-vae-mnist-c4": digit_vae(4, 29.0)})
    for lang, shown in (("en", "(5.33x → 4x)"), ("zh", "5.33 倍 → 4 倍")):
        message, figures = tab.reveal_rate_distortion(service, "four_better", lang)
        assert shown in message and "5.3333" not in message
        assert list(figures[0].data[0].text) == ["sd-vae-mnist-c3: 5.33x", "sd-vae-mnist-c4: 4x"]
    figure = tab.sweep_figures(ex.channel_sweep(service), [], "en")[0]
    assert list(figure.data[0].text) == ["sd-vae-mnist-c3: 5.33x", "sd-vae-mnist-c4: 4x"]


# ---- the padded chapter VAE counts its 28x28 digits, as /models and the README do --------------------------------
def test_a_padded_input_counts_the_digit_not_the_padding():
    padded = {"metrics": digit_vae(4, 23.0)["metrics"],
              "shapes": {"input_shape": [1, 32, 32], "pad_to": 32, "latent_shape": [4, 4, 4], "factor": 8}}
    rows = ex.heldout_table(FakeCatalogue({"chapter": padded}))
    assert rows[0]["ratio"] == pytest.approx(12.25) and rows[0]["input_shape"] == [1, 28, 28]
    assert rows[0]["pad_to"] == 32


def test_shipped_ratios_agree_with_metrics_json(tab, shipped_service):
    rows = ex.heldout_table(shipped_service)
    for row in rows:
        assert row["ratio"] == pytest.approx(shipped_service.metrics(row["name"])["compression_ratio"]), row["name"]
    frame = tab.heldout_frame(rows, "en")
    chapter = next(dict(zip(frame["headers"], r)) for r in frame["data"] if r[0] == "chapter-vae-mnist")
    assert chapter["ratio (input values / latent values)"] == 12.25
    assert chapter["input C x H x W"] == "1x28x28 (zero-padded to 32x32 for the network)"
    assert "1x28x28（为网络补零到 32x32）" in [r[4] for r in tab.heldout_frame(rows, "zh")["data"]]


# ---- every result follows the page's language ------------------------------------------------------------------
CJK = re.compile(r"[\u3400-\u9fff]")


def build_with_language(service, *builders):
    """The tabs built into one Blocks with the app's language radio and Tabs, as explorer.ui.app passes them."""
    import gradio as gr

    from explorer.ui.app import AppContext

    with gr.Blocks() as demo:
        language = gr.Radio(["en", "zh"], value="en")
        with gr.Tabs() as tabs:
            ui = AppContext(language=language, tabs=tabs)  # one context for all tabs, as the app has
            for key, builder in builders:
                with gr.Tab(key, id=key):
                    builder(service, ui)
    return demo, language


def plotted(plot) -> dict:
    """The plotly figure (as JSON) a gr.Plot returned by a handler holds."""
    import json

    return json.loads(plot.value["plot"])


def sample_value(block):
    """A value a student could give `block`: its first choice, or text that is not an answer."""
    choices = getattr(block, "choices", None)
    return choices[0][1] if choices else "oops"


def shown_text(values) -> str:
    """The words in handler outputs: Markdown strings and a figure's title and annotations."""
    words = [v for v in values if isinstance(v, str)]
    figures = [plotted(v) for v in values if isinstance(getattr(v, "value", None), dict)]
    words += [a["text"] for f in figures for a in f["layout"].get("annotations", [])]
    words += [f["layout"]["title"]["text"] for f in figures if f["layout"].get("title", {}).get("text")]
    return " ".join(words)


def test_every_result_is_reworded_when_the_language_changes(ui_tab, shipped_service):
    import gradio as gr

    demo, language = build_with_language(shipped_service, ("exercises", ui_tab.build_exercises_tab))
    fns = list(demo.fns.values())
    rewords = [f for f in fns if (language._id, "change") in f.targets and f.inputs
               and isinstance(f.inputs[0], gr.State)
               and not any(getattr(o, "elem_id", None) == "lt-status" for o in f.outputs)]
    assert len(rewords) == 5  # one per exercise's result area (the live-training panel's: test_live_training.py)
    for reword in rewords:
        memory = reword.inputs[0]
        assert reword.fn(None, "zh") is not None  # nothing shown yet: an update that changes nothing
        triggers = [f for f in fns if memory in f.outputs]
        assert triggers, "a result area nothing writes to"
        for trigger in triggers:
            values = [sample_value(b) for b in trigger.inputs[:-1]]
            shown = trigger.fn(*values, "en")
            english, kept = shown[:-1], shown[-1]
            assert not CJK.search(shown_text(english)), shown_text(english)
            chinese = reword.fn(kept, "zh")
            chinese = chinese if isinstance(chinese, tuple) else (chinese,)
            assert CJK.search(shown_text(chinese)) and shown_text(chinese) != shown_text(english)
            again = reword.fn(kept, "en")
            assert shown_text(again if isinstance(again, tuple) else (again,)) == shown_text(english)


def test_the_rate_distortion_plot_is_reworded(tab, ui_tab, shipped_service):
    message, plots = ui_tab.reveal_rate_distortion(shipped_service, "four_better", "zh")[0], \
        ui_tab.reveal_rate_distortion(shipped_service, "four_better", "zh")[1:]
    figures = [plotted(plot) for plot in plots]
    titles = [figure["layout"]["title"]["text"] for figure in figures]
    assert titles == [tab.text("ex5.ours", "zh"), tab.text("ex5.sd3", "zh")]
    axes = [figure["layout"]["xaxis"]["title"]["text"] for figure in figures]
    assert axes == [tab.text("ex5.channels", "zh")] * 2 and "latent channels" not in str(figures)
    assert all(plot.visible for plot in plots)
    assert "(5.33 倍 → 4 倍)" in message.replace("（", "(").replace("）", ")")


def test_open_the_latent_map_on_the_2d_vae(ui_tab, tiny_service, monkeypatch):
    tab = ui_tab
    """Built after the real Latent map tab, the link switches to that tab and sets its model to the 2-D VAE."""
    import gradio as gr

    from explorer.ui.latent_map_tab import build_latent_map_tab

    monkeypatch.setattr(ex, "PLANAR_MODEL", "tiny-2d")  # the tiny checkpoints' 2-D VAE
    demo, _ = build_with_language(tiny_service, ("latent_map", build_latent_map_tab),
                                  ("exercises", tab.build_exercises_tab))
    tabs = next(b for b in demo.blocks.values() if isinstance(b, gr.Tabs))
    link = next(f for f in demo.fns.values() if tabs in f.outputs)
    dropdown = next(o for o in link.outputs if isinstance(o, gr.Dropdown))
    assert dropdown.label.key == "lmap.model"  # the Latent map tab's own dropdown
    selected, model = link.fn()
    assert selected.selected == "latent_map" and model["value"] == "tiny-2d"


# ---- the live-training panel's place in exercise 1 ---------------------------------------------------------------
def test_exercise_1_calls_the_training_panel_when_it_exists(ui_tab, tiny_service, monkeypatch):
    """explorer/ui/training_panel.py (another helper's) plugs in with one import: build_training_panel(service, ui)
    is called inside exercise 1's accordion, after the recorded curves and before the check."""
    import gradio as gr

    calls = []

    def fake_panel(service, ui):
        calls.append((service, ui))
        gr.Markdown("live-training panel", elem_id="fake-training-panel")

    monkeypatch.setattr(ui_tab, "build_training_panel", fake_panel)
    demo, language = build_with_language(tiny_service, ("exercises", ui_tab.build_exercises_tab))
    assert len(calls) == 1 and calls[0][0] is tiny_service and calls[0][1].language is language
    panel = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "fake-training-panel")
    accordion = panel.parent
    while not isinstance(accordion, gr.Accordion):
        accordion = accordion.parent
    assert accordion.label.key == "ex1.title"
    monkeypatch.setattr(ui_tab, "build_training_panel", None)  # absent: the tab builds without it
    with gr.Blocks():
        ui_tab.build_exercises_tab(tiny_service)


def test_the_tabs_stay_thin():
    """Issue 15: layout and wiring only, at most ~250 lines each; no other tab or CLI module imported."""
    from pathlib import Path

    for name in ("compression_tab.py", "exercises_tab.py"):
        source = (Path(__file__).parent.parent / "explorer" / "ui" / name).read_text()
        assert len(source.splitlines()) <= 250, name
        assert not re.search(r"^from \.(\w+_tab|\.train\w*) import|^import plotly", source, re.M), name
