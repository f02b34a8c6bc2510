"""Workarounds for Gradio behaviour that hurts a classroom: `apply()` once before the app serves (Python side),
and `TABLES_JS` for the page (wired by explorer.ui.app to demo.load).

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

# Tables on a phone (issue 14 D): cells of short text (names, numbers, shapes) never wrap; long text wraps at
# spaces in a column of at least 14em; a table wider than its box scrolls sideways inside it, and its host
# shows a shadow on each side that has more to see (explorer.ui.app's CSS draws it from data-more). Cell
# backgrounds would hide a shadow painted on the scrolling box itself, so the shadow sits on its parent.
LONG_CELL = 28  # characters: a cell longer than this wraps
TABLES_JS = """() => {
  const LONG = %d;
  function scrollerOf(table) {
    for (let el = table, i = 0; el && i < 5; el = el.parentElement, i++) {
      const o = getComputedStyle(el).overflowX;
      if ((o === "auto" || o === "scroll") && el.scrollWidth > el.clientWidth + 1) return el;
    }
    return null;
  }
  function mark(scroller) {
    const host = scroller.parentElement;
    const left = scroller.scrollLeft > 1, right = scroller.scrollLeft + scroller.clientWidth < scroller.scrollWidth - 1;
    const more = left && right ? "both" : left ? "left" : right ? "right" : "";
    if (host.dataset.lsxMore !== more) host.dataset.lsxMore = more;
    host.classList.add("lsx-scroll-host");
    if (!scroller.dataset.lsxWatched) {
      scroller.dataset.lsxWatched = "1";
      scroller.addEventListener("scroll", () => mark(scroller), {passive: true});
    }
  }
  function scan() {
    document.querySelectorAll(".gradio-container td, .gradio-container th").forEach(cell => {
      const long = (cell.textContent || "").trim().length > LONG;
      if (cell.classList.contains("lsx-long") !== long) cell.classList.toggle("lsx-long", long);
    });
    document.querySelectorAll(".gradio-container table").forEach(table => {
      if (!table.offsetParent) return;
      const scroller = scrollerOf(table);
      if (scroller) mark(scroller);
      else for (let el = table.parentElement, i = 0; el && i < 5; el = el.parentElement, i++)
        if (el.dataset && el.dataset.lsxMore) el.dataset.lsxMore = "";
    });
  }
  let queued = false;
  const later = () => { if (!queued) { queued = true; setTimeout(() => { queued = false; scan(); }, 150); } };
  new MutationObserver(later).observe(document.body, {subtree: true, childList: true, characterData: true});
  window.addEventListener("resize", later);
  later();
}""" % LONG_CELL


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
