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
    "map.unknown_model": "潜空间地图没有模型 {model!r}；可用的模型：{known}",
    "map.no_models": "无（未安装 MNIST VAE 检查点）",
    "map.field.index_a": "index_a（A 的编号）",
    "map.field.index_b": "index_b（B 的编号）",
    "map.field.a": "A 的数字编号",
    "map.field.b": "B 的数字编号",
    "map.field.clicked": "所点的点的编号",
    "map.projection_method": "未知的投影方法 {method!r}；请用 'umap' 或 'pca'",
    "map.interp_method": "未知的插值方式 {method!r}；请用 'lerp' 或 'slerp'",
    "map.relation": "relation 必须是 'same'、'different' 或 'any'，收到 {relation!r}",
    "map.no_partner": "没有满足关系 {relation!r} 的第二个数字",
    "map.not_planar": "{model} 的潜变量不是二维的；潜平面需要二维潜变量",
    "map.no_path": "无法显示路径：{reason}",

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
    "exercise.no_recipe": "没有名为 {name} 的训练配方；已有配方：{recipes}",
    "exercise.not_a_shape": "无法识别为形状：{answer}；请写成 c x h x w，例如 4x8x8",
    "exercise.not_a_number": "无法识别为数字：{answer}",
    "exercise.no_measured_vae": "尚未安装带有留出测试指标的 {dataset} VAE",
    "exercise.bad_codes": "需要 (N >= 2, 2) 的编码和 N 个标签，收到 {codes} 和 {labels}",

    # ---- live training ------------------------------------------------------------------------------------------

    # ---- app-wide ---------------------------------------------------------------------------------------------------
}
