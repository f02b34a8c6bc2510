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
    "model.unknown": "未知模型 {model!r}；已知模型：{known}",
    "model.none_installed": "无（{folder} 是空的吗？）",
    "model.wrong_kind": "{model!r} 是 {kind}，不是 {wanted}；可用的 {wanted}：{known}",
    "model.unknown_text": "{text}",
    "device.unknown": "未知设备 {device!r}；请使用 auto、cpu、cuda 或 mps",
    "device.unavailable": "请求了设备 {device!r}，但本机没有可用的 {backend}",
    "device.unsupported": "不支持的设备 {device!r}；请使用 auto、cpu、cuda 或 mps",
    "external.is_file": "{source} 是一个文件；请给出包含 config.json 和 safetensors 权重的文件夹",
    "external.no_config": "{path} 里没有 config.json：不是 diffusers 的 VAE 文件夹",
    "external.unreadable_config": "无法读取 VAE 的配置：{reason}",
    "external.not_autoencoder": "{path} 描述的是 {class_name}，不是 AutoencoderKL VAE",
    "external.no_class": "不是 diffusers 模型",
    "external.no_safetensors": "{path} 里没有 .safetensors 权重（本项目从不加载 pickle 权重）",
    "external.bad_source": "{source} 既不是已存在的文件夹，也不是形如 'owner/name' 的 hub id",
    "external.no_diffusers": "加载额外的 VAE 需要 diffusers 包：pip install diffusers",
    "external.load_failed": "无法把 {source} 作为{where}加载：{error}",
    "external.where_folder": "本地文件夹",
    "external.where_hub": "hub id（需要网络连接以及该模型的 safetensors 权重）",
    "external.description": "来自 {source} 的 diffusers AutoencoderKL（f={factor}，{channels} 个通道）",

    # ---- image input and reconstruction ---------------------------------------------------------------------

    # ---- latent map ---------------------------------------------------------------------------------------------

    # ---- denoising / generation -------------------------------------------------------------------------------

    # ---- compression ----------------------------------------------------------------------------------------------

    # ---- exercises ------------------------------------------------------------------------------------------------

    # ---- live training ------------------------------------------------------------------------------------------

    # ---- app-wide ---------------------------------------------------------------------------------------------------
}
