"""Denoising tab: latent diffusion step by step (noisy latent channels, decoded x0 prediction, decoded
current latent, noise level on the schedule), the same request in pixel space beside it with time per
step measured live, and the public /generate API.

All logic lives in explorer/generation.py (sampling) and explorer/denoising_view.py (drawing); this
file only wires components.
"""
from __future__ import annotations

import gradio as gr
import numpy as np

from ..checkpoint import CheckpointError
from ..diffusion import DEFAULT_SPACING, SPACINGS
from ..denoising_view import (API_PANEL, SCHEDULE_LABELS, frame_strip, schedule_figure, speedup_rows, step_panels,
                              to_uint8)
from ..evaluate_diffusion import EVAL_SETTINGS, GUIDANCE_GRID
from ..generation import (GUIDANCE_RANGE, REFUSALS, Generation, RequestError, denoiser_for, generate, generate_all,
                          schedule_of, validate_request)
from .i18n import register, text, tr, tr_format
from .learn import maths_panel

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
    "den.with_pixel": ("Also run the same request in pixel space (for the speed comparison)",
                       "同时在像素空间运行同样的请求（用于速度对比）"),
    "den.generate": ("Generate", "生成"),
    "den.play": ("▶ Play", "▶ 播放"),
    "den.pause": ("❚❚ Pause", "❚❚ 暂停"),
    "den.step": ("Step", "步骤"),
    "den.latent_row": ("#### Latent space (ldm-mnist on sd-vae-mnist-c4 latents)",
                       "#### 潜空间（ldm-mnist，基于 sd-vae-mnist-c4 的潜变量）"),
    "den.pixel_row": ("#### Pixel space (pixel-dm-mnist, same UNet design, same budget)",
                      "#### 像素空间（pixel-dm-mnist，同样的 UNet 设计与训练预算）"),
    "den.noisy_latent": ("Noisy latent x_t: 4 channels (blue < 0 < red, ±3)", "带噪潜变量 x_t：4 个通道（蓝 < 0 < 红，±3）"),
    "den.x0_latent": ("Predicted x0, decoded by the VAE", "预测的 x0，经 VAE 解码"),
    "den.current_latent": ("Current x_t, decoded by the VAE", "当前 x_t，经 VAE 解码"),
    "den.noisy_pixel": ("Noisy pixels x_t (blue < 0 < red, ±1.5)", "带噪像素 x_t（蓝 < 0 < 红，±1.5）"),
    "den.x0_pixel": ("Predicted x0 (pixels)", "预测的 x0（像素）"),
    "den.current_pixel": ("Current x_t as an image", "当前 x_t 作为图像"),
    "den.schedule": ("Noise schedule: how much signal is left at each t", "噪声调度：每个 t 还剩多少信号"),
    "den.press": ("Press **Generate** to run the sampler; every step is kept for playback.",
                  "点击 **生成** 运行采样器；每一步都会保存下来用于回放。"),
    "den.status": ("**Step {i} / {n}** (t = {t}): ᾱ_t = {abar:.4g} of the signal's variance is left, SNR = {snr:.3g}. "
                   "{space_note}",
                   "**第 {i} / {n} 步**（t = {t}）：信号方差还剩 ᾱ_t = {abar:.4g}，信噪比 SNR = {snr:.3g}。{space_note}"),
    "den.no_pixel": ("Pixel space was not run.", "未运行像素空间。"),
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
                        "({ms} ms/step) | {agree} |",
                        "| {name} | {space} | {steps:,} 步 x {batch} = {seen:,} 个样本 | {secs:,.0f} 秒"
                        "（每步 {ms} 毫秒） | {agree} |"),
    "den.quality_head": ("| model | space | training budget | training wall time (2 shared CPU cores) | "
                         "classifier agrees with the requested digit |\n|---|---|---|---|---|",
                         "| 模型 | 空间 | 训练预算 | 训练耗时（2 个共享 CPU 核） | 分类器认同所请求数字的比例 |\n"
                         "|---|---|---|---|---|"),
    "den.agree": ("{pct:.1f}% of {n} ({sampler}, {spacing} spacing, {steps} steps, guidance {g:g})",
                  "{pct:.1f}%，共 {n} 个（{sampler}，{spacing} 时间步间隔，{steps} 步，引导系数 {g:g}）"),
    "den.sweep": ("guidance chosen on other seeds: {sweep}", "在另一组种子上选择引导系数：{sweep}"),
    "den.quality_note": (
        "Each model's guidance scale was chosen from {grid} on one set of seeds and the agreement above was then "
        "measured on fresh seeds (`python -m explorer.train_diffusion --evaluate-only`). The classifier reads "
        "{acc:.1f}% of real held-out digits correctly. High guidance over-saturates pixel-space samples (x0 is "
        "clipped to [-1, 1] there), so the two spaces may prefer different scales.",
        "每个模型的引导系数先在一组种子上从 {grid} 中选出，再在新的种子上测量上表的认同率"
        "（`python -m explorer.train_diffusion --evaluate-only`）。该分类器对真实留出数字的准确率为 {acc:.1f}%。"
        "较大的引导系数会让像素空间的样本过饱和（那里 x0 被裁剪到 [-1, 1]），所以两个空间偏好的系数可能不同。"),
    "den.not_graded": ("not measured", "未测量"),
    "den.spacing_note": (
        "**Few steps and the timestep spacing.** *Leading* spacing (the default, Stable Diffusion 1.x's) starts "
        "below pure noise: 1 step runs at t = 0 (pure noise labelled as an almost clean sample, so 1 step draws "
        "nothing), 2 steps at t = 500 and 0. *Trailing* spacing always starts at t = {t_first}, where only "
        "ᾱ = {abar:.1e} of the signal's variance is left. The UNet predicts the noise, and its clean estimate "
        "x0 = (x_t - √(1 - ᾱ) ε) / √ᾱ divides the prediction's small errors by √ᾱ = {root:.4f}: with few steps the "
        "latent samples come out as noise (pixel samples fare better, as x0 is clipped to [-1, 1] there). Measured "
        "with this latent model, 2-5 leading steps already draw the requested digit most of the time and 2-5 "
        "trailing ones do not. Lin et al. (2024) pair trailing spacing with a zero-terminal-SNR schedule and "
        "v-prediction, which these models were not trained with. Measure it: `python -m explorer.evaluate_diffusion "
        "--steps 1 2 3 5 10 50 --spacing trailing leading`.",
        "**步数很少时与时间步间隔方式。** *leading*（默认，Stable Diffusion 1.x 的方式）的起点低于纯噪声：1 步时在 "
        "t = 0（把纯噪声当作几乎干净的样本，所以 1 步画不出东西），2 步时在 t = 500 和 0。*trailing* 的第一步总是在 "
        "t = {t_first}，那里信号方差只剩 ᾱ = {abar:.1e}。UNet 预测的是噪声，它对干净样本的估计 "
        "x0 = (x_t - √(1 - ᾱ) ε) / √ᾱ 会把预测中的小误差除以 √ᾱ = {root:.4f}：步数很少时，潜空间样本基本是噪声"
        "（像素空间的样本好一些，因为那里 x0 被裁剪到 [-1, 1]）。实测这个潜空间模型：2-5 步 leading 多数时候就能画出"
        "要求的数字，2-5 步 trailing 则不能。Lin 等（2024）把 trailing 与终端信噪比为零的噪声调度和 v 预测一起使用，"
        "而这里的模型并不是这样训练的。"
        "自己测一测：`python -m explorer.evaluate_diffusion --steps 1 2 3 5 10 50 --spacing trailing leading`。"),
    "den.guidance_note": ("Both spaces ran with guidance {g:g} here; the scales that graded best are {best}.",
                          "这里两个空间都使用引导系数 {g:g}；评测中表现最好的系数为 {best}。"),
    "den.missing": ("No latent denoiser is installed; train it with `python -m explorer.train_diffusion`.",
                    "未安装潜空间去噪模型；请用 `python -m explorer.train_diffusion` 训练。"),
    "den.api_final": ("Final image", "最终图像"),
    "den.api_frames": ("Frames", "帧"),
}
# Chinese for each word of the noise-schedule figure (explorer/denoising_view.py's SCHEDULE_LABELS hold the English).
SCHEDULE_ZH = {
    "x_axis": "时间步 t（1000 = 纯噪声）",
    "abar_axis": "ᾱ_t（保留的信号）",
    "snr_axis": "信噪比 SNR（对数）",
    "abar": "ᾱ_t",
    "snr": "信噪比 SNR = ᾱ/(1-ᾱ)",
    "sampled": "采样的 t",
    "now": "当前：t={t}",
}
STRINGS.update({f"den.fig.{k}": (english, SCHEDULE_ZH[k]) for k, english in SCHEDULE_LABELS.items()})
# Chinese for each refusal of explorer/generation.py (its REFUSALS hold the English, which the /generate API returns).
REFUSALS_ZH = {
    "whole_number": "{field}必须是整数，收到 {value!r}",
    "digit_range": "数字必须是 0-9，或 -1 表示无条件生成；收到 {value}",
    "seed_range": "随机种子必须在 0 到 {high} 之间；收到 {value}",
    "steps_range": "步数必须在 1 到 {high} 之间；收到 {value}",
    "sampler_unknown": "采样器必须是 {choices} 之一；收到 {value!r}",
    "guidance_number": "引导系数必须是数字，收到 {value!r}",
    "guidance_range": "引导系数必须在 {low:g} 到 {high:g} 之间；收到 {value!r}",
    "space_unknown": "空间必须是 {choices} 之一；收到 {value!r}",
    "spacing_unknown": "时间步间隔方式必须是 {choices} 之一；收到 {value!r}",
    "no_denoiser": "未安装{space}空间的去噪模型检查点；请用 `python -m explorer.train_diffusion {name}` 训练",
}
STRINGS.update({f"den.err.{k}": (english, REFUSALS_ZH[k]) for k, english in REFUSALS.items()})
STRINGS.update({
    "den.field.digit": ("digit", "数字"),
    "den.field.seed": ("seed", "随机种子"),
    "den.field.steps": ("steps", "步数"),
    "den.space.latent": ("latent", "潜"),
    "den.space.pixel": ("pixel", "像素"),
    "den.err.checkpoint": ("A model checkpoint could not be loaded: {detail}", "无法加载模型检查点：{detail}"),
})
register(STRINGS)

TICK_SECONDS = 0.15
PLAYBACK_TICKS = 60  # a run of any length plays in about this many ticks


def _lang(value) -> str:
    """The app's language radio holds "en" or "zh"; anything else reads as English."""
    return "zh" if isinstance(value, str) and value.startswith("zh") else "en"


def error_message(exc: Exception, lang: str) -> str:
    """Why generation failed, in `lang`: a RequestError worded from its code and values (field and space names
    translated too); anything else (a broken checkpoint) keeps its own message under a translated headline."""
    if not isinstance(exc, RequestError):
        return text("den.err.checkpoint", lang, detail=exc)
    values = dict(exc.values)
    if "field" in values:
        values["field"] = text(f"den.field.{values['field']}", lang)
    if exc.code == "no_denoiser":
        values["space"] = text(f"den.space.{values['space']}", lang)
    return text(f"den.err.{exc.code}", lang, **values)


def clamp_index(index, n: int) -> int:
    """A 1-based step of an n-step run from a raw slider or State value (anything unreadable is step 1)."""
    try:
        i = int(float(index))
    except (TypeError, ValueError, OverflowError):
        i = 1
    return min(max(i, 1), max(n, 1))


def next_index(index, n: int) -> int:
    """The step a playback tick shows after `index`: about PLAYBACK_TICKS ticks per run, then back to step 1
    (also from an index beyond the run, e.g. one left over from a longer run)."""
    i = clamp_index(index, n)  # an index beyond the run clamps to its last step, so this tick restarts at 1
    return 1 if i >= n else min(n, i + max(1, n // PLAYBACK_TICKS))


def step_slider(n: int) -> gr.Slider:
    """The Step slider for a new n-step run, at step 1. A 1-step run has nothing to scrub: fixed at 1, full
    (Gradio's slider needs minimum < maximum, so its range is 0-1)."""
    return gr.Slider(minimum=1 if n > 1 else 0, maximum=max(n, 1), value=1, interactive=n > 1)


def busy() -> tuple:
    """While a run is computed: Generate disabled, playback stopped."""
    return gr.Button(interactive=False), gr.Timer(active=False)


def ready() -> gr.Button:
    """After a run, or its error: Generate enabled again."""
    return gr.Button(interactive=True)


def schedule_labels(lang: str) -> dict[str, str]:
    """The noise-schedule figure's words in `lang`, for denoising_view.schedule_figure(labels=...)."""
    return {k: text(f"den.fig.{k}", lang) for k in SCHEDULE_LABELS}


def schedule_plot(schedule, lang: str, timesteps: list[int] | None = None, current: int | None = None):
    """The noise-schedule figure worded in `lang` (a run's timesteps and current step when given); None without
    a schedule (no latent denoiser installed)."""
    return schedule_figure(schedule, timesteps, current, labels=schedule_labels(lang)) if schedule else None


def run_arrays(g: Generation) -> dict:
    """The per-session state of one run (batch element 0): what playback needs, nothing else."""
    return {"space": g.request.space, "x_t": g.x_t[:, 0], "x0": g.x0_images[:, 0], "current": g.current_images[:, 0],
            "timings": g.timings()}


def panels_at(run: dict | None, i: int) -> list:
    """The three panels of step i (0-based) of a stored run, or three Nones."""
    if not run:
        return [None, None, None]
    i = int(np.clip(i, 0, len(run["x_t"]) - 1))
    return step_panels(run["x_t"][i], run["x0"][i], run["current"][i], run["space"])


def quality_markdown(service, lang: str) -> str:
    """Training budget and classifier agreement of each installed denoiser (from metrics.json)."""
    lines = [text("den.quality_title", lang), text("den.quality_head", lang)]
    for name in service.names("denoiser"):
        m, space = service.metrics(name), service.config(name).get("space", "?")
        a = m.get("agreement")
        agree = agreement_text(a, lang) if a else text("den.not_graded", lang)
        if a and "guidance_selection" in a:
            sweep = ", ".join(f"{g}: {100 * v:.0f}%" for g, v in a["guidance_selection"]["agreement_by_guidance"].items())
            agree += "; " + text("den.sweep", lang).format(sweep=sweep)
        lines.append(text("den.quality_row", lang).format(
            name=name, space=space, steps=m.get("train_steps", 0), batch=m.get("batch_size", 0),
            seen=m.get("samples_seen", 0), secs=m.get("train_seconds", 0), ms=m.get("ms_per_train_step", "?"),
            agree=agree))
    accuracy = service.metrics("mnist-classifier").get("accuracy") if "mnist-classifier" in service.names() else None
    if accuracy is not None:
        lines.append("\n" + text("den.quality_note", lang).format(grid=", ".join(f"{g:g}" for g in GUIDANCE_GRID),
                                                                  acc=100 * accuracy))
    return "\n".join(lines)


def agreement_text(a: dict, lang: str) -> str:
    """One metrics.json "agreement" record in words. Records made before the spacing was recorded were
    sampled with "leading" spacing, the only one then."""
    settings = a["settings"]
    return text("den.agree", lang).format(pct=100 * a["agreement"], n=a["n_samples"], sampler=settings["sampler"],
                                          spacing=settings.get("spacing", "leading"), steps=settings["steps"],
                                          g=settings["guidance"])


def best_guidance(service) -> dict[str, float]:
    """{denoiser name: the guidance scale its grading chose} for graded denoisers."""
    out = {}
    for name in service.names("denoiser"):
        chosen = service.metrics(name).get("agreement", {}).get("settings", {}).get("guidance")
        if chosen is not None:
            out[name] = chosen
    return out


def comparison_markdown(latent: dict, pixel: dict | None, lang: str, best: dict[str, float] | None = None) -> str:
    """The live latent-vs-pixel table for one request, with the chapter's and the paper's figures."""
    fmt = {"dims": "{:,.0f}", "params": "{:,.0f}", "step_ms": "{:.1f}", "denoise_s": "{:.3f}", "decode_s": "{:.3f}",
           "total_s": "{:.3f}"}
    lines = [text("den.compare_title", lang),
             f"| {text('den.col_what', lang)} | {text('den.col_latent', lang)} | {text('den.col_pixel', lang)} | "
             f"{text('den.col_ratio', lang)} |", "|---|---|---|---|"]
    rows = speedup_rows(latent, pixel)
    for r in rows:
        f = fmt[r["what"]]
        pixel_cell = "–" if r["pixel"] is None else f.format(r["pixel"])
        ratio_cell = "–" if r["ratio"] is None else f"{r['ratio']:.2f}x"
        lines.append(f"| {text('den.row_' + r['what'], lang)} | {f.format(r['latent'])} | {pixel_cell} | {ratio_cell} |")
    unconditional = latent["settings"]["digit"] < 0
    lines.append("\n" + text("den.passes_uncond" if unconditional else "den.passes", lang))
    step = next(r for r in rows if r["what"] == "step_ms")
    dims = next(r for r in rows if r["what"] == "dims")
    lines.append("\n" + text("den.references", lang).format(
        dims=f"{dims['ratio']:.0f}" if dims["ratio"] else f"{784 / latent['dims_per_step']:.0f}",
        speed=f"{step['ratio']:.1f}x" if step["ratio"] else "–"))
    if best and pixel and not unconditional:
        lines.append("\n" + text("den.guidance_note", lang).format(
            g=latent["settings"]["guidance"], best=", ".join(f"{k} {v:g}" for k, v in best.items())))
    return "\n".join(lines)


def build_denoising_tab(service, ui=None) -> None:
    """The tab; `ui` is the app's AppContext (its language radio words the Python-side text)."""
    try:
        latent_model = denoiser_for(service, "latent")
    except ValueError:
        latent_model = None
    try:
        denoiser_for(service, "pixel")
        has_pixel = True
    except ValueError:
        has_pixel = False
    graded = service.metrics(latent_model).get("agreement", {}) if latent_model else {}
    default_guidance = graded.get("settings", {}).get("guidance", EVAL_SETTINGS["guidance"])
    schedule = schedule_of(service.config(latent_model)) if latent_model else None

    gr.Markdown(tr("den.intro"))
    maths_panel("diffusion", service)
    if latent_model is None:
        gr.Markdown(tr("den.missing"))
    with gr.Row():
        with gr.Column(scale=1, min_width=260):
            digit = gr.Dropdown([(str(d), d) for d in range(10)] + [("-1", -1)], value=3, label=tr("den.digit"))
            seed = gr.Number(0, precision=0, label=tr("den.seed"))  # range checked (and worded) by validate_request
            sampler = gr.Radio([("DDIM", "ddim"), ("DDPM", "ddpm")], value="ddim", label=tr("den.sampler"))
            steps = gr.Slider(1, 1000, value=50, step=1, label=tr("den.steps"))
            spacing = gr.Radio(list(SPACINGS), value=DEFAULT_SPACING, label=tr("den.spacing"))
            guidance = gr.Slider(*GUIDANCE_RANGE, value=default_guidance, step=0.5, label=tr("den.guidance"))
            with_pixel = gr.Checkbox(has_pixel, label=tr("den.with_pixel"), interactive=has_pixel)
            generate_btn = gr.Button(tr("den.generate"), variant="primary")
        with gr.Column(scale=3):
            status = gr.Markdown(tr("den.press"))
            with gr.Row():
                frame = gr.Slider(1, 50, value=50, step=1, label=tr("den.step"), scale=4)
                play_btn = gr.Button(tr("den.play"), size="sm", scale=1)
                pause_btn = gr.Button(tr("den.pause"), size="sm", scale=1)
            gr.Markdown(tr("den.latent_row"))
            with gr.Row():
                image_kw = {"format": "png", "type": "numpy", "interactive": False, "height": 150,
                            "buttons": ["download"]}
                latent_imgs = [gr.Image(label=tr("den.noisy_latent"), **image_kw),
                               gr.Image(label=tr("den.x0_latent"), **image_kw),
                               gr.Image(label=tr("den.current_latent"), **image_kw)]
            gr.Markdown(tr("den.pixel_row"))
            with gr.Row():
                pixel_imgs = [gr.Image(label=tr("den.noisy_pixel"), **image_kw),
                              gr.Image(label=tr("den.x0_pixel"), **image_kw),
                              gr.Image(label=tr("den.current_pixel"), **image_kw)]
    plot = gr.Plot(schedule_plot(schedule, "en"), label=tr("den.schedule"))
    comparison = gr.Markdown()
    quality = gr.Markdown(quality_markdown(service, "en"))
    if schedule is not None:
        t_first = schedule.num_train_timesteps - 1  # where trailing spacing always starts
        abar_first = float(schedule.alphas_cumprod[t_first])
        gr.Markdown(tr_format("den.spacing_note", t_first=t_first, abar=abar_first,
                              root=abar_first ** 0.5))
    run_state = gr.State(None)
    index_state = gr.State(1)  # the 1-based step on show: playback reads it, never the slider
    timer = gr.Timer(TICK_SECONDS, active=False)

    # hidden inputs/outputs of the public /generate endpoint (validated by the function, not by widgets)
    with gr.Row(visible=False):
        api_digit, api_seed, api_steps = gr.Number(label="digit"), gr.Number(label="seed"), gr.Number(label="steps")
        api_sampler, api_guidance = gr.Textbox(label="sampler"), gr.Number(label="guidance")
        api_space = gr.Textbox(label="space")
        api_final = gr.Image(label=tr("den.api_final"), format="png", type="numpy")
        api_frames = gr.Gallery(label=tr("den.api_frames"), format="png", type="numpy")
        api_json = gr.JSON(label="timings")
        api_button = gr.Button("generate")

    # ---- handlers ----------------------------------------------------------------------------------
    def view(state: dict | None, index, lang: str) -> list:
        """Panels, schedule figure and status for 1-based step `index` of the stored runs (clamped to the run)."""
        if not state:
            return [*panels_at(None, 0), *panels_at(None, 0), gr.update(), gr.update()]
        n = len(state["timesteps"])
        i = clamp_index(index, n) - 1
        t = state["timesteps"][i]
        abar = float(schedule.alphas_cumprod[t])
        note = "" if state["pixel"] else text("den.no_pixel", lang)
        status_text = text("den.status", lang).format(i=i + 1, n=n, t=t, abar=abar, snr=abar / (1 - abar),
                                                      space_note=note)
        return [*panels_at(state["latent"], i), *panels_at(state["pixel"], i),
                schedule_plot(schedule, lang, state["timesteps"], t), status_text]

    def on_generate(digit_v, seed_v, steps_v, sampler_v, guidance_v, spacing_v, with_pixel_v, lang_v=None):
        """Run the request (latent, and pixel when asked) and show step 1; playback starts by itself."""
        lang = _lang(lang_v)
        try:
            spaces = ("latent", "pixel") if with_pixel_v and has_pixel else ("latent",)
            requests = [validate_request(digit_v, seed_v, steps_v, sampler_v, guidance_v, space, spacing_v)
                        for space in spaces]
            runs = generate_all(service, requests)  # one GPU borrow on ZeroGPU for both spaces
            latent, pixel = runs[0], (runs[1] if len(runs) > 1 else None)
        except (ValueError, CheckpointError) as exc:
            raise gr.Error(error_message(exc, lang)) from exc
        state = {"timesteps": latent.timesteps, "latent": run_arrays(latent),
                 "pixel": run_arrays(pixel) if pixel else None}
        table = comparison_markdown(state["latent"]["timings"], state["pixel"] and state["pixel"]["timings"], lang,
                                    best_guidance(service))
        n = len(latent.timesteps)
        return (state, 1, step_slider(n), *view(state, 1, lang), table, gr.Timer(active=n > 1))

    def on_scrub(state, index, lang_v=None):
        """The step the student dragged to (the raw slider value: see the events below); stops playback."""
        n = len(state["timesteps"]) if state else 1
        return (clamp_index(index, n), *view(state, index, _lang(lang_v)), gr.Timer(active=False))

    def on_language(state, index, lang_v):
        """Re-word the Python-made text and redraw the schedule figure (at the current step) in the new language."""
        lang = _lang(lang_v)
        if not state:
            return "", quality_markdown(service, lang), schedule_plot(schedule, lang), text("den.press", lang)
        table = comparison_markdown(state["latent"]["timings"], state["pixel"] and state["pixel"]["timings"],
                                    lang, best_guidance(service))
        figure, status_text = view(state, index, lang)[-2:]
        return table, quality_markdown(service, lang), figure, status_text

    def on_tick(state, index, lang_v=None):
        """One playback step. The index comes from the step State (never the range-checked slider, which may
        already hold a newer, shorter run); it goes back out to both."""
        if not state:
            return (gr.update(), gr.update(), *view(None, 0, "en"), gr.Timer(active=False))
        n = len(state["timesteps"])
        nxt = next_index(index, n)
        return (nxt, nxt, *view(state, nxt, _lang(lang_v)), gr.Timer(active=nxt < n))

    def generate_api(digit, seed, steps, sampler, guidance, space):
        """Generate one digit step by step. digit: 0-9, or -1 for unconditional; seed: 0..2^32-1; steps: 1-1000;
        sampler: "ddpm" or "ddim"; guidance: classifier-free guidance scale 0-20; space: "latent" or "pixel".
        Returns the final 28x28 image (PNG), one frame per step (PNG: noisy sample channels | decoded x0
        prediction | decoded x_t, each 56x56; caption gives the step and t), and JSON with the settings
        used and the timings measured on this machine (total_s, denoise_s, decode_s, per_step_ms, ...)."""
        try:
            req = validate_request(digit, seed, steps, sampler, guidance, space)
            g = generate(service, req)
        except (ValueError, CheckpointError) as exc:
            raise gr.Error(str(exc)) from exc  # the API answers in English
        frames = [(frame_strip(step_panels(g.x_t[i, 0], g.x0_images[i, 0], g.current_images[i, 0], req.space,
                                           API_PANEL), gap=2),
                   f"step {i + 1}/{len(g.timesteps)}, t={t}") for i, t in enumerate(g.timesteps)]
        return to_uint8(g.final[0, 0]), frames, g.timings()

    # ---- events ------------------------------------------------------------------------------------
    outputs_view = [*latent_imgs, *pixel_imgs, plot, status]
    lang_in = [ui.language] if ui is not None else []
    quick = {"api_visibility": "private", "show_progress": "hidden", "concurrency_limit": None}
    # Generate: stop playback and disable the button first, run, then enable it again. Gradio 6.31's frontend does
    # not run a .then() after an error, so success and failure each get their own listener.
    run = generate_btn.click(busy, None, [generate_btn, timer], **quick).then(
        on_generate, [digit, seed, steps, sampler, guidance, spacing, with_pixel, *lang_in],
        [run_state, index_state, frame, *outputs_view, comparison, timer], api_visibility="private",
        concurrency_id="denoising")
    run.success(ready, None, generate_btn, **quick)
    run.failure(ready, None, generate_btn, **quick)
    # preprocess=False: the slider's value arrives unchecked (a drag may race a new, shorter run); on_scrub clamps
    for scrub in (frame.input, frame.release):
        scrub(on_scrub, [run_state, frame, *lang_in], [index_state, *outputs_view, timer], api_visibility="private",
              trigger_mode="always_last", show_progress="hidden", preprocess=False)
    timer.tick(on_tick, [run_state, index_state, *lang_in], [index_state, frame, *outputs_view, timer],
               api_visibility="private", show_progress="hidden")
    if ui is not None:
        ui.language.change(on_language, [run_state, index_state, ui.language], [comparison, quality, plot, status],
                           api_visibility="private", show_progress="hidden")
    play_btn.click(lambda: gr.Timer(active=True), None, timer, **quick)
    pause_btn.click(lambda: gr.Timer(active=False), None, timer, **quick)
    api_button.click(generate_api, [api_digit, api_seed, api_steps, api_sampler, api_guidance, api_space],
                     [api_final, api_frames, api_json], api_name="generate", concurrency_id="denoising")
