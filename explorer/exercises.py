"""The chapter's five exercises as pure functions: every answer the app checks is computed here from the
compression calculator or from the shipped checkpoints' metrics.json, never typed into prose.

1. `training_recipe`, `learning_curves`, `kl_trend`: the recipe, the per-epoch history recorded at training
   time, and which way each loss term moved.
2. `parse_shape`, `parse_number`, `check_latent_answer`: the student's latent size answers against
   `explorer.compression.compression`.
3. `heldout_table`, `psnr_from_mse`, `check_best_model`: held-out MSE / PSNR per VAE.
4. `latent_distribution`, `distribution_verdict`: how the 2-D VAE's codes of held-out digits are spread.
5. `channel_sweep`, `published_channel_sweep`, `rate_distortion_verdict`: why 4 latent channels, not 3.

Answer codes (`"correct"`, `"wrong"`, `"empty"`, `"unreadable"`, ...) are returned instead of sentences, so the
UI can word them in the student's language (explorer/views/exercises.py). What is refused (an unknown recipe, text
that is not a number or a shape, no measured model) raises explorer.messages.Refusal with an `exercise.*` code;
a check turns a refused answer into the status "unreadable", never an exception.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .compression import PUBLISHED_VAES, CompressionResult, compression, counted_input_shape, vae_ratio
from .data import load_mnist
from .messages import Refusal, define
from .metrics import psnr_from_mse
from .recipes import RECIPES

define({
    "exercise.no_recipe": "no training recipe named {name}; recipes: {recipes}",
    "exercise.not_a_shape": "not a shape: {answer}; write it as c x h x w, e.g. 4x8x8",
    "exercise.not_a_number": "not a number: {answer}",
    "exercise.no_measured_vae": "no {dataset} VAE with measured held-out metrics is installed",
    "exercise.bad_codes": "need (N >= 2, 2) codes and N labels, got {codes} and {labels}",
})

EXERCISE1_MODEL = "sd-vae-mnist-c4"
CHANNEL_SWEEP_PREFIX = "sd-vae-mnist-c"
PLANAR_MODEL = "vae-mnist-2d"
RATIO_TOLERANCE = 0.01  # relative
PSNR_TOLERANCE_DB = 0.05
TREND_TOLERANCE = 0.1  # a term "rises" when last / first > 1.1, "falls" when < 0.9


class Catalogue(Protocol):
    """What the exercises need from the model service (ModelService satisfies it)."""

    def names(self, kind: str | None = None, dataset: str | None = None) -> list[str]: ...
    def metrics(self, name: str) -> dict: ...
    def vae_shapes(self, name: str) -> dict: ...
    def config(self, name: str) -> dict: ...
    def encode(self, name: str, images: np.ndarray) -> dict: ...  # exercise 4 only


# ---- exercise 1: train a simple VAE --------------------------------------------------------------------------
def retrain_command(name: str = EXERCISE1_MODEL) -> str:
    """The shell command that retrains checkpoint `name` from its recipe."""
    if name not in RECIPES:
        raise Refusal("exercise.no_recipe", name=repr(name), recipes=", ".join(RECIPES))
    return f"python -m explorer.train {name}"


def training_recipe(name: str = EXERCISE1_MODEL) -> dict[str, Any]:
    """The recipe of `name` as flat facts: family, dataset, epochs, batch_size, lr, seed, kl_weight, config,
    description and the retraining command."""
    if name not in RECIPES:
        raise Refusal("exercise.no_recipe", name=repr(name), recipes=", ".join(RECIPES))
    recipe = RECIPES[name]
    return {"name": recipe.name, "family": recipe.family, "dataset": recipe.dataset, "epochs": recipe.epochs,
            "batch_size": recipe.batch_size, "lr": recipe.lr, "seed": recipe.seed,
            "kl_weight": recipe.config.get("kl_weight"), "config": dict(recipe.config),
            "description": recipe.description, "command": retrain_command(name)}


@dataclass(frozen=True)
class LearningCurves:
    """Per-epoch training history: epoch numbers and one list per recorded term (same length)."""

    epochs: list[int]
    terms: dict[str, list[float]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.epochs)


def learning_curves(metrics: dict, terms: tuple[str, ...] = ("loss", "reconstruction", "kl")) -> LearningCurves:
    """The `history` of a metrics.json as curves, sorted by epoch. Rows missing a requested term (or holding a
    non-finite value) are dropped, so all lists stay aligned; an absent or empty history gives empty curves."""
    history = metrics.get("history") or []
    rows = [row for row in history if isinstance(row, dict) and "epoch" in row
            and all(isinstance(row.get(t), (int, float)) and math.isfinite(row[t]) for t in terms)]
    rows.sort(key=lambda row: row["epoch"])
    return LearningCurves([int(row["epoch"]) for row in rows], {t: [float(row[t]) for row in rows] for t in terms})


def kl_trend(values: list[float], tolerance: float = TREND_TOLERANCE) -> str:
    """"rises", "falls" or "flat": how a training curve's last value compares with its first. "unknown" when
    there are fewer than two points or the first value is not positive."""
    if len(values) < 2 or values[0] <= 0:
        return "unknown"
    change = values[-1] / values[0]
    if change > 1 + tolerance:
        return "rises"
    if change < 1 - tolerance:
        return "falls"
    return "flat"


# ---- exercise 2: latent dimensions for several resolutions ---------------------------------------------------
@dataclass(frozen=True)
class LatentQuestion:
    height: int
    width: int
    image_channels: int
    factor: int
    latent_channels: int

    def solve(self) -> CompressionResult:
        return compression(self.height, self.width, self.image_channels, self.factor, self.latent_channels)


QUESTIONS: tuple[LatentQuestion, ...] = (
    LatentQuestion(256, 256, 3, 8, 4),
    LatentQuestion(512, 512, 3, 8, 4),
    LatentQuestion(1024, 1024, 3, 8, 4),
    LatentQuestion(768, 512, 3, 8, 4),
    LatentQuestion(1024, 1024, 3, 8, 16),
    LatentQuestion(28, 28, 1, 4, 4),
)

_SHAPE = re.compile(r"\d+(?:\s*[x×X*,;]\s*\d+|\s+\d+)*")


def parse_shape(answer: str | None) -> tuple[int, ...] | None:
    """"64x64x4", "4 x 64 x 64", "[4, 64, 64]", "64×64×4", "64*64*4" -> a tuple of positive ints.
    None for an empty answer; Refusal("exercise.not_a_shape") for text that is not a list of whole numbers."""
    text = (answer or "").strip().strip("[]()").strip()
    if not text:
        return None
    if not _SHAPE.fullmatch(text):
        raise Refusal("exercise.not_a_shape", answer=repr(answer))
    return tuple(int(p) for p in re.findall(r"\d+", text))


def parse_number(answer: str | float | int | None) -> float | None:
    """"16384", "16,384", "16 384", "48", "48x", "48 ×", "48:1", "48.0", "48 倍", "29.62 dB" -> float (a trailing
    unit and spaces are allowed). None when empty; Refusal("exercise.not_a_number") when the text is not a
    number."""
    if answer is None:
        return None
    if isinstance(answer, (int, float)) and not isinstance(answer, bool):
        if not math.isfinite(answer):
            raise Refusal("exercise.not_a_number", answer=repr(answer))
        return float(answer)
    text = str(answer).strip().lower().replace("\u00a0", " ")
    if not text:
        return None
    text = re.sub(r"(?<=\d)[,\s_](?=\d{3}\b)", "", text)
    text = re.sub(r"\s*(x|×|:\s*1|times|倍|db)$", "", text)
    try:
        value = float(text)
    except ValueError:
        raise Refusal("exercise.not_a_number", answer=repr(answer)) from None
    if not math.isfinite(value):
        raise Refusal("exercise.not_a_number", answer=repr(answer))
    return value


@dataclass(frozen=True)
class FieldCheck:
    """One answer field: status is "correct", "wrong", "empty" or "unreadable"; `expected` is the right answer."""

    status: str
    expected: str


@dataclass(frozen=True)
class QuestionCheck:
    question: LatentQuestion
    shape: FieldCheck
    dims: FieldCheck
    ratio: FieldCheck

    @property
    def all_correct(self) -> bool:
        return all(f.status == "correct" for f in (self.shape, self.dims, self.ratio))


def _check_field(parse, answer, is_right, expected: str) -> FieldCheck:
    try:
        value = parse(answer)
    except ValueError:
        return FieldCheck("unreadable", expected)
    if value is None:
        return FieldCheck("empty", expected)
    return FieldCheck("correct" if is_right(value) else "wrong", expected)


def check_latent_answer(question: LatentQuestion, shape: str | None, dims: str | None,
                        ratio: str | None) -> QuestionCheck:
    """Check a student's latent shape (either [c, H/f, W/f] or H/f x W/f x c), number of latent values and
    compression ratio (within 1 %) against `compression()`."""
    r = question.solve()
    c, lh, lw = r.latent_shape
    accepted = {(c, lh, lw), (lh, lw, c)}
    return QuestionCheck(
        question,
        _check_field(parse_shape, shape, lambda v: v in accepted, f"{lh} x {lw} x {c}"),
        _check_field(parse_number, dims, lambda v: v == r.latent_dims, f"{r.latent_dims:,}"),
        _check_field(parse_number, ratio, lambda v: abs(v - r.ratio) <= RATIO_TOLERANCE * r.ratio, f"{r.ratio:g}"))


# ---- exercise 3: held-out reconstruction error per model -----------------------------------------------------
def heldout_table(service: Catalogue) -> list[dict[str, Any]]:
    """One row per VAE with measured held-out metrics: name, dataset, split, n_images, input_shape ([C, H, W]
    counted: a padded digit counts its 28x28 pixels, see counted_input_shape), pad_to (the side the network gets,
    or None), latent_shape, ratio (of the counted input), mse, psnr, ssim. VAEs without a measured MSE
    (untrained test models, VAEs still being measured) are left out. Sorted by dataset, then MSE."""
    rows = []
    for name in service.names("vae"):
        metrics = service.metrics(name)
        mse = metrics.get("mse")
        if not isinstance(mse, (int, float)) or not math.isfinite(mse) or mse < 0 or metrics.get("untrained"):
            continue
        shapes = service.vae_shapes(name)
        rows.append({"name": name, "dataset": service.config(name).get("dataset", "?"),
                     "split": metrics.get("split", "?"), "n_images": metrics.get("n_images"),
                     "input_shape": counted_input_shape(shapes), "pad_to": shapes.get("pad_to"),
                     "latent_shape": "x".join(map(str, shapes["latent_shape"])),
                     "ratio": vae_ratio(shapes), "mse": float(mse),
                     "psnr": metrics.get("psnr"), "ssim": metrics.get("ssim")})
    rows.sort(key=lambda row: (row["dataset"], row["mse"]))
    return rows


def best_model(rows: list[dict], dataset: str = "mnist") -> dict | None:
    """The row with the smallest held-out MSE among `dataset`'s models (None if there is none)."""
    candidates = [row for row in rows if row["dataset"] == dataset]
    return min(candidates, key=lambda row: row["mse"]) if candidates else None


@dataclass(frozen=True)
class BestModelCheck:
    model: str  # "correct", "wrong" or "empty"
    psnr: str  # "correct", "wrong", "empty" or "unreadable"
    best: str  # the right model
    best_psnr: float  # 10 log10(1 / MSE) of the right model


def check_best_model(rows: list[dict], chosen: str | None, psnr_answer: str | None,
                     dataset: str = "mnist") -> BestModelCheck:
    """Did the student pick the model with the lowest held-out MSE, and turn its MSE into PSNR
    (10 log10(1 / MSE), images in [0, 1]) within 0.05 dB? Raises Refusal("exercise.no_measured_vae") when no
    model has metrics."""
    best = best_model(rows, dataset)
    if best is None:
        raise Refusal("exercise.no_measured_vae", dataset=dataset)
    target = psnr_from_mse(best["mse"])
    model_status = "empty" if not chosen else ("correct" if chosen == best["name"] else "wrong")
    psnr = _check_field(parse_number, psnr_answer, lambda v: abs(v - target) <= PSNR_TOLERANCE_DB, "")
    return BestModelCheck(model_status, psnr.status, best["name"], target)


# ---- exercise 4: the 2-D latent distribution -----------------------------------------------------------------
PRIOR_WITHIN_2 = 1 - math.exp(-2)  # P(|z| < 2) for z ~ N(0, I) in 2-D (chi-square with 2 dof)


def latent_distribution(means: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Statistics of 2-D codes (N, 2) with digit labels (N,): mean and std per axis, the fraction within
    radius 2 of the origin (the N(0, I) prior puts 86.5 % there), and how often a point's nearest other point
    is the same digit (chance is about 10 %)."""
    z = np.asarray(means, dtype=np.float64)
    labels = np.asarray(labels)
    if z.ndim != 2 or z.shape[1] != 2 or len(z) < 2 or len(labels) != len(z):
        raise Refusal("exercise.bad_codes", codes=tuple(z.shape), labels=tuple(labels.shape))
    d2 = ((z[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d2, np.inf)
    nearest = d2.argmin(axis=1)
    return {"n": len(z), "mean_x": float(z[:, 0].mean()), "mean_y": float(z[:, 1].mean()),
            "std_x": float(z[:, 0].std()), "std_y": float(z[:, 1].std()),
            "within_2": float((np.linalg.norm(z, axis=1) < 2).mean()), "prior_within_2": PRIOR_WITHIN_2,
            "nn_same_digit": float((labels[nearest] == labels).mean())}


@functools.lru_cache(maxsize=2)
def planar_statistics(service: Catalogue, model: str = PLANAR_MODEL) -> dict[str, float]:
    """latent_distribution of `model`'s posterior means over the 500 held-out digits (cached per service and
    model: one encoding pass, about a second on a CPU)."""
    digits = load_mnist("test")
    means = service.encode(model, digits.images[:, None].astype(np.float32))["mean"].reshape(len(digits), -1)
    return latent_distribution(means, digits.labels)


CENTRE_TOLERANCE = 0.5  # |mean| per axis
SCALE_RANGE = (0.3, 2.0)  # std per axis "on the scale of" the prior's 1
GROUPED_ABOVE = 0.3  # nearest neighbour is the same digit this often (chance: about 0.1) -> grouped


def distribution_verdict(stats: dict[str, float]) -> str:
    """Which picture the measured codes match: "prior_clusters" (centred on 0 with a spread of order 1, like
    the N(0, I) prior, and same digits grouped: nearest neighbour the same digit at 3x chance or more),
    "prior_mixed" (like the prior, digits not grouped), or "spread" (off-centre or far wider/narrower)."""
    low, high = SCALE_RANGE
    near_prior = (abs(stats["mean_x"]) < CENTRE_TOLERANCE and abs(stats["mean_y"]) < CENTRE_TOLERANCE
                  and low < stats["std_x"] < high and low < stats["std_y"] < high)
    if not near_prior:
        return "spread"
    return "prior_clusters" if stats["nn_same_digit"] > GROUPED_ABOVE else "prior_mixed"


# ---- exercise 5: why 4 latent channels, not 3? ---------------------------------------------------------------
@dataclass(frozen=True)
class SweepPoint:
    channels: int
    ratio: float  # pixel values per latent value
    psnr: float
    source: str  # checkpoint name or publication


def channel_sweep(service: Catalogue, prefix: str = CHANNEL_SWEEP_PREFIX) -> list[SweepPoint]:
    """The shipped `sd-vae-mnist-c<k>` VAEs that have a measured held-out PSNR, by channel count."""
    points = []
    for name in service.names("vae"):
        if not re.fullmatch(re.escape(prefix) + r"\d+", name):
            continue
        metrics = service.metrics(name)
        psnr = metrics.get("psnr")
        if not isinstance(psnr, (int, float)) or not math.isfinite(psnr) or metrics.get("untrained"):
            continue
        shapes = service.vae_shapes(name)
        points.append(SweepPoint(shapes["latent_shape"][0], vae_ratio(shapes), float(psnr), name))
    return sorted(points, key=lambda p: p.channels)


def published_channel_sweep() -> list[SweepPoint]:
    """The SD3 paper's f=8 VAEs with 4, 8 and 16 channels (photos, another data set), from PUBLISHED_VAES."""
    points = [SweepPoint(p.latent_channels, compression(512, 512, 3, p.factor, p.latent_channels).ratio, p.psnr,
                         p.name) for p in PUBLISHED_VAES
              if p.source.startswith("SD3 paper") and p.psnr is not None and p.factor == 8]
    return sorted(points, key=lambda p: p.channels)


PREDICTIONS = ("three_enough", "four_better", "no_difference")
NO_DIFFERENCE_DB = 0.2  # a PSNR change smaller than this is "no difference"


@dataclass(frozen=True)
class RateDistortionAnswer:
    verdict: str  # "four_better", "three_enough", "no_difference" or "unknown" (3 or 4 not measured)
    gain_db: float | None  # PSNR(c=4) - PSNR(c=3) measured here
    ratio_3: float | None
    ratio_4: float | None
    monotonic: bool  # PSNR never falls as channels are added, over every measured point


def rate_distortion_verdict(points: list[SweepPoint]) -> RateDistortionAnswer:
    """From measured points, what going from 3 to 4 channels does to PSNR: "four_better" when the gain is at
    least 0.2 dB, "three_enough" when 4 channels is worse by that much, else "no_difference"."""
    by_c = {p.channels: p for p in points}
    ordered = [by_c[c] for c in sorted(by_c)]
    monotonic = all(b.psnr >= a.psnr - NO_DIFFERENCE_DB for a, b in zip(ordered, ordered[1:]))
    if 3 not in by_c or 4 not in by_c:
        return RateDistortionAnswer("unknown", None, by_c[3].ratio if 3 in by_c else None,
                                    by_c[4].ratio if 4 in by_c else None, monotonic)
    gain = by_c[4].psnr - by_c[3].psnr
    verdict = "four_better" if gain >= NO_DIFFERENCE_DB else "three_enough" if gain <= -NO_DIFFERENCE_DB \
        else "no_difference"
    return RateDistortionAnswer(verdict, gain, by_c[3].ratio, by_c[4].ratio, monotonic)


# ---- the header's numbers ------------------------------------------------------------------------------------
def headline_numbers(service: Catalogue, model: str = EXERCISE1_MODEL) -> dict[str, Any]:
    """Figures the overview quotes: the chapter's 512x512x3 -> 64x64x4 compression, and `model`'s input
    shape, latent shape, ratio, held-out PSNR and image count (None when it is not installed or measured)."""
    sd = compression(512, 512, 3, 8, 4)
    numbers: dict[str, Any] = {"sd_pixels": sd.pixel_dims, "sd_latents": sd.latent_dims, "sd_ratio": sd.ratio,
                               "sd_latent_side": sd.latent_shape[1], "model": None}
    if model in service.names("vae"):
        metrics, shapes = service.metrics(model), service.vae_shapes(model)
        psnr = metrics.get("psnr")
        if isinstance(psnr, (int, float)) and math.isfinite(psnr) and not metrics.get("untrained"):
            numbers.update(model=model, psnr=float(psnr), n_images=metrics.get("n_images"),
                           input_shape="x".join(map(str, counted_input_shape(shapes))),
                           latent_shape="x".join(map(str, shapes["latent_shape"])), ratio=vae_ratio(shapes))
    return numbers
