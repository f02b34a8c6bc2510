"""Exercises tab: the chapter's five exercises, each a guided task with a check. Only wiring and wording live
here; every answer is computed in explorer/exercises.py from `compression()` and the shipped checkpoints.

Checks answer in the language of the page's switch (its value arrives as the `lang` input); a bad answer
(empty, not a number) gets a message, never an exception. Every result area remembers what it last showed (the
answers it checked, in a gr.State) and is worded again when the page's language changes (`Reworded`).
"""
from __future__ import annotations

import functools

import gradio as gr
import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .. import exercises as ex
from ..compression import compression, format_ratio
from ..data import load_mnist
from .compression_tab import input_text
from .i18n import register, text, tr, tr_format
from .learn import LATEX

STRINGS = {
    "ex.intro": (
        "### The chapter's five exercises\n"
        "Each exercise is a short task with a **Check** button. The answers are not typed in anywhere: they "
        "come from the compression calculator, the shipped models' held-out metrics and the history recorded "
        "while they were trained.",
        "### 本章的五道练习\n"
        "每道练习都是一个小任务，带一个 **检查** 按钮。答案不是事先写好的：它们来自压缩率计算器、随附模型在留出测试集上"
        "的指标，以及训练时记录下来的历史。"),
    "ex.check": ("Check", "检查"),
    "ex.correct": ("✅ correct", "✅ 正确"),
    "ex.wrong": ("❌ not quite", "❌ 不太对"),
    "ex.empty": ("⬜ no answer yet", "⬜ 还没有作答"),
    "ex.unreadable": ("⚠️ could not read this as a number", "⚠️ 无法识别为数字"),
    "ex.unreadable_shape": ("⚠️ could not read this as a shape: write it as c x h x w, e.g. 4x8x8",
                            "⚠️ 无法识别为形状：请写成 c x h x w，例如 4x8x8"),
    "ex.pick_first": ("Pick an answer first.", "请先选择一个答案。"),
    # exercise 1
    "ex1.title": ("Exercise 1 · Implement and train a simple VAE on MNIST",
                  "练习 1 · 在 MNIST 上实现并训练一个简单的 VAE"),
    "ex1.task": (
        "**Task.** Read the recipe, the code and the learning curves recorded while the shipped model was "
        "trained; then retrain it yourself with the command below and compare your curves with these. The "
        "network is `explorer/models/sd_vae.py` (encoder, decoder) and `explorer/models/posterior.py` "
        "(the reparameterisation $z = \\mu + \\sigma \\odot \\epsilon$ and the KL term); the loop is "
        "`explorer/train.py`, whose loss is reconstruction + $\\beta$ KL.",
        "**任务。** 阅读配方、代码，以及随附模型训练时记录的学习曲线；然后用下面的命令自己重新训练一次，"
        "把你的曲线和这里的比较。网络在 `explorer/models/sd_vae.py`（编码器、解码器）和 "
        "`explorer/models/posterior.py`（重参数化 $z = \\mu + \\sigma \\odot \\epsilon$ 与 KL 项）；训练循环在 "
        "`explorer/train.py`，损失为 重建误差 + $\\beta$ KL。"),
    "ex1.recipe": (
        "**Recipe of {name}** (SD-style VAE, f = {factor}, c = {channels}): {epochs} epochs over the {n_train} training digits, batch size "
        "{batch_size}, learning rate {lr:g} (Adam, cosine schedule), KL weight β = {kl_weight:g}, seed {seed}. "
        "The shipped checkpoint has {params:,} parameters and took {train_seconds:,.0f} s to train on this "
        "project's CPU.",
        "**{name} 的训练配方**（SD 风格的 VAE，f = {factor}，c = {channels}）：在 {n_train} 张训练数字上训练 {epochs} 轮（epoch），批大小 "
        "{batch_size}，学习率 {lr:g}（Adam，余弦调度），KL 权重 β = {kl_weight:g}，随机种子 {seed}。"
        "随附的检查点有 {params:,} 个参数，在本项目的 CPU 上训练用了 {train_seconds:,.0f} 秒。"),
    "ex1.missing": ("The checkpoint {name} is not installed, so there are no recorded curves to show; the "
                    "command below trains it.",
                    "检查点 {name} 未安装，因此没有可显示的训练曲线；下面的命令可以训练它。"),
    "ex1.command": ("Retrain it (from the project folder)", "重新训练（在项目文件夹中运行）"),
    "ex1.curves": ("Learning curves recorded at training time", "训练时记录的学习曲线"),
    "ex1.question": ("**Check.** While the reconstruction error falls, what does the KL term do over training?",
                     "**检查。** 在重建误差下降的同时，KL 项在训练过程中怎样变化？"),
    "ex1.rises": ("It rises", "上升"),
    "ex1.falls": ("It falls", "下降"),
    "ex1.flat": ("It stays about the same", "基本不变"),
    "ex1.answer": (
        "{verdict} In the recorded history the KL term went from {first:,.1f} (epoch 1) to {last:,.1f} "
        "(epoch {epochs}) while the reconstruction error went from {rec_first:,.1f} to {rec_last:,.1f}. With a "
        "KL weight of only β = {kl_weight:g}, the KL term costs the encoder almost nothing, so it spends it: "
        "it moves the codes away from N(0, I) wherever that makes the reconstruction sharper. A textbook VAE "
        "(β = 1) would hold the KL down.",
        "{verdict} 在记录的历史中，KL 项从 {first:,.1f}（第 1 轮）变为 {last:,.1f}（第 {epochs} 轮），"
        "而重建误差从 {rec_first:,.1f} 降到 {rec_last:,.1f}。KL 权重只有 β = {kl_weight:g}，"
        "KL 项对编码器几乎没有代价，所以它会尽情使用：只要能让重建更清晰，就把编码推离 N(0, I)。"
        "教科书式的 VAE（β = 1）则会把 KL 压住。"),
    "ex1.no_history": ("This checkpoint recorded no per-epoch history, so there is nothing to check against.",
                       "该检查点没有记录逐轮历史，无法检查。"),
    "ex1.epoch": ("epoch", "轮次（epoch）"),
    "ex1.loss": ("total loss", "总损失"),
    "ex1.reconstruction": ("reconstruction (squared error summed over an image's pixels, in [-1, 1])",
                           "重建误差（一张图所有像素的平方误差之和，取值范围 [-1, 1]）"),
    "ex1.kl": ("KL term (nats per image)", "KL 项（每张图，nats）"),
    "ex1.plot_left": ("Loss and reconstruction (log scale)", "损失与重建误差（对数坐标）"),
    "ex1.plot_right": ("KL term", "KL 项"),
    # exercise 2
    "ex2.title": ("Exercise 2 · Compute the latent dimensions for several resolutions",
                  "练习 2 · 计算几种分辨率下的潜变量维度"),
    "ex2.task": (
        "**Task.** For each image, compute the latent shape $\\frac{H}{f} \\times \\frac{W}{f} \\times c$, the "
        "number of latent values, and the compression ratio "
        "$\\frac{H \\cdot W \\cdot C}{\\frac{H}{f} \\cdot \\frac{W}{f} \\cdot c}$. Write a shape as `c x h x w` "
        "or `h x w x c` (e.g. `4x8x8`), then press **Check**. The answers come from the same calculator as the "
        "*Compression* tab.",
        "**任务。** 对每张图像，计算潜变量形状 $\\frac{H}{f} \\times \\frac{W}{f} \\times c$、潜变量值的个数，以及压缩率 "
        "$\\frac{H \\cdot W \\cdot C}{\\frac{H}{f} \\cdot \\frac{W}{f} \\cdot c}$。形状写成 `c x h x w` 或 "
        "`h x w x c`（例如 `4x8x8`），然后点 **检查**。答案来自与 *压缩率* 标签页相同的计算器。"),
    "ex2.question": ("**{i}.** {height} x {width} image, C = {image_channels}; VAE with f = {factor}, c = "
                     "{latent_channels}",
                     "**{i}.** {height} x {width} 的图像，C = {image_channels}；VAE 的 f = {factor}，c = "
                     "{latent_channels}"),
    "ex2.shape": ("Latent shape", "潜变量形状"),
    "ex2.dims": ("Number of latent values", "潜变量值的个数"),
    "ex2.ratio": ("Compression ratio", "压缩率"),
    "ex2.shape_hint": ("c x h x w", "c x h x w"),
    "ex2.dims_hint": ("a whole number", "整数"),
    "ex2.ratio_hint": ("a number", "数字"),
    "ex2.reveal": ("Show the answers", "显示答案"),
    "ex2.row": ("**{i}.** shape: {shape} · values: {dims} · ratio: {ratio}",
                "**{i}.** 形状：{shape} · 个数：{dims} · 压缩率：{ratio}"),
    "ex2.score": ("**{right} of {total} questions fully right.**", "**{total} 道题中全对 {right} 道。**"),
    "ex2.hint": ("Hint: the latent side is the image side divided by f; the number of values multiplies the "
                 "three sides; the ratio divides the pixel values H·W·C by it.",
                 "提示：潜变量的边长 = 图像边长除以 f；值的个数 = 三个维度相乘；压缩率 = 像素值个数 H·W·C 除以它。"),
    "ex2.answer": ("**{i}.** {h} x {w} x {c_img} = {pixels:,} → latent {shape} = {dims:,} values, ratio "
                   "{ratio}",
                   "**{i}.** {h} x {w} x {c_img} = {pixels:,} → 潜变量 {shape} = {dims:,} 个值，压缩率 {ratio}"),
    # exercise 3
    "ex3.title": ("Exercise 3 · Compare the reconstruction error (MSE) with the original",
                  "练习 3 · 比较重建结果与原图的误差（MSE）"),
    "ex3.task": (
        "**Task.** Every VAE below was measured on its held-out set, images it never saw in training "
        "(read from its metrics.json). With images in [0, 1]:\n\n"
        "$$\\text{MSE} = \\frac{1}{N} \\sum_i (x_i - \\hat{x}_i)^2, \\qquad "
        "\\text{PSNR} = 10 \\log_{10} \\frac{1}{\\text{MSE}} \\ \\text{dB}$$\n\n"
        "Which MNIST model reconstructs the digits best, and what PSNR does its MSE give? (Compare models only "
        "within one data set: digits and photos are different tests.)",
        "**任务。** 下面每个 VAE 都在它的留出测试集（训练时从未见过的图像）上测过，数据读自它的 metrics.json。"
        "图像取值在 [0, 1]：\n\n"
        "$$\\text{MSE} = \\frac{1}{N} \\sum_i (x_i - \\hat{x}_i)^2, \\qquad "
        "\\text{PSNR} = 10 \\log_{10} \\frac{1}{\\text{MSE}} \\ \\text{dB}$$\n\n"
        "哪个 MNIST 模型重建数字最好？它的 MSE 对应的 PSNR 是多少？（只在同一个数据集内比较：数字和照片是不同的测试。）"),
    "ex3.table": ("Held-out reconstruction error per model", "各模型在留出测试集上的重建误差"),
    "ex3.model": ("The best MNIST model", "最好的 MNIST 模型"),
    "ex3.psnr": ("Its PSNR in dB, computed from its MSE", "由它的 MSE 算出的 PSNR（dB）"),
    "ex3.none": ("No VAE with measured held-out metrics is installed yet.",
                 "尚未安装带有留出测试指标的 VAE。"),
    "ex3.result": ("Model: {model} · PSNR: {psnr}", "模型：{model} · PSNR：{psnr}"),
    "ex3.explain": ("**{best}** has the lowest held-out MSE, {mse:.6f}: 10 log10(1 / {mse:.6f}) = "
                    "**{psnr:.2f} dB**.",
                    "**{best}** 的留出 MSE 最低，为 {mse:.6f}：10 log10(1 / {mse:.6f}) = **{psnr:.2f} dB**。"),
    "ex3.col_model": ("model", "模型"),
    "ex3.col_dataset": ("data set", "数据集"),
    "ex3.col_split": ("held-out set", "留出测试集"),
    "ex3.col_n": ("images", "图像数"),
    "ex3.col_latent": ("latent shape", "潜变量形状"),
    "ex3.col_input": ("input C x H x W", "输入 C x H x W"),
    "ex3.col_ratio": ("ratio (input values / latent values)", "压缩率（输入值个数 / 潜变量值个数）"),
    # exercise 4
    "ex4.title": ("Exercise 4 · Reduce MNIST latents to 2-D and look at the distribution",
                  "练习 4 · 把 MNIST 潜变量降到二维，观察其分布"),
    "ex4.task": (
        "**Task.** Encode the 500 held-out digits, reduce each latent to 2-D and look at how the points are "
        "spread. The *Latent map* tab does this for every VAE, with UMAP or PCA; the 2-D VAE **{model}** needs "
        "no reduction at all, because its latent already is the plane. Its KL term pulls every code towards "
        "the prior $\\mathcal{{N}}(0, I)$. Predict what you will see, open the map, then press **Measure** "
        "to check with numbers.",
        "**任务。** 把 500 张留出测试数字编码，再把每个潜变量降到二维，看这些点怎样分布。*潜空间地图* 标签页会对每个 "
        "VAE 用 UMAP 或 PCA 完成这一步；二维 VAE **{model}** 根本不需要降维，因为它的潜空间本身就是一个平面。"
        "它的 KL 项把每个编码拉向先验 $\\mathcal{{N}}(0, I)$。先预测你会看到什么，打开地图，再点 **测量** 用数字检验。"),
    "ex4.open_map": ("Open the latent map →", "打开潜空间地图 →"),
    "ex4.prediction": ("Your prediction for the 2-D VAE's codes", "你对二维 VAE 编码分布的预测"),
    "ex4.prior_clusters": ("A cloud centred on 0, on the scale of N(0, I), each digit in its own region",
                           "以 0 为中心、尺度与 N(0, I) 相当的点云，每个数字各占一块区域"),
    "ex4.prior_mixed": ("A cloud centred on 0, on the scale of N(0, I), all digits mixed together",
                        "以 0 为中心、尺度与 N(0, I) 相当的点云，各个数字混在一起"),
    "ex4.spread": ("Spread far and wide, nothing like N(0, I)", "分布得很散，完全不像 N(0, I)"),
    "ex4.measure": ("Measure", "测量"),
    "ex4.missing": ("The 2-D VAE {model} is not installed; the *Latent map* tab still projects the other "
                    "VAEs' latents.",
                    "二维 VAE {model} 未安装；*潜空间地图* 标签页仍可投影其他 VAE 的潜变量。"),
    "ex4.stats": (
        "{verdict} Measured on {n} held-out digits (posterior means): centre ({mean_x:.2f}, {mean_y:.2f}), "
        "spread (std) {std_x:.2f} x {std_y:.2f}; {within:.1%} of the codes lie within radius 2 of the origin "
        "(the prior N(0, I) puts {prior:.1%} there); for {nn:.1%} of the digits the nearest other code is the "
        "same digit (chance: about 10%). The measured picture: *{truth}*.",
        "{verdict} 在 {n} 张留出测试数字上测量（后验均值）：中心 ({mean_x:.2f}, {mean_y:.2f})，"
        "散布（标准差）{std_x:.2f} x {std_y:.2f}；{within:.1%} 的编码落在离原点半径 2 以内"
        "（先验 N(0, I) 为 {prior:.1%}）；对 {nn:.1%} 的数字来说，离它最近的另一个编码是同一个数字（随机猜约为 10%）。"
        "测得的图景：*{truth}*。"),
    # exercise 5
    "ex5.title": ("Exercise 5 · Why 4 latent channels, not 3?", "练习 5 · 为什么用 4 个潜通道，而不是 3 个？"),
    "ex5.task": (
        "**Task.** Stable Diffusion's VAE keeps $c = 4$ channels at $f = 8$. An RGB image has 3 channels, so "
        "why not $c = 3$? At 512 x 512, $c = 3$ would keep {dims3:,} values ({ratio3}x compression) and "
        "$c = 4$ keeps {dims4:,} ({ratio4}x). Predict what the extra channel buys, then reveal the measured "
        "answer.",
        "**任务。** Stable Diffusion 的 VAE 在 $f = 8$ 时保留 $c = 4$ 个通道。RGB 图像只有 3 个通道，为什么不用 $c = 3$？"
        "在 512 x 512 下，$c = 3$ 会保留 {dims3:,} 个值（压缩 {ratio3} 倍），$c = 4$ 保留 {dims4:,} 个"
        "（压缩 {ratio4} 倍）。预测多出的这个通道带来什么，再揭晓实测答案。"),
    "ex5.prediction": ("Your prediction", "你的预测"),
    "ex5.three_enough": ("3 channels are enough: the image only has 3", "3 个通道就够了：图像本来就只有 3 个"),
    "ex5.four_better": ("4 channels reconstruct measurably better", "4 个通道的重建明显更好"),
    "ex5.no_difference": ("No real difference", "没有实质差别"),
    "ex5.reveal": ("Reveal the measured answer", "揭晓实测答案"),
    "ex5.plot": ("Rate-distortion: PSNR against latent channels", "率失真：PSNR 随潜通道数的变化"),
    "ex5.measured": (
        "{verdict} Measured here on the held-out MNIST digits (f = 4): 3 → 4 channels changes PSNR by "
        "**{gain:+.2f} dB**, at the price of a smaller compression ratio ({ratio3}x → {ratio4}x).",
        "{verdict} 在本机的 MNIST 留出测试数字上实测（f = 4）：通道数从 3 增加到 4，PSNR 变化 **{gain:+.2f} dB**，"
        "代价是压缩率变小（{ratio3} 倍 → {ratio4} 倍）。"),
    "ex5.unmeasured": (
        "The 3- and 4-channel MNIST VAEs are not both installed yet (found: {found}), so this machine cannot "
        "measure the 3 → 4 step; `python -m explorer.train sd-vae-mnist-c3 sd-vae-mnist-c4` trains them.",
        "3 通道和 4 通道的 MNIST VAE 还没有都安装（已找到：{found}），所以本机还无法实测 3 → 4 这一步；"
        "运行 `python -m explorer.train sd-vae-mnist-c3 sd-vae-mnist-c4` 即可训练它们。"),
    "ex5.published": (
        "Published, **another data set** (SD3 paper, Table 3, photos, f = 8): {points}. More channels, higher "
        "PSNR, at every step.",
        "已发表的结果，**另一个数据集**（SD3 论文表 3，照片，f = 8）：{points}。每多一些通道，PSNR 都更高。"),
    "ex5.why": (
        "**Why 4, then?** Nothing magic separates 3 from 4: each channel is a step on a rate-distortion curve. "
        "More channels keep more of the image (higher PSNR), but the latent grows, and the diffusion model "
        "has to model and process every latent value at every step. The latent is not an image, so \"RGB has "
        "3\" is no argument: 4 was the Latent Diffusion paper's balance for f = 8, and newer models (SD3, "
        "FLUX) moved to 16 channels together with much larger diffusion models.",
        "**那为什么是 4？** 3 和 4 之间没有什么神奇的界线：每个通道都是率失真曲线上的一步。通道越多，保留的图像信息越多"
        "（PSNR 越高），但潜变量也越大，扩散模型每一步都必须建模并处理每一个潜变量值。潜变量不是图像，所以“RGB 只有 3 个"
        "通道”并不成立：4 是 Latent Diffusion 论文在 f = 8 下找到的平衡点，更新的模型（SD3、FLUX）则配合大得多的"
        "扩散模型改用 16 个通道。"),
    "ex5.ours": ("measured here (MNIST, f = 4)", "本机实测（MNIST，f = 4）"),
    "ex5.sd3": ("SD3 paper (photos, f = 8; another data set)", "SD3 论文（照片，f = 8；另一个数据集）"),
    "ex5.channels": ("latent channels c", "潜通道数 c"),
    "ex.verdict_right": ("✅ Your prediction matches the measurement.", "✅ 你的预测与测量结果一致。"),
    "ex.verdict_wrong": ("❌ The measurement says otherwise.", "❌ 测量结果并非如此。"),
    "ex.verdict_unknown": ("⬜ This cannot be measured here yet.", "⬜ 本机暂时还无法测量。"),
}
register(STRINGS)

TREND_CHOICES = ("rises", "falls", "flat")
DISTRIBUTION_CHOICES = ("prior_clusters", "prior_mixed", "spread")
LATENT_MAP_MODEL = "latent_map.model"  # the Latent map tab's model dropdown in AppContext.components
PRIVATE = {"api_visibility": "private", "show_progress": "hidden"}


class Reworded:
    """A result area that follows the page's language. `render(*args, lang)` returns the value of `outputs`
    (a tuple when there are several); each trigger wired with `on` shows it and keeps `args` in a gr.State, and
    a change of `language` renders the kept `args` again in the new language (nothing shown yet: nothing
    changes)."""

    def __init__(self, render, outputs: list, language):
        self.render, self.outputs, self.language = render, outputs, language
        self.last = gr.State(None)
        language.change(self.reword, [self.last, language], outputs, **PRIVATE)

    def show(self, args: tuple, lang: str) -> tuple:
        """What `render` shows for `args`, followed by `args` for the State."""
        shown = self.render(*args, lang)
        return (*(shown if len(self.outputs) > 1 else (shown,)), list(args))

    def reword(self, last: list | None, lang: str):
        """The last result again in `lang`; no change when nothing was shown yet."""
        if last is None:
            return gr.update() if len(self.outputs) == 1 else tuple(gr.update() for _ in self.outputs)
        return self.render(*last, lang)

    def on(self, trigger, inputs: list, *fixed, progress: str = "hidden") -> None:
        """When `trigger` fires, render(*fixed, *values of inputs, lang) into the outputs (`progress`: Gradio's
        show_progress)."""
        def run(*values):
            *args, lang = values
            return self.show((*fixed, *args), lang)

        trigger(run, [*inputs, self.language], [*self.outputs, self.last], api_visibility="private",
                show_progress=progress)


# ---- exercise 1 ----------------------------------------------------------------------------------------------
def curves_figure(curves: ex.LearningCurves, lang: str) -> go.Figure:
    """Loss and reconstruction (log y) on the left, KL on the right, per epoch."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(text("ex1.plot_left", lang), text("ex1.plot_right", lang)))
    for term, dash in (("loss", "solid"), ("reconstruction", "dot")):
        fig.add_trace(go.Scatter(x=curves.epochs, y=curves.terms.get(term, []), mode="lines+markers",
                                 name=text(f"ex1.{term}", lang), line={"dash": dash}), row=1, col=1)
    fig.add_trace(go.Scatter(x=curves.epochs, y=curves.terms.get("kl", []), mode="lines+markers",
                             name=text("ex1.kl", lang)), row=1, col=2)
    fig.update_yaxes(type="log", dtick=1, row=1, col=1)
    fig.update_xaxes(title_text=text("ex1.epoch", lang))
    fig.update_layout(height=380, margin={"l": 50, "r": 20, "t": 60, "b": 40},
                      legend={"orientation": "h", "y": -0.3, "x": 0})
    return fig


def check_trend(curves: ex.LearningCurves, kl_weight: float, choice: str | None, lang: str) -> str:
    """Exercise 1's verdict on the predicted KL trend, with the recorded numbers."""
    if not curves.epochs:
        return text("ex1.no_history", lang)
    if choice not in TREND_CHOICES:
        return text("ex.pick_first", lang)
    truth = ex.kl_trend(curves.terms["kl"])
    verdict = text("ex.verdict_unknown" if truth == "unknown" else
                   "ex.verdict_right" if truth == choice else "ex.verdict_wrong", lang)
    kl, rec = curves.terms["kl"], curves.terms["reconstruction"]
    return text("ex1.answer", lang, verdict=verdict, first=kl[0], last=kl[-1], epochs=curves.epochs[-1],
                rec_first=rec[0], rec_last=rec[-1], kl_weight=kl_weight)


def build_exercise1(service, language) -> None:
    """Recipe, retraining command, recorded learning curves and the KL-trend check."""
    recipe = ex.training_recipe(ex.EXERCISE1_MODEL)
    installed = ex.EXERCISE1_MODEL in service.names("vae")
    metrics = service.metrics(ex.EXERCISE1_MODEL) if installed else {}
    curves = ex.learning_curves(metrics)
    gr.Markdown(tr("ex1.task"), latex_delimiters=LATEX)
    if installed and metrics.get("params"):
        n_train = len(load_mnist("train"))  # the recipe's default data (python -m explorer.train)
        shapes = service.vae_shapes(ex.EXERCISE1_MODEL)
        gr.Markdown(tr_format("ex1.recipe", n_train=n_train, params=metrics["params"], factor=shapes.get("factor"),
                              channels=shapes["latent_shape"][0],
                              train_seconds=metrics.get("train_seconds", float("nan")), **recipe))
    else:
        gr.Markdown(tr_format("ex1.missing", name=ex.EXERCISE1_MODEL))
    gr.Code(recipe["command"], language="shell", label=tr("ex1.command"), interactive=False, lines=1)
    plot = gr.Plot(curves_figure(curves, "en"), label=tr("ex1.curves"), visible=bool(curves.epochs))
    gr.Markdown(tr("ex1.question"))
    with gr.Row():
        choice = gr.Radio([(tr(f"ex1.{c}"), c) for c in TREND_CHOICES], value=None, show_label=False, scale=3)
        button = gr.Button(tr("ex.check"), variant="primary", scale=1)
    result = gr.Markdown()
    Reworded(lambda c, lang: check_trend(curves, recipe["kl_weight"], c, lang), [result], language).on(
        button.click, [choice])
    language.change(lambda lang: curves_figure(curves, lang), language, plot, **PRIVATE)


# ---- exercise 2 ----------------------------------------------------------------------------------------------
def _field_text(field: ex.FieldCheck, lang: str, unreadable: str = "ex.unreadable") -> str:
    """A field's status in `lang`; `unreadable` is the key that says how to write this field."""
    return text(unreadable if field.status == "unreadable" else f"ex.{field.status}", lang)


def check_latents(answers: list, lang: str) -> str:
    """Markdown with one line per question; `answers` holds (shape, dims, ratio) per question, flattened."""
    lines, right = [], 0
    for i, question in enumerate(ex.QUESTIONS):
        shape, dims, ratio = answers[3 * i: 3 * i + 3]
        result = ex.check_latent_answer(question, shape, dims, ratio)
        right += result.all_correct
        lines.append(text("ex2.row", lang, i=i + 1, shape=_field_text(result.shape, lang, "ex.unreadable_shape"),
                          dims=_field_text(result.dims, lang), ratio=_field_text(result.ratio, lang)))
    lines.append(text("ex2.score", lang, right=right, total=len(ex.QUESTIONS)))
    if right < len(ex.QUESTIONS):
        lines.append(text("ex2.hint", lang))
    return "  \n".join(lines)


def reveal_latents(lang: str) -> str:
    """Markdown with every question's worked answer."""
    lines = []
    for i, q in enumerate(ex.QUESTIONS):
        r = q.solve()
        c, lh, lw = r.latent_shape
        lines.append(text("ex2.answer", lang, i=i + 1, h=q.height, w=q.width, c_img=q.image_channels,
                          pixels=r.pixel_dims, shape=f"{lh} x {lw} x {c}", dims=r.latent_dims,
                          ratio=format_ratio(r.ratio)))
    return "  \n".join(lines)


def latents_result(kind: str, *values) -> str:
    """Exercise 2's result area: "check" the answers (the boxes' values, then `lang`) or "reveal" them."""
    *answers, lang = values
    return check_latents(answers, lang) if kind == "check" else reveal_latents(lang)


def build_exercise2(language) -> None:
    """Three answer boxes per question, a Check and a Show-the-answers button."""
    gr.Markdown(tr("ex2.task"), latex_delimiters=LATEX)
    boxes = []
    for i, q in enumerate(ex.QUESTIONS):
        with gr.Row(equal_height=True):
            gr.Markdown(tr_format("ex2.question", i=i + 1, height=q.height, width=q.width,
                                  image_channels=q.image_channels, factor=q.factor, latent_channels=q.latent_channels))
            boxes += [gr.Textbox(label=tr(f"ex2.{field}"), placeholder=tr(f"ex2.{field}_hint"), max_lines=1)
                      for field in ("shape", "dims", "ratio")]
    with gr.Row():
        check = gr.Button(tr("ex.check"), variant="primary")
        reveal = gr.Button(tr("ex2.reveal"), variant="secondary")
    result = Reworded(latents_result, [gr.Markdown()], language)
    result.on(check.click, boxes, "check")
    result.on(reveal.click, [], "reveal")


# ---- exercise 3 ----------------------------------------------------------------------------------------------
def heldout_frame(rows: list[dict], lang: str) -> dict:
    """The table as a gr.Dataframe value with headers in `lang`."""
    headers = [text(k, lang) for k in ("ex3.col_model", "ex3.col_dataset", "ex3.col_split", "ex3.col_n",
                                       "ex3.col_input", "ex3.col_latent", "ex3.col_ratio")] + ["MSE", "PSNR (dB)",
                                                                                               "SSIM"]
    data = [[r["name"], r["dataset"], r["split"], r["n_images"], input_text(r["input_shape"], r["pad_to"], lang),
             r["latent_shape"], None if r["ratio"] is None else round(r["ratio"], 2), round(r["mse"], 6),
             None if r["psnr"] is None else round(r["psnr"], 2), None if r["ssim"] is None else round(r["ssim"], 3)]
            for r in rows]
    return {"headers": headers, "data": data}


def check_best(rows: list[dict], chosen: str | None, psnr: str | None, lang: str) -> str:
    """Exercise 3's verdict on the chosen model and PSNR, with the worked answer once both are right."""
    try:
        result = ex.check_best_model(rows, chosen, psnr)
    except ValueError:
        return text("ex3.none", lang)
    best = ex.best_model(rows)
    lines = [text("ex3.result", lang, model=text(f"ex.{result.model}", lang), psnr=text(f"ex.{result.psnr}", lang))]
    if result.model == "correct" and result.psnr == "correct":
        lines.append(text("ex3.explain", lang, best=result.best, mse=best["mse"], psnr=result.best_psnr))
    return "  \n".join(lines)


def build_exercise3(service, language) -> None:
    """The held-out table, the best-model pick and its PSNR."""
    rows = ex.heldout_table(service)
    gr.Markdown(tr("ex3.task"), latex_delimiters=LATEX)
    if not rows:
        gr.Markdown(tr("ex3.none"))
        return
    table = gr.Dataframe(heldout_frame(rows, "en"), label=tr("ex3.table"), interactive=False, wrap=True)
    mnist = [r["name"] for r in rows if r["dataset"] == "mnist"]
    with gr.Row(equal_height=True):
        chosen = gr.Dropdown(mnist, value=None, label=tr("ex3.model"))
        psnr = gr.Textbox(label=tr("ex3.psnr"), placeholder="dB", max_lines=1)
        button = gr.Button(tr("ex.check"), variant="primary")
    Reworded(lambda c, p, lang: check_best(rows, c, p, lang), [gr.Markdown()], language).on(
        button.click, [chosen, psnr])
    language.change(lambda lang: heldout_frame(rows, lang), language, table, **PRIVATE)


# ---- exercise 4 ----------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=2)
def _planar_stats(service, model: str) -> dict:
    """latent_distribution of `model`'s posterior means over the held-out digits (cached)."""
    digits = load_mnist("test")
    means = service.encode(model, digits.images[:, None].astype(np.float32))["mean"].reshape(len(digits), -1)
    return ex.latent_distribution(means, digits.labels)


def measure_distribution(service, choice: str | None, lang: str) -> str:
    """Exercise 4's verdict on the prediction, with the measured statistics of the 2-D VAE's codes."""
    if ex.PLANAR_MODEL not in service.names("vae"):
        return text("ex4.missing", lang, model=ex.PLANAR_MODEL)
    if choice not in DISTRIBUTION_CHOICES:
        return text("ex.pick_first", lang)
    stats = _planar_stats(service, ex.PLANAR_MODEL)
    truth = ex.distribution_verdict(stats)
    verdict = text("ex.verdict_right" if truth == choice else "ex.verdict_wrong", lang)
    return text("ex4.stats", lang, verdict=verdict, n=stats["n"], mean_x=stats["mean_x"], mean_y=stats["mean_y"],
                std_x=stats["std_x"], std_y=stats["std_y"], within=stats["within_2"], prior=stats["prior_within_2"],
                nn=stats["nn_same_digit"], truth=text(f"ex4.{truth}", lang))


def latent_map_model_dropdown(components: dict) -> gr.Dropdown | None:
    """The Latent map tab's model dropdown (shared through AppContext.components) when it offers the 2-D VAE;
    else None."""
    block = components.get(LATENT_MAP_MODEL)
    if isinstance(block, gr.Dropdown) and any(value == ex.PLANAR_MODEL for _, value in block.choices):
        return block
    return None


def open_latent_map(tabs, model_dropdown) -> tuple:
    """(handler, outputs) for a click that opens the Latent map tab, showing the 2-D VAE when its dropdown was
    found."""
    if model_dropdown is None:
        return lambda: gr.Tabs(selected="latent_map"), [tabs]
    return lambda: (gr.Tabs(selected="latent_map"), gr.update(value=ex.PLANAR_MODEL)), [tabs, model_dropdown]


def build_exercise4(service, language, tabs, components: dict) -> None:
    """The prediction, a link to the Latent map (on the 2-D VAE) and the measurement."""
    gr.Markdown(tr_format("ex4.task", model=ex.PLANAR_MODEL), latex_delimiters=LATEX)
    open_map = gr.Button(tr("ex4.open_map"), variant="secondary", visible=tabs is not None)
    choice = gr.Radio([(tr(f"ex4.{c}"), c) for c in DISTRIBUTION_CHOICES], value=None, label=tr("ex4.prediction"))
    measure = gr.Button(tr("ex4.measure"), variant="primary")
    if tabs is not None:
        show_map, outputs = open_latent_map(tabs, latent_map_model_dropdown(components))
        open_map.click(show_map, None, outputs, **PRIVATE)
    Reworded(lambda c, lang: measure_distribution(service, c, lang), [gr.Markdown()], language).on(
        measure.click, [choice], progress="full")


# ---- exercise 5 ----------------------------------------------------------------------------------------------
def sweep_figure(ours: list[ex.SweepPoint], published: list[ex.SweepPoint], lang: str) -> go.Figure:
    """PSNR against latent channels: measured here (left) and the SD3 paper's (right), labels in `lang`."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(text("ex5.ours", lang), text("ex5.sd3", lang)))
    for col, points in ((1, ours), (2, published)):
        fig.add_trace(go.Scatter(x=[p.channels for p in points], y=[p.psnr for p in points], mode="lines+markers",
                                 text=[f"{p.source}: {format_ratio(p.ratio)}x" for p in points], hoverinfo="text+y",
                                 showlegend=False), row=1, col=col)
        fig.update_xaxes(title_text=text("ex5.channels", lang), type="log", row=1, col=col,
                         tickvals=[p.channels for p in points])
    fig.update_yaxes(title_text="PSNR (dB)")
    fig.update_layout(height=340, margin={"l": 70, "r": 20, "t": 60, "b": 40})
    return fig


def reveal_rate_distortion(service, choice: str | None, lang: str) -> tuple[str, go.Figure | None]:
    """Exercise 5's verdict on the prediction, the published points and the why, with the sweep figure."""
    if choice not in ex.PREDICTIONS:
        return text("ex.pick_first", lang), gr.update()
    ours, published = ex.channel_sweep(service), ex.published_channel_sweep()
    answer = ex.rate_distortion_verdict(ours)
    lines = []
    if answer.verdict == "unknown":
        found = ", ".join(f"c={p.channels}" for p in ours) or "-"
        lines += [text("ex.verdict_unknown", lang), text("ex5.unmeasured", lang, found=found)]
    else:
        verdict = text("ex.verdict_right" if answer.verdict == choice else "ex.verdict_wrong", lang)
        lines.append(text("ex5.measured", lang, verdict=verdict, gain=answer.gain_db,
                          ratio3=format_ratio(answer.ratio_3), ratio4=format_ratio(answer.ratio_4)))
    points = ", ".join(f"c = {p.channels}: {p.psnr:.2f} dB" for p in published)
    lines += [text("ex5.published", lang, points=points), text("ex5.why", lang)]
    return "\n\n".join(lines), gr.Plot(sweep_figure(ours, published, lang), visible=True)


def build_exercise5(service, language) -> None:
    """The prediction and the measured rate-distortion answer with its figure."""
    r3, r4 = compression(512, 512, 3, 8, 3), compression(512, 512, 3, 8, 4)
    gr.Markdown(tr_format("ex5.task", dims3=r3.latent_dims, ratio3=format_ratio(r3.ratio), dims4=r4.latent_dims,
                          ratio4=format_ratio(r4.ratio)), latex_delimiters=LATEX)
    with gr.Row():
        choice = gr.Radio([(tr(f"ex5.{c}"), c) for c in ex.PREDICTIONS], value=None, label=tr("ex5.prediction"),
                          scale=3)
        button = gr.Button(tr("ex5.reveal"), variant="primary", scale=1)
    result, plot = gr.Markdown(), gr.Plot(label=tr("ex5.plot"), visible=False)
    Reworded(lambda c, lang: reveal_rate_distortion(service, c, lang), [result, plot], language).on(
        button.click, [choice])


# ---- the tab -------------------------------------------------------------------------------------------------

def build_exercises_tab(service, ui=None) -> None:
    """The five exercises. `ui` (explorer.ui.app.AppContext) gives the page's language switch and the Tabs;
    without it (a test building the tab alone) checks answer in English and the map button is hidden."""
    language = ui.language if ui is not None else gr.State("en")
    tabs = ui.tabs if ui is not None else None
    components = ui.components if ui is not None else {}
    gr.Markdown(tr("ex.intro"))
    from .training_panel import build_training_panel  # live training (issue 16); compex wires it for good
    for number, build in enumerate((lambda: (build_exercise1(service, language), build_training_panel(service, ui)),
                                    lambda: build_exercise2(language),
                                    lambda: build_exercise3(service, language),
                                    lambda: build_exercise4(service, language, tabs, components),
                                    lambda: build_exercise5(service, language)), start=1):
        with gr.Accordion(tr(f"ex{number}.title"), open=number == 1):
            build()
