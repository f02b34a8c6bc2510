"""Turn anything a user may drop in (a file path, bytes, a PIL image, a numpy array, a sketchpad value)
into a clean float array, and prepare it the way a model expects it.

Owns: safe decoding (size caps checked before pixels are decoded, decompression bombs, corrupt or
non-image files, a whitelist of decoders), every Pillow mode (RGBA, LA, greyscale, palette, 1-bit,
16-bit, 32-bit, float, CMYK, YCbCr, LAB, HSV), EXIF orientation; then the two preparations the
Reconstruction tab needs:

- `to_digit`: MNIST's own recipe (LeCun et al.): white ink on black, the ink's bounding box scaled to
  fit a 20x20 box (aspect kept, anti-aliased), pasted into 28x28 with its centre of mass at the centre.
- `fit_photo`: long side capped (default 512, for CPU time), then each side centre-cropped or resized
  to a multiple of the VAE's downsampling factor f; the returned note says which.

Every problem raises a `Refusal` (explorer.messages; a ValueError whose str() is English) with a code
"img.<what>"; notes of what was done are `Message`s (several: `Joined`), worded in the page's language by
`explorer.messages.word`. Integer images are scaled by their declared depth (8-bit, 16-bit, a PGM's maxval,
a TIFF's bits per sample, a numpy dtype), never by their brightest pixel.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .messages import ENGLISH, Joined, Message, Refusal, define

MAX_FILE_BYTES = 10 * 1024 * 1024  # same cap as the app's upload limit
MAX_PIXELS = 40_000_000  # checked from the header, before any pixel is decoded
MAX_SIDE = 12_000
MIN_SIDE = 8
MAX_ASPECT = 20.0
PHOTO_MAX_SIDE = 512  # photos are shrunk to this long side: a 512x512 VAE pass is ~1 s on 2 CPU cores
DIGIT_SIZE, DIGIT_BOX = 28, 20
# Decoders Pillow may use. Leaves out EPS (runs Ghostscript), PDF, and other rarely seen formats.
# (Phones' multi-picture JPEGs, MPO, are opened by the JPEG decoder.)
ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "BMP", "DIB", "TIFF", "WEBP", "PPM", "TGA", "ICO")


# Every note and refusal this module gives a user, in English, by code (Chinese: explorer/locale_zh.py).
# Numbers arrive already formatted (Message values are worded as text). `{detail}` is Pillow's own message.
define({
    # what decoding did (CleanImage.notes)
    "img.exif_unreadable": "unreadable EXIF data ignored",
    "img.exif_unapplied": "EXIF orientation {orientation} could not be applied; used as stored",
    "img.exif_rotated": "rotated upright from EXIF orientation {orientation}",
    "img.sixteen_bit": "16-bit image scaled to [0, 1]",
    "img.integer_scaled": "{bits}-bit integer image scaled by 1/{scale} (its declared depth)",
    "img.float_image": "floating-point image",
    "img.float_scaled": "floating-point image scaled by 1/{scale}",
    "img.palette": "palette image expanded",
    "img.cmyk": "CMYK converted to RGB",
    "img.mode_converted": "{mode} converted to RGB",
    "img.first_frame": "first of {frames} frames used",
    "img.transparency": "transparency found",
    # digits (to_digit)
    "img.ink_inverted": "dark ink on a light background, inverted to MNIST's white on black",
    "img.ink_light": "light ink on dark",
    "img.colour_to_grey": "colour converted to grey",
    "img.digit_as_is": "28x28 input used as is ({details})",
    "img.digit_centred": "{width}x{height} -> 28x28 like MNIST: {details}; ink cropped, scaled into a 20x20 box, "
                         "centred by its centre of mass",
    # photos (fit_photo)
    "img.alpha_to_white": "transparency flattened onto white",
    "img.grey_to_rgb": "greyscale repeated into R, G, B",
    "img.long_side_capped": "resized {width}x{height} -> {new_w}x{new_h} (long side capped at {max_side} px for "
                            "CPU time)",
    "img.centre_cropped": "centre-cropped {width}x{height} -> {new_w}x{new_h} (multiple of f={factor})",
    "img.resized_to_f": "resized {width}x{height} -> {new_w}x{new_h} (multiple of f={factor}; aspect changes "
                        "slightly)",
    "img.resized_to_f_same_aspect": "resized {width}x{height} -> {new_w}x{new_h} (multiple of f={factor})",
    "img.photo_on_digit_model": "this looks like a photo: a digit VAE only sees a 28x28 digit in it (pick a photo "
                                "VAE such as {photo_model} to reconstruct it as a photo)",
    "img.photo_as_is": "{width}x{height} used as is (already a multiple of f={factor})",
    # refusals (Refusal)
    "img.no_pixels": "the image has no pixels ({width}x{height})",
    "img.too_many_pixels": "the image is {width}x{height} pixels ({megapixels} megapixels); the limit is "
                           "{max_megapixels} megapixels and {max_side} pixels a side (it may be a decompression bomb)",
    "img.too_small": "the image is {width}x{height} pixels; it needs at least {min_side} pixels a side",
    "img.too_narrow": "the image is {width}x{height} pixels: an aspect ratio over {max_aspect}:1 is not a photo or "
                      "a digit",
    "img.empty_file": "the file is empty",
    "img.file_too_big": "the file is {megabytes} MB; the limit is {limit} MB",
    "img.bomb": "rejected as a decompression bomb: {detail}",
    "img.not_an_image": "this is not an image file this app can read (supported: {formats})",
    "img.unreadable": "the image file is corrupt or unreadable ({detail})",
    "img.truncated": "the image file is corrupt or truncated ({detail})",
    "img.unsupported_mode": "unsupported image mode {mode} ({detail})",
    "img.bad_array_shape": "an image array must be (H, W), (H, W, 3) or (H, W, 4), not {shape}",
    "img.bad_array_type": "unsupported array type {dtype}",
    "img.no_image": "no image was given",
    "img.empty_drawing": "the drawing is empty",
    "img.file_not_found": "the uploaded file could not be found",
    "img.unreadable_source": "cannot read an image from a {kind}",
    "img.fully_transparent": "the image is fully transparent: nothing is drawn",
    "img.no_contrast": "no digit found: the image is blank or has almost no contrast",
    "img.blank": "no digit found: the image is blank",
    "img.bad_fit": "fit must be 'crop' or 'resize', not {mode}",
    "img.too_small_for_f": "the image is {width}x{height} px after resizing; each side must be at least f={factor} px",
})
CODES = tuple(code for code in ENGLISH if code.startswith("img."))


def note(code: str, **values: Any) -> Message:
    """The Message img.<code> (a note of what was done)."""
    return Message(f"img.{code}", **values)


def refuse(code: str, **values: Any) -> Refusal:
    """The Refusal img.<code> (raise it)."""
    return Refusal(f"img.{code}", **values)


@dataclass(frozen=True)
class CleanImage:
    """A decoded image: rgb (H, W, 3) float32 in [0, 1], alpha (H, W) float32 in [0, 1] or None when
    fully opaque, whether the source had colour, and what was done to get here (Messages, for the UI)."""

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    colour: bool = True
    notes: tuple[Message, ...] = field(default_factory=tuple)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]


# ---- decoding ------------------------------------------------------------------------------------------
def _check_dimensions(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise refuse("no_pixels", width=width, height=height)
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise refuse("too_many_pixels", width=width, height=height, megapixels=f"{width * height / 1e6:.0f}",
                     max_megapixels=f"{MAX_PIXELS / 1e6:.0f}", max_side=MAX_SIDE)
    if min(width, height) < MIN_SIDE:
        raise refuse("too_small", width=width, height=height, min_side=MIN_SIDE)
    if max(width, height) / min(width, height) > MAX_ASPECT:
        raise refuse("too_narrow", width=width, height=height, max_aspect=f"{MAX_ASPECT:.0f}")


def _open(data: bytes) -> Image.Image:
    """Open (header only), check the size, then decode the first frame. Raises Refusal."""
    if len(data) == 0:
        raise refuse("empty_file")
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(len(data))
    try:
        Image.init()
        image = Image.open(io.BytesIO(data), formats=[f for f in ALLOWED_FORMATS if f in Image.OPEN])
    except Image.DecompressionBombError as exc:
        raise refuse("bomb", detail=str(exc)) from None
    except UnidentifiedImageError:
        raise refuse("not_an_image", formats=", ".join(f.lower() for f in ALLOWED_FORMATS)) from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise refuse("unreadable", detail=str(exc)) from None
    _check_dimensions(*image.size)
    try:
        image.seek(0)
        image.load()
    except Image.DecompressionBombError as exc:
        raise refuse("bomb", detail=str(exc)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise refuse("truncated", detail=str(exc)) from None
    return image


def _too_big(size: int) -> Refusal:
    """The refusal of a file of `size` bytes, over MAX_FILE_BYTES."""
    return refuse("file_too_big", megabytes=f"{size / 2**20:.1f}", limit=f"{MAX_FILE_BYTES / 2**20:.0f}")


def _exif_upright(image: Image.Image, notes: list[Message]) -> Image.Image:
    """`image` turned upright by its EXIF orientation tag (noted in `notes`)."""
    try:
        orientation = image.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not stop the image
        notes.append(note("exif_unreadable"))
        return image
    if orientation in (None, 1):
        return image
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001
        notes.append(note("exif_unapplied", orientation=orientation))
        return image
    notes.append(note("exif_rotated", orientation=orientation))
    return upright if upright is not None else image


def declared_bits(image: Image.Image) -> int:
    """The bit depth an integer-mode image declares (never guessed from its brightest pixel): 16 for "I;16*"
    and for PGM/PPM files with maxval > 255 (Pillow rescales any such maxval to 0..65535 when it decodes),
    a TIFF's BitsPerSample (tag 258; 31 usable bits when SampleFormat says signed), else 32-bit signed (31)."""
    if image.mode.startswith("I;16") or image.format == "PPM":
        return 16
    if image.format == "TIFF":
        tags = getattr(image, "tag_v2", {})
        bits = tags.get(258, (32,))
        bits = int(bits[0] if isinstance(bits, tuple) else bits)
        signed = (tags.get(339, (1,)) or (1,))
        signed = int(signed[0] if isinstance(signed, tuple) else signed) == 2
        return max(1, bits - 1 if signed else bits)
    return 31


def _pil_to_arrays(image: Image.Image, notes: list[Message]) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """Any Pillow mode -> (rgb (H, W, 3) float32, alpha (H, W) or None, colour?)."""
    mode = image.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        values = np.asarray(image, dtype=np.float64)
        if mode == "F":
            peak = float(np.nanmax(values)) if values.size else 0.0
            scale = 1.0 if peak <= 1.0 else peak
            values = np.nan_to_num(values)
            notes.append(note("float_scaled", scale=f"{scale:.3g}") if scale != 1.0 else note("float_image"))
        else:
            bits = declared_bits(image)
            scale = float(2**bits - 1)
            notes.append(note("sixteen_bit") if bits == 16 else note("integer_scaled", bits=bits, scale=f"{scale:.0f}"))
        grey = np.clip(values / scale, 0.0, 1.0).astype(np.float32)
        return np.repeat(grey[..., None], 3, axis=2), None, False
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        notes.append(note("palette"))
    elif mode == "CMYK":
        image = image.convert("RGB")
        notes.append(note("cmyk"))
    elif mode in ("YCbCr", "LAB", "HSV", "RGBX"):
        image = image.convert("RGB")
        notes.append(note("mode_converted", mode=mode))
    elif mode == "1":
        image = image.convert("L")
    elif mode in ("LA", "La", "PA", "RGBa"):
        image = image.convert("RGBA")
    elif mode not in ("L", "RGB", "RGBA"):
        try:
            image = image.convert("RGBA")
        except ValueError as exc:
            raise refuse("unsupported_mode", mode=repr(mode), detail=str(exc)) from None
    pixels = np.asarray(image, dtype=np.float32) / 255.0
    if pixels.ndim == 2:
        return np.repeat(pixels[..., None], 3, axis=2), None, False
    rgb, alpha = pixels[..., :3], (pixels[..., 3] if pixels.shape[2] == 4 else None)
    if alpha is not None and float(alpha.min()) >= 1.0:
        alpha = None
    colour = not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))
    return np.ascontiguousarray(rgb), alpha, colour


def _array_to_clean(array: np.ndarray) -> CleanImage:
    """A numpy image (H, W), (H, W, 1|3|4); any integer dtype (scaled by its range), bool, or float."""
    array = np.asarray(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise refuse("bad_array_shape", shape=str(array.shape))
    _check_dimensions(array.shape[1], array.shape[0])
    if array.dtype == bool:
        values = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.integer):  # scaled by the dtype's declared depth, e.g. uint16 -> 1/65535
        values = array.astype(np.float64) / float(np.iinfo(array.dtype).max)
    elif np.issubdtype(array.dtype, np.floating):  # floats declare no depth: [0, 1], else 0..255, else own peak
        values = np.nan_to_num(array.astype(np.float32))
        if values.size and values.max() > 1.0:
            values = values / 255.0 if values.max() <= 255 else values / values.max()
    else:
        raise refuse("bad_array_type", dtype=str(array.dtype))
    values = np.clip(values, 0.0, 1.0).astype(np.float32)
    if values.ndim == 2:
        return CleanImage(np.repeat(values[..., None], 3, axis=2), None, False)
    rgb, alpha = values[..., :3], (values[..., 3] if values.shape[2] == 4 else None)
    if alpha is not None and float(alpha.min()) >= 1.0:
        alpha = None
    colour = not (np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))
    return CleanImage(np.ascontiguousarray(rgb), None if alpha is None else np.ascontiguousarray(alpha), colour)


def load_image(source: Any) -> CleanImage:
    """Decode `source` into a CleanImage.

    `source`: a path (str or PathLike), bytes, a PIL image, a numpy array, or a dict from gr.ImageEditor /
    gr.Sketchpad ({"composite": ...}) or a FileData-like dict ({"path": ...}). Raises Refusal.
    """
    if source is None:
        raise refuse("no_image")
    if isinstance(source, dict):
        if source.get("composite") is not None:
            return load_image(source["composite"])
        if source.get("path"):
            return load_image(source["path"])
        raise refuse("empty_drawing")
    if isinstance(source, np.ndarray):
        return _array_to_clean(source)
    notes: list[Message] = []
    if isinstance(source, Image.Image):
        _check_dimensions(*source.size)
        image = source
    else:
        if isinstance(source, (bytes, bytearray)):
            data = bytes(source)
        elif isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            if not os.path.isfile(path):
                raise refuse("file_not_found")
            size = os.path.getsize(path)
            if size > MAX_FILE_BYTES:
                raise _too_big(size)
            with open(path, "rb") as fh:
                data = fh.read()
        else:
            raise refuse("unreadable_source", kind=type(source).__name__)
        image = _open(data)
        if getattr(image, "n_frames", 1) > 1:
            notes.append(note("first_frame", frames=image.n_frames))
    image = _exif_upright(image, notes)
    rgb, alpha, colour = _pil_to_arrays(image, notes)
    if alpha is not None:
        notes.append(note("transparency"))
    return CleanImage(rgb, alpha, colour, tuple(notes))


# ---- resampling helpers --------------------------------------------------------------------------------
def _resize(array: np.ndarray, width: int, height: int) -> np.ndarray:
    """Resize a float (H, W) or (H, W, C) array with Lanczos (area-like when shrinking), kept in [0, 1]."""
    if array.shape[1] == width and array.shape[0] == height:
        return array.astype(np.float32, copy=True)
    channels = [array] if array.ndim == 2 else [array[..., i] for i in range(array.shape[2])]
    out = [np.asarray(Image.fromarray(np.ascontiguousarray(c, dtype=np.float32))
                      .resize((width, height), Image.Resampling.LANCZOS)) for c in channels]
    result = out[0] if array.ndim == 2 else np.stack(out, axis=2)
    return np.clip(result, 0.0, 1.0).astype(np.float32)


def composite(clean: CleanImage, background: float) -> np.ndarray:
    """rgb with transparency flattened onto a grey level `background` in [0, 1] -> (H, W, 3) float32."""
    if clean.alpha is None:
        return clean.rgb
    a = clean.alpha[..., None]
    return (clean.rgb * a + background * (1.0 - a)).astype(np.float32)


def luminance(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma (what Pillow's "L" uses): (H, W, 3) -> (H, W)."""
    return (rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114).astype(np.float32)


# ---- digits --------------------------------------------------------------------------------------------
def ink(clean: CleanImage) -> tuple[np.ndarray, Message]:
    """Ink intensity (H, W) in [0, 1] (1 = stroke, 0 = background), whatever the polarity of the source:
    dark-on-light is inverted, a grey background is subtracted. Returns (ink, note: "ink_inverted" or
    "ink_light")."""
    if clean.alpha is not None:
        # Transparent background (a sketchpad): flatten onto the opposite of the strokes' own shade.
        weight = clean.alpha
        if float(weight.sum()) <= 1e-6:
            raise refuse("fully_transparent")
        stroke_shade = float((luminance(clean.rgb) * weight).sum() / weight.sum())
        rgb = composite(clean, 1.0 if stroke_shade < 0.5 else 0.0)
    else:
        rgb = clean.rgb
    grey = luminance(rgb)
    h, w = grey.shape
    margin = max(1, min(h, w) // 20)
    border = np.concatenate([grey[:margin].ravel(), grey[-margin:].ravel(),
                             grey[:, :margin].ravel(), grey[:, -margin:].ravel()])
    background = float(np.median(border))
    inverted = background > 0.5
    values = 1.0 - grey if inverted else grey
    values = np.clip(values - (1.0 - background if inverted else background), 0.0, 1.0)
    peak = float(values.max())
    if peak < 0.1:
        raise refuse("no_contrast")
    return (values / peak).astype(np.float32), note("ink_inverted" if inverted else "ink_light")


def centre_digit(ink_image: np.ndarray, size: int = DIGIT_SIZE, box: int = DIGIT_BOX) -> np.ndarray:
    """MNIST's normalisation: crop to the ink, scale the longer side to `box` (aspect kept), paste into
    `size` x `size` so the centre of mass sits at the centre. (H, W) -> (size, size) float32."""
    mask = ink_image > 0.05 * float(ink_image.max())
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        raise refuse("blank")
    crop = ink_image[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    h, w = crop.shape
    scale = box / max(h, w)
    new_h, new_w = max(1, round(h * scale)), max(1, round(w * scale))
    small = _resize(crop, new_w, new_h)
    if small.max() > 0:
        small = small / small.max()
    total = float(small.sum())
    ys, xs = np.indices(small.shape)
    com_y = float((ys * small).sum() / total) if total > 0 else new_h / 2
    com_x = float((xs * small).sum() / total) if total > 0 else new_w / 2
    # Place the centre of mass at the centre of the field, keeping the whole digit inside it.
    top = int(np.clip(round(size / 2 - 0.5 - com_y), 0, size - new_h))
    left = int(np.clip(round(size / 2 - 0.5 - com_x), 0, size - new_w))
    out = np.zeros((size, size), np.float32)
    out[top: top + new_h, left: left + new_w] = small
    return out


def looks_like_photo(clean: CleanImage, mid_tone_share: float = 0.3) -> bool:
    """A rough test for "a photo, not a drawn or scanned digit": colour, or a picture of some size where
    mid-tones (not ink, not paper) cover much of the frame. Digits and drawings are nearly two-tone."""
    if clean.colour:
        return True
    grey = luminance(clean.rgb)
    if min(grey.shape) < 64:
        return False
    return float(np.mean((grey > 0.2) & (grey < 0.8))) > mid_tone_share


def to_digit(clean: CleanImage) -> tuple[np.ndarray, Message]:
    """Any image -> an MNIST-style digit (28, 28) float32 in [0, 1] and a note of what was done.

    A 28x28 image is MNIST's own format and is only polarity-fixed (not re-centred), so a digit saved
    from the data set comes back exactly; anything else is centred and scaled like MNIST."""
    values, polarity = ink(clean)
    details = Joined(([note("colour_to_grey")] if clean.colour else []) + [polarity])
    if values.shape == (DIGIT_SIZE, DIGIT_SIZE):
        if not clean.colour and clean.alpha is None and polarity.code == "img.ink_light":
            values = luminance(clean.rgb)  # already an MNIST digit: keep its exact pixels
        return values, note("digit_as_is", details=details)
    width, height = clean.size
    return centre_digit(values), note("digit_centred", width=width, height=height, details=details)


# ---- photos --------------------------------------------------------------------------------------------
def fit_photo(clean: CleanImage, factor: int, max_side: int = PHOTO_MAX_SIDE,
              mode: str = "crop") -> tuple[np.ndarray, Joined]:
    """A photo for a VAE with downsampling `factor` -> ((H, W, 3) float32, notes).

    The long side is first shrunk to `max_side` (never enlarged); then `mode` "crop" centre-crops each
    side down to a multiple of `factor`, "resize" rescales each side to the nearest multiple."""
    if mode not in ("crop", "resize"):
        raise refuse("bad_fit", mode=repr(mode))
    factor = int(factor)
    rgb = composite(clean, 1.0)
    notes = [note("alpha_to_white")] if clean.alpha is not None else []
    if not clean.colour:
        notes.append(note("grey_to_rgb"))
    height, width = rgb.shape[:2]
    if max(height, width) > max_side:
        scale = max_side / max(height, width)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        rgb = _resize(rgb, new_w, new_h)
        notes.append(note("long_side_capped", width=width, height=height, new_w=new_w, new_h=new_h,
                            max_side=max_side))
        height, width = new_h, new_w
    if mode == "crop":
        new_h, new_w = height - height % factor, width - width % factor
        if min(new_h, new_w) < factor:
            raise refuse("too_small_for_f", width=width, height=height, factor=factor)
        if (new_h, new_w) != (height, width):
            top, left = (height - new_h) // 2, (width - new_w) // 2
            rgb = rgb[top: top + new_h, left: left + new_w]
            notes.append(note("centre_cropped", width=width, height=height, new_w=new_w, new_h=new_h, factor=factor))
    else:
        new_h = max(factor, int(round(height / factor)) * factor)
        new_w = max(factor, int(round(width / factor)) * factor)
        if (new_h, new_w) != (height, width):
            rgb = _resize(rgb, new_w, new_h)
            same_aspect = new_w * height == new_h * width
            notes.append(note("resized_to_f_same_aspect" if same_aspect else "resized_to_f", width=width,
                                height=height, new_w=new_w, new_h=new_h, factor=factor))
    if all(n.code in ("img.alpha_to_white", "img.grey_to_rgb") for n in notes):
        notes.append(note("photo_as_is", width=rgb.shape[1], height=rgb.shape[0], factor=factor))
    return np.ascontiguousarray(rgb, dtype=np.float32), Joined(notes)
