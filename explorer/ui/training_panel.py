"""The live training panel (exercise 1: "implement a simplified VAE and train it on MNIST", as a run the student
starts and watches) and the public /train_vae endpoint. Layout and wiring only: the trainer is
explorer/live_training.py, the figures and the verdict explorer/views/training.py, the per-session model store
explorer/session_models.py.

Runs share one queue slot family (`CONCURRENCY_ID`, at most `CONCURRENCY_LIMIT` at once, the UI's and the API's
together); a queued student sees their place in the progress overlay. Stop both cancels the event and sets the
session's stop flag, which the trainer checks before every batch (a cancelled Gradio generator would otherwise
finish the epoch it is in); closing the page sets it too and frees the session's model.
"""
from __future__ import annotations

import threading

import gradio as gr
import numpy as np

from .. import live_training as lt
from ..data import load_mnist
from ..messages import Refusal, word
from ..metrics import psnr
from ..session_models import STORE
from ..validation import whole_number
from ..views import training as views
from .i18n import register, tr

CONCURRENCY_ID = "live_training"
CONCURRENCY_LIMIT = 2
BETA_CHOICES = ("0", "0.0001", "0.001", "0.01", "0.1", "0.5", "1", "2", "4")
LATENT_LABELS = {"2d": ("2-D latent (fully connected VAE)", "二维潜变量（全连接 VAE）")}
LATENT_LABELS.update({f"c{c}": (f"conv VAE, {c} channel{'s' if c > 1 else ''} ({c}×7×7)",
                                f"卷积 VAE，{c} 个通道（{c}×7×7）") for c in range(1, 9)})

STRINGS = {
    "lt.title": ("#### Train it yourself", "#### 亲手训练一个"),
    "lt.intro": ("Pick a latent, a KL weight β and the epochs, predict what a higher β will do, then press "
                 "**Train**: the model trains here on the 4,500 training digits, and after every epoch you see the "
                 "loss on those and on 500 held-out digits, ten held-out digits reconstructed, and where the "
                 "held-out digits land in the latent. Loss = reconstruction (BCE) + β · KL; β = 0 is a plain "
                 "autoencoder.",
                 "选择潜变量、KL 权重 β 和训练轮数，先预测更大的 β 会带来什么，再按 **训练**：模型就在这里用 4,500 张训练数字"
                 "训练，每轮之后你会看到训练数字和 500 张留出数字上的损失、十张留出数字的重建，以及留出数字在潜空间中的位置。"
                 "损失 = 重建误差（BCE）+ β · KL；β = 0 就是普通自编码器。"),
    "lt.latent": ("Latent", "潜变量"),
    "lt.beta": ("KL weight β", "KL 权重 β"),
    "lt.epochs": ("Epochs", "训练轮数"),
    "lt.seed": ("Seed", "随机种子"),
    "lt.predict": ("**Predict first.** Compared with a smaller β, what does a higher β do?",
                   "**先预测。** 与较小的 β 相比，更大的 β 会怎样？"),
    "lt.psnr_guess": ("Held-out PSNR", "留出 PSNR"),
    "lt.map_guess": ("On the map, the digits…", "在地图上，各个数字……"),
    "lt.train": ("Train", "训练"),
    "lt.stop": ("Stop", "停止"),
    "lt.curves": ("Loss per epoch", "每轮的损失"),
    "lt.strip": ("Held-out digits (top) and their reconstructions (bottom)", "留出数字（上）及其重建（下）"),
    "lt.map": ("Held-out latents", "留出数字的潜变量"),
    "lt.mine": ("Use my model", "使用我的模型"),
    "lt.mine_intro": ("Your last finished run is kept for this page only (until you close it). Reconstruct "
                      "held-out digits with it, next to the shipped checkpoint with the same latent.",
                      "你最近一次完成的训练只为这个页面保留（直到你关闭页面）。用它重建留出数字，并与同一潜变量的随附检查点对比。"),
    "lt.indices": ("Held-out digit indices (0–499, comma separated)", "留出数字的编号（0–499，用逗号分隔）"),
    "lt.reconstruct": ("Reconstruct with my model", "用我的模型重建"),
    "lt.mine_image": ("Rows: original · my model · shipped checkpoint", "各行：原图 · 我的模型 · 随附检查点"),
    "lt.no_model": ("Train a model first: nothing is kept for this page yet.", "请先训练一个模型：这个页面还没有保存的模型。"),
    "lt.bad_indices": ("Indices must be whole numbers from 0 to 499, separated by commas; got {value}",
                       "编号必须是 0 到 499 之间的整数，用逗号分隔；收到 {value}"),
    "lt.mine_psnr": ("**{name}**: PSNR {mine} dB on these digits; shipped **{shipped}**: {theirs} dB.",
                     "**{name}**：在这些数字上 PSNR {mine} dB；随附的 **{shipped}**：{theirs} dB。"),
    "lt.mine_psnr_alone": ("**{name}**: PSNR {mine} dB on these digits.", "**{name}**：在这些数字上 PSNR {mine} dB。"),
}
register(STRINGS)
for _key, _pair in LATENT_LABELS.items():
    register({f"lt.latent.{_key}": _pair})
for _choice in views.PSNR_CHOICES:
    register({f"lt.psnr.{_choice}": (word(views.Message(f"train.psnr.{_choice}"), "en"),
                                     word(views.Message(f"train.psnr.{_choice}"), "zh"))})
for _choice in views.MAP_CHOICES:
    register({f"lt.map.{_choice}": (word(views.Message(f"train.map.{_choice}"), "en"),
                                    word(views.Message(f"train.map.{_choice}"), "zh"))})

_STOP_FLAGS: dict[str, threading.Event] = {}  # session hash -> the stop flag of its run in progress
_FLAGS_LOCK = threading.Lock()


def _stop_flag(session: str | None) -> threading.Event:
    with _FLAGS_LOCK:
        flag = threading.Event()
        if session:
            _STOP_FLAGS[session] = flag
        return flag


def stop_session(session: str | None) -> None:
    """Set the stop flag of `session`'s run in progress, if any."""
    with _FLAGS_LOCK:
        flag = _STOP_FLAGS.get(session) if session else None
    if flag is not None:
        flag.set()


def _device(service) -> str:
    """Where runs train: the service's device (CUDA when the app has a GPU), else the CPU."""
    device = getattr(service, "device", None)
    return str(device) if device is not None else "cpu"


def _shipped_name(service, latent: str) -> str | None:
    name = "vae-mnist-2d" if latent == "2d" else f"sd-vae-mnist-{latent}"
    try:
        return name if name in service.names("vae") else None
    except Exception:  # a service without a catalogue (tests with fakes)
        return None


def _view(update, lang: str):
    return (views.status_line(update, lang), views.curves_figure(update.history, update.request.epochs, lang),
            views.strip_image(update.strip_originals, update.strip_recons),
            views.map_figure(update.points, update.labels, update.indices, update.request.latent, lang))


def build_training_panel(service, ui=None) -> None:
    """The panel, inside the caller's Blocks (the Exercises tab's exercise 1). `ui` (explorer.ui.app.AppContext)
    gives the page's language; without it the panel answers in English. Registers /train_vae."""
    language = ui.language if ui is not None else gr.State("en")
    gr.Markdown(tr("lt.title"))
    gr.Markdown(tr("lt.intro"))
    with gr.Row():
        latent = gr.Dropdown([(tr(f"lt.latent.{k}"), k) for k in lt.LATENTS], value="2d", label=tr("lt.latent"))
        beta = gr.Dropdown(list(BETA_CHOICES), value="1", allow_custom_value=True, label=tr("lt.beta"))
        epochs = gr.Slider(lt.EPOCHS_MIN, lt.EPOCHS_MAX, value=10, step=1, label=tr("lt.epochs"), elem_id="lt-epochs")
        seed = gr.Number(value=0, label=tr("lt.seed"))
    gr.Markdown(tr("lt.predict"))
    with gr.Row():
        psnr_guess = gr.Radio([(tr(f"lt.psnr.{c}"), c) for c in views.PSNR_CHOICES], label=tr("lt.psnr_guess"))
        map_guess = gr.Radio([(tr(f"lt.map.{c}"), c) for c in views.MAP_CHOICES], label=tr("lt.map_guess"))
    with gr.Row():
        train_button = gr.Button(tr("lt.train"), variant="primary", elem_id="lt-train")
        stop_button = gr.Button(tr("lt.stop"), variant="stop", elem_id="lt-stop")
    status = gr.Markdown(elem_id="lt-status")
    curves = gr.Plot(views.curves_figure([], 10), label=tr("lt.curves"), elem_id="lt-curves")
    with gr.Row():
        with gr.Column():
            gr.Markdown(tr("lt.strip"))  # a caption above, not a block label that would cover the top row
            strip = gr.Image(show_label=False, format="png", interactive=False, elem_id="lt-strip", buttons=[])
            verdict = gr.Markdown(elem_id="lt-verdict")
        latent_map = gr.Plot(label=tr("lt.map"), elem_id="lt-map")
    previous = gr.State(None)  # summary of the last finished run (for the verdict); never a model

    def train(latent_value, beta_value, epochs_value, seed_value, psnr_value, map_value, last, lang,
              request: gr.Request, progress=gr.Progress()):
        session = getattr(request, "session_hash", None)
        try:
            run = lt.validate_request(latent_value, beta_value, epochs_value, seed_value)
        except Refusal as exc:
            yield f"⚠️ {word(exc, lang)}", gr.skip(), gr.skip(), gr.skip(), gr.skip(), last
            return
        flag = _stop_flag(session)
        update = None
        for update in lt.train_live(run, should_stop=flag, device=_device(service),
                                    on_batch=lambda step, total: progress((step, total), unit="steps")):
            if not update.done:
                yield (*_view(update, lang), gr.skip(), last)
        if update.model is not None and update.heldout:
            STORE.put(session, update.model, run, update.heldout, update.history)
        summary = views.run_summary(update)
        said = views.verdict(last, summary, psnr_value, map_value, lang) if summary else ""
        yield (*_view(update, lang), said, summary or last)

    inputs = [latent, beta, epochs, seed, psnr_guess, map_guess, previous, language]
    outputs = [status, curves, strip, latent_map, verdict, previous]
    run_event = train_button.click(train, inputs, outputs, api_visibility="private",
                                   concurrency_limit=CONCURRENCY_LIMIT, concurrency_id=CONCURRENCY_ID)

    def stop(request: gr.Request):
        stop_session(getattr(request, "session_hash", None))

    stop_button.click(stop, None, None, cancels=[run_event], api_visibility="private", queue=False)

    with gr.Accordion(tr("lt.mine"), open=False):
        gr.Markdown(tr("lt.mine_intro"))
        with gr.Row():
            indices = gr.Textbox("0, 1, 2, 3, 4, 5, 6, 7", label=tr("lt.indices"), scale=3)
            mine_button = gr.Button(tr("lt.reconstruct"), scale=1)
        mine_text = gr.Markdown()
        gr.Markdown(tr("lt.mine_image"))
        mine_image = gr.Image(show_label=False, format="png", interactive=False, buttons=[], elem_id="lt-mine-image")

    def use_mine(index_text, lang, request: gr.Request):
        from .i18n import text

        entry = STORE.get(getattr(request, "session_hash", None))
        if entry is None:
            return text("lt.no_model", lang), None
        test = load_mnist("test")
        try:
            chosen = [whole_number(part, "index", 0, len(test) - 1) for part in str(index_text).split(",")]
        except Refusal:
            return text("lt.bad_indices", lang, value=repr(index_text)), None
        originals = test.images[chosen[:16]]
        mine = entry.reconstruct(originals)
        rows, shipped = [originals, mine], _shipped_name(service, entry.request.latent)
        if shipped:
            theirs = service.decode(shipped, service.encode(shipped, originals[:, None])["z"])[:, 0]
            rows.append(theirs)
            said = text("lt.mine_psnr", lang, name=entry.name, mine=f"{psnr(originals, mine):.2f}", shipped=shipped,
                        theirs=f"{psnr(originals, theirs):.2f}")
        else:
            said = text("lt.mine_psnr_alone", lang, name=entry.name, mine=f"{psnr(originals, mine):.2f}")
        picture = np.concatenate([np.concatenate(list(r), axis=1) for r in rows], axis=0)
        return said, (np.kron(picture, np.ones((3, 3))) * 255 + 0.5).astype(np.uint8)

    mine_button.click(use_mine, [indices, language], [mine_text, mine_image], api_visibility="private")

    def free_session(request: gr.Request):
        session = getattr(request, "session_hash", None)
        stop_session(session)
        STORE.drop(session)

    root = gr.context.Context.root_block
    if root is not None:
        root.unload(free_session)

    def train_vae(latent: str, kl_weight: float, epochs: int, seed: int, request: gr.Request) -> dict:
        """Train a live VAE and return its record. latent: "2d" or "c1".."c8"; kl_weight: 0 or 1e-4..4; epochs:
        1..30; seed: 0..2**32-1. Returns {history: [{epoch, loss, recon, kl, heldout_loss, heldout_recon,
        heldout_kl, heldout_psnr}], heldout: {psnr, ssim, knn5_accuracy, mse}, points: [{x, y, label, index}],
        ...}; the same arguments give the same JSON on the CPU. Refused arguments answer in English."""
        try:
            run = lt.validate_request(latent, kl_weight, epochs, seed)
        except Refusal as exc:
            raise gr.Error(str(exc)) from exc
        final = lt.run_to_end(run, device=_device(service))
        if final.model is not None and final.heldout:
            STORE.put(getattr(request, "session_hash", None), final.model, run, final.heldout, final.history)
        return final.to_json()

    gr.api(train_vae, api_name="train_vae", concurrency_limit=CONCURRENCY_LIMIT, concurrency_id=CONCURRENCY_ID)
