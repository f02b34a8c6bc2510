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
    # explorer/image_input.py: notes of what decoding and preparation did, and refusals
    "img.exif_unreadable": "EXIF 数据无法读取，已忽略",
    "img.exif_unapplied": "无法应用 EXIF 方向 {orientation}，按存储的方向使用",
    "img.exif_rotated": "已按 EXIF 方向 {orientation} 转正",
    "img.sixteen_bit": "16 位图像已缩放到 [0, 1]",
    "img.integer_scaled": "{bits} 位整数图像已乘以 1/{scale}（按其声明的位深）",
    "img.float_image": "浮点图像",
    "img.float_scaled": "浮点图像已乘以 1/{scale}",
    "img.palette": "调色板图像已展开",
    "img.cmyk": "CMYK 已转换为 RGB",
    "img.mode_converted": "{mode} 已转换为 RGB",
    "img.first_frame": "使用了 {frames} 帧中的第一帧",
    "img.transparency": "含有透明部分",
    "img.ink_inverted": "浅色背景上的深色笔迹，已反转为 MNIST 的黑底白字",
    "img.ink_light": "深色背景上的浅色笔迹",
    "img.colour_to_grey": "彩色已转换为灰度",
    "img.digit_as_is": "28x28 输入按原样使用（{details}）",
    "img.digit_centred": "{width}x{height} -> 28x28（仿照 MNIST）：{details}；裁剪到笔迹范围，缩放进 20x20 的框内，按质心居中",
    "img.alpha_to_white": "透明部分已铺到白色背景上",
    "img.grey_to_rgb": "灰度已复制到 R、G、B 三个通道",
    "img.long_side_capped": "已缩放 {width}x{height} -> {new_w}x{new_h}（为节省 CPU 时间，长边最多 {max_side} 像素）",
    "img.centre_cropped": "已中心裁剪 {width}x{height} -> {new_w}x{new_h}（f={factor} 的整数倍）",
    "img.resized_to_f": "已缩放 {width}x{height} -> {new_w}x{new_h}（f={factor} 的整数倍；宽高比略有变化）",
    "img.resized_to_f_same_aspect": "已缩放 {width}x{height} -> {new_w}x{new_h}（f={factor} 的整数倍）",
    "img.photo_on_digit_model": "这看起来是一张照片：数字 VAE 只会从中看出一个 28x28 的数字（要把它当作照片重建，请选择照片 "
                                "VAE，例如 {photo_model}）",
    "img.photo_as_is": "{width}x{height} 按原样使用（已是 f={factor} 的整数倍）",
    "img.no_pixels": "图像没有像素（{width}x{height}）",
    "img.too_many_pixels": "图像为 {width}x{height} 像素（{megapixels} 百万像素）；上限为 {max_megapixels} 百万像素、"
                           "每边 {max_side} 像素（它可能是解压炸弹）",
    "img.too_small": "图像为 {width}x{height} 像素；每边至少需要 {min_side} 像素",
    "img.too_narrow": "图像为 {width}x{height} 像素：宽高比超过 {max_aspect}:1，既不是照片也不是数字",
    "img.empty_file": "文件是空的",
    "img.file_too_big": "文件大小为 {megabytes} MB；上限为 {limit} MB",
    "img.bomb": "被判定为解压炸弹而拒绝：{detail}",
    "img.not_an_image": "这不是本应用能读取的图像文件（支持：{formats}）",
    "img.unreadable": "图像文件已损坏或无法读取（{detail}）",
    "img.truncated": "图像文件已损坏或被截断（{detail}）",
    "img.unsupported_mode": "不支持的图像模式 {mode}（{detail}）",
    "img.bad_array_shape": "图像数组的形状必须是 (H, W)、(H, W, 3) 或 (H, W, 4)，而不是 {shape}",
    "img.bad_array_type": "不支持的数组类型 {dtype}",
    "img.no_image": "没有提供图像",
    "img.empty_drawing": "画布是空的：先画一个数字",
    "img.file_not_found": "找不到上传的文件",
    "img.unreadable_source": "无法从 {kind} 类型的对象读取图像",
    "img.fully_transparent": "图像完全透明：什么也没画",
    "img.no_contrast": "没有找到数字：图像是空白的，或几乎没有对比度",
    "img.blank": "没有找到数字：图像是空白的",
    "img.bad_fit": "fit 必须是 'crop' 或 'resize'，而不是 {mode}",
    "img.too_small_for_f": "缩放后图像为 {width}x{height} 像素；每边至少需要 f={factor} 像素",
    # explorer/reconstruction.py: requests, models, comparisons
    "recon.unknown_model": "未知模型 {name}；已有模型：{known}",
    "recon.not_a_vae": "{name} 是 {kind}，不是 VAE；VAE 有：{vaes}",
    "recon.needs_digit": "{name} 只处理 28x28 的数字；收到 {width}x{height}（请先预处理）",
    "recon.needs_multiple": "{name} 要求边长是 f={factor} 的整数倍；收到 {width}x{height}",
    "recon.bad_sample": "sample 必须是 true 或 false，收到 {value}",
    "recon.bad_fit": "fit 必须是 'crop' 或 'resize'，收到 {value}",
    "recon.bad_size": "照片工作尺寸必须是 {sizes} 之一，收到 {value}",
    "recon.no_image_file": "没有提供图像文件",
    "recon.no_vae": "尚未安装任何 VAE 检查点",
    "recon.field_seed": "“ε 的随机种子”",
    "recon.ssim_window": "SSIM 使用 {window}x{window} 的窗口（图像小于通常的 11x11）",
    "recon.compare_mismatch": "{other} 是在{other_data}上训练的，它会在自己的输入上被测量，而不是在显示的图像上；"
                              "请选择一个在{data}上训练的模型来与 {model} 对比",
    "recon.ds_mnist": "MNIST 数字",
    "recon.ds_photos": "照片",
    # explorer/views/reconstruction.py: the tab's Python-made words
    "recon.refused": "**无法使用此输入：** {reason}",
    "recon.failed": "**模型无法处理此输入：** {reason}",
    "recon.cleared": "（上一个输入的结果已清除。）",
    "recon.no_example": "没有第 {index} 个样本",
    "recon.note_a": "**{model}** 输入 {shape}：{note}；{z}。",
    "recon.note_b": "**{model}** 输入 {shape}：{note}。",
    "recon.z_mean": "z = 后验均值",
    "recon.z_sampled": "z 为采样（种子 {seed}）",
    "recon.scale": "热力图色标：黑 = 0，浅黄 = {vmax}（|误差| 的最大值{both}）；1.0 对应黑白之间的全部反差。小图用最近邻放大显示"
                   "（每个像素一个方块）；指标在工作分辨率的数组上计算。",
    "recon.both": "，取两个模型中的较大者",
    "recon.metrics_header": "| 模型 | MSE | PSNR (dB) | SSIM | 潜变量 | 压缩率 | KL (nats) |",
    "recon.latent_head": "**z 形状** {shape} = {numbers} 个数；**图像** {image} = {pixels} 个数；**压缩率** "
                         "{pixels} / {numbers} = **{ratio}x**（针对这张图像）。",
    "recon.sigma": "后验 σ：平均 {mean}，最大 {max}（采样加上 σ·ε；σ 很小时，采样几乎不改变 z）。",
    "recon.noise": "**采样噪声**（本次采样与后验均值重建相比）：像素最大变化 {max}，平均 {mean}，PSNR {psnr}。",
    "recon.identical": "∞（完全相同）",
    "recon.flat": "这个 VAE 的潜变量就是这几个数（没有空间结构，所以没有通道图）：",
    "recon.flat_header": "| | μ | σ | 使用的 z |",
    "recon.grid": "**{count} 个通道**，每个 {height}x{width}，每行 {columns} 个，各自按自己的范围缩放（黑 = 最小值，"
                  "白 = 最大值）。数值：{ranges}。",
    "recon.grid_range": "c{channel} [{low}, {high}]",
    "recon.grid_span": "各通道合计从 {low} 到 {high}",
    "recon.rd_header": "| 系列 | 模型 | c | PSNR (dB) | 压缩率 | 变化 | c 每翻一倍的 dB |",
    "recon.rd_ours": "本项目（MNIST，f=4）",
    "recon.rd_photos": "照片 VAE（留出照片，f=8）",
    "recon.rd_sd3": "SD3 论文（照片，f=8）",
    "recon.rd_missing": "MNIST 通道扫描的 5 个检查点（c1、c2、c3、c4、c8）中已安装 {n} 个；其余训练完成后会出现在这里。",
    "recon.rd_left": "PSNR 与潜通道数 c",
    "recon.rd_right": "PSNR 与压缩率",
    "recon.rd_ours_trace": "本项目：MNIST，f=4",
    "recon.rd_photo_trace": "照片，f=8：本项目 c4，taef2 c32",
    "recon.rd_sd3_trace": "SD3 论文：照片，f=8",
    "recon.rd_others_trace": "其他 VAE",
    "recon.rd_sd3_point": "SD3 论文，{channels} 通道",
    "recon.rd_x_channels": "潜通道数 c",
    "recon.rd_x_ratio": "压缩率（像素数 / 潜变量的数）",
    "recon.rd_y": "留出集 PSNR (dB)",

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
