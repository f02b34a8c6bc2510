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
from explorer.image_input import ImageInputError
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
    assert "centre-cropped 53x41 -> 48x40" in r.note
    with pytest.raises(ImageInputError, match="multiples of f=8"):
        rec.reconstruct(tiny_service, "tiny-photos", photo)


def test_digit_model_prepares_any_upload(tiny_service):
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[60:220, 120:150] = (0, 0, 0, 255)  # a black "1" on a transparent sketchpad
    r = rec.reconstruct_any(tiny_service, "tiny-sd-mnist", {"composite": canvas})
    assert r.original.shape == (28, 28) and r.original.max() == pytest.approx(1.0)
    assert "centred" in r.note


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
    with pytest.raises(ImageInputError, match="28x28"):
        rec.reconstruct(tiny_service, "tiny-sd-mnist", np.zeros((32, 32), np.float32))


def test_colormap_upscale_and_channel_images():
    ramp = rec.colormap(np.array([[0.0, 0.5, 1.0, 2.0]]), vmax=1.0)
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
KEPT_IN_CHINESE = {"exif", "cmyk", "fit", "crop", "resize"}


def leftover_english(shown: str) -> list[str]:
    """English prose words left in a text meant to be Chinese (model names, units and maths excluded)."""
    from tests.test_i18n import english_words

    return [w for w in english_words(shown) if w.lower() not in KEPT_IN_CHINESE]


def _example_value(code: str) -> dict:
    """A value for every field of PHRASES[code] (3 suits every format spec used: d, .0f, .1f, .3g, !r)."""
    import string

    from explorer.image_input import PHRASES

    return {field: 3 for _, field, _, _ in string.Formatter().parse(PHRASES[code]) if field}


def test_every_note_and_refusal_reads_in_chinese():
    from explorer.image_input import PHRASES, Phrase
    from explorer.ui.reconstruction_tab import localise

    for code in PHRASES:
        phrase = Phrase(code, **_example_value(code))
        assert localise(phrase, "en") == str(phrase) == PHRASES[code].format(**_example_value(code))
        chinese = localise(phrase, "zh")
        assert chinese != str(phrase) and not leftover_english(chinese), (code, chinese)


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
    from explorer.ui.reconstruction_tab import notes_text

    name, source, fit = _inputs()[case]
    a = rec.reconstruct_any(tiny_service, name, source, fit=fit)
    b = rec.reconstruct_any(tiny_service, "tiny-2d" if name != "tiny-photos" else name, source, fit=fit,
                            sample=True, seed=1)
    english, chinese = notes_text(a, b, 0.5, "en"), notes_text(a, b, 0.5, "zh")
    assert str(a.note) in english and a.note.parts
    assert not leftover_english(chinese), (chinese, leftover_english(chinese))


def test_decoding_notes_reach_the_input_note(tiny_service):
    from explorer.ui.reconstruction_tab import localise

    r = rec.reconstruct_any(tiny_service, "tiny-sd-mnist", _cmyk_jpeg())
    assert str(r.note).startswith("CMYK converted to RGB; 28x28 input used as is")
    assert localise(r.note, "zh").startswith("CMYK 已转换为 RGB；28x28 输入按原样使用")
    assert r.as_json()["preprocessing"] == str(r.note) and type(r.as_json()["preprocessing"]) is str


def test_channel_captions_tables_and_latent_text_follow_the_language(tiny_service, digit):
    from explorer.ui.reconstruction_tab import channel_gallery, latent_text, metrics_table

    spatial = rec.reconstruct(tiny_service, "tiny-sd-mnist", digit)
    flat = rec.reconstruct(tiny_service, "tiny-2d", digit, sample=True, seed=2)
    noise = rec.sampling_noise(flat, rec.reconstruct(tiny_service, "tiny-2d", digit))
    captions = [caption for _, caption in channel_gallery(spatial.z, "zh")]
    assert len(captions) == 4 and captions[1].startswith("通道 1：[")
    assert channel_gallery(spatial.z, "en")[1][1].startswith("channel 1: [")
    shown = captions + [metrics_table([spatial, flat], "zh"), latent_text(spatial, None, "zh"),
                        latent_text(flat, noise, "zh")]
    for chinese in shown:
        assert not leftover_english(chinese), chinese


def test_rate_distortion_figure_follows_the_language():
    from explorer.ui.reconstruction_tab import rate_distortion_figure

    points = [{"name": f"sd-vae-mnist-c{c}", "dataset": "mnist", "channels": c, "factor": 4, "psnr": 20.0 + c,
               "compression_ratio": 16 / c, "ssim": 0.9, "sweep": True} for c in (1, 4)]
    points.append({"name": "sd-vae-photos-f8c4", "dataset": "photos", "channels": 4, "factor": 8, "psnr": 22.0,
                   "compression_ratio": 48.0, "ssim": 0.7, "sweep": False})

    def labels(fig) -> list[str]:
        layout = fig.layout
        shown = [a.text for a in layout.annotations] + [axis.title.text for axis in
                                                        (layout.xaxis, layout.xaxis2, layout.yaxis)]
        for trace in fig.data:
            shown += [trace.name or ""] + list(trace.hovertext or []) + list(trace.text or [])
        return [s for s in shown if s]

    english, chinese = labels(rate_distortion_figure(points, "en")), labels(rate_distortion_figure(points, "zh"))
    assert "PSNR vs latent channels c" in english and "latent channels c" in english
    assert "PSNR 与潜通道数 c" in chinese and "留出集 PSNR (dB)" in chinese
    assert not [s for s in chinese if leftover_english(s)], [s for s in chinese if leftover_english(s)]


def test_error_messages_follow_the_language():
    from explorer.image_input import ImageInputError, load_image
    from explorer.ui.reconstruction_tab import message

    with pytest.raises(ImageInputError) as caught:
        load_image(np.zeros((4, 4), np.uint8))
    assert message("rec.bad_input", "zh", caught.value) == "无法使用此输入: 图像为 4x4 像素；每边至少需要 8 像素"
    assert message("rec.bad_input", "en", caught.value).endswith("it needs at least 8 pixels a side")
    assert message("rec.bad_input", None, caught.value) == (
        "This input cannot be used / 无法使用此输入: the image is 4x4 pixels; it needs at least 8 pixels a side")
    assert message("rec.failed", "zh", "plain detail").endswith(": plain detail")  # a message without a code


def test_held_out_example_captions_have_no_english():
    from explorer.ui.reconstruction_tab import heldout_examples

    digits = [caption for source, _, caption in heldout_examples() if source["kind"] == "digit"]
    assert len(digits) == 10 and not [c for c in digits if leftover_english(c)], digits


def test_a_photo_on_a_digit_model_gets_a_hint_and_digits_do_not():
    """A student who uploads a photo with a digit VAE selected is told why it becomes a blob; held-out digits,
    drawings (black strokes on white) and 28x28 uploads get no such hint."""
    from explorer.data import load_photo

    def codes(image) -> list[str]:
        return [p.code for p in rec.prepare(image, "mnist", 4).note.parts]

    assert "photo_on_digit_model" in codes(load_photo("coffee"))  # colour
    assert "photo_on_digit_model" in codes(load_photo("astronaut").mean(axis=2))  # a grey photo: mid-tones
    drawing = np.ones((280, 280), np.float32)
    drawing[60:220, 130:150] = 0.0  # a "1"
    assert "photo_on_digit_model" not in codes(drawing)
    assert "photo_on_digit_model" not in codes(load_mnist("test").images[0])
    assert "sd-vae-photos-f8c4" in str(rec.prepare(load_photo("coffee"), "mnist", 4).note)


def test_resizing_a_square_to_a_multiple_of_f_does_not_claim_the_aspect_changed():
    square = rec.prepare(load_mnist("test").images[0], "photos", 8, fit="resize").note
    assert [p.code for p in square.parts][-1] == "resized_to_f_same_aspect" and "aspect" not in square
    wide = rec.prepare(np.zeros((30, 50), np.float32), "photos", 8, fit="resize").note
    assert "aspect changes slightly" in wide
