"""Workarounds for Gradio behaviour that hurts a classroom, applied once before the app serves.

Gradio 6.31 writes a returned image to a cache file named by its content hash with a plain write_bytes.
When several users get the SAME image at once (a class pressing the same defaults), one request rewrites the
file while another is streaming it: the download is truncated (seen in tests/test_load.py). Writing to a
temporary file in the same folder and renaming it over the target is atomic on POSIX, so a reader sees either
the old complete file or the new complete file.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

_applied = False


def _atomic_save_pil_to_cache(img, cache_dir: str, name: str = "image", format: str = "webp") -> str:
    from gradio import processing_utils

    payload = processing_utils.encode_pil_to_bytes(img, format)
    folder = Path(cache_dir) / processing_utils.hash_bytes(payload)
    folder.mkdir(exist_ok=True, parents=True)
    target = (folder / f"{name}.{format}").resolve()
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=".part")
    with os.fdopen(handle, "wb") as out:
        out.write(payload)
    os.replace(temporary, target)
    return str(target)


def apply() -> None:
    """Install the atomic cache write (idempotent)."""
    global _applied
    if _applied:
        return
    from gradio import processing_utils

    processing_utils.save_pil_to_cache = _atomic_save_pil_to_cache
    _applied = True
