"""Helpers shared by the cross-cutting end-to-end suites (test_endpoints_e2e, test_bad_input, test_load,
test_browser): held-out digits as files, served PNGs as arrays, and a raw HTTP call for payloads that
gradio_client refuses to send (NaN, Infinity)."""
from __future__ import annotations

import json
import struct
import zlib
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

MODEL = "sd-vae-mnist-c4"  # the SD-style digit VAE every tab defaults to
ROOT = Path(__file__).resolve().parent.parent


@lru_cache(maxsize=1)
def held_out():
    """The 500 held-out MNIST digits (never seen in training): .images (N, 28, 28) in [0, 1], .labels."""
    from explorer.data import load_mnist

    return load_mnist("test")


def digit_uint8(index: int) -> np.ndarray:
    return np.round(held_out().images[index] * 255).astype(np.uint8)


def first_of_each_class(rank: int = 1) -> list[int]:
    """Index of the rank-th held-out example of each digit 0-9 (rank 0 is what the gallery shows)."""
    labels = held_out().labels
    return [int(np.flatnonzero(labels == d)[rank]) for d in range(10)]


def write_digit(folder: Path, index: int) -> Path:
    path = Path(folder) / f"digit-{index}.png"
    Image.fromarray(digit_uint8(index)).save(path)
    return path


def pixels(path_or_file) -> np.ndarray:
    """A served PNG as its uint8 array; asserts it really is a PNG (lossless, as the lesson needs)."""
    image = Image.open(path_or_file)
    assert image.format == "PNG", f"expected a PNG, got {image.format}"
    return np.asarray(image)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 (or [0, 255]) arrays."""
    mse = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2) / 255.0**2
    return float("inf") if mse == 0 else float(10 * np.log10(1.0 / mse))


def max_level_diff(a: np.ndarray, b: np.ndarray) -> int:
    """Largest absolute difference of two uint8 images, in 8-bit levels."""
    return int(np.abs(np.asarray(a, np.int32) - np.asarray(b, np.int32)).max())


def raw_call(url: str, api_name: str, body: str, timeout: float = 60.0) -> tuple[str, object]:
    """POST a hand-written JSON body to /gradio_api/call/<api_name> and read the SSE answer, as a client in
    another language would. Returns ("complete", data), ("error", message) or ("http <status>", text).
    Python's json and JavaScript's JSON.parse disagree on NaN/Infinity; this sends exactly `body`."""
    import httpx

    base = url.rstrip("/") + "/gradio_api/call/" + api_name.strip("/")
    with httpx.Client(timeout=timeout) as http:
        response = http.post(base, content=body, headers={"Content-Type": "application/json"})
        if response.status_code != 200:
            return f"http {response.status_code}", response.text
        event_id = response.json()["event_id"]
        event = None
        with http.stream("GET", f"{base}/{event_id}") as stream:
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    event = line.split(":", 1)[1].strip()
                elif line.startswith("data:") and event in ("complete", "error"):
                    payload = json.loads(line[5:].strip() or "null")
                    if event == "error":
                        return "error", (payload or {}).get("error") if isinstance(payload, dict) else payload
                    return "complete", payload
    return "no answer", None


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def bomb_png(width: int = 60_000, height: int = 60_000) -> bytes:
    """A valid PNG header (IHDR) claiming width x height 8-bit grey pixels, with almost no data behind it:
    decoding it would allocate 3.6 GB."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
            + _chunk(b"IEND", b""))
