"""What the Denoising tab shows, as pure functions (no Gradio, no models): the panels of each step, the one payload
a run sends to the browser's player (sprite sheets of every step's panels, timesteps, ᾱ_t and SNR, the player's
words in both languages), the /generate frames file, the latent-vs-pixel comparison table and the quality table.
Numpy in; uint8 images, PNG data URIs, dicts and Markdown out. The UI label table STRINGS ({key: (English,
中文)}) is registered by explorer/ui/denoising_tab.py.

Panels of a step (what the player draws, left to right): the noisy sample x_t the denoiser saw (each channel on a
blue-white-red scale, saturating at ±CHANNEL_RANGE), the model's clean estimate x0_hat decoded to an image, and
x_t decoded to an image. Sheets hold them at native size (a 4x7x7 latent is a 2x2 grid of 7x7 tiles with 1-pixel
gaps, 15x15; a digit is 28x28); the browser enlarges them with square pixels.
"""
from __future__ import annotations

import base64
import io
import math

import numpy as np
from PIL import Image

from ..diffusion import NoiseSchedule

PANEL = 112  # side of a panel enlarged for a person (28x28 digits x4)
API_PANEL = 56
GAP = 4
CHANNEL_RANGE = {"latent": 3.0, "pixel": 1.5}  # colour scale +-range of raw x_t (x_T ~ N(0, I))
PANEL_KINDS = ("noisy", "x0", "current")
TICK_MS = 150  # one playback tick at 1x speed
PLAYBACK_TICKS = 60  # a run of any length plays in about this many ticks: stride = max(1, n // PLAYBACK_TICKS)
SPEEDS = (0.5, 1, 2, 4)

STRINGS = {
    "den.intro": (
        "### Denoising, step by step: why Stable Diffusion diffuses in the latent space\n"
        "A diffusion model starts from pure noise and removes a little of it at every step. **Latent** diffusion "
        "does this on the VAE's small latent (here 4x7x7 = 196 numbers, scaled by the VAE's scale factor as Stable "
        "Diffusion does) and decodes only at the end; **pixel** diffusion does it on the 1x28x28 = 784 pixels "
        "themselves, with the same UNet design and the same training budget. Pick a digit and press Generate, then "
        "scrub or play through the steps. Left to right at each step: the noisy sample x_t the model sees (latent "
        "channels on a blue-white-red scale), the model's prediction of the clean result x0, and x_t decoded.",
        "### 逐步去噪：Stable Diffusion 为什么在潜空间里扩散\n"
        "扩散模型从纯噪声出发，每一步去掉一点噪声。**潜空间**扩散在 VAE 的小潜变量上进行（这里是 4x7x7 = 196 个数，"
        "并像 Stable Diffusion 那样乘以 VAE 的缩放因子），只在最后解码；**像素空间**扩散直接在 1x28x28 = 784 个像素上进行，"
        "使用同样设计的 UNet 和同样的训练预算。选择一个数字并点击“生成”，然后拖动或播放各个步骤。每一步从左到右："
        "模型看到的带噪样本 x_t（潜通道用蓝-白-红色标表示）、模型对干净结果 x0 的预测，以及解码后的 x_t。"),
    "den.digit": ("Digit (-1 = unconditional)", "数字（-1 = 无条件）"),
    "den.seed": ("Seed", "随机种子"),
    "den.sampler": ("Sampler", "采样器"),
    "den.steps": ("Steps (1-1000)", "步数（1-1000）"),
    "den.spacing": ("Timestep spacing (leading: Stable Diffusion 1.x's, the first step is at (steps - 1) x "
                    "(1000 // steps); trailing: the first step is at t = 999, pure noise)",
                    "时间步间隔方式（leading：Stable Diffusion 1.x 的方式，第一步在 (步数 - 1) x (1000 // 步数)；"
                    "trailing：第一步在 t = 999，即纯噪声）"),
    "den.guidance": ("Classifier-free guidance scale (0 = unconditional, 1 = conditional only)",
                     "无分类器引导系数（0 = 无条件，1 = 仅条件）"),
    "den.generate": ("Generate", "生成"),
    "den.compare_title": ("#### Measured on this machine, this request", "#### 本机实测（本次请求）"),
    "den.col_what": ("Quantity", "指标"),
    "den.col_latent": ("latent", "潜空间"),
    "den.col_pixel": ("pixel", "像素空间"),
    "den.col_ratio": ("pixel / latent", "像素 / 潜空间"),
    "den.row_dims": ("numbers the UNet denoises per step", "UNet 每步处理的数字个数"),
    "den.row_params": ("UNet parameters", "UNet 参数量"),
    "den.row_step_ms": ("time per step (median, ms)", "每步耗时（中位数，毫秒）"),
    "den.row_denoise_s": ("all denoising steps (s)", "全部去噪步骤（秒）"),
    "den.row_decode_s": ("decoding every frame (s)", "解码所有帧（秒）"),
    "den.row_total_s": ("total (s)", "总计（秒）"),
    "den.passes": ("UNet passes per step: 2 (classifier-free guidance runs the conditional and unconditional "
                   "prediction in one batch of 2). Pixels need no decoder; the latent run decodes both x0 and x_t "
                   "of every step through the VAE, in batches.",
                   "每步 UNet 前向次数：2（无分类器引导把条件与无条件预测放在同一个大小为 2 的批次里）。像素空间不需要解码器；"
                   "潜空间运行会把每一步的 x0 与 x_t 都分批经 VAE 解码。"),
    "den.passes_uncond": ("UNet passes per step: 1 (unconditional: no digit is asked for, so there is no guidance and "
                          "the guidance scale is not used). Pixels need no decoder; the latent run decodes both x0 and "
                          "x_t of every step through the VAE, in batches.",
                          "每步 UNet 前向次数：1（无条件生成：没有指定数字，因此没有引导，引导系数不起作用）。像素空间不需要解码器；"
                          "潜空间运行会把每一步的 x0 与 x_t 都分批经 VAE 解码。"),
    "den.references": (
        "**For comparison.** The chapter: a 512x512x3 image (786,432 numbers) becomes a 64x64x4 latent (16,384), "
        "**48x** fewer numbers per step. Latent Diffusion paper (Rombach et al. 2022, Table 6): LDM-4 samples "
        "**3.7x** (256²) to **4.9x** (512²) faster than pixel-space LDM-1 at fixed parameters. Here the latent is "
        "**{dims}x** smaller than the pixels (f = 4, 4 channels over a 1-channel 28x28 digit), and one step is "
        "**{speed}** faster in this run.",
        "**对照。** 本章：512x512x3 的图像（786,432 个数）变成 64x64x4 的潜变量（16,384 个数），每步少 **48 倍**。"
        "Latent Diffusion 论文（Rombach 等，2022，表 6）：在参数量相同时，LDM-4 的采样速度比像素空间的 LDM-1 快 "
        "**3.7 倍**（256²）到 **4.9 倍**（512²）。这里潜变量比像素小 **{dims} 倍**（f = 4，4 个通道，对应单通道 28x28 "
        "数字），本次运行中每一步快 **{speed}**。"),
    "den.quality_title": ("#### Quality and training budget (from each checkpoint's metrics.json)",
                          "#### 质量与训练预算（来自各检查点的 metrics.json）"),
    "den.quality_row": ("| {name} | {space} | {steps:,} steps x {batch} = {seen:,} samples | {secs:,.0f} s "
                        "({ms} ms/step, {device}) | {agree} | {smudged} |",
                        "| {name} | {space} | {steps:,} 步 x {batch} = {seen:,} 个样本 | {secs:,.0f} 秒"
                        "（每步 {ms} 毫秒，{device}） | {agree} | {smudged} |"),
    "den.quality_head": ("| model | space | training budget | training wall time (where it trained) | "
                         "classifier agrees with the requested digit | smudged |\n|---|---|---|---|---|---|",
                         "| 模型 | 空间 | 训练预算 | 训练耗时（训练所用设备） | 分类器认同所请求数字的比例 | 涂抹 |\n"
                         "|---|---|---|---|---|---|"),
    "den.agree": ("{pct:.1f}% of {n} ({sampler}, {spacing} spacing, {steps} steps, guidance {g:g})",
                  "{pct:.1f}%，共 {n} 个（{sampler}，{spacing} 时间步间隔，{steps} 步，引导系数 {g:g}）"),
    "den.sweep": ("guidance chosen on other seeds: {sweep}", "在另一组种子上选择引导系数：{sweep}"),
    "den.quality_note": (
        "Each model's guidance scale was chosen from {grid} on one set of seeds and the agreement above was then "
        "measured on fresh seeds (`python -m explorer.train_diffusion --evaluate-only`). The classifier reads "
        "{acc:.1f}% of real held-out digits correctly. High guidance over-saturates pixel-space samples (x0 is "
        "clipped to [-1, 1] there), so the two spaces may prefer different scales. *Smudged*: the share of those "
        "samples with more mid-grey pixels (between 0.15 and 0.85) than 95% of real held-out digits; real MNIST "
        "scores 5% by construction, and the held-out digits passed through the latent model's VAE{floor}.",
        "每个模型的引导系数先在一组种子上从 {grid} 中选出，再在新的种子上测量上表的认同率"
        "（`python -m explorer.train_diffusion --evaluate-only`）。该分类器对真实留出数字的准确率为 {acc:.1f}%。"
        "较大的引导系数会让像素空间的样本过饱和（那里 x0 被裁剪到 [-1, 1]），所以两个空间偏好的系数可能不同。"
        "*涂抹*：这些样本中，中间灰度像素（介于 0.15 与 0.85 之间）比 95% 的真实留出数字还多的比例；"
        "真实 MNIST 按定义为 5%，留出数字经潜空间模型的 VAE{floor}。"),
    "den.floor": (", {vae} (encode, decode), score {pct:.1f}% (the floor for samples decoded by that VAE)",
                  "（{vae}）编码再解码后为 {pct:.1f}%（由该 VAE 解码的样本所能达到的下限）"),
    "den.floor_unknown": (" (encode, decode) were not measured", "编码再解码后未测量"),
    "den.not_graded": ("not measured", "未测量"),
    "den.spacing_note": (
        "**Few steps and the timestep spacing.** *Leading* spacing (the default, Stable Diffusion 1.x's) starts "
        "below pure noise: 1 step runs at t = 0 (pure noise labelled as an almost clean sample, so 1 step draws "
        "nothing), 2 steps at t = 500 and 0. *Trailing* spacing always starts at t = {t_first}, where only "
        "ᾱ = {abar:.1e} of the signal's variance is left. The UNet predicts the noise, and its clean estimate "
        "x0 = (x_t - √(1 - ᾱ) ε) / √ᾱ divides the prediction's small errors by √ᾱ = {root:.4f}. Unclipped, that made "
        "few trailing steps come out as noise; both models now clip x0 to the range of their training data, and "
        "measured with this latent model 2-5 steps draw the requested digit most of the time with either spacing, "
        "leading a little more often at 2-3 steps. Lin et al. (2024) pair trailing spacing with a zero-terminal-SNR schedule and "
        "v-prediction, which these models were not trained with. Measure it: `python -m explorer.evaluate_diffusion "
        "--steps 1 2 3 5 10 50 --spacing trailing leading`.",
        "**步数很少时与时间步间隔方式。** *leading*（默认，Stable Diffusion 1.x 的方式）的起点低于纯噪声：1 步时在 "
        "t = 0（把纯噪声当作几乎干净的样本，所以 1 步画不出东西），2 步时在 t = 500 和 0。*trailing* 的第一步总是在 "
        "t = {t_first}，那里信号方差只剩 ᾱ = {abar:.1e}。UNet 预测的是噪声，它对干净样本的估计 "
        "x0 = (x_t - √(1 - ᾱ) ε) / √ᾱ 会把预测中的小误差除以 √ᾱ = {root:.4f}。不裁剪时，步数很少的 trailing 采样"
        "基本是噪声；现在两个模型都把 x0 裁剪到各自训练数据的范围内，实测这个潜空间模型用任一种间隔方式 2-5 步多数时候"
        "都能画出要求的数字，2-3 步时 leading 略好。Lin 等（2024）把 trailing 与终端信噪比为零的噪声调度和 v 预测一起使用，"
        "而这里的模型并不是这样训练的。"
        "自己测一测：`python -m explorer.evaluate_diffusion --steps 1 2 3 5 10 50 --spacing trailing leading`。"),
    "den.guidance_note": ("Both spaces ran with guidance {g:g} here; the scales that graded best are {best}.",
                          "这里两个空间都使用引导系数 {g:g}；评测中表现最好的系数为 {best}。"),
    "den.missing": ("No latent denoiser is installed; train it with `python -m explorer.train_diffusion`.",
                    "未安装潜空间去噪模型；请用 `python -m explorer.train_diffusion` 训练。"),
    "den.api_final": ("Final image", "最终图像"),
}
STRINGS.update({
    "den.with_pixel": ("Also run the same request in pixel space (the speed comparison: about twice the work; off "
                       "by default so that a class gets its first frames fast)",
                       "同时在像素空间运行同样的请求（速度对比：计算量约为两倍；默认关闭，让全班更快看到第一帧）"),
    "den.pixel_off": ("Pixel space was not run: tick the box above Generate to compare (this run is kept, so only "
                      "the pixel run is computed).",
                      "未运行像素空间：勾选“生成”上方的选项即可对比（本次结果已缓存，只需计算像素空间）。"),
    "den.computing": ("Computing {steps} steps… {seconds:.1f} s", "正在计算 {steps} 步… {seconds:.1f} 秒"),
    "den.row.latent": ("Latent space ({model} on {vae} latents)", "潜空间（{model}，基于 {vae} 的潜变量）"),
    "den.row.pixel": ("Pixel space ({model}, same UNet design, same budget)",
                      "像素空间（{model}，同样的 UNet 设计与训练预算）"),
    "den.panel.noisy.latent": ("Noisy latent x_t: 4 channels (blue < 0 < red, ±3)",
                               "带噪潜变量 x_t：4 个通道（蓝 < 0 < 红，±3）"),
    "den.panel.x0.latent": ("Predicted x0, decoded by the VAE", "预测的 x0，经 VAE 解码"),
    "den.panel.current.latent": ("Current x_t, decoded by the VAE", "当前 x_t，经 VAE 解码"),
    "den.panel.noisy.pixel": ("Noisy pixels x_t (blue < 0 < red, ±1.5)", "带噪像素 x_t（蓝 < 0 < 红，±1.5）"),
    "den.panel.x0.pixel": ("Predicted x0 (pixels)", "预测的 x0（像素）"),
    "den.panel.current.pixel": ("Current x_t as an image", "当前 x_t 作为图像"),
    "den.player.status": ("Step {i} / {n} (t = {t}): ᾱ_t = {abar} of the signal's variance is left, SNR = {snr}.",
                          "第 {i} / {n} 步（t = {t}）：信号方差还剩 ᾱ_t = {abar}，信噪比 SNR = {snr}。"),
    "den.player.play": ("▶ Play", "▶ 播放"),
    "den.player.pause": ("❚❚ Pause", "❚❚ 暂停"),
    "den.player.step": ("Step", "步骤"),
    "den.player.speed": ("Speed", "速度"),
    "den.player.first": ("First step", "第一步"),
    "den.player.prev": ("Previous step", "上一步"),
    "den.player.next": ("Next step", "下一步"),
    "den.player.last": ("Last step", "最后一步"),
    "den.player.keys": ("Keys: ← → step, Home / End, space plays or pauses.",
                        "按键：← → 逐步，Home / End 首尾，空格键播放或暂停。"),
    "den.player.no_pixel": ("Pixel space was not run.", "未运行像素空间。"),
    "den.player.schedule": ("Noise schedule: how much signal is left at each t", "噪声调度：每个 t 还剩多少信号"),
    "den.player.press": ("Press Generate to run the sampler; every step is sent once and played here, in your browser.",
                         "点击“生成”运行采样器；每一步只发送一次，在你的浏览器里播放。"),
    "den.player.fig.x_axis": ("timestep t (1000 = pure noise)", "时间步 t（1000 = 纯噪声）"),
    "den.player.fig.abar_axis": ("ᾱ_t (signal kept)", "ᾱ_t（保留的信号）"),
    "den.player.fig.snr_axis": ("SNR (log)", "信噪比 SNR（对数）"),
    "den.player.fig.abar": ("ᾱ_t", "ᾱ_t"),
    "den.player.fig.snr": ("SNR = ᾱ/(1-ᾱ)", "信噪比 SNR = ᾱ/(1-ᾱ)"),
    "den.player.fig.sampled": ("sampled t", "采样的 t"),
    "den.player.fig.now": ("now: t={t}", "当前：t={t}"),
    "den.err.checkpoint": ("A model checkpoint could not be loaded: {detail}", "无法加载模型检查点：{detail}"),
    "den.frames_file": ("Frames (one .npz file)", "所有帧（一个 .npz 文件）"),
})


def word(key: str, lang: str, **values) -> str:
    """STRINGS[key] in `lang` ("zh" or else English), formatted with `values` when given."""
    english, chinese = STRINGS[key]
    chosen = chinese if str(lang).lower().startswith("zh") else english
    return chosen.format(**values) if values else chosen


def both(key: str, **values) -> dict[str, str]:
    """{"en": ..., "zh": ...} for the browser, which words the page itself when the language changes."""
    return {lang: word(key, lang, **values) for lang in ("en", "zh")}


# ---- panels ---------------------------------------------------------------------------------------------------
def to_uint8(image: np.ndarray) -> np.ndarray:
    """[0, 1] floats -> uint8 (rounded), the exact pixels a PNG stores."""
    return np.round(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def zoom(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling of (H, W[, C]) by an integer factor (keeps pixels visibly square)."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def diverging(values: np.ndarray, vmax: float) -> np.ndarray:
    """(H, W) values -> (H, W, 3) uint8: blue for negative, white for 0, red for positive, saturating at vmax."""
    v = np.clip(np.asarray(values, dtype=np.float32) / vmax, -1.0, 1.0)[..., None]
    white, red, blue = np.array([1.0, 1.0, 1.0]), np.array([0.80, 0.10, 0.15]), np.array([0.10, 0.30, 0.80])
    rgb = np.where(v >= 0, white + v * (red - white), white - v * (blue - white))
    return to_uint8(rgb)


def channel_panel(x: np.ndarray, vmax: float, size: int | None = PANEL) -> np.ndarray:
    """(C, h, w) raw sample -> uint8 RGB: channels tiled in a square grid (1-pixel white gaps), each zoomed by
    the largest integer factor that fits a size x size canvas (size None: native, factor 1, no canvas)."""
    c, h, w = x.shape
    cols = int(np.ceil(np.sqrt(c)))
    rows = int(np.ceil(c / cols))
    factor = 1 if size is None else max(1, min((size - (rows - 1)) // (rows * h), (size - (cols - 1)) // (cols * w)))
    grid = np.full((rows * h * factor + (rows - 1), cols * w * factor + (cols - 1), 3), 255, np.uint8)
    for i in range(c):
        r, k = divmod(i, cols)
        top, left = r * (h * factor + 1), k * (w * factor + 1)
        grid[top:top + h * factor, left:left + w * factor] = zoom(diverging(x[i], vmax), factor)
    return grid if size is None else _fit(grid, size)


def image_panel(image: np.ndarray, size: int = PANEL) -> np.ndarray:
    """(1, 28, 28) or (28, 28) image in [0, 1] -> (size, size, 3) uint8 grey, zoomed by size // 28."""
    grey = to_uint8(np.asarray(image).reshape(image.shape[-2:]))
    return _fit(np.repeat(zoom(grey, max(1, size // grey.shape[0]))[..., None], 3, axis=2), size)


def _fit(panel: np.ndarray, size: int) -> np.ndarray:
    """Centre a panel on a white size x size canvas."""
    out = np.full((size, size, 3), 255, np.uint8)
    h, w = min(panel.shape[0], size), min(panel.shape[1], size)
    top, left = (size - h) // 2, (size - w) // 2
    out[top:top + h, left:left + w] = panel[:h, :w]
    return out


def step_panels(x_t: np.ndarray, x0_image: np.ndarray, current_image: np.ndarray, space: str,
                size: int = PANEL) -> list[np.ndarray]:
    """The three panels of one step, enlarged: noisy channels of x_t (C, h, w), decoded x0_hat, decoded x_t."""
    return [channel_panel(x_t, CHANNEL_RANGE[space], size), image_panel(x0_image, size),
            image_panel(current_image, size)]


def frame_strip(panels: list[np.ndarray], gap: int = GAP) -> np.ndarray:
    """Equal square panels side by side with white gaps: one (S, n*S + (n-1)*gap, 3) frame."""
    size = panels[0].shape[0]
    out = np.full((size, len(panels) * size + (len(panels) - 1) * gap, 3), 255, np.uint8)
    for i, p in enumerate(panels):
        out[:, i * (size + gap): i * (size + gap) + size] = p
    return out


# ---- sprite sheets and the player's payload ---------------------------------------------------------------------
def sheet(frames: np.ndarray, cols: int | None = None) -> tuple[np.ndarray, int]:
    """(S, h, w[, 3]) uint8 frames -> (rows*h, cols*w[, 3]) one image, frame i at row i // cols, column i % cols
    (row-major, no gaps); cols defaults to ceil(sqrt(S)). Returns (sheet, cols)."""
    s, h, w = frames.shape[:3]
    cols = cols or max(1, math.ceil(math.sqrt(s)))
    rows = math.ceil(s / cols)
    out = np.zeros((rows * h, cols * w, *frames.shape[3:]), np.uint8)
    for i in range(s):
        r, c = divmod(i, cols)
        out[r * h:(r + 1) * h, c * w:(c + 1) * w] = frames[i]
    return out, cols


def png_uri(image: np.ndarray) -> str:
    """uint8 (H, W) grey or (H, W, 3) RGB -> a PNG data URI (lossless)."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def run_frames(space: str, x_t: np.ndarray, x0_images: np.ndarray, current_images: np.ndarray) -> dict:
    """Every step's native panels of one run (batch element 0): {"noisy": (S, H, W, 3), "x0": (S, 28, 28),
    "current": (S, 28, 28)} uint8. x_t: (S, C, h, w) raw; images: (S, 1, 28, 28) in [0, 1]."""
    vmax = CHANNEL_RANGE[space]
    return {"noisy": np.stack([channel_panel(x, vmax, None) for x in x_t]),
            "x0": to_uint8(x0_images[:, 0]), "current": to_uint8(current_images[:, 0])}


def run_payload(space: str, model: str, vae: str | None, frames: dict, timings: dict) -> dict:
    """One run for the browser: a PNG sprite sheet per panel kind (layout of `sheet`), each cell's size and the
    sheet's columns, plus the words above each panel and the run's timings (see Generation.timings)."""
    kinds = {}
    for kind in PANEL_KINDS:
        image, cols = sheet(frames[kind])
        kinds[kind] = {"src": png_uri(image), "cols": cols, "w": int(frames[kind].shape[2]),
                       "h": int(frames[kind].shape[1]), "label": both(f"den.panel.{kind}.{space}")}
    title = both("den.row.latent", model=model, vae=vae or "") if space == "latent" else both("den.row.pixel",
                                                                                            model=model)
    return {"space": space, "model": model, "title": title, "panels": kinds, "timings": timings}


def player_payload(key: str, schedule: NoiseSchedule, timesteps: list[int], runs: list[dict],
                   autoplay: bool = True) -> dict:
    """Everything the player needs for one Generate, sent once: the runs (run_payload), the timesteps visited,
    ᾱ_t and SNR = ᾱ/(1-ᾱ) at each of them, the whole schedule curve (every t; source: the denoiser's
    config.json "schedule"), playback settings and the player's words in both languages. `key` changes with
    every new result, so the player restarts at step 1."""
    abar = schedule.alphas_cumprod.double().numpy()
    snr = abar / (1.0 - abar)
    ts = np.asarray(timesteps, dtype=np.int64)
    return {"key": key, "n": len(timesteps), "timesteps": [int(t) for t in ts],
            "abar": [float(f"{v:.6g}") for v in abar[ts]], "snr": [float(f"{v:.6g}") for v in snr[ts]],
            "curve": {"abar": [float(f"{v:.5g}") for v in abar], "snr": [float(f"{v:.5g}") for v in snr]},
            "runs": runs, "autoplay": autoplay, "tick_ms": TICK_MS,
            "stride": max(1, len(timesteps) // PLAYBACK_TICKS), "speeds": list(SPEEDS), "words": player_words()}


PLAYER_KEYS = ("status", "play", "pause", "step", "speed", "first", "prev", "next", "last", "keys", "no_pixel",
               "fig.x_axis", "fig.abar_axis", "fig.snr_axis", "fig.abar", "fig.snr", "fig.sampled", "fig.now",
               "schedule", "press")


def player_words() -> dict[str, dict[str, str]]:
    """The player's words: {"en": {name: text}, "zh": {...}}; "status" and "fig.now" are templates with
    {i} {n} {t} {abar} {snr} that the browser fills in."""
    return {lang: {k: word(f"den.player.{k}", lang) for k in PLAYER_KEYS} for lang in ("en", "zh")}


def idle_payload(schedule: NoiseSchedule | None) -> dict:
    """Before any run: the schedule curve alone and the "press Generate" words."""
    if schedule is None:
        return {"key": "", "n": 0, "runs": [], "words": player_words(), "message": both("den.missing")}
    payload = player_payload("", schedule, [], [], autoplay=False)
    return payload


# ---- /generate's frames file ------------------------------------------------------------------------------------
FRAMES_FILE_LAYOUT = """frames.npz (numpy.load): one row per step i = 0..S-1, noisiest first.
  timesteps       (S,) int64     the timestep t the denoiser saw at step i
  alphas_cumprod  (S,) float64   ᾱ_t at those timesteps
  snr             (S,) float64   ᾱ_t / (1 - ᾱ_t)
  x_t             (S, C, h, w) float32  the noisy sample at step i, in the diffused space (latent: x VAE scale_factor)
  pred_x0         (S, C, h, w) float32  the model's clean estimate x0_hat at step i, same space
  x0_images       (S, 28, 28) uint8     x0_hat decoded to pixels
  current_images  (S, 28, 28) uint8     x_t decoded to pixels
  final           (28, 28) uint8        the generated digit (same pixels as the final PNG)"""


def frames_arrays(g, schedule: NoiseSchedule) -> dict[str, np.ndarray]:
    """The arrays of FRAMES_FILE_LAYOUT for batch element 0 of a Generation `g`."""
    abar = schedule.alphas_cumprod.double().numpy()[np.asarray(g.timesteps, dtype=np.int64)]
    return {"timesteps": np.asarray(g.timesteps, dtype=np.int64), "alphas_cumprod": abar, "snr": abar / (1 - abar),
            "x_t": g.x_t[:, 0].astype(np.float32), "pred_x0": g.pred_x0[:, 0].astype(np.float32),
            "x0_images": to_uint8(g.x0_images[:, 0, 0]), "current_images": to_uint8(g.current_images[:, 0, 0]),
            "final": to_uint8(g.final[0, 0])}


# ---- tables -----------------------------------------------------------------------------------------------------
def speedup_rows(latent: dict, pixel: dict | None) -> list[dict]:
    """Comparison rows from two /generate timing dicts (see Generation.timings): what each space costs
    per step and in total, and the ratio pixel / latent where both ran."""
    def ratio(a, b):
        return None if pixel is None or not a or b is None else b / a

    rows = []
    for what, key in (("dims", "dims_per_step"), ("params", "params"), ("step_ms", "median_step_ms"),
                      ("denoise_s", "denoise_s"), ("decode_s", "decode_s"), ("total_s", "total_s")):
        other = pixel and pixel[key]
        rows.append({"what": what, "latent": latent[key], "pixel": other,
                     "ratio": None if what == "decode_s" else ratio(latent[key], other)})
    return rows


def comparison_markdown(latent: dict, pixel: dict | None, lang: str, best: dict[str, float] | None = None) -> str:
    """The live latent-vs-pixel table for one request, with the chapter's and the paper's figures."""
    fmt = {"dims": "{:,.0f}", "params": "{:,.0f}", "step_ms": "{:.1f}", "denoise_s": "{:.3f}", "decode_s": "{:.3f}",
           "total_s": "{:.3f}"}
    lines = [word("den.compare_title", lang),
             f"| {word('den.col_what', lang)} | {word('den.col_latent', lang)} | {word('den.col_pixel', lang)} | "
             f"{word('den.col_ratio', lang)} |", "|---|---|---|---|"]
    rows = speedup_rows(latent, pixel)
    for r in rows:
        f = fmt[r["what"]]
        pixel_cell = "–" if r["pixel"] is None else f.format(r["pixel"])
        ratio_cell = "–" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        lines.append(f"| {word('den.row_' + r['what'], lang)} | {f.format(r['latent'])} | {pixel_cell} | {ratio_cell} |")
    unconditional = latent["settings"]["digit"] < 0
    lines.append("\n" + word("den.passes_uncond" if unconditional else "den.passes", lang))
    if pixel is None:
        lines.append("\n" + word("den.pixel_off", lang))
    step = next(r for r in rows if r["what"] == "step_ms")
    dims = next(r for r in rows if r["what"] == "dims")
    lines.append("\n" + word("den.references", lang).format(
        dims=f"{dims['ratio']:.0f}" if dims["ratio"] else f"{784 / latent['dims_per_step']:.0f}",
        speed=f"{step['ratio']:.1f}x" if step["ratio"] else "–"))
    if best and pixel and not unconditional:
        lines.append("\n" + word("den.guidance_note", lang).format(
            g=latent["settings"]["guidance"], best=", ".join(f"{k} {v:g}" for k, v in best.items())))
    return "\n".join(lines)


def agreement_text(a: dict, lang: str) -> str:
    """One metrics.json "agreement" record in words. Records made before the spacing was recorded were
    sampled with "leading" spacing, the only one then."""
    settings = a["settings"]
    return word("den.agree", lang).format(pct=100 * a["agreement"], n=a["n_samples"], sampler=settings["sampler"],
                                          spacing=settings.get("spacing", "leading"), steps=settings["steps"],
                                          g=settings["guidance"])


def quality_markdown(denoisers: list[tuple[str, str, dict]], classifier_accuracy: float | None, grid: list[float],
                     lang: str) -> str:
    """Training budget, classifier agreement and smudged share of each installed denoiser: `denoisers` is
    [(name, space, metrics.json)], `classifier_accuracy` the grading classifier's held-out accuracy (or None),
    `grid` the guidance scales the grading tried. The note quotes the VAE-reconstruction floor of the smudged
    share ("vae_floor_smudged" in a latent denoiser's grade, with the VAE's name, "vae"; explorer.evaluate_diffusion)
    when recorded."""
    lines = [word("den.quality_title", lang), word("den.quality_head", lang)]
    for name, space, m in denoisers:
        a = m.get("agreement")
        agree = agreement_text(a, lang) if a else word("den.not_graded", lang)
        if a and "guidance_selection" in a:
            sweep = ", ".join(f"{g}: {100 * v:.0f}%" for g, v in a["guidance_selection"]["agreement_by_guidance"].items())
            agree += "; " + word("den.sweep", lang).format(sweep=sweep)
        smudged = (f"{100 * a['smudged']:.1f}%" if a and "smudged" in a
                   else word("den.not_graded", lang))
        lines.append(word("den.quality_row", lang).format(
            name=name, space=space, steps=m.get("train_steps", 0), batch=m.get("batch_size", 0),
            seen=m.get("samples_seen", 0), secs=m.get("train_seconds", 0), ms=m.get("ms_per_train_step", "?"),
            device=m.get("device", "cpu"), agree=agree, smudged=smudged))
    if classifier_accuracy is not None:
        floors = [(m["agreement"]["vae_floor_smudged"], m["agreement"].get("vae", "?")) for _, _, m in denoisers
                  if "vae_floor_smudged" in m.get("agreement", {})]
        floor = (word("den.floor", lang).format(pct=100 * floors[0][0], vae=floors[0][1]) if floors
                 else word("den.floor_unknown", lang))
        lines.append("\n" + word("den.quality_note", lang).format(grid=", ".join(f"{g:g}" for g in grid),
                                                                  acc=100 * classifier_accuracy, floor=floor))
    return "\n".join(lines)
