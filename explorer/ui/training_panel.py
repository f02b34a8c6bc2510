"""The live training panel (exercise 1: "implement a simplified VAE and train it on MNIST", as a run the student
starts and watches) and the public /train_vae endpoint. Layout and wiring only: the trainer is
explorer/live_training.py, the figures and the verdict explorer/views/training.py, the per-session model store
explorer/session_models.py.

Runs share one queue slot family (`CONCURRENCY_ID`, at most `CONCURRENCY_LIMIT` at once, the UI's and the API's
together); a queued student sees their place in the progress overlay. A run trains in a worker thread of its own
(`Run`), which the event's generator follows: Stop both cancels the event (a queued run leaves the queue) and sets
the run's stop flag, which the trainer checks before every batch; the worker then finishes the run as stopped
(held-out metrics of the epochs done), keeps the model for the page (explorer/session_models.py, from where the
Reconstruction and Latent map tabs offer it) and the stop's follow-up event shows the final figures. Closing the
page sets the flag too and frees the session's model. A finished run's figures are kept (no model) in a gr.State
and re-worded when the page's language changes; nothing is trained again.
"""
from __future__ import annotations

import contextvars
import queue
import threading
from dataclasses import dataclass, field, replace

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

STOP_WAIT_S = 120.0  # how long the stop's follow-up waits for the stopped run's final figures (a loaded machine)


@dataclass
class Run:
    """One run of a page: its stop flag, what the verdict compares it with (`before`: the last finished run's
    summary when it started, and the student's two guesses), and, once the worker is done, `final` (the last
    TrainingUpdate without its model) with `finished` set. Its final figures may reach the page twice (the run's
    event and the stop's follow-up): both are the same, made by `_finished` from this record."""

    request: object
    before: dict | None = None
    guesses: tuple = (None, None)
    stop: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    final: object = None
    closed: bool = False


_RUNS: dict[str, Run] = {}  # session hash -> its latest run
_RUNS_LOCK = threading.Lock()


def _new_run(session: str | None, run: Run) -> Run:
    with _RUNS_LOCK:
        if session:
            _RUNS[session] = run
        return run


def _run_of(session: str | None) -> Run | None:
    with _RUNS_LOCK:
        return _RUNS.get(session) if session else None


def stop_session(session: str | None, closed: bool = False) -> None:
    """Set the stop flag of `session`'s run in progress, if any; `closed`: the page is gone (keep no model)."""
    run = _run_of(session)
    if run is not None:
        run.closed = run.closed or closed
        run.stop.set()
    if closed:
        with _RUNS_LOCK:
            _RUNS.pop(session, None)


def _train_in_worker(run: Run, session: str | None, device: str, on_batch) -> queue.Queue:
    """Start `run` in a daemon thread (with the caller's context, so Gradio's progress reaches the page); its
    updates arrive on the returned queue, then None (or the exception that ended it). The worker, not the
    event, keeps the trained model: a cancelled event (Stop) still leaves the page its model."""
    updates: queue.Queue = queue.Queue()

    def progress(step: int, total: int) -> None:
        try:
            on_batch(step, total)
        except Exception:  # noqa: BLE001 - a page gone (cancelled event) must not end the run unfinished
            pass

    def work() -> None:
        final = None
        try:
            for final in lt.train_live(run.request, should_stop=run.stop, device=device, on_batch=progress):
                updates.put(final)
            if final is not None and final.model is not None and final.heldout and not run.closed:
                STORE.put(session, final.model, run.request, final.heldout, final.history)
            run.final = replace(final, model=None) if final is not None else None
        except Exception as exc:  # noqa: BLE001 - handed to the event, which reports it
            updates.put(exc)
        finally:
            run.finished.set()
            updates.put(None)

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(work,), name="live-training", daemon=True).start()
    return updates


def _device(service) -> str:
    """Where runs train: the service's device (CUDA when the app has a GPU), else the CPU."""
    device = getattr(service, "device", None)
    return str(device) if device is not None else "cpu"


def _shipped_name(service, entry) -> str | None:
    """The shipped VAE with the run's latent (SessionModel.shipped_twin), if the service has it."""
    try:
        return entry.shipped_twin if entry.shipped_twin in service.names("vae") else None
    except Exception:  # a service without a catalogue (tests with fakes)
        return None


def _view(update, lang: str):
    return (views.status_line(update, lang), views.curves_figure(update.history, update.request.epochs, lang),
            views.strip_image(update.strip_originals, update.strip_recons),
            views.map_figure(update.points, update.labels, update.indices, update.request.latent, lang))


def _words(update, lang: str):
    """The parts of a run's view that are worded (status, curves, map), for a language switch."""
    status, curves, _, figure = _view(update, lang)
    return status, curves, figure


def _finished(run: Run, lang: str) -> tuple:
    """(status, curves, strip, map, verdict, summary, record) of a run that is over; `record` is what the page
    keeps (gr.State) to re-word them after a language switch: the final update without its model, the summary
    the verdict compared with and the student's guesses."""
    summary = views.run_summary(run.final)
    said = views.verdict(run.before, summary, *run.guesses, lang) if summary else ""
    record = {"final": run.final, "before": run.before, "guesses": tuple(run.guesses)}
    return (*_view(run.final, lang), said, summary or run.before, record)


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
    shown = gr.State(None)  # the last finished run's figures as data (no model), re-worded on a language switch

    def train(latent_value, beta_value, epochs_value, seed_value, psnr_value, map_value, last, lang,
              request: gr.Request, progress=gr.Progress()):
        session = getattr(request, "session_hash", None)
        try:
            checked = lt.validate_request(latent_value, beta_value, epochs_value, seed_value)
        except Refusal as exc:
            yield f"⚠️ {word(exc, lang)}", gr.skip(), gr.skip(), gr.skip(), gr.skip(), last, gr.skip()
            return
        run = _new_run(session, Run(checked, last, (psnr_value, map_value)))
        updates = _train_in_worker(run, session, _device(service),
                                   lambda step, total: progress((step, total), unit="steps"))
        while (update := updates.get()) is not None:
            if isinstance(update, Exception):
                raise update
            if not update.done:
                yield (*_view(update, lang), gr.skip(), last, None)  # nothing finished to re-word meanwhile
        if run.final is not None:
            yield _finished(run, lang)

    inputs = [latent, beta, epochs, seed, psnr_guess, map_guess, previous, language]
    outputs = [status, curves, strip, latent_map, verdict, previous, shown]
    run_event = train_button.click(train, inputs, outputs, api_visibility="private",
                                   concurrency_limit=CONCURRENCY_LIMIT, concurrency_id=CONCURRENCY_ID)

    def stop(request: gr.Request):
        stop_session(getattr(request, "session_hash", None))

    def after_stop(lang, request: gr.Request):
        """The stopped run's final figures (status, held-out metrics, verdict), once its worker has finished (a
        cancelled event's own last yield never reaches the page); nothing when this page has no run. A run still
        queued when stopped never started: the page's latest run (already shown) is shown again, unchanged."""
        run = _run_of(getattr(request, "session_hash", None))
        if run is None or not run.finished.wait(STOP_WAIT_S) or run.final is None:
            return tuple(gr.skip() for _ in outputs)
        return _finished(run, lang)

    stop_button.click(stop, None, None, cancels=[run_event], api_visibility="private", queue=False).then(
        after_stop, language, outputs, api_visibility="private", concurrency_limit=None, show_progress="hidden")

    def reword(record, lang):
        """A finished run's worded figures in the page's new language (no training)."""
        if not record or record.get("final") is None:
            return tuple(gr.skip() for _ in range(4))
        final = record["final"]
        said = views.verdict(record["before"], views.run_summary(final), *record["guesses"], lang)
        return (*_words(final, lang), said)

    language.change(reword, [shown, language], [status, curves, latent_map, verdict], api_visibility="private",
                    show_progress="hidden")

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
        rows, shipped = [originals, mine], _shipped_name(service, entry)
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
        stop_session(session, closed=True)
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
