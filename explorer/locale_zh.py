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

    # ---- app-wide ---------------------------------------------------------------------------------------------------
}
