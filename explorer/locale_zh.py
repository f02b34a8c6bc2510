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
    "gen.field.digit": "数字",
    "gen.field.steps": "步数",
    "gen.field.guidance": "引导系数",
    "gen.sampler_unknown": "采样器必须是 {choices} 之一；收到 {value!r}",
    "gen.space_unknown": "空间必须是 {choices} 之一；收到 {value!r}",
    "gen.spacing_unknown": "时间步间隔方式必须是 {choices} 之一；收到 {value!r}",
    "gen.space.latent": "潜",
    "gen.space.pixel": "像素",
    "gen.no_denoiser": "未安装{space}空间的去噪模型检查点；请用 `python -m explorer.train_diffusion {name}` 训练",

    # ---- compression ----------------------------------------------------------------------------------------------

    # ---- exercises ------------------------------------------------------------------------------------------------

    # ---- live training ------------------------------------------------------------------------------------------

    # ---- app-wide ---------------------------------------------------------------------------------------------------
}
