"""The Denoising tab's handlers, called directly on tiny random-init denoisers: playback never sends a stale step
through the range-checked slider, Generate is disabled while it runs (and enabled again after an error), errors
are worded in the page's language, the unconditional run is described as one UNet pass, and a 1-step run has a
fixed, full step slider."""
from __future__ import annotations

import re

import gradio as gr
import pytest

from explorer.checkpoint import CheckpointError
from explorer.generation import REFUSALS, RequestError, denoiser_for, generate, validate_request
from explorer.service import ModelService
from explorer.ui.denoising_tab import (REFUSALS_ZH, build_denoising_tab, clamp_index, comparison_markdown,
                                       error_message, next_index, run_arrays, step_slider)
from tests.conftest import make_tiny_checkpoints
from tests.test_generation import save_tiny_denoisers
from tests.test_i18n_figures import CJK, build

PLACEHOLDER = re.compile(r"\{(\w+)")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = make_tiny_checkpoints(tmp_path_factory.mktemp("tiny-denoising-tab"))
    return ModelService(save_tiny_denoisers(folder), device="cpu")


@pytest.fixture(scope="module")
def tab(service):
    """The tab in a Blocks with the app's language radio: {handler name: its BlockFunction}."""
    demo, _ = build(service, build_denoising_tab)
    return {fn.fn.__name__: fn for fn in demo.fns.values() if fn.fn is not None}


def run_state(service, steps: int, digit: int = 3) -> dict:
    g = generate(service, validate_request(digit, 0, steps, "ddim", 1.0, "latent"), model="tiny-ldm")
    return {"timesteps": g.timesteps, "latent": run_arrays(g), "pixel": None}


# ---- playback ------------------------------------------------------------------------------------------
def test_next_index_restarts_after_the_last_step_and_from_a_stale_index():
    assert [next_index(i, 10) for i in (1, 5, 9, 10)] == [2, 6, 10, 1]
    assert next_index(52, 10) == 1  # left over from a longer run: start this one again
    assert next_index(None, 10) == 2 and next_index(1, 1) == 1
    assert next_index(1, 600) == 11  # about PLAYBACK_TICKS ticks per run
    assert [clamp_index(v, 10) for v in (0, 3.0, "7", 52, None, float("nan"), "x")] == [1, 3, 7, 10, 1, 1, 1]


def test_tick_reads_the_step_state_not_the_slider(service, tab):
    """The bug: a tick sent the slider's old value (52) against its new maximum (10) and Gradio refused it. The
    tick's inputs hold no slider now, and a stale step in the State restarts the new run at step 1."""
    tick = tab["on_tick"]
    assert not any(isinstance(block, gr.Slider) for block in tick.inputs)
    state = run_state(service, 4)
    index, slider_value, *_, timer = tick.fn(state, 52, "en")
    assert index == slider_value == 1 and timer.active
    index, slider_value, *_, timer = tick.fn(state, 3, "en")
    assert index == slider_value == 4 and not timer.active  # the last step: playback stops


def test_scrub_takes_the_raw_slider_value_and_clamps_it(service, tab):
    scrub = next(fn for fn in tab.values() if fn.fn.__name__ == "on_scrub")
    assert scrub.preprocess is False  # Gradio's range check cannot refuse a drag that raced a shorter run
    state = run_state(service, 4)
    index, *panels, plot, status, timer = scrub.fn(state, 177.0, "en")
    assert index == 4 and status.startswith("**Step 4 / 4**") and not timer.active


# ---- Generate --------------------------------------------------------------------------------------------
def test_generate_disables_the_button_and_enables_it_after_success_or_error(service):
    """Success and failure each re-enable it: Gradio 6.31's frontend runs no .then() after an error."""
    demo, _ = build(service, build_denoising_tab)
    named = lambda name: [fn for fn in demo.fns.values() if fn.fn is not None and fn.fn.__name__ == name]  # noqa: E731
    (busy,), (run,), after = named("busy"), named("on_generate"), named("ready")
    button = next(block for block in busy.outputs if isinstance(block, gr.Button))
    assert busy.fn()[0].interactive is False and busy.fn()[1].active is False  # disabled, playback stopped
    assert run.trigger_after == busy._id
    assert {(fn.trigger_only_on_success, fn.trigger_only_on_failure) for fn in after} == {(True, False), (False, True)}
    for fn in after:
        assert fn.trigger_after == run._id and fn.outputs == [button] and fn.fn().interactive is True


def test_generate_errors_in_chinese(tab):
    with pytest.raises(gr.Error, match="随机种子必须在 0 到 4294967295 之间；收到 4294967296"):
        tab["on_generate"].fn(3, 2**32, 10, "ddim", 1.0, "trailing", False, "zh")
    with pytest.raises(gr.Error, match="seed must be between 0 and 4294967295; got -1"):
        tab["on_generate"].fn(3, -1, 10, "ddim", 1.0, "trailing", False, "en")


def test_a_one_step_run_has_a_fixed_full_slider(service, tab):
    slider = step_slider(1)
    assert (slider.minimum, slider.maximum, slider.value, slider.interactive) == (0, 1, 1, False)
    assert step_slider(8).interactive and (step_slider(8).minimum, step_slider(8).maximum) == (1, 8)
    state, index, slider, *_, timer = tab["on_generate"].fn(3, 0, 1, "ddim", 1.0, "trailing", False, "en")
    assert len(state["timesteps"]) == 1 and index == 1 and slider.maximum == 1 and not timer.active


def test_the_spacing_radio_reaches_the_sampler(tab):
    trailing = tab["on_generate"].fn(3, 0, 2, "ddim", 1.0, "trailing", False, "en")[0]
    leading = tab["on_generate"].fn(3, 0, 2, "ddim", 1.0, "leading", False, "en")[0]
    assert trailing["timesteps"] == [999, 499] and leading["timesteps"] == [500, 0]
    assert leading["latent"]["timings"]["settings"]["spacing"] == "leading"


# ---- words ----------------------------------------------------------------------------------------------
def test_every_refusal_has_chinese_with_the_same_values():
    assert set(REFUSALS_ZH) == set(REFUSALS)
    for code, english in REFUSALS.items():
        assert set(PLACEHOLDER.findall(REFUSALS_ZH[code])) == set(PLACEHOLDER.findall(english)), code
        assert CJK.search(REFUSALS_ZH[code]), code


@pytest.mark.parametrize("args", [(3, 2.5, 10, "ddim", 1), (3, 0, 0, "ddim", 1), (3, 0, 10, "euler", 1),
                                  (3, 0, 10, "ddim", "lots"), (3, 0, 10, "ddim", 99), (12, 0, 10, "ddim", 1)])
def test_refusals_are_worded_in_each_language(args):
    with pytest.raises(RequestError) as caught:
        validate_request(*args)
    assert error_message(caught.value, "en") == str(caught.value)  # the English is the API's message
    chinese = error_message(caught.value, "zh")
    assert CJK.search(chinese) and not re.search(r"\b(?:must|seed|steps|digit|got)\b", chinese), chinese


def test_missing_denoiser_and_broken_checkpoint_in_chinese(tiny_service):
    with pytest.raises(RequestError) as caught:
        denoiser_for(tiny_service, "latent")
    assert error_message(caught.value, "zh").startswith("未安装潜空间的去噪模型检查点")
    broken = error_message(CheckpointError("model.safetensors is missing"), "zh")
    assert broken == "无法加载模型检查点：model.safetensors is missing"


def test_unconditional_run_is_described_as_one_pass_without_guidance(service):
    uncond = run_state(service, 2, digit=-1)["latent"]["timings"]
    cond = run_state(service, 2, digit=3)["latent"]["timings"]
    assert uncond["unet_passes_per_step"] == 1 and cond["unet_passes_per_step"] == 2
    text_uncond, text_cond = comparison_markdown(uncond, None, "en"), comparison_markdown(cond, None, "en")
    assert "UNet passes per step: 1 (unconditional" in text_uncond and "batch of 2" not in text_uncond
    assert "UNet passes per step: 2 (classifier-free guidance" in text_cond
    assert "每步 UNet 前向次数：1（无条件生成" in comparison_markdown(uncond, None, "zh")
