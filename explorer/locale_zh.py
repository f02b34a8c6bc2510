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
    "comp.not_divisible": "{field} {side} 不能被 f={factor} 整除；试试 {lower} 或 {upper}",
    "comp.not_divisible_small": "{field} {side} 不能被 f={factor} 整除；试试 {upper}",
    "comp.not_a_switch": "{field} 必须是 true 或 false，收到 {value}",
    "comp.field.height": "高度 H",
    "comp.field.width": "宽度 W",
    "comp.field.image_channels": "图像通道数 C",
    "comp.field.factor": "下采样因子 f",
    "comp.field.latent_channels": "潜通道数 c",
    "comp.field.zero_pad": "补零（zero_pad）",

    # ---- exercises ------------------------------------------------------------------------------------------------

    # ---- live training ------------------------------------------------------------------------------------------

    # ---- app-wide ---------------------------------------------------------------------------------------------------
}
