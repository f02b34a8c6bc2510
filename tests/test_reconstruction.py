"""explorer/reconstruction.py on tiny random-init models, and the /reconstruct API of the real app."""
from __future__ import annotations

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from explorer import reconstruction as rec
from explorer.data import load_mnist
from explorer.imaging import colormap
from explorer.messages import Refusal, word
from explorer.views import reconstruction as view
from explorer.metrics import image_metrics


@pytest.fixture(scope="module")
def digit() -> np.ndarray:
    return load_mnist("test").images[3]


def on_grid(a: np.ndarray) -> bool:
    return bool(np.allclose(a * 255, np.round(a * 255), atol=1e-3))


def test_sd_vae_reconstruction_matches_the_model_called_directly(tiny_service, digit):
    r = rec.reconstruct(tiny_service, "tiny-sd-mnist", digit)
    model = tiny_service.get("tiny-sd-mnist").model
    with torch.inference_mode():
        x = torch.from_numpy(rec.quantize(digit))[None, None]
        direct = model.decode(model.encode(x).mode()).clamp(0, 1)[0, 0].numpy()
    assert r.original.shape == r.reconstruction.shape == r.error.shape == (28, 28)
    assert np.abs(r.reconstruction - direct).max() <= 0.5 / 255 + 1e-6  # only the 8-bit rounding differs
    assert r.latent_shape == [4, 7, 7] and r.compression_ratio == pytest.approx(784 / 196)
    assert not r.sampled and np.array_equal(r.z, r.mean)


def test_metrics_are_measured_on_the_displayed_arrays(tiny_service, digit):
    r = rec.reconstruct(tiny_service, "tiny-sd-mnist", digit)
    assert on_grid(r.original) and on_grid(r.reconstruction)
    # What a client gets: the two PNGs, decoded again.
    shown = [np.asarray(Image.open(io.BytesIO(_png(rec.to_uint8(a)))), np.float64) / 255
             for a in (r.original, r.reconstruction)]
    again = image_metrics(*shown)
    for key in ("mse", "psnr", "ssim"):
        assert r.metrics[key] == pytest.approx(again[key], rel=1e-6)
    np.testing.assert_allclose(r.error, np.abs(shown[0] - shown[1]), atol=1e-6)
    payload = r.as_json()
    assert json.loads(json.dumps(payload, allow_nan=False))["latent_shape"] == [4, 7, 7]


def _png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def test_chapter_vae_pads_to_32_and_measures_at_28(tiny_service, digit):
    r = rec.reconstruct(tiny_service, "tiny-chapter", digit)
    assert r.original.shape == r.reconstruction.shape == (28, 28)
    assert r.latent_shape == [4, 4, 4] and r.compression_ratio == pytest.approx(784 / 64)
    model = tiny_service.get("tiny-chapter").model
    with torch.inference_mode():
        padded = torch.nn.functional.pad(torch.from_numpy(rec.quantize(digit))[None, None], (2, 2, 2, 2))
        direct = model.decode(model.encode(padded).mode()).clamp(0, 1)[0, 0, 2:30, 2:30].numpy()
    assert np.abs(r.reconstruction - direct).max() <= 0.5 / 255 + 1e-6


def test_two_d_vae_has_a_flat_latent(tiny_service, digit):
    r = rec.reconstruct(tiny_service, "tiny-2d", digit)
    assert r.latent_shape == [2] and r.compression_ratio == pytest.approx(392.0)
    with pytest.raises(ValueError, match="spatial"):
        rec.latent_channel_images(r.z)


def test_photo_vae_any_multiple_of_f(tiny_service):
    rng = np.random.default_rng(0)
    photo = rng.random((41, 53, 3)).astype(np.float32)
    r = rec.reconstruct_any(tiny_service, "tiny-photos", photo)
    assert r.original.shape == (40, 48, 3) and r.reconstruction.shape == (40, 48, 3)
    assert r.error.shape == (40, 48)
    assert r.latent_shape == [4, 5, 6] and r.compression_ratio == pytest.approx(40 * 48 * 3 / 120)
    assert "centre-cropped 53x41 -> 48x40" in str(r.note)
    with pytest.raises(Refusal, match="multiples of f=8"):
        rec.reconstruct(tiny_service, "tiny-photos", photo)


def test_digit_model_prepares_any_upload(tiny_service):
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[60:220, 120:150] = (0, 0, 0, 255)  # a black "1" on a transparent sketchpad
    r = rec.reconstruct_any(tiny_service, "tiny-sd-mnist", {"composite": canvas})
    assert r.original.shape == (28, 28) and r.original.max() == pytest.approx(1.0)
    assert "centred" in str(r.note)


def test_sampling_is_seeded(tiny_service, digit):
    a = rec.reconstruct(tiny_service, "tiny-sd-mnist", digit, sample=True, seed=1)
    b = rec.reconstruct(tiny_service, "tiny-sd-mnist", digit, sample=True, seed=1)
    c = rec.reconstruct(tiny_service, "tiny-sd-mnist", digit, sample=True, seed=2)
    np.testing.assert_array_equal(a.z, b.z)
    assert not np.allclose(a.z, c.z)
    np.testing.assert_allclose(a.z, a.mean, atol=6 * float(a.std.max()) + 1e-6)
    assert a.as_json()["latent"] == "sample" and a.as_json()["seed"] == 1


def test_sampling_noise_measures_the_change(tiny_service, digit):
    mean = rec.reconstruct(tiny_service, "tiny-sd-mnist", digit)
    sampled = rec.reconstruct(tiny_service, "tiny-sd-mnist", digit, sample=True, seed=3)
    noise = rec.sampling_noise(sampled, mean)
    change = np.abs(sampled.reconstruction - mean.reconstruction)
    assert noise["max_abs_change"] == pytest.approx(float(change.max()))
    assert rec.sampling_noise(mean, mean)["psnr_vs_mean"] == float("inf")


def test_kl_matches_the_posterior(tiny_service, digit):
    r = rec.reconstruct(tiny_service, "tiny-sd-mnist", digit)
    model = tiny_service.get("tiny-sd-mnist").model
    with torch.inference_mode():
        kl = model.encode(torch.from_numpy(rec.quantize(digit))[None, None]).kl().item()
    assert r.kl == pytest.approx(kl, rel=1e-3)


def test_unknown_and_non_vae_models(tiny_service, digit):
    with pytest.raises(ValueError, match="unknown model"):
        rec.reconstruct(tiny_service, "no-such-model", digit)
    with pytest.raises(ValueError, match="not a VAE"):
        rec.reconstruct(tiny_service, "tiny-classifier", digit)
    with pytest.raises(Refusal, match="28x28"):
        rec.reconstruct(tiny_service, "tiny-sd-mnist", np.zeros((32, 32), np.float32))


def test_colormap_upscale_and_channel_images():
    ramp = colormap(np.array([[0.0, 0.5, 1.0, 2.0]]), vmax=1.0)
    assert ramp[0, 0].tolist() == [0, 0, 4] and ramp[0, 2].tolist() == [252, 255, 164]
    assert ramp[0, 3].tolist() == ramp[0, 2].tolist()  # clipped at vmax
    assert rec.error_scale(np.zeros((2, 2))) == pytest.approx(1 / 255)
    small = np.arange(4, dtype=np.uint8).reshape(2, 2)
    big = rec.upscale(small, target=8)
    assert big.shape == (8, 8) and np.array_equal(big[::4, ::4], small)
    z = np.stack([np.full((3, 3), 5.0), np.arange(9.0).reshape(3, 3) - 4])
    images = rec.latent_channel_images(z, target=9)
    assert len(images) == 2 and images[0].image.shape == (9, 9)
    assert images[1].image.min() == 0 and images[1].image.max() == 255
    assert (images[1].channel, images[1].low, images[1].high) == (1, -4.0, 4.0)


def test_rate_distortion_reads_metrics_json(tmp_path):
    from explorer.checkpoint import save_checkpoint
    from explorer.models import build_model
    from explorer.service import ModelService

    cfg = {"image_channels": 1, "base_channels": 8, "channel_mults": [1, 2, 2], "norm_groups": 4}
    for c, psnr in ((1, 20.0), (4, 26.0)):
        model = build_model("sd_vae", {**cfg, "latent_channels": c})
        save_checkpoint(tmp_path / f"sd-vae-mnist-c{c}", model, name=f"sd-vae-mnist-c{c}", family="sd_vae",
                        kind="vae", dataset="mnist", metrics={"psnr": psnr, "ssim": 0.9, "compression_ratio": 16 / c})
    save_checkpoint(tmp_path / "untrained", build_model("sd_vae", {**cfg, "latent_channels": 2}), name="untrained",
                    family="sd_vae", kind="vae", dataset="mnist", metrics={"untrained": True})
    points = rec.rate_distortion_points(ModelService(tmp_path, device="cpu"))
    assert [(p["name"], p["channels"], p["sweep"]) for p in points] == [("sd-vae-mnist-c1", 1, True),
                                                                          ("sd-vae-mnist-c4", 4, True)]
    gains = rec.channel_gains(points)
    assert gains == [{"from": 1, "to": 4, "gain_db": 6.0, "db_per_doubling": 3.0}]
    sd3 = rec.sd3_points()
    assert [p["compression_ratio"] for p in sd3] == [48.0, 24.0, 12.0]
    assert [round(g["gain_db"], 2) for g in rec.channel_gains(sd3)] == [1.28, 2.22]


# ---- the real app --------------------------------------------------------------------------------------
def test_api_reconstruct_digit_png_and_json(app_server, shipped_service, tmp_path):
    from gradio_client import handle_file

    _, client = app_server
    digit = load_mnist("test").images[0]
    path = tmp_path / "digit.png"
    Image.fromarray(rec.to_uint8(digit)).save(path)
    name = "sd-vae-mnist-c4"
    image_path, payload = client.predict(handle_file(str(path)), name, api_name="/reconstruct")
    served = Image.open(image_path)
    assert served.format == "PNG" and served.size == (28, 28)
    shown = np.asarray(served, np.float64) / 255
    again = image_metrics(rec.quantize(digit), shown)
    assert payload["mse"] == pytest.approx(again["mse"], rel=1e-6)
    assert payload["psnr"] == pytest.approx(again["psnr"], rel=1e-6)
    assert payload["ssim"] == pytest.approx(again["ssim"], rel=1e-6)
    assert payload["latent_shape"] == [4, 7, 7] and payload["compression_ratio"] == pytest.approx(4.0)
    local = rec.reconstruct(shipped_service, name, digit)  # the same numbers in-process
    assert payload["mse"] == pytest.approx(local.metrics["mse"], rel=1e-4)
    # A trained model reconstructs a held-out digit far better than predicting black everywhere.
    assert payload["psnr"] > image_metrics(rec.quantize(digit), np.zeros_like(digit))["psnr"] + 8


def test_api_reconstruct_photo(app_server, shipped_service, tmp_path):
    from gradio_client import handle_file

    photos = shipped_service.names("vae", dataset="photos")
    if not photos:
        pytest.skip("no photo VAE checkpoint shipped yet")
    _, client = app_server
    path = tmp_path / "photo.jpg"
    Image.fromarray(np.round(np.random.default_rng(0).random((100, 150, 3)) * 255).astype(np.uint8)).save(path)
    image_path, payload = client.predict(handle_file(str(path)), photos[0], api_name="/reconstruct")
    assert Image.open(image_path).size == (144, 96) and payload["image_shape"] == [96, 144, 3]
    assert "centre-cropped 150x100 -> 144x96" in payload["preprocessing"]


def test_api_bad_input_gives_a_clear_message_and_the_server_keeps_serving(app_server, tmp_path):
    from gradio_client import handle_file

    _, client = app_server
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"this is not an image at all" * 20)
    with pytest.raises(Exception, match="not an image file"):
        client.predict(handle_file(str(junk)), "sd-vae-mnist-c4", api_name="/reconstruct")
    good = tmp_path / "ok.png"
    Image.fromarray(rec.to_uint8(load_mnist("test").images[1])).save(good)
    with pytest.raises(Exception, match="unknown model"):
        client.predict(handle_file(str(good)), "no-such-model", api_name="/reconstruct")
    with pytest.raises(Exception, match="not a VAE"):
        client.predict(handle_file(str(good)), "mnist-classifier", api_name="/reconstruct")
    assert client.predict(api_name="/ping") == "ok"


def test_api_is_documented_and_ui_events_are_private(app_server):
    _, client = app_server
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    params = [p["parameter_name"] for p in endpoints["/reconstruct"]["parameters"]]
    assert params[:2] == ["image", "model"]
    assert not [name for name in endpoints if name.startswith(("/show", "/pick", "/run_one"))]


# ---- the Reconstruction tab's Python-made words follow the page's language ----------------------------------
# Latin words a Chinese text may keep: format and colour-mode names, and the API's parameter values.
KEPT_IN_CHINESE = {"exif", "cmyk", "fit", "crop", "resize", "sample", "true", "false", "taef"}  # taef2: a model name


def leftover_english(shown: str) -> list[str]:
    """English prose words left in a text meant to be Chinese (model names, units and maths excluded)."""
    from tests.test_i18n import english_words

    return [w for w in english_words(shown) if w.lower() not in KEPT_IN_CHINESE]


def test_every_recon_message_reads_in_chinese():
    import string

    from explorer.messages import ENGLISH, Message

    codes = [c for c in ENGLISH if c.startswith(("img.", "recon."))]
    assert len(codes) > 80
    for code in codes:
        message = Message(code, **{f: 3 for _, f, _, _ in string.Formatter().parse(ENGLISH[code]) if f})
        chinese = word(message, "zh")
        assert chinese != str(message) or code == "recon.grid_range", code
        assert not leftover_english(chinese), (code, chinese)


def _cmyk_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rec.to_uint8(load_mnist("test").images[5])).convert("RGB").convert("CMYK").save(
        buf, format="JPEG", quality=95)
    return buf.getvalue()


def _inputs() -> dict:
    """Inputs that between them take every branch of the notes: as-is digit, centred drawing, colour, a
    decoding note (CMYK), photo crop and resize, greyscale and transparent photos, a capped long side."""
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[60:220, 120:150] = (0, 0, 0, 255)
    rng = np.random.default_rng(0)
    return {"digit": ("tiny-sd-mnist", load_mnist("test").images[3], "crop"),
            "sketch": ("tiny-sd-mnist", {"composite": canvas}, "crop"),
            "colour digit": ("tiny-chapter", np.dstack([canvas[..., 3]] * 2 + [canvas[..., 3] // 2]), "crop"),
            "cmyk": ("tiny-sd-mnist", _cmyk_jpeg(), "crop"),
            "photo crop": ("tiny-photos", rng.random((41, 53, 3)).astype(np.float32), "crop"),
            "photo resize": ("tiny-photos", rng.random((41, 53, 3)).astype(np.float32), "resize"),
            "grey photo": ("tiny-photos", rng.random((40, 48)).astype(np.float32), "crop"),
            "big transparent photo": ("tiny-photos", np.zeros((600, 1000, 4), np.uint8), "crop")}


@pytest.mark.parametrize("case", list(_inputs()))
def test_preprocessing_notes_follow_the_language(tiny_service, case):
    """What the tab shows above the images: Chinese throughout for "zh" (the note travels from prepare through
    reconstruct_any as Phrases: had it become a plain string, it would show in English here)."""
    name, source, fit = _inputs()[case]
    a = rec.reconstruct_any(tiny_service, name, source, fit=fit)
    b = rec.reconstruct_any(tiny_service, "tiny-2d" if name != "tiny-photos" else name, source, fit=fit,
                            sample=True, seed=1)
    english, chinese = view.notes_markdown(a, b, 0.5, "en"), view.notes_markdown(a, b, 0.5, "zh")
    assert str(a.note) in english and a.note.parts
    assert not leftover_english(chinese), (chinese, leftover_english(chinese))


def test_decoding_notes_reach_the_input_note(tiny_service):
    r = rec.reconstruct_any(tiny_service, "tiny-sd-mnist", _cmyk_jpeg())
    assert str(r.note).startswith("CMYK converted to RGB; 28x28 input used as is")
    assert word(r.note, "zh").startswith("CMYK 已转换为 RGB；28x28 输入按原样使用")
    assert r.as_json()["preprocessing"] == str(r.note) and type(r.as_json()["preprocessing"]) is str


def test_channel_captions_tables_and_latent_text_follow_the_language(tiny_service, digit):
    spatial = rec.reconstruct(tiny_service, "tiny-sd-mnist", digit)
    flat = rec.reconstruct(tiny_service, "tiny-2d", digit, sample=True, seed=2)
    noise = rec.sampling_noise(flat, rec.reconstruct(tiny_service, "tiny-2d", digit))
    grid, caption = view.channel_grid(spatial.z, "zh")
    assert grid is not None and caption.startswith("**4 个通道**") and "c1 [" in caption
    assert view.channel_grid(spatial.z, "en")[1].startswith("**4 channels** of 7x7")
    assert view.channel_grid(flat.z, "en") == (None, "")
    shown = [caption, view.metrics_table([spatial, flat], "zh"), view.latent_markdown(spatial, None, "zh"),
             view.latent_markdown(flat, noise, "zh")]
    for chinese in shown:
        assert not leftover_english(chinese), chinese


def test_rate_distortion_figure_follows_the_language():
    points = [{"name": f"sd-vae-mnist-c{c}", "dataset": "mnist", "channels": c, "factor": 4, "psnr": 20.0 + c,
               "compression_ratio": 16 / c, "ssim": 0.9, "sweep": True, "photos_f8": False} for c in (1, 4)]
    points.append({"name": "sd-vae-photos-f8c4", "dataset": "photos", "channels": 4, "factor": 8, "psnr": 22.0,
                   "compression_ratio": 48.0, "ssim": 0.7, "sweep": False, "photos_f8": True})

    def labels(figures) -> list[str]:
        shown = []
        for fig in figures:
            layout = fig.layout
            shown += [layout.title.text, layout.xaxis.title.text, layout.yaxis.title.text]
            for trace in fig.data:
                shown += [trace.name or ""] + list(trace.hovertext or []) + list(trace.text or [])
        return [s for s in shown if s]

    english = labels(view.rate_distortion_figures(points, "en"))
    chinese = labels(view.rate_distortion_figures(points, "zh"))
    assert "PSNR vs latent channels c" in english and "latent channels c" in english
    assert "PSNR 与潜通道数 c" in chinese and "留出集 PSNR (dB)" in chinese
    assert not [s for s in chinese if leftover_english(s)], [s for s in chinese if leftover_english(s)]


def test_error_messages_follow_the_language():
    from explorer.image_input import load_image

    with pytest.raises(Refusal) as caught:
        load_image(np.zeros((4, 4), np.uint8))
    assert str(caught.value) == "the image is 4x4 pixels; it needs at least 8 pixels a side"  # what the API says
    assert view.refusal_markdown(caught.value, "zh").startswith("**无法使用此输入：** 图像为 4x4 像素；每边至少需要 8 像素")
    assert view.refusal_markdown(caught.value, "en").startswith(
        "**This input cannot be used:** the image is 4x4 pixels; it needs at least 8 pixels a side")
    assert "plain detail" in view.refusal_markdown(RuntimeError("plain detail"), "zh", failed=True)


def test_held_out_example_captions_have_no_english():
    digits = [caption for source, _, caption in view.heldout_examples() if source["kind"] == "digit"]
    assert len(digits) == 10 and not [c for c in digits if leftover_english(c)], digits


def test_a_photo_on_a_digit_model_gets_a_hint_and_digits_do_not():
    """A student who uploads a photo with a digit VAE selected is told why it becomes a blob; held-out digits,
    drawings (black strokes on white) and 28x28 uploads get no such hint."""
    from explorer.data import load_photo

    def codes(image) -> list[str]:
        return [p.code.removeprefix("img.") for p in rec.prepare(image, "mnist", 4).note.parts]

    assert "photo_on_digit_model" in codes(load_photo("coffee"))  # colour
    assert "photo_on_digit_model" in codes(load_photo("astronaut").mean(axis=2))  # a grey photo: mid-tones
    drawing = np.ones((280, 280), np.float32)
    drawing[60:220, 130:150] = 0.0  # a "1"
    assert "photo_on_digit_model" not in codes(drawing)
    assert "photo_on_digit_model" not in codes(load_mnist("test").images[0])
    assert "sd-vae-photos-f8c4" in str(rec.prepare(load_photo("coffee"), "mnist", 4).note)


def test_resizing_a_square_to_a_multiple_of_f_does_not_claim_the_aspect_changed():
    square = rec.prepare(load_mnist("test").images[0], "photos", 8, fit="resize").note
    assert [p.code for p in square.parts][-1] == "img.resized_to_f_same_aspect" and "aspect" not in str(square)
    wide = rec.prepare(np.zeros((30, 50), np.float32), "photos", 8, fit="resize").note
    assert "aspect changes slightly" in str(wide)


# ---- the request validator (issue 14, A1: the seed is read only when sampling; one rule for seeds) -----------
def test_a_bad_seed_does_not_block_the_posterior_mean(tiny_service):
    for bad in (-1, "-1", "1.5", "1e2", "", None, True, 2**32):
        assert rec.validate_request(tiny_service, "tiny-sd-mnist", False, bad).seed == 0


@pytest.mark.parametrize("bad, code", [(-1, "number.out_of_range"), ("1.5", "number.not_whole"),
                                       ("1e2", "number.not_whole"), ("", "number.empty"), (True, "number.not_whole"),
                                       (2**32, "number.out_of_range")])
def test_a_bad_seed_is_refused_when_sampling_naming_the_box_and_range(tiny_service, bad, code):
    from explorer.messages import Message

    with pytest.raises(Refusal) as caught:
        rec.validate_request(tiny_service, "tiny-sd-mnist", True, bad, seed_field=Message("recon.field_seed"))
    assert caught.value.code == code
    assert "Seed for ε" in word(caught.value, "en") and "4294967295" in word(caught.value, "en")
    assert "ε 的随机种子" in word(caught.value, "zh") and "4294967295" in word(caught.value, "zh")


def test_one_seed_rule_and_the_other_fields(tiny_service):
    assert rec.validate_request(tiny_service, "tiny-sd-mnist", True, 2**31).seed == 2**31  # as /generate takes it
    assert rec.validate_request(tiny_service, "tiny-sd-mnist", True, "7").seed == 7
    request = rec.validate_request(tiny_service, "tiny-photos", False, 0, "resize", 256)
    assert (request.fit, request.max_side) == ("resize", 256)
    for kwargs, code in (({"fit": "zoom"}, "recon.bad_fit"), ({"max_side": 300}, "recon.bad_size"),
                         ({"max_side": 1024}, "number.out_of_range"), ({"sample": "yes"}, "recon.bad_sample")):
        with pytest.raises(Refusal) as caught:
            rec.validate_request(tiny_service, "tiny-photos", **kwargs)
        assert caught.value.code == code, kwargs
    with pytest.raises(Refusal, match="unknown model 'nope'; known models: .*tiny-sd-mnist"):
        rec.validate_request(tiny_service, "nope")
    with pytest.raises(Refusal, match="'tiny-classifier' is a classifier, not a VAE"):
        rec.validate_request(tiny_service, "tiny-classifier")


# ---- tiny photos (issue 14, E2): SSIM on a window that fits, and say so -----------------------------------------
@pytest.mark.parametrize("width, height, window", [(12, 9, 7), (8, 8, 7), (200, 10, 7), (24, 11, 7), (40, 40, 11)])
def test_a_tiny_colour_png_to_the_photo_vae_is_measured(tiny_service, width, height, window):
    rng = np.random.default_rng(1)
    png = _png(np.round(rng.random((height, width, 3)) * 255).astype(np.uint8))
    r = rec.reconstruct_any(tiny_service, "tiny-photos", png)
    assert r.as_json()["ssim_window"] == window and -1 <= r.metrics["ssim"] <= 1
    shown = [p.code for p in r.note.parts]
    assert ("recon.ssim_window" in shown) == (window < 11)
    if window < 11:
        assert f"SSIM on a {window}x{window} window" in str(r.note)
        assert f"{window}x{window} 的窗口" in word(r.note, "zh")


def test_ssim_window_fits_and_matches_the_paper_at_full_size():
    from skimage.metrics import structural_similarity

    from explorer.metrics import image_metrics, ssim_window

    assert [ssim_window((s, 30)) for s in (3, 7, 8, 9, 10, 11, 12, 500)] == [3, 7, 7, 9, 9, 11, 11, 11]
    rng = np.random.default_rng(0)
    a, b = rng.random((32, 32)), rng.random((32, 32))
    assert image_metrics(a, b)["ssim"] == pytest.approx(structural_similarity(
        a, b, data_range=1.0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False))
    with pytest.raises(ValueError, match="at least 3x3"):
        ssim_window((2, 9))


# ---- comparisons (issue 14, F1) and defaults for photos (issue 13: taef2 first-class) -------------------------
def test_a_digit_model_is_not_compared_on_a_photo(tiny_service):
    assert rec.comparable(tiny_service, "tiny-photos", "tiny-photos") is None
    assert rec.comparable(tiny_service, "tiny-sd-mnist", "tiny-chapter") is None
    warning = rec.comparable(tiny_service, "tiny-photos", "tiny-sd-mnist")
    assert "tiny-sd-mnist was trained on MNIST digits" in str(warning) and "not on the image shown" in str(warning)
    assert "tiny-sd-mnist 是在MNIST 数字上训练的" in word(warning, "zh")


@pytest.fixture(scope="module")
def photo_catalogue(tmp_path_factory):
    """A service with a digit VAE, our 4-channel photo VAE and taef2 (tiny stand-ins with the real names)."""
    from explorer.checkpoint import save_checkpoint
    from explorer.models import build_model
    from explorer.service import ModelService

    folder = tmp_path_factory.mktemp("catalogue")
    cfg = {"base_channels": 8, "channel_mults": [1, 2, 2, 2], "norm_groups": 4}
    for name, dataset, channels, c in (("sd-vae-mnist-c4", "mnist", 1, 4), ("sd-vae-photos-f8c4", "photos", 3, 4),
                                       ("taef2", "photos", 3, 32)):
        model = build_model("sd_vae", {**cfg, "image_channels": channels, "latent_channels": c})
        save_checkpoint(folder / name, model, name=name, family="sd_vae", kind="vae", dataset=dataset,
                        metrics={"psnr": 20.0 + c / 4, "per_photo": {"astronaut": {}, "coffee": {}}})
    return ModelService(folder, device="cpu")


def test_photos_default_to_taef2_compared_with_the_four_channel_vae(photo_catalogue, tiny_service):
    assert rec.default_model(photo_catalogue, "photos") == "taef2"
    assert rec.default_model(photo_catalogue, "mnist") == "sd-vae-mnist-c4"
    assert rec.default_comparison(photo_catalogue, "taef2") == "sd-vae-photos-f8c4"
    assert rec.default_comparison(photo_catalogue, "sd-vae-photos-f8c4") is None
    assert rec.default_comparison(photo_catalogue, "sd-vae-mnist-c4") is None
    assert rec.default_model(tiny_service, "photos") == "tiny-photos"  # without either: any photo VAE
    points = rec.rate_distortion_points(photo_catalogue)
    photos = [(p["name"], p["channels"]) for p in points if p["photos_f8"]]
    assert sorted(photos) == [("sd-vae-photos-f8c4", 4), ("taef2", 32)]
    assert {tuple(p["heldout"]) for p in points if p["photos_f8"]} == {("astronaut", "coffee")}
    table = view.rate_distortion_table(points, "en")
    assert "| photo VAEs (held-out photos, f=8) | taef2 | 32 | 28.00 | 6x | 4→32: +7.00 dB | +2.33 |" in table


def test_working_size_defaults_to_256_on_a_cpu(tiny_service):
    assert rec.working_side(tiny_service) == 256
    r = rec.reconstruct_any(tiny_service, "tiny-photos", np.random.default_rng(0).random((600, 900, 3)),
                            max_side=256)
    assert r.original.shape == (168, 256, 3) and "capped at 256" in str(r.note)


# ---- the latent as a grid (any channel count lays out) ---------------------------------------------------
@pytest.mark.parametrize("count, columns", [(1, 1), (2, 2), (4, 4), (8, 4), (12, 6), (16, 8), (32, 8), (13, 6)])
def test_latent_grid_lays_out_any_channel_count(count, columns):
    z = np.arange(count * 6 * 5, dtype=np.float32).reshape(count, 6, 5) * np.linspace(1, 2, count)[:, None, None]
    grid, cols = rec.latent_grid(z, width=400)
    assert cols == columns
    rows = -(-count // columns)
    k = (400 - 2 * (columns - 1)) // (columns * 5)
    assert grid.shape == (rows * 6 * k + 2 * (rows - 1), columns * 5 * k + 2 * (columns - 1))
    assert grid.shape[1] <= 400
    for i in range(count):  # every channel is there, scaled to its own range (min black, max white)
        r, c = divmod(i, columns)
        tile = grid[r * (6 * k + 2): r * (6 * k + 2) + 6 * k, c * (5 * k + 2): c * (5 * k + 2) + 5 * k]
        assert tile.min() == 0 and tile.max() == 255


# ---- the request token (issue 14, B1): a reply older than the newest request is dropped ------------------------
def test_an_older_request_never_overwrites_a_newer_one():
    from explorer.ui.reconstruction_tab import Newest

    newest = Newest()
    assert not newest.stale("page", 10.0)  # request 10 starts
    assert not newest.stale("page", 12.0)  # request 12 starts while 10 runs
    assert newest.stale("page", 10.0)  # request 10 finishes: its reply is dropped, 12's will follow
    assert not newest.stale("page", 12.0)
    assert not newest.stale("other page", 1.0)  # each page has its own order


# ---- rate-distortion figures read on a phone (issue 14, D3) ------------------------------------------------
def test_rate_distortion_figures_are_single_panels_with_the_legend_below_the_axis_title(photo_catalogue):
    figures = view.rate_distortion_figures(rec.rate_distortion_points(photo_catalogue), "en")
    for fig in figures:
        layout = fig.layout
        assert not layout.annotations  # no subplot titles squeezed over two panels
        assert layout.title.text and layout.legend.orientation == "h" and layout.legend.yanchor == "top"
        assert layout.legend.y <= -0.2 and layout.margin.b >= 120 and layout.margin.t >= 40
    names = [t.name for t in figures[0].data]
    assert "photos, f=8: ours c4, taef2 c32" in names and "SD3 paper: photos, f=8" in names


def test_a_deterministic_encoder_has_no_kl(tiny_service, digit):
    r = rec.reconstruct(tiny_service, "tiny-sd-mnist", digit)
    flat = rec.Reconstruction(**{**r.__dict__, "std": np.zeros_like(r.std)})  # std 0, as taef2's posterior
    assert np.isnan(flat.kl) and flat.as_json()["kl_nats"] is None and r.as_json()["kl_nats"] > 0
    assert view.metrics_table([flat], "en").splitlines()[-1].endswith("| – |")
