"""Bad input through the public API of the real app: every case gets a clear error message (or, for a valid
but unusual image, a correct answer), and the server keeps serving: each case ends with a /ping.

Files: zero bytes, truncated PNG and JPEG, a non-image named .png, a PNG header claiming 60000x60000 pixels
(decompression bomb), 1x1, an upload over the 10 MB limit; valid but unusual: RGBA, CMYK JPEG, 16-bit PNG,
animated GIF. Numbers: NaN, Infinity and null (sent as raw JSON, as a non-Python client can; gradio_client
itself refuses to encode NaN), out-of-range and non-whole values. Names: unknown models, a model of the
wrong kind, unknown methods. The same bad upload through the browser UI is in test_browser.py.
"""
from __future__ import annotations

import io

import numpy as np
import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from tests.e2e_support import MODEL, bomb_png, digit_uint8, max_level_diff, pixels, psnr, raw_call

DIGIT_INDEX = 57  # a held-out digit (index into the 500 test digits)


def still_serving(client) -> None:
    assert client.predict(api_name="/ping") == "ok"


# ---- files ---------------------------------------------------------------------------------------------
def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg(image: Image.Image, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", **kwargs)
    return buffer.getvalue()


def refused_files() -> dict[str, tuple[bytes, str]]:
    """file name -> (content, the message it must get)."""
    digit = Image.fromarray(digit_uint8(DIGIT_INDEX))
    png = _png(digit)
    jpeg = _jpeg(digit.resize((200, 200)))
    return {
        "empty.png": (b"", "the file is empty"),
        "truncated.png": (png[: len(png) // 2], "corrupt or truncated"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "corrupt or truncated"),
        "not-an-image.png": (b"%PDF-1.4 this is a text file, not a picture\n" * 20, "not an image file"),
        "bomb-60000x60000.png": (bomb_png(), "decompression bomb"),
        "one-pixel.png": (_png(Image.new("L", (1, 1), 255)), "1x1 pixels; it needs at least"),
    }


def unusual_files() -> dict[str, bytes]:
    """Valid images of the held-out digit in modes a student's tools produce."""
    digit = digit_uint8(DIGIT_INDEX)
    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = digit  # black ink whose opacity is the digit, on a transparent page
    gif = io.BytesIO()
    Image.fromarray(digit).convert("P").save(gif, format="GIF", save_all=True, duration=100, loop=0,
                                             append_images=[Image.fromarray(255 - digit).convert("P")])
    return {
        "rgba.png": _png(Image.fromarray(rgba, "RGBA")),
        "cmyk.jpg": _jpeg(Image.fromarray(digit).convert("RGB").convert("CMYK"), quality=95),
        "sixteen-bit.png": _png(Image.fromarray(digit.astype(np.uint16) * 257)),  # 0..65535, mode I;16
        "animated.gif": gif.getvalue(),  # the first frame is the digit; the second its negative
    }


@pytest.fixture(scope="module")
def plain_reconstruction(app_server, tmp_path_factory) -> np.ndarray:
    _, client = app_server
    path = tmp_path_factory.mktemp("plain") / "digit.png"
    Image.fromarray(digit_uint8(DIGIT_INDEX)).save(path)
    return pixels(client.predict(handle_file(str(path)), MODEL, api_name="/reconstruct")[0])


@pytest.mark.parametrize("name", list(refused_files()))
def test_bad_file_gets_a_clear_error(app_server, tmp_path, name):
    _, client = app_server
    content, message = refused_files()[name]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AppError, match=message):
        client.predict(handle_file(str(path)), MODEL, api_name="/reconstruct")
    still_serving(client)


@pytest.mark.parametrize("name", list(unusual_files()))
def test_unusual_but_valid_image_is_read_correctly(app_server, tmp_path, plain_reconstruction, name):
    """Not an error: the answer is the reconstruction of the same digit saved as a plain 8-bit PNG
    (identical for lossless encodings, within JPEG's loss for CMYK)."""
    _, client = app_server
    path = tmp_path / name
    path.write_bytes(unusual_files()[name])
    image, payload = client.predict(handle_file(str(path)), MODEL, api_name="/reconstruct")
    got = pixels(image)
    assert got.shape == (28, 28) and payload["latent_shape"] == [4, 7, 7]
    if name.endswith(".jpg"):
        assert psnr(got, plain_reconstruction) > 30
    else:
        assert max_level_diff(got, plain_reconstruction) <= 1, payload["preprocessing"]
    still_serving(client)


def test_upload_over_the_size_limit_is_refused_by_the_server(app_server):
    """gradio_client checks max_file_size before sending; a raw upload must be refused by the server too."""
    import httpx

    url, client = app_server
    big = b"\x89PNG\r\n\x1a\n" + b"\0" * (10 * 2**20 + 1024)
    response = httpx.post(url.rstrip("/") + "/gradio_api/upload", files={"files": ("big.png", big, "image/png")},
                          timeout=60)
    assert response.status_code == 413 and "maximum allowed size" in response.text
    still_serving(client)


def test_missing_file_and_bad_fit(app_server, tmp_path):
    _, client = app_server
    kind, message = raw_call(app_server[0], "reconstruct", f'{{"data": [null, "{MODEL}", false, 0, "crop", 512]}}')
    assert kind == "error" and "no image file was given" in message
    path = tmp_path / "digit.png"
    Image.fromarray(digit_uint8(DIGIT_INDEX)).save(path)
    with pytest.raises(AppError, match="fit must be 'crop' or 'resize'"):
        client.predict(handle_file(str(path)), MODEL, False, 0, "zoom", api_name="/reconstruct")
    still_serving(client)


# ---- numbers ---------------------------------------------------------------------------------------------
# (api, JSON data as a non-Python client would send it, the message it must get)
RAW = [
    ("interpolate", f'[1, 2, NaN, "lerp", "{MODEL}"]', "alpha must be a number from 0 to 1, got nan"),
    ("interpolate", f'[1, 2, Infinity, "lerp", "{MODEL}"]', "alpha must be a number from 0 to 1, got inf"),
    ("interpolate", f'[1, 2, null, "lerp", "{MODEL}"]', "alpha must be a number from 0 to 1, got None"),
    ("interpolate", f'[NaN, 2, 0.5, "lerp", "{MODEL}"]', "index_a must be a whole number"),
    ("interpolate", f'[1, -Infinity, 0.5, "lerp", "{MODEL}"]', "index_b must be a whole number"),
    ("generate", '[NaN, 0, 10, "ddim", 3, "latent"]', "digit must be a whole number"),
    ("generate", '[3, Infinity, 10, "ddim", 3, "latent"]', "seed must be a whole number"),
    ("generate", '[3, 0, NaN, "ddim", 3, "latent"]', "steps must be a whole number"),
    ("generate", '[3, 0, 10, "ddim", NaN, "latent"]', "guidance must be a number from 0 to 20, got nan"),
    ("compression", "[NaN, 512, 3, 8, 4, false]", "height H must be a whole number"),
    ("compression", "[512, 512, 3, Infinity, 4, false]", "downsampling factor f must be a whole number"),
    ("compression", "[512, null, 3, 8, 4, false]", "width W is empty"),
    ("reconstruct", f'[null, "{MODEL}", true, NaN, "crop", 512]', "must be a whole number"),
    ("interpolate", f'[1, 2, 0.5]', "enough input values"),  # too few inputs
]


@pytest.mark.parametrize("api, data, message", RAW, ids=[f"{a}:{d}" for a, d, _ in RAW])
def test_nan_infinity_null_and_wrong_arity(app_server, api, data, message):
    url, client = app_server
    kind, answer = raw_call(url, api, f'{{"data": {data}}}')
    assert kind == "error" and message in str(answer), (kind, answer)
    still_serving(client)


# (api, args through gradio_client, message regex)
OUT_OF_RANGE = [
    ("/interpolate", (1, 2, 1.5, "lerp", MODEL), "alpha must be between 0 and 1"),
    ("/interpolate", (1, 2, -1e300, "lerp", MODEL), "alpha must be between 0 and 1"),
    ("/interpolate", (500, 2, 0.5, "lerp", MODEL), "index_a must be between 0 and 499, got 500"),
    ("/interpolate", (1, 10**18, 0.5, "lerp", MODEL), "index_b must be between 0 and 499, got 10+$"),
    ("/interpolate", (2.5, 2, 0.5, "lerp", MODEL), "index_a must be a whole number"),
    ("/generate", (10, 0, 10, "ddim", 3.0, "latent"), "digit must be between -1 and 9"),
    ("/generate", (3.5, 0, 10, "ddim", 3.0, "latent"), "digit must be a whole number"),
    ("/generate", (3, -1, 10, "ddim", 3.0, "latent"), "seed must be between 0 and"),
    ("/generate", (3, 2**40, 10, "ddim", 3.0, "latent"), "seed must be between 0 and"),
    ("/generate", (3, 0, 0, "ddim", 3.0, "latent"), "steps must be between 1 and 1000"),
    ("/generate", (3, 0, 10**9, "ddim", 3.0, "latent"), "steps must be between 1 and 1000"),
    ("/generate", (3, 0, 10, "ddim", -1.0, "latent"), "guidance must be between 0 and 20"),
    ("/generate", (3, 0, 10, "ddim", 1e9, "latent"), "guidance must be between 0 and 20"),
    ("/compression", (10**12, 512, 3, 8, 4), "height H must be between 1 and"),
    ("/compression", (512, -8, 3, 8, 4), "width W must be between 1 and"),
    ("/compression", (512, 512, 3, 0, 4), "factor f must be between 1 and"),
    ("/compression", (512, 512, 3, 8, 0), "latent channels c must be between 1 and"),
]


@pytest.mark.parametrize("api, args, message", OUT_OF_RANGE, ids=[f"{a}{args}" for a, args, _ in OUT_OF_RANGE])
def test_out_of_range_numbers(app_server, api, args, message):
    _, client = app_server
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name=api)
    still_serving(client)


@pytest.mark.parametrize("seed", [1e20, -5, 2.5, 2**32])
def test_reconstruct_seed_out_of_range_names_the_seed(app_server, tmp_path, seed):
    _, client = app_server
    path = tmp_path / "digit.png"
    Image.fromarray(digit_uint8(DIGIT_INDEX)).save(path)
    try:
        with pytest.raises(AppError, match="seed must be (a whole number from 0|between 0) (to|and) 4294967295"):
            client.predict(handle_file(str(path)), MODEL, True, seed, "crop", api_name="/reconstruct")
    finally:
        still_serving(client)


def test_reconstruct_reads_the_seed_only_when_sampling_with_the_apps_one_seed_range(app_server, tmp_path):
    """Issue 14 A1 / issue 15: the posterior mean uses no seed, so a bad one does not refuse it; a sampled z takes
    every seed /generate takes (0..2^32-1), e.g. 2^31, refused before."""
    _, client = app_server
    path = tmp_path / "digit.png"
    Image.fromarray(digit_uint8(DIGIT_INDEX)).save(path)
    _, payload = client.predict(handle_file(str(path)), MODEL, False, -5, "crop", api_name="/reconstruct")
    assert payload["latent"] == "mean" and payload["seed"] is None
    _, payload = client.predict(handle_file(str(path)), MODEL, True, 2**31, "crop", api_name="/reconstruct")
    assert payload["latent"] == "sample" and payload["seed"] == 2**31
    still_serving(client)


@pytest.mark.parametrize("width, height", [(12, 9), (8, 8), (200, 10)])
def test_a_tiny_colour_png_to_the_photo_vae_is_measured_on_a_window_that_fits(app_server, shipped_service,
                                                                              tmp_path, width, height):
    """Issue 14 E2: these failed in scikit-image's SSIM ("win_size exceeds image extent")."""
    if "sd-vae-photos-f8c4" not in shipped_service.names():
        pytest.skip("no photo VAE shipped")
    _, client = app_server
    path = tmp_path / "tiny.png"
    rng = np.random.default_rng(0)
    Image.fromarray(np.round(rng.random((height, width, 3)) * 255).astype(np.uint8)).save(path)
    image, payload = client.predict(handle_file(str(path)), "sd-vae-photos-f8c4", api_name="/reconstruct")
    assert payload["ssim_window"] == 7 and "SSIM on a 7x7 window" in payload["preprocessing"]
    assert pixels(image).shape[:2] == (8, (width // 8) * 8) and -1 <= payload["ssim"] <= 1
    still_serving(client)


def test_a_dark_sixteen_bit_pgm_keeps_its_declared_depth(app_server, tmp_path):
    """Issue 14 E3: P5, maxval 65535, values 0..200 is nearly black (<= 0.0031), not scaled as 8-bit."""
    _, client = app_server
    values = np.zeros((28, 28), ">u2")
    values[6:22, 12:16] = 200
    path = tmp_path / "dark.pgm"
    path.write_bytes(b"P5\n28 28\n65535\n" + values.tobytes())
    with pytest.raises(AppError, match="no digit found"):  # 200/65535 is no ink at all, as the file says
        client.predict(handle_file(str(path)), MODEL, api_name="/reconstruct")
    bright = values.astype(np.uint32) * 300  # 60000 / 65535: a real 16-bit digit comes through
    path.write_bytes(b"P5\n28 28\n65535\n" + bright.astype(">u2").tobytes())
    _, payload = client.predict(handle_file(str(path)), MODEL, api_name="/reconstruct")
    assert payload["preprocessing"].startswith("16-bit image scaled to [0, 1]")
    still_serving(client)


# ---- names ----------------------------------------------------------------------------------------------
NAMES = [
    ("/reconstruct", "no-such-model", "unknown model 'no-such-model'; known models: .*" + MODEL),
    ("/reconstruct", "", "unknown model ''"),
    ("/reconstruct", "ldm-mnist", "is a denoiser, not a VAE"),
    ("/reconstruct", "mnist-classifier", "is a classifier, not a VAE"),
    ("/interpolate", "no-such-model", "unknown model 'no-such-model' for the latent map; use one of"),
    ("/interpolate", "mnist-classifier", "unknown model 'mnist-classifier' for the latent map"),
    ("/latent_map", "no-such-model", "unknown model 'no-such-model' for the latent map"),
]


@pytest.mark.parametrize("api, model, message", NAMES, ids=[f"{a}:{m or 'empty'}" for a, m, _ in NAMES])
def test_unknown_model_names(app_server, shipped_service, tmp_path, api, model, message):
    _, client = app_server
    if model and model not in ("no-such-model",) and model not in shipped_service.names():
        pytest.skip(f"{model} is not shipped")
    if api == "/reconstruct":
        path = tmp_path / "digit.png"
        Image.fromarray(digit_uint8(DIGIT_INDEX)).save(path)
        args = (handle_file(str(path)), model)
    elif api == "/interpolate":
        args = (1, 2, 0.5, "lerp", model)
    else:
        args = (model, "pca")
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name=api)
    still_serving(client)


@pytest.mark.parametrize("api, args, message", [
    ("/interpolate", (1, 2, 0.5, "cubic", MODEL), "unknown interpolation method 'cubic'; use 'lerp' or 'slerp'"),
    ("/latent_map", (MODEL, "tsne"), "unknown projection method 'tsne'; use 'umap' or 'pca'"),
    ("/generate", (3, 0, 10, "euler", 3.0, "latent"), "sampler must be one of ddpm, ddim"),
    ("/generate", (3, 0, 10, "ddim", 3.0, "hyperspace"), "space must be one of latent, pixel"),
])
def test_unknown_methods(app_server, api, args, message):
    _, client = app_server
    with pytest.raises(AppError, match=message):
        client.predict(*args, api_name=api)
    still_serving(client)
