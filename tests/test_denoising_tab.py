"""The Denoising tab's handlers and views, called directly on tiny random-init denoisers: Generate sends one payload
whose sprite sheets hold exactly each step's panels (with the timesteps, ᾱ_t and SNR of the checkpoint's schedule),
identical requests are computed once, a page that goes away stops its sampler, Generate is one server event (clicks while
it runs are dropped by the frontend), refusals are worded in the page's language (without Gradio's own English range
check), and the player's words exist in both languages."""
from __future__ import annotations

import base64
import io
import re
import threading
import time

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from explorer.generation import generate, schedule_of, validate_request
from explorer.service import ModelService
from explorer.ui import denoising_tab
from explorer.ui.denoising_tab import RUNS, build_denoising_tab
from explorer.views import denoising as views
from tests.conftest import make_tiny_checkpoints
from tests.test_generation import save_tiny_denoisers
from tests.test_i18n_figures import CJK, build

PLACEHOLDER = re.compile(r"\{(\w+)")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = make_tiny_checkpoints(tmp_path_factory.mktemp("tiny-denoising-tab"))
    return ModelService(save_tiny_denoisers(folder), device="cpu")


@pytest.fixture(scope="module")
def built(service):
    demo, language = build(service, build_denoising_tab)
    return demo, {fn.fn.__name__: fn for fn in demo.fns.values() if fn.fn is not None}


@pytest.fixture
def tab(built):
    return built[1]


def last(generator):
    """Run a generator event to its end; its last yield."""
    out = None
    for out in generator:
        pass
    return out


def sheet_pixels(kind: dict) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(kind["src"].split(",", 1)[1]))))


def cell(kind: dict, i: int) -> np.ndarray:
    r, c = divmod(i, kind["cols"])
    return sheet_pixels(kind)[r * kind["h"]:(r + 1) * kind["h"], c * kind["w"]:(c + 1) * kind["w"]]


# ---- Generate -> one payload ---------------------------------------------------------------------------------
def test_generate_sends_every_step_once_as_sheets_of_exact_pixels(service, tab):
    payload, progress, table, timings = last(tab["on_generate"].fn(3, 5, 6, "ddim", 1.0, "leading", False, "en"))
    g = generate(service, validate_request(3, 5, 6, "ddim", 1.0), model="tiny-ldm")
    assert payload["n"] == 6 and payload["timesteps"] == g.timesteps == [830, 664, 498, 332, 166, 0]
    abar = schedule_of(service.config("tiny-ldm")).alphas_cumprod.double().numpy()
    np.testing.assert_allclose(payload["abar"], abar[g.timesteps], rtol=1e-5)
    np.testing.assert_allclose(payload["snr"], abar[g.timesteps] / (1 - abar[g.timesteps]), rtol=1e-5)
    assert len(payload["curve"]["abar"]) == 1000 and payload["autoplay"] and payload["stride"] == 1
    (run,) = payload["runs"]  # the pixel run is off by default
    assert run["space"] == "latent" and run["model"] == "tiny-ldm"
    for i in (0, 3, 5):  # every step's three panels, at native size, exactly as the views draw them
        np.testing.assert_array_equal(cell(run["panels"]["noisy"], i), views.channel_panel(g.x_t[i, 0], 3.0, None))
        np.testing.assert_array_equal(cell(run["panels"]["x0"], i), views.to_uint8(g.x0_images[i, 0, 0]))
        np.testing.assert_array_equal(cell(run["panels"]["current"], i), views.to_uint8(g.current_images[i, 0, 0]))
    assert run["panels"]["noisy"]["w"] == 15 and run["panels"]["x0"]["w"] == 28  # 2x2 tiles of 7x7, 1-px gaps
    assert progress == "" and "| numbers the UNet denoises per step | 196 |" in table and timings[1] is None
    assert "Pixel space was not run" in table


def test_the_pixel_run_is_added_on_request_and_the_latent_run_comes_from_the_cache(tab):
    last(tab["on_generate"].fn(4, 1, 3, "ddim", 1.0, "leading", False, "en"))
    hits = RUNS.hits
    payload, _, table, timings = last(tab["on_generate"].fn(4, 1, 3, "ddim", 1.0, "leading", True, "en"))
    assert [r["space"] for r in payload["runs"]] == ["latent", "pixel"] and RUNS.hits == hits + 1
    assert timings[1]["dims_per_step"] == 784 and "| numbers the UNet denoises per step | 196 | 784 | 4.00x |" in table


def test_identical_requests_are_computed_once_and_each_gets_a_new_key(tab, monkeypatch):
    calls = []
    real = denoising_tab.generate
    monkeypatch.setattr(denoising_tab, "generate", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = last(tab["on_generate"].fn(2, 77, 4, "ddpm", 2.0, "trailing", False, "en"))[0]
    second = last(tab["on_generate"].fn(2, "77", 4.0, "ddpm", 2.0, "trailing", False, "zh"))[0]
    assert len(calls) == 1 and first["runs"] == second["runs"] and first["key"] != second["key"]
    last(tab["on_generate"].fn(2, 78, 4, "ddpm", 2.0, "trailing", False, "en"))  # another seed: computed
    assert len(calls) == 2


def test_the_spacing_radio_reaches_the_sampler(tab):
    trailing = last(tab["on_generate"].fn(3, 0, 2, "ddim", 1.0, "trailing", False, "en"))[0]
    leading = last(tab["on_generate"].fn(3, 0, 2, "ddim", 1.0, "leading", False, "en"))[0]
    assert trailing["timesteps"] == [999, 499] and leading["timesteps"] == [500, 0]
    assert leading["runs"][0]["timings"]["settings"]["spacing"] == "leading"


def test_a_one_step_run_has_nothing_to_play(tab):
    payload = last(tab["on_generate"].fn(3, 0, 1, "ddim", 1.0, "trailing", False, "en"))[0]
    assert payload["n"] == 1 and payload["timesteps"] == [999]


# ---- a page that goes away -------------------------------------------------------------------------------------
def test_closing_the_generate_event_stops_the_sampler(tab):
    """What Gradio 6.31 does when the page's SSE stream closes (reload, closed tab): it marks the job dead and
    closes the generator at its next yield (queueing.py reset_iterators -> iterator.close()). The worker then
    stops at its next step and nothing is cached."""
    before = len(RUNS)
    events = tab["on_generate"].fn(5, 12345, 1000, "ddpm", 2.0, "leading", False, "en")
    start = time.perf_counter()
    update = next(events)  # still computing: a progress line
    assert update[1].startswith("Computing 1000 steps")
    events.close()
    workers = [t for t in threading.enumerate() if t.name == "denoising-generate"]
    for t in workers:
        t.join(10)
    assert not any(t.is_alive() for t in workers) and time.perf_counter() - start < 10
    assert len(RUNS) == before  # the cancelled run was not kept


# ---- wiring ------------------------------------------------------------------------------------------------
def test_generate_is_one_event_that_ignores_clicks_while_pending(built):
    """No extra server event before or after the run (one after it would be a request during playback); the
    frontend drops clicks while the run is pending (trigger_mode "once")."""
    demo, tab = built
    run = tab["on_generate"]
    assert run.trigger_mode == "once" and run.trigger_after is None and run.targets[0][1] == "click"
    assert not [fn for fn in demo.fns.values() if fn.trigger_after == run._id]


def test_generate_reads_raw_values_so_refusals_are_worded_by_the_app(tab):
    """preprocess=False: Gradio's own range check (English, not naming the box) never runs; validate_request
    refuses in the page's language."""
    assert tab["on_generate"].preprocess is False
    assert not any(isinstance(b, gr.Number) and (b.minimum is not None or b.maximum is not None)
                   for b in tab["on_generate"].inputs)


@pytest.mark.parametrize("seed, steps, lang, message", [
    (2**32, 10, "zh", "种子必须在 0 到 4294967295 之间，收到 4294967296"),
    (-1, 10, "en", "seed must be between 0 and 4294967295, got -1"),
    (None, 10, "en", "seed is empty: give a whole number from 0 to 4294967295"),
    (None, 10, "zh", "种子为空：请填写 0 到 4294967295 之间的整数"),
    (1.5, 10, "en", "seed must be a whole number from 0 to 4294967295, got 1.5"),
    (0, 5000, "zh", "步数必须在 1 到 1000 之间，收到 5000"),
])
def test_generate_refuses_in_the_page_language(tab, seed, steps, lang, message):
    with pytest.raises(gr.Error, match=re.escape(message)):
        last(tab["on_generate"].fn(3, seed, steps, "ddim", 1.0, "trailing", False, lang))


def test_the_language_switch_rewords_the_tables_without_running_anything(tab, monkeypatch):
    timings = last(tab["on_generate"].fn(3, 0, 2, "ddim", 1.0, "leading", False, "en"))[3]
    monkeypatch.setattr(denoising_tab, "generate", lambda *a, **k: pytest.fail("the language switch sampled"))
    table, quality = tab["on_language"].fn(timings, "zh")
    assert table.startswith("#### 本机实测（本次请求）") and quality.startswith("#### 质量与训练预算")
    assert tab["on_language"].fn(None, "en")[0] == ""


# ---- words ----------------------------------------------------------------------------------------------------
def test_every_player_word_exists_in_both_languages():
    words = views.player_words()
    assert set(words["en"]) == set(words["zh"]) == set(views.PLAYER_KEYS)
    assert words["en"]["play"] == "▶ Play" and words["en"]["pause"] == "❚❚ Pause"  # the names tests click
    for key in views.PLAYER_KEYS:
        en, zh = words["en"][key], words["zh"][key]
        assert set(PLACEHOLDER.findall(en)) == set(PLACEHOLDER.findall(zh)), key
        assert key in ("fig.abar",) or CJK.search(zh), key
    status = words["en"]["status"].format(i=3, n=50, t=880, abar="0.0123", snr="0.0125")
    assert status == "Step 3 / 50 (t = 880): ᾱ_t = 0.0123 of the signal's variance is left, SNR = 0.0125."


def test_unconditional_run_is_described_as_one_pass_without_guidance(service):
    uncond = generate(service, validate_request(-1, 0, 2, "ddim", 1.0), model="tiny-ldm").timings()
    cond = generate(service, validate_request(3, 0, 2, "ddim", 1.0), model="tiny-ldm").timings()
    assert uncond["unet_passes_per_step"] == 1 and cond["unet_passes_per_step"] == 2
    text_uncond, text_cond = views.comparison_markdown(uncond, None, "en"), views.comparison_markdown(cond, None, "en")
    assert "UNet passes per step: 1 (unconditional" in text_uncond and "batch of 2" not in text_uncond
    assert "UNet passes per step: 2 (classifier-free guidance" in text_cond
    assert "每步 UNet 前向次数：1（无条件生成" in views.comparison_markdown(uncond, None, "zh")


def test_sheets_lay_frames_out_row_major():
    frames = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3)
    image, cols = views.sheet(frames)
    assert cols == 3 and image.shape == (2 * 2, 3 * 3)
    assert np.array_equal(image[2:4, 3:6], frames[4]) and not image[2:4, 6:9].any()  # frame 4: row 1, column 1
