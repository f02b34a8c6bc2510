"""Generation glue (explorer.generation), grading (explorer.evaluate_diffusion) and the denoiser trainer,
on tiny random-init checkpoints; plus end-to-end checks of /generate on the shipped models."""
from __future__ import annotations

import json
import math
import re
import threading
from concurrent.futures import CancelledError

import numpy as np
import pytest
import torch

from explorer.checkpoint import save_checkpoint
from explorer.diffusion import NoiseSchedule, clip_range_from
from explorer.generation import (GenerationRequest, RunCache, denoiser_for, generate, guided_eps, schedule_of,
                                 validate_request)
from explorer.messages import Refusal, word
from explorer.models import build_model
from explorer.service import ModelService
from tests.conftest import make_tiny_checkpoints

TINY_UNET = {"base_channels": 8, "channel_mults": [1, 2], "num_res_blocks": 1, "num_classes": 10, "norm_groups": 4}
SCHEDULE = {"num_train_timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02, "beta_schedule": "linear"}


def save_tiny_denoisers(folder):
    """A random-init latent UNet (on tiny-sd-mnist's 4x7x7 latents) and a pixel UNet (1x28x28)."""
    torch.manual_seed(1)
    for name, space, shape in (("tiny-ldm", "latent", [4, 7, 7]), ("tiny-pixel-dm", "pixel", [1, 28, 28])):
        model = build_model("unet", {**TINY_UNET, "in_channels": shape[0], "sample_size": shape[1]})
        save_checkpoint(folder / name, model, name=name, family="unet", kind="denoiser", dataset="mnist",
                        metrics={"untrained": True, "params": sum(p.numel() for p in model.parameters())},
                        description="random-init test model", space=space,
                        vae="tiny-sd-mnist" if space == "latent" else None,
                        scale_factor=0.5 if space == "latent" else None,
                        schedule={**SCHEDULE, "clip_sample": space == "pixel"}, sample_shape=shape)
    return folder


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = make_tiny_checkpoints(tmp_path_factory.mktemp("tiny-diffusion"))
    return ModelService(save_tiny_denoisers(folder), device="cpu")


# ---- validation ----------------------------------------------------------------------------------
def test_valid_request_is_normalised():
    r = validate_request(3.0, "7", 50, " DDIM ", "2.5", "Latent")
    assert r == GenerationRequest(3, 7, 50, "ddim", 2.5, "latent", "leading")
    assert validate_request(-1, 0, 1000, "ddpm", 0, "pixel").digit == -1
    assert validate_request(3, 0, 2, "ddim", 1, "latent", " Trailing ").spacing == "trailing"


@pytest.mark.parametrize("args, message", [
    ((3, 0, 0, "ddim", 3), "steps must be between 1 and 1000"),
    ((3, 0, 1001, "ddim", 3), "steps must be between 1 and 1000"),
    ((3, 0, 2.5, "ddim", 3), "steps must be a whole number"),
    ((3, 0, None, "ddim", 3), "steps is empty: give a whole number from 1 to 1000"),
    ((3, 0, "1e2", "ddim", 3), "steps must be a whole number from 1 to 1000, got '1e2'"),
    ((3, 0, True, "ddim", 3), "steps must be a whole number"),
    ((3, "", 50, "ddim", 3), "seed is empty"),
    ((3, None, 50, "ddim", 3), "seed is empty"),
    ((3, "1.5", 50, "ddim", 3), "seed must be a whole number from 0 to 4294967295, got '1.5'"),
    ((1.5, 0, 50, "ddim", 3), "digit must be a whole number from -1 to 9, got 1.5"),
    ((3, 0, 50, "euler", 3), "sampler must be one of ddpm, ddim"),
    ((3, 0, 50, "ddim", -0.5), "guidance must be between 0 and 20"),
    ((3, 0, 50, "ddim", 25), "guidance must be between 0 and 20"),
    ((3, 0, 50, "ddim", float("nan")), "guidance must be a number from 0 to 20, got nan"),
    ((3, 0, 50, "ddim", "lots"), "guidance must be a number"),
    ((10, 0, 50, "ddim", 3), "digit must be between -1 and 9, got 10"),
    ((-2, 0, 50, "ddim", 3), "digit must be between -1 and 9, got -2"),
    ((3, -1, 50, "ddim", 3), "seed must be between"),
    ((3, 0, 50, "ddim", 3, "latent", "linspace"), "spacing must be one of leading, trailing"),
])
def test_bad_requests_get_clear_messages(args, message):
    with pytest.raises(Refusal, match=message) as caught:
        validate_request(*args)
    assert caught.value.code.startswith(("gen.", "number."))
    chinese = word(caught.value, "zh")  # every refusal has its Chinese, with the field named in Chinese too
    assert re.search(r"[\u3400-\u9fff]", chinese) and not re.search(r"\b(?:must|seed|steps|digit|got)\b", chinese)


def test_refusals_survive_pickling_with_code_and_values():
    """A ZeroGPU worker sends errors back pickled: the refusal keeps its class, code, values and both wordings."""
    import pickle

    with pytest.raises(Refusal) as caught:
        validate_request(12, 0, 50, "ddim", 3)
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is Refusal and (again.code, str(again)) == ("number.out_of_range", str(caught.value))
    assert word(again, "zh") == word(caught.value, "zh") == "数字必须在 -1 到 9 之间，收到 12"


def test_empty_seed_is_refused_like_everywhere_else():
    """The one rule (explorer.validation): an empty seed is refused with the same message as in every tab."""
    from explorer.validation import seed

    with pytest.raises(Refusal) as here:
        validate_request(3, None, 50, "ddim", 3)
    with pytest.raises(Refusal) as there:
        seed(None)
    assert str(here.value) == str(there.value) == "seed is empty: give a whole number from 0 to 4294967295"


def test_unknown_space_and_missing_denoiser(tiny_service):
    with pytest.raises(ValueError, match="space must be one of latent, pixel"):
        validate_request(3, 0, 50, "ddim", 3, "voxel")
    with pytest.raises(Refusal, match="no latent-space denoiser checkpoint is installed") as caught:
        denoiser_for(tiny_service, "latent")
    assert word(caught.value, "zh").startswith("未安装潜空间的去噪模型检查点")


# ---- cancelling and caching ------------------------------------------------------------------------
def test_sampling_stops_between_steps_when_asked_and_releases_the_model(service):
    """A page that went away must not keep the model busy: should_stop is asked before every step; once it says
    stop, no further step runs, CancelledError is raised, and the model is free for the next request."""
    asked = []

    def should_stop():
        asked.append(1)
        return len(asked) > 4  # before step 1, after steps 1-3: go on; after step 4: stop

    with pytest.raises(CancelledError, match="after step 4 of 1000"):
        generate(service, validate_request(3, 0, 1000, "ddpm", 2.0), should_stop=should_stop)
    assert len(asked) == 5
    again = generate(service, validate_request(3, 0, 2, "ddim", 2.0))  # the lock was released
    assert len(again.timesteps) == 2


def test_run_cache_computes_a_key_once_even_when_asked_at_once():
    cache, calls, gate = RunCache(max_items=2), [], threading.Event()

    def slow():
        calls.append(1)
        gate.wait(5)
        return len(calls)

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow))) for _ in range(5)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert results == [1] * 5 and len(calls) == 1 and cache.misses == 1 and cache.hits == 4
    for key in ("a", "b", "c"):  # bounded: the least recently used key goes
        cache.get_or_compute(key, lambda: key)
    assert len(cache) == 2 and cache.get_or_compute("k", lambda: "recomputed") == "recomputed"


def test_a_failed_computation_is_not_cached_and_waiters_compute_it_themselves():
    cache, started, release = RunCache(), threading.Event(), threading.Event()

    def cancelled():
        started.set()
        release.wait(5)
        raise CancelledError("the first page went away")

    outcome = {}

    def first():
        try:
            cache.get_or_compute("k", cancelled)
        except CancelledError as exc:
            outcome["first"] = exc

    t1 = threading.Thread(target=first)
    t1.start()
    started.wait(5)
    t2 = threading.Thread(target=lambda: outcome.setdefault("second", cache.get_or_compute("k", lambda: "mine")))
    t2.start()
    release.set()
    t1.join(10)
    t2.join(10)
    assert isinstance(outcome["first"], CancelledError) and outcome["second"] == "mine" and len(cache) == 1


# ---- classifier-free guidance --------------------------------------------------------------------
def test_guidance_interpolates_conditional_and_unconditional(service):
    model = service.get("tiny-ldm").model
    x = torch.randn(2, 4, 7, 7, generator=torch.Generator().manual_seed(0))
    t = torch.full((2,), 500)
    with torch.inference_mode():
        eps_c = model(x, t, torch.full((2,), 3))
        eps_u = model(x, t, torch.full((2,), 10))
        assert not torch.allclose(eps_c, eps_u)  # the label matters, so guidance is testable
        torch.testing.assert_close(guided_eps(model, x, 500, 3, 1.0), eps_c, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(guided_eps(model, x, 500, 3, 0.0), eps_u, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(guided_eps(model, x, 500, 3, 4.0), eps_u + 4 * (eps_c - eps_u), rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(guided_eps(model, x, 500, -1, 9.0), eps_u, rtol=1e-4, atol=1e-5)


# ---- generation ----------------------------------------------------------------------------------
def test_latent_generation_keeps_and_decodes_every_step(service):
    request = validate_request(4, 11, 8, "ddim", 3.0, "latent")
    g = generate(service, request, batch=2)
    assert g.model == "tiny-ldm" and g.vae == "tiny-sd-mnist"
    assert g.timesteps == NoiseSchedule(**SCHEDULE).timesteps(8)
    assert g.x_t.shape == g.pred_x0.shape == (8, 2, 4, 7, 7)
    assert g.x0_images.shape == g.current_images.shape == (8, 2, 1, 28, 28) and g.final.shape == (2, 1, 28, 28)
    for images in (g.x0_images, g.current_images, g.final):
        assert images.dtype == np.float32 and images.min() >= 0.0 and images.max() <= 1.0
    # decoding divides by the scale factor (latents were diffused x scale_factor)
    np.testing.assert_allclose(g.current_images[3], service.decode("tiny-sd-mnist", g.x_t[3] / 0.5), atol=1e-5)
    np.testing.assert_allclose(g.x0_images[5], service.decode("tiny-sd-mnist", g.pred_x0[5] / 0.5), atol=1e-5)
    # DDIM's last step lands on its own x0 prediction (alpha-bar after the last timestep is 1)
    np.testing.assert_allclose(g.final, g.x0_images[-1], atol=1e-5)
    # the first step starts from pure noise: x_T ~ N(0, I)
    assert abs(float(g.x_t[0].std()) - 1.0) < 0.35
    timings = g.timings()
    assert len(timings["per_step_ms"]) == 8 and all(ms > 0 for ms in timings["per_step_ms"])
    assert timings["total_s"] >= timings["denoise_s"] + timings["decode_s"] - 1e-6
    assert timings["dims_per_step"] == 196 and timings["unet_passes_per_step"] == 2
    assert timings["settings"]["digit"] == 4 and timings["settings"]["sampler"] == "ddim"
    json.dumps(timings)


@pytest.mark.parametrize("sampler", ["ddim", "ddpm"])
def test_same_seed_same_digits_other_seed_other_digits(service, sampler):
    a = generate(service, validate_request(2, 5, 6, sampler, 2.0), decode_frames=False)
    b = generate(service, validate_request(2, 5, 6, sampler, 2.0), decode_frames=False)
    c = generate(service, validate_request(2, 6, 6, sampler, 2.0), decode_frames=False)
    np.testing.assert_array_equal(a.x_t, b.x_t)
    np.testing.assert_array_equal(a.final, b.final)
    assert not np.allclose(a.x_t[0], c.x_t[0])


def test_ddpm_and_ddim_differ_after_the_first_step(service):
    ddim = generate(service, validate_request(2, 5, 6, "ddim", 2.0), decode_frames=False)
    ddpm = generate(service, validate_request(2, 5, 6, "ddpm", 2.0), decode_frames=False)
    np.testing.assert_array_equal(ddim.x_t[0], ddpm.x_t[0])  # same starting noise
    assert not np.allclose(ddim.x_t[1], ddpm.x_t[1])  # DDPM adds fresh noise, DDIM does not


def test_pixel_generation_and_unconditional(service):
    g = generate(service, validate_request(-1, 3, 5, "ddpm", 7.0, "pixel"))
    assert g.model == "tiny-pixel-dm" and g.vae is None
    assert g.x_t.shape == (5, 1, 1, 28, 28) and g.final.shape == (1, 1, 28, 28)
    assert np.abs(g.pred_x0).max() <= 1.0  # clip_sample is on for pixels
    np.testing.assert_allclose(g.current_images[2, 0], np.clip((g.x_t[2, 0] + 1) / 2, 0, 1), atol=1e-6)
    assert g.timings()["unet_passes_per_step"] == 1 and g.dims_per_step == 784


def test_schedule_comes_from_the_checkpoint(service):
    assert schedule_of(service.config("tiny-pixel-dm")).clip_sample is True
    assert schedule_of(service.config("tiny-ldm")).clip_sample is False
    assert schedule_of(service.config("tiny-ldm")).timestep_spacing == "leading"
    assert schedule_of(service.config("tiny-ldm"), "trailing").timestep_spacing == "trailing"


def test_the_request_chooses_the_timestep_spacing(service):
    """Same noise, other timesteps: trailing starts at t=999, leading at (n-1) * (1000 // n)."""
    trailing = generate(service, validate_request(2, 5, 4, "ddim", 2.0, "latent", "trailing"), decode_frames=False)
    leading = generate(service, validate_request(2, 5, 4, "ddim", 2.0), decode_frames=False)
    assert trailing.timesteps == [999, 749, 499, 249] and leading.timesteps == [750, 500, 250, 0]
    np.testing.assert_array_equal(trailing.x_t[0], leading.x_t[0])
    assert not np.allclose(trailing.final, leading.final)
    assert leading.timings()["settings"]["spacing"] == "leading"


def test_models_endpoint_describes_denoisers(service):
    entries = {e["name"]: e for e in service.models()}
    assert entries["tiny-ldm"]["kind"] == "denoiser" and entries["tiny-ldm"]["params"] > 0


# ---- grading and training ------------------------------------------------------------------------
def test_grade_counts_agreement_per_digit(service):
    from explorer.evaluate_diffusion import classify, grade

    report = grade(service, "tiny-ldm", per_digit=2, steps=2, classifier="tiny-classifier")
    assert report["n_samples"] == 20 and set(report["per_digit"]) == {str(d) for d in range(10)}
    assert report["settings"]["spacing"] == "leading"
    assert all(v in (0.0, 0.5, 1.0) for v in report["per_digit"].values())
    assert math.isclose(report["agreement"], np.mean(list(report["per_digit"].values())))
    # recompute digit 7 by hand through the same path
    g = generate(service, validate_request(7, 1000 + 7, 2, "ddim", 3.0), model="tiny-ldm", batch=2,
                 decode_frames=False)
    hits = (classify(service, g.final, "tiny-classifier").argmax(1) == 7).mean()
    assert report["per_digit"]["7"] == hits


def test_guidance_is_chosen_on_other_seeds_than_the_reported_figure(service):
    from explorer.evaluate_diffusion import REPORT_SEED, SELECT_SEED, grade, select_and_grade

    report = select_and_grade(service, "tiny-ldm", per_digit=1, select_per_digit=1, steps=2, grid=(0.0, 2.0),
                              classifier="tiny-classifier", progress=False)
    selection = report["guidance_selection"]
    assert selection["chosen"] in (0.0, 2.0) and selection["seed"] == SELECT_SEED != REPORT_SEED
    scores = selection["agreement_by_guidance"]
    assert scores[f"{selection['chosen']:g}"] == max(scores.values())
    assert report["settings"]["seed"] == REPORT_SEED and report["settings"]["guidance"] == selection["chosen"]
    again = grade(service, "tiny-ldm", 1, 2, "ddim", selection["chosen"], REPORT_SEED, "tiny-classifier")
    assert again["per_digit"] == report["per_digit"]


def test_trainer_writes_a_loadable_denoiser_checkpoint(service, tmp_path, monkeypatch):
    from dataclasses import replace

    from explorer import data
    from explorer.checkpoint import load_checkpoint
    from explorer.train_diffusion import RECIPES, build_checkpoint

    full = data.load_mnist("train")
    small = data.DigitSplit(full.images[:64], full.labels[:64], full.source_index[:64])
    monkeypatch.setattr(data, "load_mnist", lambda split, idx=None: small)
    (tmp_path / "tiny-sd-mnist").symlink_to(service.checkpoint_dir / "tiny-sd-mnist")
    recipe = replace(RECIPES["ldm-mnist"], name="ldm-test", vae="tiny-sd-mnist",
                     unet={**TINY_UNET, "in_channels": 4, "sample_size": 7}, epochs=2, batch_size=16)
    metrics = build_checkpoint(recipe, tmp_path, progress=False, max_steps=6, evaluate=False)
    assert metrics["train_steps"] == 6 and metrics["samples_seen"] == 96 and len(metrics["history"]) == 2 and metrics["n_train"] == 64
    model, config, saved = load_checkpoint(tmp_path / "ldm-test")
    assert config["kind"] == "denoiser" and config["space"] == "latent" and config["vae"] == "tiny-sd-mnist"
    assert config["scale_factor"] == pytest.approx(service.config("tiny-sd-mnist")["config"]["scale_factor"])
    # a latent denoiser clips its x0 prediction to the range of its own training latents (explorer.diffusion)
    latents = np.concatenate([service.encode("tiny-sd-mnist", small.images[:, None])["mean"]]) * config["scale_factor"]
    assert config["schedule"]["clip_sample"] is True and config["schedule"]["use_clipped_model_output"] is True
    assert config["schedule"]["clip_sample_range"] == clip_range_from(latents) and config["sample_shape"] == [4, 7, 7]
    assert saved["history"][0]["loss"] > 0 and saved["params"] == sum(p.numel() for p in model.parameters())


def test_training_lowers_the_loss(tmp_path):
    """A few dozen steps on a fixed batch of latents must cut the epsilon loss (the trainer learns)."""
    from explorer.train_diffusion import diffusion_loss

    torch.manual_seed(0)
    model = build_model("unet", {**TINY_UNET, "in_channels": 4, "sample_size": 7})
    schedule = NoiseSchedule(**SCHEDULE)
    x = torch.rand(16, 4, 7, 7) * 2 - 1
    labels = torch.randint(0, 10, (16,))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)

    def loss_now():
        with torch.no_grad():
            return float(diffusion_loss(model, schedule, x, labels, torch.Generator().manual_seed(9), 0.1))

    before = loss_now()
    g = torch.Generator().manual_seed(1)
    for _ in range(40):
        loss = diffusion_loss(model, schedule, x, labels, g, 0.1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss_now() < 0.7 * before


# ---- the tab's public API, end to end on the shipped models ----------------------------------------
def test_generate_endpoint_is_listed_with_its_parameters(app_server):
    _, client = app_server
    params = client.view_api(return_format="dict", print_info=False)["named_endpoints"]["/generate"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["digit", "seed", "steps", "sampler", "guidance", "space"]


def test_generate_endpoint_returns_the_final_png_one_frames_file_and_timings(app_server, shipped_service):
    from PIL import Image

    from explorer.views.denoising import to_uint8

    _, client = app_server
    final, frames, timings = client.predict(7, 3, 6, "ddim", 3.0, "latent", api_name="/generate")
    with open(final, "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"  # lossless, not webp
    expected = generate(shipped_service, validate_request(7, 3, 6, "ddim", 3.0, "latent"))
    np.testing.assert_array_equal(np.asarray(Image.open(final)), to_uint8(expected.final[0, 0]))
    # ONE file for every step (not one download per frame), laid out as the endpoint's docstring says
    assert isinstance(frames, str) and frames.endswith(".npz")
    with np.load(frames) as arrays:
        # the default leading spacing: 6 steps visit 830, 664, 498, 332, 166, 0
        assert arrays["timesteps"].tolist() == [830, 664, 498, 332, 166, 0]
        assert arrays["x_t"].shape == arrays["pred_x0"].shape == (6, 4, 7, 7) and arrays["x_t"].dtype == np.float32
        assert arrays["x0_images"].shape == arrays["current_images"].shape == (6, 28, 28)
        np.testing.assert_allclose(arrays["x_t"], expected.x_t[:, 0], atol=1e-5)
        np.testing.assert_array_equal(arrays["current_images"], to_uint8(expected.current_images[:, 0, 0]))
        np.testing.assert_array_equal(arrays["final"], np.asarray(Image.open(final)))
        abar = shipped_service_schedule(shipped_service).alphas_cumprod.double().numpy()[[830, 664, 498, 332, 166, 0]]
        np.testing.assert_allclose(arrays["alphas_cumprod"], abar)
        np.testing.assert_allclose(arrays["snr"], abar / (1 - abar))
    assert timings["settings"]["digit"] == 7 and timings["settings"]["model"] == "ldm-mnist"
    assert len(timings["per_step_ms"]) == 6 and timings["total_s"] > 0 and timings["dims_per_step"] == 196


@pytest.mark.parametrize("args, message", [
    ((3, 0, 0, "ddim", 3.0, "latent"), "steps must be between 1 and 1000"),
    ((3, 0, 1001, "ddim", 3.0, "latent"), "steps must be between 1 and 1000"),
    ((3, 0, 10, "euler", 3.0, "latent"), "sampler must be one of ddpm, ddim"),
    ((3, 0, 10, "ddim", 99.0, "latent"), "guidance must be between 0 and 20"),
    ((12, 0, 10, "ddim", 3.0, "latent"), "digit must be between -1 and 9, got 12"),
    ((3, 0, 10, "ddim", 3.0, "voxel"), "space must be one of latent, pixel"),
    ((3, None, 10, "ddim", 3.0, "latent"), "seed is empty: give a whole number from 0 to 4294967295"),
    ((3, 1.5, 10, "ddim", 3.0, "latent"), "seed must be a whole number from 0 to 4294967295, got 1.5"),
])
def test_generate_endpoint_refuses_bad_input_clearly(app_server, args, message):
    from gradio_client.exceptions import AppError

    _, client = app_server
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name="/generate")
    assert client.predict(api_name="/ping") == "ok"  # the server keeps serving


def shipped_service_schedule(service):
    return schedule_of(service.config("ldm-mnist"))


# ---- drawing -------------------------------------------------------------------------------------
def test_panels_and_frames_are_exact_pixels():
    from explorer.views.denoising import (API_PANEL, PANEL, channel_panel, diverging, frame_strip, image_panel,
                                          speedup_rows)

    colours = diverging(np.array([[0.0, 3.0, -3.0, 9.0]]), vmax=3.0)[0]
    assert colours[0].tolist() == [255, 255, 255] and colours[1].tolist() == colours[3].tolist()  # saturates
    assert colours[1][0] > colours[1][2] and colours[2][2] > colours[2][0]  # red above 0, blue below
    digit = np.zeros((1, 28, 28), np.float32)
    digit[0, 5, 7] = 1.0
    panel = image_panel(digit, API_PANEL)
    assert panel.shape == (56, 56, 3) and panel[10:12, 14:16].min() == 255 and panel.sum() == 255 * 3 * 4
    channels = channel_panel(np.zeros((4, 7, 7), np.float32), 3.0)
    assert channels.shape == (PANEL, PANEL, 3)
    strip = frame_strip([panel, panel, panel], gap=2)
    assert strip.shape == (56, 3 * 56 + 4, 3)
    timing = {"dims_per_step": 196, "params": 10, "median_step_ms": 2.0, "denoise_s": 0.1, "decode_s": 0.05,
              "total_s": 0.2}
    rows = {r["what"]: r for r in speedup_rows(timing, {**timing, "dims_per_step": 784, "median_step_ms": 9.0})}
    assert rows["dims"]["ratio"] == 4.0 and rows["step_ms"]["ratio"] == 4.5 and rows["decode_s"]["ratio"] is None
    assert all(r["pixel"] is None for r in speedup_rows(timing, None))


def test_tab_serves_both_spaces_over_tiny_models(service):
    """The tab alone over random-init tiny denoisers: /generate in latent and pixel space, PNG outputs."""
    from gradio_client import Client
    from PIL import Image

    from explorer.ui.app import build_demo, launch_kwargs
    from explorer.ui.denoising_tab import build_denoising_tab
    from tests.conftest import free_port

    demo = build_demo(service, tabs={"denoising": build_denoising_tab})
    demo.queue()
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=free_port(),
                            **launch_kwargs())
    client = Client(url, verbose=False)
    try:
        for space, model in (("latent", "tiny-ldm"), ("pixel", "tiny-pixel-dm")):
            final, frames, timings = client.predict(-1, 4, 3, "ddpm", 0.0, space, api_name="/generate")
            assert Image.open(final).format == "PNG" and Image.open(final).size == (28, 28)
            with np.load(frames) as arrays:
                channels = (4, 7, 7) if space == "latent" else (1, 28, 28)
                assert arrays["x_t"].shape == (3, *channels) and arrays["current_images"].shape == (3, 28, 28)
            assert timings["settings"]["model"] == model and timings["unet_passes_per_step"] == 1
    finally:
        client.close()
        demo.close()
