"""Views of a live training run (explorer/live_training.py): the loss curves, the reconstruction strip, the 2-D
map of the held-out digits, the run's status line and the verdict on the student's prediction. Pure functions (no
Gradio): results in, plotly figures / uint8 images / Markdown out, worded in "en" or "zh" through
explorer/messages.py (Chinese in explorer/locale_zh.py)."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..messages import Message, define, word

# Ten distinguishable colours, one per digit (plotly's D3 palette, as the latent map uses by default).
DIGIT_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                 "#bcbd22", "#17becf")
PSNR_CHOICES = ("up", "same", "down")
MAP_CHOICES = ("overlap", "same", "separate")
PSNR_TOLERANCE_DB = 0.2  # a PSNR change smaller than this counts as "about the same"
KNN_TOLERANCE = 0.03  # a 5-NN accuracy change smaller than this counts as "about the same"

define({
    "train.fig.recon": "Reconstruction term (BCE, nats per digit)",
    "train.fig.kl": "KL term (nats per digit)",
    "train.fig.train": "training digits",
    "train.fig.heldout": "held-out digits",
    "train.fig.epoch": "epoch",
    "train.fig.map": "Held-out digits in the latent ({how})",
    "train.fig.map_2d": "the 2-D latent itself",
    "train.fig.map_pca": "first two principal components of the {shape} latent",
    "train.fig.waiting": "Press Train: the curves grow here, one point per epoch",
    "train.fig.digit": "digit {label}",
    "train.status.epoch": "epoch {epoch} of {total} · {seconds} s · loss {loss} (held-out {heldout}) · "
                          "held-out PSNR {psnr} dB",
    "train.status.final": "**{line}.** Held-out: PSNR {psnr} dB, SSIM {ssim}, 5-NN accuracy of the map {knn} "
                          "(0.1 = chance).",
    "train.status.queued": "Waiting for a free trainer…",
    "train.verdict.baseline": "This run (β = {beta}) is your baseline. Train again with a higher β (same latent) "
                              "to check your prediction.",
    "train.verdict.same_beta": "Both runs used β = {beta}: change β to check your prediction.",
    "train.verdict.compare": "From β = {low} to β = {high}: held-out PSNR {psnr_low} → {psnr_high} dB "
                             "({psnr_seen}), 5-NN accuracy of the map {knn_low} → {knn_high} ({map_seen}).",
    "train.verdict.psnr_right": "✅ You predicted PSNR {guess}: right.",
    "train.verdict.psnr_wrong": "❌ You predicted PSNR {guess}; it {seen}.",
    "train.verdict.map_right": "✅ You predicted the digits {guess} on the map: right.",
    "train.verdict.map_wrong": "❌ You predicted the digits {guess} on the map; they {seen}.",
    "train.verdict.no_guess": "You made no prediction this time.",
    "train.verdict.latents_differ": "(The two runs used different latents, {a} and {b}: compare runs with the same "
                                    "latent to see β alone.)",
    "train.verdict.why": "Why: a larger β weighs the KL term more, pulling every posterior towards N(0, I): the "
                         "codes carry less information about their digit, so reconstructions blur (PSNR falls) "
                         "and the digits' regions crowd together near the origin.",
    "train.psnr.up": "goes up",
    "train.psnr.same": "stays about the same",
    "train.psnr.down": "goes down",
    "train.map.overlap": "overlap more",
    "train.map.same": "look about the same",
    "train.map.separate": "separate more",
})


def _axis_range(epochs: int) -> list[float]:
    return [0.5, max(epochs, 1) + 0.5]


def curves_figure(history: list[dict], epochs: int, lang: str = "en") -> go.Figure:
    """Two panels over epochs 1..`epochs`, one above the other (side by side, their titles collided on a 390 px
    phone): the reconstruction term and the KL term, each for the training digits (solid, the mean over the
    epoch's batches) and the held-out digits (dashed, after the epoch)."""
    fig = make_subplots(rows=2, cols=1, subplot_titles=(word(Message("train.fig.recon"), lang),
                                                        word(Message("train.fig.kl"), lang)),
                        vertical_spacing=0.2)
    x = [entry["epoch"] for entry in history]
    for row, key in ((1, "recon"), (2, "kl")):
        for which, dash, colour in (("train", "solid", "#1f77b4"), ("heldout", "dash", "#ff7f0e")):
            values = [entry[key if which == "train" else f"heldout_{key}"] for entry in history]
            fig.add_trace(go.Scatter(x=x, y=values, mode="lines+markers", line={"dash": dash, "color": colour},
                                     name=word(Message(f"train.fig.{which}"), lang), legendgroup=which,
                                     showlegend=row == 1), row=row, col=1)
        fig.update_xaxes(title_text=word(Message("train.fig.epoch"), lang) if row == 2 else None,
                         range=_axis_range(epochs), dtick=max(1, epochs // 10), row=row, col=1)
    if not history:
        waiting = word(Message("train.fig.waiting"), lang).replace(": ", ":<br>").replace("：", "：<br>")
        fig.add_annotation(text=waiting, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.8)  # top panel
    fig.update_layout(height=440, margin={"l": 50, "r": 20, "t": 64, "b": 40},  # t: below the block label
                      legend={"orientation": "h", "y": -0.22, "x": 0.5, "xanchor": "center"})
    fig.update_annotations(font_size=13)
    return fig


def map_figure(points: np.ndarray, labels: np.ndarray, indices: np.ndarray, latent: str,
               lang: str = "en") -> go.Figure:
    """The held-out digits' posterior means in 2-D (N, 2), one colour per digit label; hover shows the label and
    the digit's index in the held-out split. `latent` ("2d" or "cN") says which projection the axes are."""
    how = (Message("train.fig.map_2d") if latent == "2d"
           else Message("train.fig.map_pca", shape=f"{latent[1:]}×7×7"))
    fig = go.Figure()
    points = np.asarray(points, float)
    for digit in range(10):
        chosen = np.flatnonzero(np.asarray(labels) == digit)
        fig.add_trace(go.Scattergl(
            x=points[chosen, 0] if len(points) else [], y=points[chosen, 1] if len(points) else [],
            mode="markers", marker={"size": 6, "color": DIGIT_COLOURS[digit], "opacity": 0.8},
            name=str(digit), customdata=np.asarray(indices)[chosen] if len(points) else [],
            hovertemplate=word(Message("train.fig.digit", label=digit), lang) + " · #%{customdata}<extra></extra>"))
    fig.update_layout(title={"text": word(Message("train.fig.map", how=how), lang), "font": {"size": 13}},
                      height=380, margin={"l": 40, "r": 10, "t": 40, "b": 30}, legend={"title": {"text": ""}})
    fig.update_yaxes(scaleanchor="x", scaleratio=1)
    return fig


def strip_image(originals: np.ndarray, recons: np.ndarray, scale: int = 3, gap: int = 2) -> np.ndarray:
    """Held-out digits (top row) over their reconstructions (bottom row) as one greyscale uint8 image
    (2 * 28 * scale + gap, K * 28 * scale); `originals`, `recons` are (K, 28, 28) floats in [0, 1]."""
    def row(images: np.ndarray) -> np.ndarray:
        tiles = np.clip(np.asarray(images, float), 0, 1)
        return np.concatenate(list(tiles), axis=1)

    top, bottom = row(originals), row(recons)
    separator = np.full((max(gap // scale, 1), top.shape[1]), 0.5)
    picture = np.concatenate([top, separator, bottom], axis=0)
    picture = np.kron(picture, np.ones((scale, scale)))
    return (picture * 255 + 0.5).astype(np.uint8)


def status_line(update, lang: str = "en") -> str:
    """Markdown: where a run is (epoch, time, losses), or how it ended and its held-out metrics."""
    if update is None:
        return word(Message("train.status.queued"), lang)
    if update.done:
        line = word(update.status(), lang)
        if not update.heldout:
            return f"**{line}.**"
        h = update.heldout
        return word(Message("train.status.final", line=line, psnr=f"{h['psnr']:.2f}", ssim=f"{h['ssim']:.3f}",
                            knn=f"{h['knn5_accuracy']:.2f}"), lang)
    last = update.history[-1]
    return word(Message("train.status.epoch", epoch=update.epoch, total=update.request.epochs,
                        seconds=f"{update.seconds:.1f}", loss=f"{last['loss']:.1f}",
                        heldout=f"{last['heldout_loss']:.1f}", psnr=f"{last['heldout_psnr']:.2f}"), lang)


def run_summary(update) -> dict | None:
    """What the verdict needs from a finished run (kept in a gr.State between runs): latent, β, PSNR, 5-NN."""
    if update is None or not update.done or not update.heldout:
        return None
    return {"latent": update.request.latent, "kl_weight": update.request.kl_weight,
            "psnr": float(update.heldout["psnr"]), "knn": float(update.heldout["knn5_accuracy"])}


def observed(low: dict, high: dict) -> tuple[str, str]:
    """What going from the lower-β run `low` to the higher-β run `high` did: (PSNR choice, map choice), each in
    PSNR_CHOICES / MAP_CHOICES, with the tolerances above."""
    d_psnr, d_knn = high["psnr"] - low["psnr"], high["knn"] - low["knn"]
    psnr_seen = "same" if abs(d_psnr) < PSNR_TOLERANCE_DB else ("up" if d_psnr > 0 else "down")
    map_seen = "same" if abs(d_knn) < KNN_TOLERANCE else ("separate" if d_knn > 0 else "overlap")
    return psnr_seen, map_seen


def verdict(previous: dict | None, current: dict | None, psnr_guess: str | None, map_guess: str | None,
            lang: str = "en") -> str:
    """Markdown comparing the student's prediction ("what does a higher β do to PSNR and to the map?") with two
    finished runs' summaries (run_summary); the run with the higher β is the "after". Without two runs at
    different β it says what to do next."""
    if current is None:
        return ""
    if previous is None:
        return word(Message("train.verdict.baseline", beta=f"{current['kl_weight']:g}"), lang)
    if previous["kl_weight"] == current["kl_weight"]:
        return word(Message("train.verdict.same_beta", beta=f"{current['kl_weight']:g}"), lang)
    low, high = sorted((previous, current), key=lambda run: run["kl_weight"])
    psnr_seen, map_seen = observed(low, high)
    lines = [word(Message("train.verdict.compare", low=f"{low['kl_weight']:g}", high=f"{high['kl_weight']:g}",
                          psnr_low=f"{low['psnr']:.2f}", psnr_high=f"{high['psnr']:.2f}",
                          psnr_seen=Message(f"train.psnr.{psnr_seen}"), knn_low=f"{low['knn']:.2f}",
                          knn_high=f"{high['knn']:.2f}", map_seen=Message(f"train.map.{map_seen}")), lang)]
    if psnr_guess in PSNR_CHOICES:
        code = "train.verdict.psnr_right" if psnr_guess == psnr_seen else "train.verdict.psnr_wrong"
        lines.append(word(Message(code, guess=Message(f"train.psnr.{psnr_guess}"),
                                  seen=Message(f"train.psnr.{psnr_seen}")), lang))
    if map_guess in MAP_CHOICES:
        code = "train.verdict.map_right" if map_guess == map_seen else "train.verdict.map_wrong"
        lines.append(word(Message(code, guess=Message(f"train.map.{map_guess}"),
                                  seen=Message(f"train.map.{map_seen}")), lang))
    if psnr_guess not in PSNR_CHOICES and map_guess not in MAP_CHOICES:
        lines.append(word(Message("train.verdict.no_guess"), lang))
    if low["latent"] != high["latent"]:
        lines.append(word(Message("train.verdict.latents_differ", a=low["latent"], b=high["latent"]), lang))
    lines.append(word(Message("train.verdict.why"), lang))
    return "  \n".join(lines)
