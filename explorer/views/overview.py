"""The overview and the maths panels as data: what the header's overview and each tab's "maths of this tab" panel
say, with every number taken from the running models (metrics.json, config.json, the compression formula, the
noise schedule), never typed into prose. Pure: no Gradio. explorer/ui/learn.py lays these parts out.

A *part* is `(key, values)`: the key of a STRINGS entry (English, 中文) and the values it is formatted with ({} for
static text). `word_parts(parts, lang)` words them as Markdown strings, for tests and for anything that is not
the browser's live language switch.
"""
from __future__ import annotations

from typing import Any

from .. import roles
from ..exercises import headline_numbers

Part = tuple[str, dict[str, Any]]
LATEX = [{"left": "$$", "right": "$$", "display": True}, {"left": "$", "right": "$", "display": False}]

STRINGS = {
    "learn.overview": ("Overview: why Stable Diffusion works in a latent space ({sd_pixels:,} pixel values -> "
                       "{sd_latents:,} latents, {sd_ratio:g}x fewer per step). Open for the chapter's four questions.",
                       "概览：Stable Diffusion 为什么在潜空间里工作（{sd_pixels:,} 个像素值 -> {sd_latents:,} 个潜变量值，"
                       "每一步少 {sd_ratio:g} 倍）。展开查看本章的四个问题。"),
    "learn.channels": (
        "Since then the field has moved from 4 latent channels (SD 1.x, SDXL) to 16-32: SD3 and FLUX use 16, "
        "FLUX.2 uses 32, trading some compression for detail (the SD3 paper measures 25.12 dB PSNR with 4 "
        "channels and 28.62 dB with 16, at f = 8).",
        "此后领域从 4 个潜变量通道（SD 1.x、SDXL）走向 16-32 个：SD3 和 FLUX 用 16 个，FLUX.2 用 32 个，"
        "以少一些压缩换取更多细节（SD3 论文在 f = 8 下测得：4 个通道 PSNR 25.12 dB，16 个通道 28.62 dB）。"),
    "learn.why": (
        "**1. Why diffuse in the latent space?** A diffusion model runs its whole network once per denoising "
        "step, 20 to 1000 times per image, over every number of its input. A VAE first squeezes the image into "
        "a small latent, so every step handles far fewer numbers: for Stable Diffusion at 512x512, "
        "{sd_pixels:,} pixel values become {sd_latents:,} latent values, **{sd_ratio:g}x fewer**. The "
        "*Denoising* tab times the same request in latent space and in pixel space.",
        "**1. 为什么在潜空间（latent space）里扩散？** 扩散模型每去噪一步，都要让整个网络把输入的每一个数处理一遍，"
        "每张图要重复 20 到 1000 步。VAE 先把图像压缩成一个小小的潜变量（latent），于是每一步要处理的数少得多："
        "Stable Diffusion 在 512x512 分辨率下，{sd_pixels:,} 个像素值变成 {sd_latents:,} 个潜变量值，"
        "**少了 {sd_ratio:g} 倍**。*去噪过程* 标签页会把同一个请求分别在潜空间和像素空间里计时。"),
    "learn.vae": (
        "**2. The VAE: encoder, latent, decoder.** The encoder $E$ (strided convolutions) shrinks the image by "
        "a factor $f$ per side and outputs, for every latent value, a mean $\\mu$ and a log-variance "
        "$\\log\\sigma^2$. A latent is drawn with the reparameterisation trick, so that gradients flow through "
        "$\\mu$ and $\\sigma$:\n\n"
        "$$z = \\mu + \\sigma \\odot \\epsilon, \\qquad \\epsilon \\sim \\mathcal{N}(0, I)$$\n\n"
        "The decoder $D$ (upsampling convolutions) rebuilds $\\hat{x} = D(z)$. Training minimises the "
        "reconstruction error plus a weighted KL term that pulls $q(z \\mid x)$ towards $\\mathcal{N}(0, I)$:\n\n"
        "$$\\mathcal{L} = \\lVert x - \\hat{x} \\rVert^2 + \\beta \\, D_{\\mathrm{KL}}, \\qquad "
        "D_{\\mathrm{KL}} = \\frac{1}{2} \\sum_i \\left( \\mu_i^2 + \\sigma_i^2 - \\log \\sigma_i^2 - 1 \\right)$$",
        "**2. VAE：编码器（encoder）、潜变量（latent）、解码器（decoder）。** 编码器 $E$（带步长的卷积）把图像的每条边"
        "缩小 $f$ 倍，并为每个潜变量值输出均值 $\\mu$ 和对数方差 $\\log\\sigma^2$。潜变量用重参数化技巧"
        "（reparameterisation trick）采样，这样梯度可以流过 $\\mu$ 和 $\\sigma$：\n\n"
        "$$z = \\mu + \\sigma \\odot \\epsilon, \\qquad \\epsilon \\sim \\mathcal{N}(0, I)$$\n\n"
        "解码器 $D$（上采样卷积）重建出 $\\hat{x} = D(z)$。训练时最小化重建误差，再加上一个带权重的 KL 项，"
        "它把 $q(z \\mid x)$ 拉向 $\\mathcal{N}(0, I)$：\n\n"
        "$$\\mathcal{L} = \\lVert x - \\hat{x} \\rVert^2 + \\beta \\, D_{\\mathrm{KL}}, \\qquad "
        "D_{\\mathrm{KL}} = \\frac{1}{2} \\sum_i \\left( \\mu_i^2 + \\sigma_i^2 - \\log \\sigma_i^2 - 1 \\right)$$"),
    "learn.vae_measured": (
        "Measured here: **{model}** turns a {input_shape} digit (C x H x W) into a {latent_shape} latent "
        "({ratio:g}x fewer numbers) and rebuilds it at **{psnr:.1f} dB** PSNR on {n_images} held-out digits. "
        "The *Reconstruction* tab shows what it keeps and what it loses.",
        "本机实测：**{model}** 把 {input_shape} 的数字图像（C x H x W）变成 {latent_shape} 的潜变量"
        "（数字少了 {ratio:g} 倍），在 {n_images} 张留出测试数字上重建的 PSNR 为 **{psnr:.1f} dB**。"
        "*重建* 标签页展示它保留了什么、丢掉了什么。"),
    "learn.no_model": ("No trained MNIST VAE is installed yet: `python -m explorer.train sd-vae-mnist-c4` "
                       "trains one.",
                       "尚未安装训练好的 MNIST VAE：运行 `python -m explorer.train sd-vae-mnist-c4` 即可训练一个。"),
    "learn.advantages": (
        "**3. What latent diffusion gains, and what it costs.** Every step, in training and in sampling, "
        "touches $f^2 C / c$ times fewer numbers: faster, and less memory. The VAE is trained once and reused "
        "by every diffusion model built on it. It drops detail the eye barely notices (*perceptual* "
        "compression), so the diffusion model spends its capacity on content and composition (*semantic* "
        "compression). The price: a generated image can be no better than the decoder can draw, so the VAE's "
        "reconstruction quality caps the result. The *Latent map* tab shows what the latent space looks like.",
        "**3. 潜空间扩散（latent diffusion）的好处与代价。** 训练和采样的每一步要处理的数都少了 $f^2 C / c$ 倍："
        "更快，也更省内存。VAE 只需训练一次，建立在它之上的每个扩散模型都可以复用。它丢掉人眼几乎察觉不到的细节"
        "（*感知* 压缩），让扩散模型把能力花在内容和构图上（*语义* 压缩）。代价是：生成的图像不可能比解码器画得更好，"
        "VAE 的重建质量就是结果的上限。*潜空间地图* 标签页展示潜空间长什么样。"),
    "learn.savings": (
        "**4. Computing the savings.** An $H \\times W \\times C$ image becomes an "
        "$\\frac{H}{f} \\times \\frac{W}{f} \\times c$ latent:\n\n"
        "$$\\text{ratio} = \\frac{H \\cdot W \\cdot C}{\\frac{H}{f} \\cdot \\frac{W}{f} \\cdot c} "
        "= \\frac{f^2 \\, C}{c}$$",
        "**4. 计算节省了多少。** $H \\times W \\times C$ 的图像变成 $\\frac{H}{f} \\times \\frac{W}{f} \\times c$ "
        "的潜变量：\n\n"
        "$$\\text{压缩率} = \\frac{H \\cdot W \\cdot C}{\\frac{H}{f} \\cdot \\frac{W}{f} \\cdot c} "
        "= \\frac{f^2 \\, C}{c}$$"),
    "learn.savings_measured": (
        "Stable Diffusion ($f = 8$, $c = 4$, RGB so $C = 3$): 512 x 512 x 3 = {sd_pixels:,} becomes "
        "{sd_latent_side} x {sd_latent_side} x 4 = {sd_latents:,}, a ratio of **{sd_ratio:g}**. Try other sizes in "
        "*Compression* and test yourself in *Exercises*.",
        "Stable Diffusion（$f = 8$，$c = 4$，RGB 图像 $C = 3$）：512 x 512 x 3 = {sd_pixels:,} 变成 "
        "{sd_latent_side} x {sd_latent_side} x 4 = {sd_latents:,}，压缩率 **{sd_ratio:g}**。在 *压缩率* 标签页试试别的尺寸，"
        "再到 *练习* 标签页检验自己。"),
    "learn.maths": ("The maths of this tab", "本页的数学"),
    "learn.diffusion_title": ("How diffusion works: the forward process, DDPM and DDIM",
                              "扩散是怎样工作的：前向过程、DDPM 与 DDIM"),
    "learn.diffusion": (
        "**Forward process** (adding noise, fixed): with $\\alpha_t = 1 - \\beta_t$ and "
        "$\\bar{\\alpha}_t = \\prod_{s=1}^{t} \\alpha_s$,\n\n"
        "$$q(x_t \\mid x_0) = \\mathcal{N}\\!\\left(\\sqrt{\\bar{\\alpha}_t}\\, x_0,\\; (1 - \\bar{\\alpha}_t) I\\right)"
        ", \\qquad x_t = \\sqrt{\\bar{\\alpha}_t}\\, x_0 + \\sqrt{1 - \\bar{\\alpha}_t}\\, \\epsilon$$\n\n"
        "**Reverse process** (learned): a UNet predicts the noise $\\epsilon_\\theta(x_t, t)$, which gives the "
        "clean estimate $\\hat{x}_0 = \\left(x_t - \\sqrt{1 - \\bar{\\alpha}_t}\\, \\epsilon_\\theta\\right) / "
        "\\sqrt{\\bar{\\alpha}_t}$.\n\n"
        "DDPM (random, one step per training timestep):\n\n"
        "$$x_{t-1} = \\frac{1}{\\sqrt{\\alpha_t}} \\left( x_t - \\frac{\\beta_t}{\\sqrt{1 - \\bar{\\alpha}_t}}\\, "
        "\\epsilon_\\theta(x_t, t) \\right) + \\sigma_t z, \\qquad z \\sim \\mathcal{N}(0, I), \\quad "
        "\\sigma_t^2 = \\frac{1 - \\bar{\\alpha}_{t-1}}{1 - \\bar{\\alpha}_t} \\beta_t$$\n\n"
        "DDIM ($\\eta = 0$, deterministic, may skip timesteps):\n\n"
        "$$x_{t-1} = \\sqrt{\\bar{\\alpha}_{t-1}}\\, \\hat{x}_0 + \\sqrt{1 - \\bar{\\alpha}_{t-1}}\\, "
        "\\epsilon_\\theta(x_t, t)$$\n\n"
        "Classifier-free guidance mixes the conditional and unconditional predictions: "
        "$\\hat{\\epsilon} = \\epsilon_\\theta(x_t) + w \\left( \\epsilon_\\theta(x_t, y) - "
        "\\epsilon_\\theta(x_t) \\right)$. In latent diffusion, $x_0$ is the VAE latent $z$, not the pixels.",
        "**前向过程**（加噪，固定不学习）：令 $\\alpha_t = 1 - \\beta_t$，$\\bar{\\alpha}_t = \\prod_{s=1}^{t} "
        "\\alpha_s$，\n\n"
        "$$q(x_t \\mid x_0) = \\mathcal{N}\\!\\left(\\sqrt{\\bar{\\alpha}_t}\\, x_0,\\; (1 - \\bar{\\alpha}_t) I\\right)"
        ", \\qquad x_t = \\sqrt{\\bar{\\alpha}_t}\\, x_0 + \\sqrt{1 - \\bar{\\alpha}_t}\\, \\epsilon$$\n\n"
        "**反向过程**（学习得到）：UNet 预测噪声 $\\epsilon_\\theta(x_t, t)$，由此得到干净样本的估计 "
        "$\\hat{x}_0 = \\left(x_t - \\sqrt{1 - \\bar{\\alpha}_t}\\, \\epsilon_\\theta\\right) / "
        "\\sqrt{\\bar{\\alpha}_t}$。\n\n"
        "DDPM（随机，每个训练时间步走一步）：\n\n"
        "$$x_{t-1} = \\frac{1}{\\sqrt{\\alpha_t}} \\left( x_t - \\frac{\\beta_t}{\\sqrt{1 - \\bar{\\alpha}_t}}\\, "
        "\\epsilon_\\theta(x_t, t) \\right) + \\sigma_t z, \\qquad z \\sim \\mathcal{N}(0, I), \\quad "
        "\\sigma_t^2 = \\frac{1 - \\bar{\\alpha}_{t-1}}{1 - \\bar{\\alpha}_t} \\beta_t$$\n\n"
        "DDIM（$\\eta = 0$，确定性，可以跳过时间步）：\n\n"
        "$$x_{t-1} = \\sqrt{\\bar{\\alpha}_{t-1}}\\, \\hat{x}_0 + \\sqrt{1 - \\bar{\\alpha}_{t-1}}\\, "
        "\\epsilon_\\theta(x_t, t)$$\n\n"
        "无分类器引导（classifier-free guidance）把有条件与无条件的预测混合："
        "$\\hat{\\epsilon} = \\epsilon_\\theta(x_t) + w \\left( \\epsilon_\\theta(x_t, y) - "
        "\\epsilon_\\theta(x_t) \\right)$。在潜空间扩散中，$x_0$ 是 VAE 的潜变量 $z$，而不是像素。"),
    "learn.schedule_measured": (
        "The shipped **{model}** uses $T$ = {steps:,} training timesteps and a `{kind}` schedule with "
        "$\\beta$ from {beta_start:g} to {beta_end:g}: after all $T$ steps only $\\bar{{\\alpha}}_T$ = "
        "{abar_end:.1e} of the signal's variance is left, so $x_T$ is, for practical purposes, pure noise.",
        "随附的 **{model}** 使用 $T$ = {steps:,} 个训练时间步和 `{kind}` 噪声调度，$\\beta$ 从 {beta_start:g} 到 "
        "{beta_end:g}：走完全部 $T$ 步后，信号方差只剩 $\\bar{{\\alpha}}_T$ = {abar_end:.1e}，$x_T$ "
        "实际上就是纯噪声。"),
}

MATHS_TITLE = "learn.maths"
DIFFUSION_TITLE = "learn.diffusion_title"


def summary(service) -> Part:
    """The overview's one-line title: the headline compression (Stable Diffusion's 512x512x3 -> 64x64x4)."""
    numbers = headline_numbers(service)
    return "learn.overview", {k: numbers[k] for k in ("sd_pixels", "sd_latents", "sd_ratio", "sd_latent_side")}


def vae_maths(service) -> list[Part]:
    """The VAE's structure, reparameterisation and KL term, then what the default digit VAE measures."""
    numbers = headline_numbers(service, roles.DIGIT_VAE)
    return [("learn.vae", {}), ("learn.vae_measured", numbers) if numbers["model"] else ("learn.no_model", {})]


def diffusion_maths(service, model: str = roles.LATENT_DENOISER) -> list[Part]:
    """Forward process, DDPM and DDIM updates, guidance; the schedule's numbers from `model`'s config.json."""
    parts: list[Part] = [("learn.diffusion", {})]
    schedule = service.config(model).get("schedule") if model in service.names() else None
    if schedule:
        from ..diffusion import NoiseSchedule

        sched = NoiseSchedule(**schedule)
        parts.append(("learn.schedule_measured", {
            "model": model, "steps": sched.num_train_timesteps, "kind": sched.beta_schedule,
            "beta_start": sched.beta_start, "beta_end": sched.beta_end, "abar_end": float(sched.alphas_cumprod[-1])}))
    return parts


def compression_maths(service) -> list[Part]:
    """The ratio formula f^2 C / c, Stable Diffusion's numbers, and where the field went since (4 -> 16-32
    latent channels)."""
    return [("learn.savings", {}), ("learn.savings_measured", headline_numbers(service)), ("learn.channels", {})]


TOPICS = {"vae": vae_maths, "diffusion": diffusion_maths, "compression": compression_maths}


def maths_parts(topic: str, service) -> list[Part]:
    """The parts of a maths panel: topic "vae", "diffusion" or "compression" (ValueError for another)."""
    if topic not in TOPICS:
        raise ValueError(f"unknown maths topic {topic!r}; topics: {', '.join(TOPICS)}")
    return TOPICS[topic](service)


def overview_columns(service) -> tuple[list[Part], list[Part]]:
    """The overview's two columns: (why latent space, its gains, the savings arithmetic; the VAE)."""
    why = ("learn.why", headline_numbers(service))
    return [why, ("learn.advantages", {}), *compression_maths(service)], vae_maths(service)


def word_parts(parts: list[Part], lang: str = "en") -> list[str]:
    """The parts as Markdown in `lang` ("en" or "zh")."""
    index = 1 if lang == "zh" else 0
    return [STRINGS[key][index].format(**values) if values else STRINGS[key][index] for key, values in parts]
