"""Held-out evaluation of trained models: the numbers that go into metrics.json and the README.

    python -m explorer.evaluation            # re-measure every shipped checkpoint, print a table
    python -m explorer.evaluation --only taef2 sd-vae-photos-f8c4     # just these

For photo VAEs the table adds each held-out photo's PSNR / SSIM and the "seam" column: how far the largest
column/row jump of a reconstructed smooth colour ramp exceeds the median jump, in grey levels (a tile grid
shows as a large value; issue 13 asks for at most 4).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from . import data
from .metrics import mse as mse_fn, psnr_from_mse, ssim


def _pad(x: torch.Tensor, size: int | None) -> torch.Tensor:
    if not size or size == x.shape[-1]:
        return x
    total = size - x.shape[-1]
    return F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2))


def _crop(x: torch.Tensor, size: int) -> torch.Tensor:
    if x.shape[-1] == size:
        return x
    top = (x.shape[-1] - size) // 2
    return x[..., top:top + size, top:top + size]


@torch.no_grad()
def reconstruct_digits(model, images: np.ndarray, pad_to: int | None = None, batch: int = 250):
    """Posterior-mean reconstructions of (N, 28, 28) digits -> (recons (N, 28, 28) clamped, latents, kl)."""
    x = torch.from_numpy(images)[:, None]
    recons, latents, kls = [], [], []
    for chunk in torch.split(x, batch):
        posterior = model.encode(_pad(chunk, pad_to))
        z = posterior.mode()
        recons.append(_crop(model.decode(z).clamp(0, 1), 28)[:, 0])
        latents.append(z)
        kls.append(posterior.kl())
    return torch.cat(recons).numpy(), torch.cat(latents).numpy(), torch.cat(kls).numpy()


def evaluate_vae_mnist(model, pad_to: int | None = None, mnist_idx: str | None = None) -> dict:
    """MSE / PSNR / SSIM / KL on the held-out digits (posterior mean, reconstructions clamped to [0, 1])."""
    model.eval()
    test = data.load_mnist("test", mnist_idx)
    recons, latents, kls = reconstruct_digits(model, test.images, pad_to)
    per_image_mse = ((recons - test.images) ** 2).reshape(len(recons), -1).mean(1)
    mean_mse = float(per_image_mse.mean())
    return {"split": "mnist-test", "n_images": len(recons), "mse": mean_mse, "psnr": psnr_from_mse(mean_mse),
            "psnr_per_image_mean": float(np.mean([psnr_from_mse(v) for v in per_image_mse])),
            "ssim": float(np.mean([ssim(a, b) for a, b in zip(test.images, recons)])),
            "kl": float(kls.mean()), "latent_shape": list(latents.shape[1:]),
            "compression_ratio": 784 / int(np.prod(latents.shape[1:]))}


@torch.no_grad()
def reconstruct_photo(model, photo: np.ndarray) -> np.ndarray:
    """Posterior-mean reconstruction of an (H, W, 3) photo whose sides are multiples of f."""
    x = torch.from_numpy(np.ascontiguousarray(photo.transpose(2, 0, 1)))[None]
    return model.decode(model.encode(x).mode()).clamp(0, 1)[0].numpy().transpose(1, 2, 0)


def crop_to_multiple(image: np.ndarray, factor: int) -> np.ndarray:
    """Centre-crop (H, W, ...) so both sides are multiples of `factor`."""
    h, w = image.shape[:2]
    nh, nw = h - h % factor, w - w % factor
    top, left = (h - nh) // 2, (w - nw) // 2
    return image[top:top + nh, left:left + nw]


def evaluate_vae_photos(model) -> dict:
    """MSE / PSNR / SSIM at full resolution on each held-out photo, and their mean."""
    model.eval()
    per_photo = {}
    for name in data.photo_names("test"):
        photo = crop_to_multiple(data.load_photo(name), model.downsampling_factor)
        recon = reconstruct_photo(model, photo)
        value = mse_fn(photo, recon)
        per_photo[name] = {"shape": list(photo.shape), "mse": value, "psnr": psnr_from_mse(value),
                           "ssim": ssim(photo, recon)}
    mean_mse = float(np.mean([m["mse"] for m in per_photo.values()]))
    return {"split": "photos-held-out", "n_images": len(per_photo), "mse": mean_mse,
            "psnr": float(np.mean([m["psnr"] for m in per_photo.values()])),
            "ssim": float(np.mean([m["ssim"] for m in per_photo.values()])), "per_photo": per_photo,
            "latent_shape": [model.config.latent_channels, None, None],
            "compression_ratio": 3 * model.downsampling_factor**2 / model.config.latent_channels}


def colour_ramp(size: int = 256) -> np.ndarray:
    """A smooth (size, size, 3) test image in [0, 1]: red rises left to right, green top to bottom, blue falls
    along the diagonal; neighbouring pixels differ by at most 1/(size-1) per channel (1 grey level at 256)."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1)
    return np.stack([x, y, 1.0 - (x + y) / 2.0], axis=-1)


def seam_jumps(image: np.ndarray) -> dict:
    """Tile-grid detector for an (H, W, 3) image in [0, 1]: for every pair of neighbouring columns (and rows),
    the mean absolute difference over the other axis and the channels, in grey levels (x 255).
    Returns {"max_jump", "median_jump", "excess" = max - median, "worst": "column k|k+1" or "row k|k+1"}.
    On a smooth ramp every jump is about 1 grey level; a tile border shows as one large jump."""
    grey = np.asarray(image, np.float64) * 255.0
    columns = np.abs(np.diff(grey, axis=1)).mean(axis=(0, 2))
    rows = np.abs(np.diff(grey, axis=0)).mean(axis=(1, 2))
    jumps = np.concatenate([columns, rows])
    worst = int(np.argmax(jumps))
    where = f"column {worst}|{worst + 1}" if worst < len(columns) else \
        f"row {worst - len(columns)}|{worst - len(columns) + 1}"
    return {"max_jump": float(jumps.max()), "median_jump": float(np.median(jumps)),
            "excess": float(jumps.max() - np.median(jumps)), "worst": where}


def ramp_seams(model, size: int = 256) -> dict:
    """seam_jumps of the model's reconstruction of colour_ramp(size) (posterior mean, clamped to [0, 1]).
    Issue 13's criterion for the photo VAE: excess <= 4 grey levels (with 32-px tiles it was about 30)."""
    model.eval()
    return seam_jumps(reconstruct_photo(model, colour_ramp(size)))


@torch.no_grad()
def classifier_accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    model.eval()
    logits = torch.cat([model(b) for b in torch.split(torch.from_numpy(images)[:, None], 500)])
    return float((logits.argmax(1).numpy() == labels).mean())


def evaluate_classifier(model, mnist_idx: str | None = None) -> dict:
    test = data.load_mnist("test", mnist_idx)
    return {"split": "mnist-test", "n_images": len(test), "accuracy": classifier_accuracy(model, test.images, test.labels)}


def main(argv: list[str] | None = None) -> int:
    """Re-measure every shipped VAE and classifier from its checkpoint and print a table."""
    from .checkpoint import list_checkpoints, load_checkpoint

    import argparse

    parser = argparse.ArgumentParser(description="re-measure shipped checkpoints on held-out data")
    parser.add_argument("root", nargs="?", type=Path, default=Path(__file__).resolve().parent.parent / "checkpoints")
    parser.add_argument("--only", nargs="+", default=None, help="checkpoint names to measure (default: all)")
    args = parser.parse_args(argv)
    root = args.root
    print(f"{'checkpoint':24s} {'data':16s} {'latent':>10s} {'ratio':>6s} {'PSNR dB':>8s} {'SSIM':>6s} {'acc':>6s} "
          f"{'seam':>5s}")
    for folder in list_checkpoints(root):
        if args.only and folder.name not in args.only:
            continue
        model, config, _ = load_checkpoint(folder)
        if config["kind"] == "vae":
            m = (evaluate_vae_mnist(model, config.get("pad_to")) if config["dataset"] == "mnist"
                 else evaluate_vae_photos(model))
            latent = "x".join(str(s) if s else "?" for s in m["latent_shape"])
            seam = f"{ramp_seams(model)['excess']:5.1f}" if config["dataset"] == "photos" else ""
            print(f"{config['name']:24s} {m['split']:16s} {latent:>10s} {m['compression_ratio']:6.1f} "
                  f"{m['psnr']:8.2f} {m['ssim']:6.3f} {'':>6s} {seam:>5s}", flush=True)
            for photo, pm in m.get("per_photo", {}).items():
                print(f"  {photo:22s} {'x'.join(map(str, pm['shape'][:2])):>16s} {'':>10s} {'':>6s} "
                      f"{pm['psnr']:8.2f} {pm['ssim']:6.3f}")
        elif config["kind"] == "classifier":
            print(f"{config['name']:24s} {'mnist-test':16s} {'':>10s} {'':>6s} {'':>8s} {'':>6s} "
                  f"{evaluate_classifier(model)['accuracy']:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
