"""简体中文: the Chinese template of every message code (explorer.messages). English templates live with the
module that raises them; this table is the only place their Chinese wording lives. Keys are codes, values are
str.format templates with the same fields. One section per area, so each area's entries stay together."""

ZH: dict[str, str] = {
    # ---- numbers (explorer/validation.py) ----------------------------------------------------------------------
    "number.empty": "{field}为空：请填写 {low} 到 {high} 之间的整数",
    "number.not_whole": "{field}必须是 {low} 到 {high} 之间的整数，收到 {value}",
    "number.out_of_range": "{field}必须在 {low} 到 {high} 之间，收到 {value}",
    "number.not_a_number": "{field}必须是 {low} 到 {high} 之间的数，收到 {value}",
    "field.seed": "种子",

    # ---- models and checkpoints (service, catalogue, loader, external VAEs) -----------------------------------

    # ---- image input and reconstruction ---------------------------------------------------------------------

    # ---- latent map ---------------------------------------------------------------------------------------------

    # ---- denoising / generation -------------------------------------------------------------------------------

    # ---- compression ----------------------------------------------------------------------------------------------

    # ---- exercises ------------------------------------------------------------------------------------------------

    # ---- live training ------------------------------------------------------------------------------------------
    "train.unknown_latent": "潜变量必须是 {choices} 之一；收到 {value}",
    "train.kl_weight_range": "KL 权重 β 必须为 0（普通自编码器）或在 {low} 到 {high} 之间；收到 {value}",
    "train.time_cap": "时间上限必须是正的秒数；收到 {value}",
    "field.kl_weight": "KL 权重 β",
    "field.epochs": "训练轮数",
    "train.stopped": "已停止：完成了 {epochs} / {total} 轮",
    "train.time_capped": "达到 {seconds} 秒的时间上限，已停止：完成了 {epochs} / {total} 轮",
    "train.finished": "已训练 {epochs} 轮，用时 {seconds} 秒",
    "train.fig.recon": "重建项（BCE，每张数字的 nats）",
    "train.fig.kl": "KL 项（每张数字的 nats）",
    "train.fig.train": "训练数字",
    "train.fig.heldout": "留出数字",
    "train.fig.epoch": "轮次",
    "train.fig.map": "留出数字在潜空间中的位置（{how}）",
    "train.fig.map_2d": "二维潜变量本身",
    "train.fig.map_pca": "{shape} 潜变量的前两个主成分",
    "train.fig.waiting": "按下“训练”：曲线会在这里生长，每轮一个点",
    "train.fig.digit": "数字 {label}",
    "train.status.epoch": "第 {epoch} / {total} 轮 · {seconds} 秒 · 损失 {loss}（留出 {heldout}）· 留出 PSNR {psnr} dB",
    "train.status.final": "**{line}。** 留出集：PSNR {psnr} dB，SSIM {ssim}，地图的 5 近邻准确率 {knn}（0.1 为随机水平）。",
    "train.status.queued": "正在等待空闲的训练器……",
    "train.verdict.baseline": "这次训练（β = {beta}）是你的基线。用更大的 β（同一潜变量）再训练一次，检验你的预测。",
    "train.verdict.same_beta": "两次训练都用了 β = {beta}：改变 β 才能检验你的预测。",
    "train.verdict.compare": "从 β = {low} 到 β = {high}：留出 PSNR {psnr_low} → {psnr_high} dB（{psnr_seen}），"
                             "地图的 5 近邻准确率 {knn_low} → {knn_high}（{map_seen}）。",
    "train.verdict.psnr_right": "✅ 你预测 PSNR {guess}：对了。",
    "train.verdict.psnr_wrong": "❌ 你预测 PSNR {guess}；实际上它{seen}。",
    "train.verdict.map_right": "✅ 你预测地图上的数字{guess}：对了。",
    "train.verdict.map_wrong": "❌ 你预测地图上的数字{guess}；实际上它们{seen}。",
    "train.verdict.no_guess": "这次你没有做预测。",
    "train.verdict.latents_differ": "（两次训练用了不同的潜变量 {a} 和 {b}：用同一潜变量比较，才能只看 β 的作用。）",
    "train.verdict.why": "原因：β 越大，KL 项的权重越大，把每个后验都拉向 N(0, I)：编码携带的关于数字的信息变少，"
                         "所以重建变模糊（PSNR 下降），各个数字的区域挤向原点、相互重叠。",
    "train.psnr.up": "上升",
    "train.psnr.same": "基本不变",
    "train.psnr.down": "下降",
    "train.map.overlap": "重叠更多",
    "train.map.same": "看起来差不多",
    "train.map.separate": "分得更开",

    # ---- app-wide ---------------------------------------------------------------------------------------------------
}
