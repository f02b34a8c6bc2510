"""What the Latent map tab shows, as plain data: the JSON values its three gr.HTML components render (map,
A->B player, 2-D plane), the status and comparison Markdown, and the two server functions the players call.
No Gradio here, so all of it is testable with tiny models; explorer/ui/latent_map_tab.py only wires it up.

Value shapes (read by latent_map_assets/*.js):
  map:    {key, model, projection ("umap"|"pca"|"latent"), planar, axis, title, points {x, y, label},
           a, b, path {x, y} (FRAMES points), grid (2-D VAE manifold image) | None, labels}
  player: {key, model, index_a, index_b, method, caption, frames [FRAMES PNG data URIs], labels}
  plane:  {model, extent [x0, x1, y0, y1], n, frames [n*n PNG data URIs, row 0 = top], labels}
"""
from __future__ import annotations

import numpy as np

from ..latent_map import (FRAMES, REGULARISED_MODEL, SD_KL_MODEL, LatentMapExplorer, PairPath, image_strip,
                          png_data_uri, tile_grid, to_uint8)
from .i18n import LANGUAGES, register, text

SPRITE_COLS = 25
PLANE_GRID = 21  # frames per side for the 2-D plane's live sliders
MANIFOLD_GRID = 15  # digits per side of the decoded manifold drawn under the scatter
COMPARE_STEPS = 9
COMPARE_PAIRS = 50
STRIP_ZOOM = 3

STRINGS = {
    "lmap.umap_pending": ("UMAP is being computed for this model (about 10-25 s the first time); showing PCA "
                          "until it is ready.", "正在为该模型计算 UMAP（首次约 10-25 秒）；完成前先显示 PCA。"),
    "lmap.umap_failed": ("UMAP could not be computed; showing PCA.", "UMAP 计算失败；改为显示 PCA。"),
    "lmap.planar": ("This latent already is 2-D: the map shows the latent plane itself.",
                    "该潜变量本身就是二维的：地图直接显示潜平面。"),
    "lmap.status": ("**{model}**: latent {shape} = {n} numbers per digit",
                    "**{model}**：潜变量 {shape} = {n} 个数表示一个数字"),
    "lmap.title": ("{model}: latent {shape} → 2-D ({method})", "{model}：潜变量 {shape} → 二维（{method}）"),
    "lmap.pc1": ("PC 1 ({pct:.0f}% of variance)", "主成分 1（占方差的 {pct:.0f}%）"),
    "lmap.pc2": ("PC 2 ({pct:.0f}%)", "主成分 2（{pct:.0f}%）"),
    "lmap.pca_kept": ("PCA keeps {pct:.0f}% of the variance in 2-D", "PCA 在二维中保留了 {pct:.0f}% 的方差"),
    "lmap.path": ("path A→B", "A→B 路径"),
    "lmap.digit": ("digit", "数字"),
    "lmap.preview": ("preview: nearest pre-decoded frame, α =", "预览：最接近的预解码帧，α ="),
    "lmap.exact": ("exact decode by the server at α =", "服务器精确解码，α ="),
    "lmap.exact_plane": ("exact decode by the server", "服务器精确解码"),
    "lmap.preview_plane": ("preview: nearest pre-decoded grid point", "预览：最接近的预解码网格点"),
    "lmap.decoding": ("decoding…", "解码中…"),
    "lmap.strip": ("steps in the strip", "条带中的步数"),
    "lmap.cmp_kl_weight": ("KL weight in training", "训练时的 KL 权重"),
    "lmap.cmp_psnr": ("held-out reconstruction PSNR (dB)", "留出集重建 PSNR（dB）"),
    "lmap.cmp_ssim": ("held-out reconstruction SSIM", "留出集重建 SSIM"),
    "lmap.cmp_blend": ("middle frame vs a 50/50 pixel blend of A and B, PSNR dB (high = double exposure): "
                       "this pair / mean of random pairs",
                       "中间帧与 A、B 像素 50/50 叠加图的 PSNR（dB，越高越像“双重曝光”）：这一对 / 随机多对的平均"),
    "lmap.cmp_confidence": ("digit classifier's confidence on the in-between frames (1 = clearly a digit): "
                            "this pair / mean of random pairs",
                            "数字分类器对中间帧的置信度（1 = 明确是某个数字）：这一对 / 随机多对的平均"),
    "lmap.cmp_evenness": ("path evenness, largest step / mean step (1 = every step changes the picture equally): "
                          "this pair / mean of random pairs",
                          "路径均匀度：最大步长 / 平均步长（1 = 每一步变化相同）：这一对 / 随机多对的平均"),
    "lmap.cmp_note": ("Pair: A = #{a} (digit {la}), B = #{b} (digit {lb}), {method}, {steps} steps; random pairs: "
                      "{pairs} pairs of different digits (seed 0). PSNR/SSIM come from each checkpoint's "
                      "metrics.json (500 held-out digits). Re-run: `python -m explorer.latent_map`.",
                      "这一对：A = #{a}（数字 {la}），B = #{b}（数字 {lb}），{method}，{steps} 步；随机多对："
                      "{pairs} 对不同数字（种子 0）。PSNR/SSIM 来自各检查点的 metrics.json（500 张留出数字）。"
                      "复现：`python -m explorer.latent_map`。"),
    "lmap.compare_missing": ("The comparison needs both {a} and {b}; missing: {missing}.",
                             "比较需要 {a} 和 {b}；缺少：{missing}。"),
}
register(STRINGS)


def sprite(images: np.ndarray, cols: int = SPRITE_COLS) -> tuple[str, int, int]:
    """(N, H, W) digits in one PNG, `cols` per row, for hover previews: (data URI, width px, height px)."""
    n, h, w = images.shape
    rows = -(-n // cols)
    padded = np.zeros((rows * cols, h, w), dtype=np.float32)
    padded[:n] = images
    sheet = tile_grid(padded, rows, cols)
    return png_data_uri(sheet), sheet.shape[1], sheet.shape[0]


def zoom(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling by an integer factor (every pixel stays exactly what the model produced)."""
    return np.kron(image, np.ones((factor, factor), dtype=image.dtype))


def fmt(value, digits: int = 2) -> str:
    return "n/a" if value is None or (isinstance(value, float) and not np.isfinite(value)) else f"{value:.{digits}f}"


def pair_key(model: str, a: int, b: int, method: str) -> str:
    """Identifies one A->B path; the map and the player match their position events on it."""
    return f"{model}|{a}|{b}|{method}"


class LatentMapViews:
    """Builds the tab's values over one LatentMapExplorer (caches the 2-D VAE's grids per model)."""

    def __init__(self, explorer: LatentMapExplorer):
        self.explorer = explorer
        self.labels = explorer.digits.labels
        self._manifold: dict[str, dict] = {}
        self._plane: dict[str, dict] = {}

    # ---- the map -----------------------------------------------------------------------------------
    def shown_projection(self, model: str, projection: str, lang: str):
        """(projection object, its name, notice): the requested one if ready, else PCA and a notice why."""
        cache = self.explorer.projections
        if self.explorer.is_planar(model):
            return cache.get(model, "pca"), "latent", text("lmap.planar", lang)
        state = cache.status(model, projection)
        if state.startswith("failed"):
            return cache.get(model, "pca"), "pca", f"{text('lmap.umap_failed', lang)} ({state})"
        proj = cache.get(model, projection)
        if proj is not None:
            return proj, projection, ""
        return cache.get(model, "pca"), "pca", text("lmap.umap_pending", lang)

    @staticmethod
    def axis_titles(proj, name: str, lang: str = "en") -> list[str]:
        """The map's x and y axis titles in `lang` for projection `name` ("latent", "pca" or "umap")."""
        if name == "latent":
            return ["z1", "z2"]
        if name == "pca":
            r = proj.explained_variance_ratio
            return [text("lmap.pc1", lang, pct=100 * r[0]), text("lmap.pc2", lang, pct=100 * r[1])]
        return ["UMAP 1", "UMAP 2"]

    @staticmethod
    def title(model: str, shape: str, name: str, lang: str = "en") -> str:
        """The map's title in `lang`: the model, its latent's `shape` ("4x7x7") and how it was brought to 2-D."""
        method = "z1, z2" if name == "latent" else name.upper()
        return text("lmap.title", lang, model=model, shape=shape, method=method)

    def map_value(self, model: str, projection: str, a: int, b: int, method: str, show_grid: bool,
                  lang: str = "en") -> tuple[dict, str, bool]:
        """(map value, status Markdown, whether a UMAP fit is still pending). Raises ValueError on bad input."""
        ex = self.explorer
        ex.check_model(model)
        a, b = ex.check_pair(a, b)
        proj, name, notice = self.shown_projection(model, projection, lang)
        xy = ex.path_xy(model, a, b, method, FRAMES, proj)
        shape = ex.latent_shape(model)
        shape_text = "x".join(map(str, shape))
        value = {"key": pair_key(model, a, b, method), "model": model, "projection": name,
                 "planar": name == "latent", "axis": self.axis_titles(proj, name, lang),
                 "title": self.title(model, shape_text, name, lang),
                 "points": {"x": proj.coords[:, 0].round(4).tolist(), "y": proj.coords[:, 1].round(4).tolist(),
                            "label": self.labels.tolist()},
                 "a": a, "b": b, "path": {"x": xy[:, 0].round(4).tolist(), "y": xy[:, 1].round(4).tolist()},
                 "grid": self.manifold(model) if (name == "latent" and show_grid) else None,
                 "labels": {"path": text("lmap.path", lang), "digit": text("lmap.digit", lang)}}
        status = text("lmap.status", lang, model=model, shape=shape_text, n=int(np.prod(shape)))
        if name == "pca":
            status += "; " + text("lmap.pca_kept", lang).format(pct=100 * proj.explained_variance_ratio.sum())
        if notice:
            status += f"  \n*{notice}*"
        pending = name == "pca" and projection == "umap" and ex.projections.status(model, "umap") == "pending"
        return value, status, pending

    def manifold(self, model: str) -> dict:
        """The 2-D VAE's decoded MANIFOLD_GRID^2 grid as one image, placed in latent coordinates."""
        if model not in self._manifold:
            extent = self.explorer.plane_extent(model)
            frames, xs, ys = self.explorer.plane_grid(model, MANIFOLD_GRID, extent)
            half_x, half_y = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2
            self._manifold[model] = {"src": png_data_uri(tile_grid(frames, MANIFOLD_GRID, MANIFOLD_GRID)),
                                     "x0": float(xs[0] - half_x), "x1": float(xs[-1] + half_x),
                                     "y0": float(ys[0] - half_y), "y1": float(ys[-1] + half_y)}
        return self._manifold[model]

    # ---- the players -------------------------------------------------------------------------------
    def player_value(self, pp: PairPath, lang: str = "en") -> dict:
        la, lb = int(self.labels[pp.index_a]), int(self.labels[pp.index_b])
        digit = text("lmap.digit", lang)
        return {"key": pair_key(pp.model, pp.index_a, pp.index_b, pp.method), "model": pp.model,
                "index_a": pp.index_a, "index_b": pp.index_b, "method": pp.method,
                "caption": f"A = #{pp.index_a} ({digit} {la}) → B = #{pp.index_b} ({digit} {lb}), "
                           f"{pp.method}, {pp.model}",
                "frames": [png_data_uri(f) for f in pp.frames],
                "labels": {k: text(f"lmap.{k}", lang) for k in ("preview", "exact", "decoding", "strip")}}

    def plane_value(self, model: str, lang: str = "en") -> dict:
        if model not in self._plane:
            extent = self.explorer.plane_extent(model)
            frames, _, _ = self.explorer.plane_grid(model, PLANE_GRID, extent)
            self._plane[model] = {"model": model, "extent": list(extent), "n": PLANE_GRID,
                                  "frames": [png_data_uri(f) for f in frames]}
        labels = {"preview": text("lmap.preview_plane", lang), "exact": text("lmap.exact_plane", lang),
                  "decoding": text("lmap.decoding", lang)}
        return {**self._plane[model], "labels": labels}

    def render(self, model: str, projection: str, a, b, method: str, show_grid: bool, lang: str = "en"):
        """Everything a new pair / model / method needs: (map value, player value, status, pending)."""
        ex = self.explorer
        ex.check_model(model)
        a, b = ex.check_pair(a, b)
        pp = ex.pair_path(model, a, b, method, FRAMES)
        value, status, pending = self.map_value(model, projection, a, b, method, show_grid, lang)
        return value, self.player_value(pp, lang), status, pending

    # ---- server functions called by the players' JavaScript (never raise: errors come back as data) ---
    def latent_map_exact(self, payload: dict) -> dict:
        """{model, index_a, index_b, alpha, method, projection} -> {image (PNG data URI), xy, projection}."""
        try:
            if not isinstance(payload, dict):
                raise ValueError("expected {model, index_a, index_b, alpha, method}")
            projection = payload.get("projection")
            # the map calls the 2-D VAE's own plane "latent"; its projection object is the identity
            fitted = {"umap": "umap", "pca": "pca", "latent": "pca"}.get(projection)
            image, xy = self.explorer.exact(payload.get("model"), payload.get("index_a"), payload.get("index_b"),
                                            payload.get("alpha"), payload.get("method"), fitted)
        except ValueError as exc:
            return {"error": str(exc)}
        return {"image": png_data_uri(image), "xy": None if xy is None else [float(xy[0]), float(xy[1])],
                "projection": projection}

    def latent_map_plane_exact(self, payload: dict) -> dict:
        """{model, z1, z2} -> {image}: the exact decode of one point of a 2-D latent."""
        try:
            if not isinstance(payload, dict):
                raise ValueError("expected {model, z1, z2}")
            model = self.explorer.check_model(payload.get("model"))
            image = self.explorer.decode_point(model, payload.get("z1"), payload.get("z2"))
        except ValueError as exc:
            return {"error": str(exc)}
        return {"image": png_data_uri(image)}

    # ---- small KL vs KL 1 --------------------------------------------------------------------------
    def compare(self, a, b, method: str, models: tuple[str, str] = (SD_KL_MODEL, REGULARISED_MODEL)):
        """(strip of models[0], strip of models[1], {"en": table, "zh": table}) for pair (a, b): the strips are
        uint8 images zoomed STRIP_ZOOM x, the Markdown table comes in both languages (so a language switch can
        re-word it without measuring again). Without both checkpoints: (None, None, a message in both
        languages). Raises ValueError on bad input."""
        ex = self.explorer
        models = list(models)
        missing = [m for m in models if m not in ex.models()]
        if missing:
            return None, None, {lang: text("lmap.compare_missing", lang).format(
                a=models[0], b=models[1], missing=", ".join(missing)) for lang in LANGUAGES}
        a, b = ex.check_pair(a, b)
        rows = ex.compare(models, a, b, method, COMPARE_STEPS)
        stats = [ex.path_statistics(m, COMPARE_PAIRS, 0, method, COMPARE_STEPS) for m in models]
        tables = {lang: self._compare_table(models, rows, stats, a, b, method, lang) for lang in LANGUAGES}
        strips = [to_uint8(zoom(image_strip(r["frames"]), STRIP_ZOOM)) for r in rows]
        return strips[0], strips[1], tables

    def _compare_table(self, models, rows, stats, a: int, b: int, method: str, lang: str) -> str:
        """The comparison's Markdown table in `lang`: this pair's figures / the 50 random pairs' means."""
        lines = [f"| | {' | '.join(models)} |", "|---|" + "---|" * len(models)]

        def line(key: str, values: list[str]) -> None:
            lines.append(f"| {text('lmap.cmp_' + key, lang)} | {' | '.join(values)} |")

        line("kl_weight", [f"{r['kl_weight']:g}" for r in rows])
        line("psnr", [f"**{fmt(r['psnr'])}**" for r in rows])
        line("ssim", [fmt(r["ssim"], 3) for r in rows])
        line("blend", [f"{fmt(r['blend_psnr'], 1)} / {fmt(s['blend_psnr'], 1)}" for r, s in zip(rows, stats)])
        line("confidence", [f"{fmt(r['digit_confidence'], 3)} / {fmt(s['digit_confidence'], 3)}"
                            for r, s in zip(rows, stats)])
        line("evenness", [f"{fmt(r['evenness'])} / {fmt(s['evenness'])}" for r, s in zip(rows, stats)])
        lines.append("\n" + text("lmap.cmp_note", lang).format(
            a=a, la=self.labels[a], b=b, lb=self.labels[b], method=method, steps=COMPARE_STEPS, pairs=COMPARE_PAIRS))
        return "\n".join(lines)
