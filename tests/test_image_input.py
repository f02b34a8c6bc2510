"""explorer/image_input.py: every mode and size a user may drop in, and the MNIST / photo preparations."""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageDraw

from explorer import image_input as ii
from explorer.data import load_mnist
from explorer.messages import ENGLISH, Message, Refusal, word


def png_bytes(image: Image.Image, **kwargs) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format=kwargs.pop("format", "PNG"), **kwargs)
    return buf.getvalue()


def stroke_image(size=(200, 300), mode="L", ink=0, paper=255, width=18) -> Image.Image:
    """A '7'-like stroke drawn off centre, so centring has something to do."""
    image = Image.new(mode, size, paper)
    draw = ImageDraw.Draw(image)
    draw.line([(30, 40), (120, 40), (70, 200)], fill=ink, width=width)
    return image


def fake_png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height (the pixel data is a token few bytes)."""
    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


# ---- digits -------------------------------------------------------------------------------------------
def test_mnist_digit_round_trips_exactly():
    digit = load_mnist("test").images[7]
    as_png = png_bytes(Image.fromarray(np.round(digit * 255).astype(np.uint8)))
    out, note = ii.to_digit(ii.load_image(as_png))
    assert out.shape == (28, 28)
    np.testing.assert_allclose(out, np.round(digit * 255) / 255, atol=1e-6)
    assert "as is" in str(note)


def test_drawing_is_centred_and_scaled_like_mnist():
    out, note = ii.to_digit(ii.load_image(png_bytes(stroke_image())))
    assert out.shape == (28, 28) and out.max() == pytest.approx(1.0)
    rows, cols = np.flatnonzero(out.max(1) > 0.05), np.flatnonzero(out.max(0) > 0.05)
    assert max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) in (19, 20, 21)  # 20x20 box (+-1 px of ringing)
    ys, xs = np.indices(out.shape)
    com = ((ys * out).sum() / out.sum(), (xs * out).sum() / out.sum())
    assert abs(com[0] - 13.5) <= 1.0 and abs(com[1] - 13.5) <= 1.0
    assert "inverted" in str(note) and "20x20" in str(note)


def test_polarity_does_not_matter():
    dark_on_light, _ = ii.to_digit(ii.load_image(png_bytes(stroke_image(ink=0, paper=255))))
    light_on_dark, _ = ii.to_digit(ii.load_image(png_bytes(stroke_image(ink=255, paper=0))))
    grey_paper, _ = ii.to_digit(ii.load_image(png_bytes(stroke_image(ink=20, paper=200))))
    np.testing.assert_allclose(dark_on_light, light_on_dark, atol=1e-5)
    np.testing.assert_allclose(grey_paper, dark_on_light, atol=0.02)


@pytest.mark.parametrize("stroke", [(0, 0, 0, 255), (255, 255, 255, 255)])
def test_transparent_sketch_either_stroke_colour(stroke):
    sketch = stroke_image(mode="RGBA", ink=stroke, paper=(0, 0, 0, 0))
    clean = ii.load_image(np.asarray(sketch))
    assert clean.alpha is not None
    out, _ = ii.to_digit(clean)
    reference, _ = ii.to_digit(ii.load_image(png_bytes(stroke_image(ink=255, paper=0))))
    np.testing.assert_allclose(out, reference, atol=1e-5)


def test_sketchpad_dict_and_empty_sketch():
    layer = np.asarray(stroke_image(mode="RGBA", ink=(0, 0, 0, 255), paper=(0, 0, 0, 0)))
    out, _ = ii.to_digit(ii.load_image({"background": None, "layers": [layer], "composite": layer}))
    assert out.max() == pytest.approx(1.0)
    with pytest.raises(Refusal, match="transparent"):
        ii.to_digit(ii.load_image(np.zeros((280, 280, 4), np.uint8)))
    with pytest.raises(Refusal, match="empty"):
        ii.load_image({"background": None, "layers": [], "composite": None})


def test_blank_image_is_refused():
    with pytest.raises(Refusal, match="no digit"):
        ii.to_digit(ii.load_image(png_bytes(Image.new("L", (64, 64), 255))))


# ---- modes --------------------------------------------------------------------------------------------
def test_sixteen_bit_png_is_scaled_not_clipped():
    values = np.zeros((32, 32), np.uint16)
    values[8:24, 8:24] = 32768
    values[12:20, 12:20] = 65535
    image = Image.fromarray(values)
    assert image.mode.startswith("I;16")
    clean = ii.load_image(png_bytes(image))
    assert clean.rgb[16, 16, 0] == pytest.approx(1.0)
    assert clean.rgb[9, 9, 0] == pytest.approx(32768 / 65535, abs=1e-4)
    assert any("16-bit" in str(n) for n in clean.notes) and not clean.colour


def test_palette_with_and_without_transparency():
    base = stroke_image(mode="RGB", ink=(200, 0, 0), paper=(255, 255, 255)).convert("P")
    clean = ii.load_image(png_bytes(base))
    assert clean.alpha is None and clean.colour
    assert clean.rgb[40, 60] == pytest.approx([200 / 255, 0, 0], abs=0.02)
    transparent = base.copy()
    transparent.info["transparency"] = base.getpixel((0, 0))
    clean = ii.load_image(png_bytes(transparent, transparency=base.getpixel((0, 0))))
    assert clean.alpha is not None and clean.alpha[0, 0] == 0.0


def test_cmyk_jpeg_becomes_rgb():
    cyan = Image.new("CMYK", (40, 40), (255, 0, 0, 0))
    clean = ii.load_image(png_bytes(cyan, format="JPEG", quality=95))
    r, g, b = clean.rgb[20, 20]
    assert r < 0.1 and g > 0.9 and b > 0.9
    assert any("CMYK" in str(n) for n in clean.notes)


def test_exif_rotation_is_applied():
    image = Image.new("RGB", (60, 30), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 10, 10))  # a white square top-left as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    clean = ii.load_image(png_bytes(image, format="JPEG", exif=exif.tobytes(), quality=95))
    assert clean.size == (30, 60)
    assert clean.rgb[5, 25].mean() > 0.8  # the square moved to the top-right
    assert any("EXIF" in str(n) for n in clean.notes)


def test_greyscale_alpha_one_bit_float_and_arrays():
    la = Image.new("LA", (20, 20), (128, 255))
    assert ii.load_image(png_bytes(la)).rgb[0, 0, 0] == pytest.approx(128 / 255)
    one_bit = Image.new("1", (20, 20), 1)
    assert ii.load_image(png_bytes(one_bit)).rgb.min() == 1.0
    floats = Image.fromarray(np.full((16, 16), 0.25, np.float32))
    assert ii.load_image(png_bytes(floats, format="TIFF")).rgb[0, 0, 0] == pytest.approx(0.25)
    assert ii.load_image(np.full((16, 16), 65535, np.uint16)).rgb.max() == 1.0
    assert ii.load_image(np.full((16, 16, 1), 0.5, np.float64)).rgb.shape == (16, 16, 3)


def test_animated_gif_uses_first_frame():
    frames = [Image.new("L", (20, 20), v) for v in (10, 240)]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:])
    clean = ii.load_image(buf.getvalue())
    assert clean.rgb.mean() < 0.2 and any("first of 2 frames" in str(n) for n in clean.notes)


# ---- refusals -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("width,height", [(9000, 9000), (30000, 30000)])
def test_decompression_bombs_are_refused_before_decoding(width, height):
    with pytest.raises(Refusal, match="bomb|megapixels"):
        ii.load_image(fake_png_header(width, height))


@pytest.mark.parametrize("size,match", [((1, 1), "at least 8"), ((4000, 20), "aspect ratio"),
                                        ((20000, 100), "12000 pixels a side")])
def test_absurd_dimensions(size, match):
    with pytest.raises(Refusal, match=match):
        ii.load_image(fake_png_header(*size))


def test_corrupt_and_non_image_files(tmp_path):
    good = png_bytes(stroke_image())
    with pytest.raises(Refusal, match="corrupt or truncated"):
        ii.load_image(good[: len(good) // 2])
    with pytest.raises(Refusal, match="not an image"):
        ii.load_image(b"hello, this is text, not a picture" * 10)
    with pytest.raises(Refusal, match="not an image"):  # EPS would run Ghostscript: not allowed
        ii.load_image(b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n")
    with pytest.raises(Refusal, match="empty"):
        ii.load_image(b"")
    text = tmp_path / "notes.png"
    text.write_text("not really a png")
    with pytest.raises(Refusal, match="not an image"):
        ii.load_image(str(text))
    with pytest.raises(Refusal, match="could not be found"):
        ii.load_image(str(tmp_path / "missing.png"))


def test_file_size_cap(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (ii.MAX_FILE_BYTES + 1))
    with pytest.raises(Refusal, match="limit is 10 MB"):
        ii.load_image(str(big))


# ---- photos -------------------------------------------------------------------------------------------
def test_fit_photo_crop_and_resize_say_which():
    clean = ii.load_image(png_bytes(stroke_image(size=(300, 200), mode="RGB", ink=(0, 90, 200),
                                                 paper=(250, 240, 10))))
    cropped, note = ii.fit_photo(clean, 8, mode="crop")
    assert cropped.shape == (200, 296, 3) and "centre-cropped 300x200 -> 296x200" in str(note)
    np.testing.assert_array_equal(cropped, clean.rgb[:, 2:298])
    resized, note = ii.fit_photo(clean, 8, mode="resize")
    assert resized.shape == (200, 304, 3) and "resized 300x200 -> 304x200" in str(note)


def test_fit_photo_caps_the_long_side_and_flattens_alpha():
    big = Image.new("RGBA", (1000, 600), (255, 0, 0, 0))
    photo, note = ii.fit_photo(ii.load_image(png_bytes(big)), 8)
    assert photo.shape == (304, 512, 3)  # 1000x600 -> 512x307 -> crop to 512x304
    assert "capped at 512" in str(note) and "transparency flattened onto white" in str(note)
    assert photo.min() == pytest.approx(1.0)  # fully transparent -> white
    with pytest.raises(Refusal, match="fit must be"):
        ii.fit_photo(ii.load_image(png_bytes(big)), 8, mode="stretch")


# ---- notes and refusals are Messages ------------------------------------------------------------------
def test_notes_and_refusals_keep_their_code_and_values_through_pickling():
    import pickle

    cmyk = stroke_image(size=(44, 40), mode="RGB", ink=(0, 90, 200), paper=(255, 255, 255), width=4).convert("CMYK")
    clean = ii.load_image(png_bytes(cmyk, format="JPEG", quality=95))
    _, note = ii.to_digit(clean)
    assert [n.code for n in clean.notes] == ["img.cmyk"] and note.code == "img.digit_centred"
    assert [p.code for p in note.values["details"].parts] == ["img.colour_to_grey", "img.ink_inverted"]
    _, notes = ii.fit_photo(clean, 8)
    again = pickle.loads(pickle.dumps(notes))
    assert again == notes and str(again) == "centre-cropped 44x40 -> 40x40 (multiple of f=8)"
    assert [(p.code, p.values) for p in again.parts] == [("img.centre_cropped", {"width": 44, "height": 40,
                                                                                 "new_w": 40, "new_h": 40,
                                                                                 "factor": 8})]
    assert word(again, "zh") == "已中心裁剪 44x40 -> 40x40（f=8 的整数倍）"
    with pytest.raises(Refusal) as caught:
        ii.load_image(b"")
    error = pickle.loads(pickle.dumps(caught.value))
    assert str(error) == "the file is empty" and error.code == "img.empty_file" and word(error, "zh") == "文件是空的"


def test_every_note_and_refusal_has_chinese_without_english_prose():
    import string

    from tests.test_i18n import english_words

    kept = {"exif", "cmyk", "fit", "crop", "resize"}
    for code in ii.CODES:
        fields = {f for _, f, _, _ in string.Formatter().parse(ENGLISH[code]) if f}
        message = Message(code, **{f: 3 for f in fields})
        chinese = word(message, "zh")
        assert chinese != str(message), code
        assert not [w for w in english_words(chinese) if w.lower() not in kept], (code, chinese)


# ---- declared bit depth (issue 14, E3) ------------------------------------------------------------------
def test_a_dark_sixteen_bit_pgm_keeps_its_declared_depth():
    """P5, maxval 65535, values 0..200: 200/65535 = 0.0031 at most, not 200/255 = 0.78 (scaled as 8-bit
    because no pixel exceeds 255)."""
    values = (np.arange(64 * 64) % 201).reshape(64, 64).astype(">u2")
    clean = ii.load_image(b"P5\n64 64\n65535\n" + values.tobytes())
    assert clean.rgb.max() == pytest.approx(200 / 65535, abs=1e-6)
    assert [n.code for n in clean.notes] == ["img.sixteen_bit"]


@pytest.mark.parametrize("maxval", [1023, 4095])
def test_a_pgm_with_any_maxval_is_scaled_by_it(maxval):
    values = np.full((16, 16), maxval // 2, ">u2")
    clean = ii.load_image(b"P5\n16 16\n%d\n" % maxval + values.tobytes())
    assert clean.rgb.max() == pytest.approx((maxval // 2) / maxval, abs=2e-3)


def test_integer_tiff_and_arrays_use_their_declared_depth():
    dark = np.full((16, 16), 200, np.int32)
    tiff = ii.load_image(png_bytes(Image.fromarray(dark), format="TIFF"))  # 32-bit signed samples
    assert tiff.rgb.max() == pytest.approx(200 / (2**31 - 1))
    assert ii.load_image(np.full((16, 16), 200, np.uint16)).rgb.max() == pytest.approx(200 / 65535)
    assert ii.load_image(np.full((16, 16), 200, np.uint8)).rgb.max() == pytest.approx(200 / 255)
    sixteen = ii.load_image(png_bytes(Image.fromarray(np.full((16, 16), 200, np.uint16))))
    assert sixteen.rgb.max() == pytest.approx(200 / 65535)
