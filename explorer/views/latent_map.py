"""What the Latent map tab shows, as plain data: the JSON values its three gr.HTML components render (map,
A->B player, 2-D plane), the status and comparison Markdown, the strips of the comparison, and the two server
functions the players call. Also the tab's label table (STRINGS, English / 中文 pairs), which the tab registers
with explorer.ui.i18n. No Gradio here: all of it is tested with tiny models and no server.

Value shapes (read by explorer/ui/latent_map_assets/*.js):
  map:    {key, model, projection ("umap"|"pca"|"latent"), planar, axis, title, points {x, y, label},
           range {x: [lo, hi], y: [lo, hi]} (fitted to the dots and the path), a, b (None when the pair is
           refused), path {x, y} (FRAMES points) | None, grid (2-D VAE manifold image) | None, labels}
  player: {key, model, index_a, index_b, method, caption, frames [FRAMES PNG data URIs], labels, lang}, or
          {message} when there is no pair to play (a refused index, worded in the page's language)
  plane:  {model, extent [x0, x1, y0, y1], n, frames [n*n PNG data URIs, row 0 = top], labels}

A refused digit index never stops the rest: the map of the chosen model and projection is drawn without a path,
the status line says what is wrong (field and range, in the page's language), and the player says it too.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..latent_map import (FRAMES, REGULARISED_MODEL, SD_KL_MODEL, LatentMapExplorer, PairPath, image_strip,
                          png_data_uri, tile_grid, to_uint8)
from ..messages import LANGUAGES, Message, Refusal, define, normalise_lang, word

SPRITE_COLS = 25
PLANE_GRID = 21  # frames per side for the 2-D plane's live sliders
MANIFOLD_GRID = 15  # digits per side of the decoded manifold drawn under the scatter
COMPARE_STEPS = 9
COMPARE_PAIRS = 50
STRIP_ZOOM = 3
RANGE_PAD = 0.05  # each axis spans the data plus 5% of its extent on both sides
PAGE_FIELDS = (Message("map.field.a"), Message("map.field.b"))  # how the page names its two index boxes
define({"map.no_path": "No path to show: {reason}"})

STRINGS = {
    "lmap.intro": (
        "### The latent space, seen from above\n"
        "Each dot is one of the 500 held-out digits, encoded by the VAE and projected from its latent "
        "(for example 4 x 7 x 7 = 196 numbers) to 2-D. Hover a dot to see the digit. **Click (or tap) a dot to pick A, "
        "click another to pick B** (or type their indices), then **drag the slider**: the latent between A and B "
        "is decoded while you drag. The line on the map is that path (its in-between latents projected by the same "
        "reducer as the dots); the red ring is where you are.",
        "### 俯瞰潜空间\n"
        "每个点是 500 张留出测试数字之一：先由 VAE 编码，再把它的潜变量（例如 4 x 7 x 7 = 196 个数）投影到二维。"
        "鼠标悬停可以看到该数字。**点击（或轻触）一个点选为 A，再点击另一个点选为 B**（或直接输入编号），然后**拖动滑块**："
        "拖动时就会解码 A 与 B 之间的潜变量。地图上的线就是这条路径（中间的潜变量与点用同一个降维器投影），红圈是当前位置。"),
    "lmap.model": ("VAE", "VAE 模型"),
    "lmap.projection": ("Projection to 2-D", "二维投影方法"),
    "lmap.interp": ("Interpolation", "插值方式"),
    "lmap.index_a": ("A: digit index (0-499)", "A：编号（0-499）"),
    "lmap.index_b": ("B: digit index (0-499)", "B：编号（0-499）"),
    "lmap.use": ("Use these indices", "使用这两个编号"),
    "lmap.random": ("Random pair", "随机一对"),
    "lmap.same": ("Same digit", "相同数字"),
    "lmap.different": ("Different digits", "不同数字"),
    "lmap.target": ("Next click on the map sets", "下一次点击地图设置"),
    "lmap.grid": ("Show the decoded manifold under the points", "在点的下方显示解码后的流形"),
    "lmap.plane_intro": (
        "### The 2-D VAE's latent plane\nThis VAE squeezes each digit into just **two numbers**, so the map above is "
        "the latent plane itself (no projection). Every point of the plane decodes to a digit: move the two sliders.",
        "### 二维 VAE 的潜平面\n这个 VAE 只用**两个数**表示一个数字，所以上面的地图就是潜平面本身（无需投影）。"
        "平面上的每个点都能解码成一个数字：拖动这两个滑块试试。"),
    "lmap.compare_intro": (
        "### Why regularise? Small KL vs KL 1 on the same pair\n"
        "Stable Diffusion's VAE uses a tiny KL weight (1e-6): it reconstructs sharply, but nothing makes its codes "
        "fill the space between digits, so the way from A to B is free to pass through images that look like "
        "neither (often a double exposure of A and B). A KL weight of 1 (the textbook VAE) pulls every code "
        "towards N(0, I), packing the digits together, at a price in reconstruction quality (PSNR). Both models "
        "below share one network; the table measures these effects on your pair and on 50 random pairs, so you "
        "can judge how large they are here.",
        "### 为什么要正则化？同一对数字：小 KL 与 KL=1 的对比\n"
        "Stable Diffusion 的 VAE 用很小的 KL 权重（1e-6）：重建很清晰，但没有任何约束让编码填满数字之间的空间，"
        "所以从 A 到 B 的路径可能经过两者都不像的图像（常常是 A 和 B 的“双重曝光”）。KL 权重为 1（教科书式 VAE）"
        "把每个编码拉向 N(0, I)，让数字彼此靠拢，代价是重建质量（PSNR）下降。下面两个模型的网络结构相同；"
        "表格在你选的这一对和 50 对随机数字上测量这些效应，你可以自己判断它们在这里有多大。"),
    "lmap.compare": ("Compare on this pair", "用这一对数字比较"),
    "lmap.api_image": ("/interpolate result", "/interpolate 结果"),
    "lmap.no_models": ("No MNIST VAE checkpoint is installed, so there is no latent map to draw.",
                       "未安装 MNIST VAE 检查点，因此无法绘制潜空间地图。"),

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


def text(key: str, lang: str | None = "en", **values) -> str:
    """STRINGS[key] in `lang` ("en" or "zh"), formatted with `values` when given."""
    english, chinese = STRINGS[key]
    chosen = chinese if normalise_lang(lang) == "zh" else english
    return chosen.format(**values) if values else chosen


def page_language(choice: str | None, headers=None) -> str:
    """The page's language: the app's language switch when there is one (`choice`), else the browser's first
    Accept-Language (from request `headers`). "zh" for any Chinese, else "en"."""
    if not choice:
        choice = str((headers or {}).get("accept-language", ""))
    return normalise_lang(choice.strip())


def warning(refusal: Exception, lang: str) -> str:
    """A refusal as one bold Markdown line in `lang`, for the status line and the comparison."""
    return "⚠ **" + word(refusal, lang) + "**"


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


def pair_key(model: str, a, b, method: str) -> str:
    """Identifies one A->B path; the map and the player match their position events on it."""
    return f"{model}|{a}|{b}|{method}"


def axis_range(*values: np.ndarray, pad: float = RANGE_PAD) -> list[float]:
    """[lo, hi] covering every finite value given, widened by `pad` of the extent on each side (an axis with
    no extent gets +-0.5). What the map's axes show, so the dots fill the plot at any width."""
    finite = np.concatenate([np.ravel(np.asarray(v, dtype=np.float64)) for v in values])
    finite = finite[np.isfinite(finite)]
    if len(finite) == 0:
        return [-1.0, 1.0]
    lo, hi = float(finite.min()), float(finite.max())
    margin = (hi - lo) * pad if hi > lo else 0.5
    return [round(lo - margin, 4), round(hi + margin, 4)]


@dataclass(frozen=True)
class Page:
    """Everything a new model / pair / method / language needs: the map's and the player's values, the status
    Markdown, whether a UMAP fit is still pending (the tab polls until it is not), and the refusal of the pair
    (None when the pair is good)."""

    map: dict
    player: dict
    status: str
    pending: bool
    refusal: Refusal | None = None


class LatentMapViews:
    """Builds the tab's values over one LatentMapExplorer (caches the 2-D VAE's grids per model)."""

    def __init__(self, explorer: LatentMapExplorer):
        self.explorer = explorer
        self.labels = explorer.digits.labels
        self._manifold: dict[str, dict] = {}
        self._plane: dict[str, dict] = {}

    # ---- indices typed or clicked on the page ----------------------------------------------------------
    def parse_pair(self, a, b) -> tuple[int, int]:
        """The page's two boxes as indices, by the one whole-number rule; a Refusal naming the box otherwise."""
        return self.explorer.check_pair(a, b, PAGE_FIELDS)

    def parse_clicked(self, payload) -> int:
        """The index a click on the map sent ({"index": i}); a Refusal if it is not one of the digits."""
        index = payload.get("index") if isinstance(payload, dict) else None
        return self.explorer.check_pair(index, 0, (Message("map.field.clicked"), PAGE_FIELDS[1]))[0]

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

    def map_value(self, model: str, projection: str, a, b, method: str, show_grid: bool,
                  lang: str = "en") -> tuple[dict, str, bool]:
        """(map value, status Markdown, whether a UMAP fit is still pending). A refused pair (a, b as typed)
        gives the map without a path and says why in the status; a refused model or method raises Refusal."""
        value, status, pending, _ = self._map(model, projection, a, b, method, show_grid, lang)
        return value, status, pending

    def _map(self, model, projection, a, b, method, show_grid, lang):
        ex = self.explorer
        ex.check_model(model)
        proj, name, notice = self.shown_projection(model, projection, lang)
        try:
            a, b = self.parse_pair(a, b)
            xy, refusal = ex.path_xy(model, a, b, method, FRAMES, proj), None
        except Refusal as exc:
            if exc.code == "map.interp_method":
                raise
            a, b, xy, refusal = None, None, None, exc
        shape = ex.latent_shape(model)
        shape_text = "x".join(map(str, shape))
        coords = proj.coords
        path_xy = [] if xy is None else [xy[:, 0], xy[:, 1]]
        value = {"key": pair_key(model, a, b, method), "model": model, "projection": name,
                 "planar": name == "latent", "axis": self.axis_titles(proj, name, lang),
                 "title": self.title(model, shape_text, name, lang),
                 "points": {"x": coords[:, 0].round(4).tolist(), "y": coords[:, 1].round(4).tolist(),
                            "label": self.labels.tolist()},
                 "range": {"x": axis_range(coords[:, 0], *path_xy[:1]), "y": axis_range(coords[:, 1], *path_xy[1:])},
                 "a": a, "b": b,
                 "path": None if xy is None else {"x": xy[:, 0].round(4).tolist(), "y": xy[:, 1].round(4).tolist()},
                 "grid": self.manifold(model) if (name == "latent" and show_grid) else None,
                 "labels": {"path": text("lmap.path", lang), "digit": text("lmap.digit", lang)}}
        status = text("lmap.status", lang, model=model, shape=shape_text, n=int(np.prod(shape)))
        if name == "pca":
            status += ("；" if normalise_lang(lang) == "zh" else "; ") + text(
                "lmap.pca_kept", lang, pct=100 * proj.explained_variance_ratio.sum())
        if notice:
            status += f"  \n*{notice}*"
        if refusal is not None:
            status += "  \n" + warning(Message("map.no_path", reason=refusal), lang)
        pending = name == "pca" and projection == "umap" and ex.projections.status(model, "umap") == "pending"
        return value, status, pending, refusal

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
                "index_a": pp.index_a, "index_b": pp.index_b, "method": pp.method, "lang": normalise_lang(lang),
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
        return {**self._plane[model], "labels": labels, "lang": normalise_lang(lang)}

    def page(self, model: str, projection: str, a, b, method: str, show_grid: bool, lang: str = "en") -> Page:
        """Everything a new pair / model / method / language needs. A refused pair does not raise: the map of
        `model` is drawn without a path and the player and status say why, in `lang`."""
        value, status, pending, refusal = self._map(model, projection, a, b, method, show_grid, lang)
        if refusal is not None:
            player = {"message": word(Message("map.no_path", reason=refusal), lang)}
        else:
            player = self.player_value(self.explorer.pair_path(model, value["a"], value["b"], method, FRAMES), lang)
        return Page(value, player, status, pending, refusal)

    def render(self, model: str, projection: str, a, b, method: str, show_grid: bool, lang: str = "en"):
        """(map value, player value, status, pending) for a GOOD pair; Refusal for a bad one (see `page`)."""
        page = self.page(model, projection, a, b, method, show_grid, lang)
        if page.refusal is not None:
            raise page.refusal
        return page.map, page.player, page.status, page.pending

    # ---- server functions called by the players' JavaScript (never raise: errors come back as data) ---
    def latent_map_exact(self, payload: dict) -> dict:
        """{model, index_a, index_b, alpha, method, projection, lang} -> {image (PNG data URI), xy, projection},
        or {error} worded in `lang`."""
        lang = payload.get("lang") if isinstance(payload, dict) else None
        try:
            if not isinstance(payload, dict):
                raise ValueError("expected {model, index_a, index_b, alpha, method}")
            projection = payload.get("projection")
            # the map calls the 2-D VAE's own plane "latent"; its projection object is the identity
            fitted = {"umap": "umap", "pca": "pca", "latent": "pca"}.get(projection)
            image, xy = self.explorer.exact(payload.get("model"), payload.get("index_a"), payload.get("index_b"),
                                            payload.get("alpha"), payload.get("method"), fitted)
        except ValueError as exc:
            return {"error": word(exc, lang)}
        return {"image": png_data_uri(image), "xy": None if xy is None else [float(xy[0]), float(xy[1])],
                "projection": projection}

    def latent_map_plane_exact(self, payload: dict) -> dict:
        """{model, z1, z2, lang} -> {image}: the exact decode of one point of a 2-D latent, or {error}."""
        lang = payload.get("lang") if isinstance(payload, dict) else None
        try:
            if not isinstance(payload, dict):
                raise ValueError("expected {model, z1, z2}")
            image = self.explorer.decode_point(payload.get("model"), payload.get("z1"), payload.get("z2"))
        except ValueError as exc:
            return {"error": word(exc, lang)}
        return {"image": png_data_uri(image)}

    # ---- small KL vs KL 1 --------------------------------------------------------------------------
    def compare(self, a, b, method: str, models: tuple[str, str] = (SD_KL_MODEL, REGULARISED_MODEL)):
        """(strip of models[0], strip of models[1], {"en": table, "zh": table}) for pair (a, b) as typed on the
        page: the strips are uint8 images zoomed STRIP_ZOOM x, the Markdown table comes in both languages (so a
        language switch can re-word it without measuring again). Without both checkpoints: (None, None, a
        message in both languages); likewise for a refused pair (naming the page's box)."""
        ex = self.explorer
        models = list(models)
        missing = [m for m in models if m not in ex.models()]
        if missing:
            return None, None, {lang: text("lmap.compare_missing", lang, a=models[0], b=models[1],
                                           missing=", ".join(missing)) for lang in LANGUAGES}
        try:
            a, b = self.parse_pair(a, b)
        except Refusal as exc:
            return None, None, {lang: warning(exc, lang) for lang in LANGUAGES}
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
        lines.append("\n" + text("lmap.cmp_note", lang, a=a, la=self.labels[a], b=b, lb=self.labels[b],
                                 method=method, steps=COMPARE_STEPS, pairs=COMPARE_PAIRS))
        return "\n".join(lines)
