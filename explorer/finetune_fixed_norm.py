"""Remove the tile grid of the 4-channel photo VAE (issue 13): freeze its normalisation statistics and fine-tune.

The shipped sd-vae-photos-f8c4 was trained on 32x32 crops with GroupNorm, whose statistics come from each input;
run on whole photos those statistics differ from training, so it ran on 32-px tiles, and every tile border
showed (a smooth ramp came back with ~30-grey-level jumps every 32 px). Overlapping tiles blended in pixel space
were measured and did not help here: each tile's latent lives in its own normalisation frame, and a decoder window
that straddles two frames reconstructs badly (astronaut fell from 21.9 to 15.8-18.1 dB).

This script:
  1. measures each GroupNorm's per-group mean and variance, averaged over 32x32 training tiles (the statistics
     the network was trained with) and freezes them into FixedGroupNorm layers (norm_statistics = "fixed": a
     per-channel affine map, so the network is purely convolutional and runs on whole photos, no tiles);
  2. fine-tunes all weights on random crops of the training photos (MSE + kl_weight * KL, AdamW, cosine decay)
     for a bounded number of steps / minutes;
  3. re-measures scale_factor (1 / std of training latents), the held-out figures and the ramp seams, and writes
     the checkpoint (config.json, model.safetensors, metrics.json with the previous training record kept).

    nice -n 10 python -m explorer.finetune_fixed_norm [--device cuda] [--minutes 20] [--out DIR]
    python -m explorer.finetune_fixed_norm --from-weights tuned.safetensors --log tuned.log   # write only

The shipped checkpoint: 6000 steps of 32 random 64x64 crops, AdamW lr 3e-4 (50 warm-up steps, cosine decay),
border_pad 16, seed 0, on an NVIDIA H200 (191 s; the same loop as `finetune`, run from an inline copy because
the accelerator machine held an older checkout), then written here with --from-weights.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from . import data
from .checkpoint import load_checkpoint, save_checkpoint
from .evaluation import evaluate_vae_photos, ramp_seams
from .models.sd_vae import SDVAE, FixedGroupNorm, SDVAEConfig
from .optim import set_cosine_lr

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "checkpoints" / "sd-vae-photos-f8c4"


def training_photos(npz: str | None = None) -> list[np.ndarray]:
    """The training photos as float32 (H, W, 3) in [0, 1]; from scikit-image, or from an .npz of uint8 arrays."""
    if npz:
        with np.load(npz) as archive:
            return [archive[name].astype(np.float32) / 255.0 for name in data.photo_names("train")]
    return [data.load_photo(name) for name in data.photo_names("train")]


@torch.no_grad()
def measure_group_statistics(model: torch.nn.Module, tiles: torch.Tensor, latent_tiles: torch.Tensor) -> dict:
    """{module name: (group mean, group variance)} of every GroupNorm's input, averaged over tiles (each tile's
    own statistics, as GroupNorm computed them in training): the encoder on image tiles, the decoder on latents."""
    sums: dict[str, list] = {}

    def hook(name):
        def record(module, inputs):
            x = inputs[0].float()
            grouped = x.reshape(x.shape[0], module.num_groups, -1)
            mean, var = grouped.mean(-1).mean(0), grouped.var(-1, unbiased=False).mean(0)
            sums.setdefault(name, []).append((mean, var, x.shape[0]))
        return record

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in model.named_modules()
               if isinstance(m, torch.nn.GroupNorm)]
    try:
        model.encoder(tiles * 2.0 - 1.0)
        model.decoder(latent_tiles)
    finally:
        for handle in handles:
            handle.remove()
    stats = {}
    for name, parts in sums.items():
        total = sum(n for _, _, n in parts)
        stats[name] = (sum(m * n for m, _, n in parts) / total, sum(v * n for _, v, n in parts) / total)
    return stats


def freeze_statistics(source: SDVAE, tiles: torch.Tensor) -> SDVAE:
    """A copy of `source` with norm_statistics="fixed", tile_size=None and its GroupNorm statistics frozen to the
    averages measured on `tiles` (B, 3, T, T) in [0, 1], T = the training tile size."""
    with torch.no_grad():
        latents = source.encode(tiles).mode()
    stats = measure_group_statistics(source, tiles, latents)
    config = SDVAEConfig(**{**source.config.__dict__, "norm_statistics": "fixed", "tile_size": None})
    model = SDVAE(config)
    missing, unexpected = model.load_state_dict(source.state_dict(), strict=False)
    assert not unexpected and all(k.endswith(("group_mean", "group_var")) for k in missing), (missing, unexpected)
    for name, module in model.named_modules():
        if isinstance(module, FixedGroupNorm):
            module.group_mean.copy_(stats[name][0])
            module.group_var.copy_(stats[name][1])
    return model


def finetune(model: SDVAE, photos: list[np.ndarray], steps: int, minutes: float, crop: int, batch: int, lr: float,
             rng: np.random.Generator, device: torch.device, log) -> list[dict]:
    """AdamW fine-tuning on random crops; stops after `steps` or `minutes`, whichever comes first."""
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    history, start, window = [], time.perf_counter(), []
    for step in range(steps):
        if time.perf_counter() - start > minutes * 60:
            log(f"time limit reached after {step} steps")
            break
        set_cosine_lr(optimizer, lr, step, steps, warmup=50)
        x = torch.from_numpy(data.random_crops(photos, crop, batch, rng)).to(device)
        posterior = model.encode(x)
        raw = model.decode_raw(posterior.sample())
        recon, kl = model.reconstruction_loss(raw, x).mean(), posterior.kl().mean()
        loss = recon + model.config.kl_weight * kl
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        window.append((loss.item(), recon.item(), kl.item()))
        if (step + 1) % 500 == 0 or step + 1 == steps:
            means = np.mean(window, axis=0)
            history.append({"step": step + 1, "loss": float(means[0]), "reconstruction": float(means[1]),
                            "kl": float(means[2]), "seconds": round(time.perf_counter() - start, 1)})
            log(json.dumps(history[-1]))
            window = []
    return history


def parse_log(path: str) -> list[dict]:
    """History from a training log whose progress lines read 'step mean_loss seconds'."""
    history = []
    for line in Path(path).read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].isdigit():
            history.append({"step": int(parts[0]), "loss": float(parts[1]), "seconds": float(parts[2])})
    return history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="freeze GroupNorm statistics of the photo VAE and fine-tune")
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=SOURCE)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--crop", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--photos-npz", default=None, help="training photos as uint8 arrays (machines without skimage data)")
    parser.add_argument("--border-pad", type=int, default=16, help="mirrored border in pixels (SDVAEConfig.border_pad)")
    parser.add_argument("--from-weights", default=None, help="skip training: a fine-tuned state dict (safetensors)")
    parser.add_argument("--log", default=None, help="with --from-weights: its training log (lines 'step loss seconds')")
    parser.add_argument("--trained-on", default=None, help="with --from-weights: where it was trained")
    parser.add_argument("--skip-eval", action="store_true", help="skip held-out evaluation (run it elsewhere)")
    args = parser.parse_args(argv)
    log = lambda line: print(line, flush=True)  # noqa: E731
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)  # one stream: the statistics tiles, then the training crops

    source, old_config, old_metrics = load_checkpoint(args.source)
    if source.config.norm_statistics == "fixed":
        log(f"{args.source} already has fixed statistics; fine-tuning it further")
    photos = training_photos(args.photos_npz)
    tile = source.config.tile_size or 32
    tiles = torch.from_numpy(data.random_crops(photos, tile, 1024, rng))
    model = source if source.config.norm_statistics == "fixed" else freeze_statistics(source, tiles)
    model.config.border_pad = args.border_pad
    if args.photos_npz:  # machines without scikit-image's data files: the held-out photos come from the archive
        archive = dict(np.load(args.photos_npz))
        data.load_photo = lambda name: archive[name].astype(np.float32) / 255.0
    if not args.skip_eval:
        try:
            import skimage.metrics  # noqa: F401 - SSIM needs it
        except ImportError:
            log("scikit-image missing: held-out evaluation skipped")
            args.skip_eval = True
    if args.from_weights:
        from safetensors.torch import load_file

        model.load_state_dict(load_file(args.from_weights), strict=True)
        history = parse_log(args.log) if args.log else []
        device = args.trained_on or "elsewhere"
    else:
        if not args.skip_eval:
            log(f"before fine-tuning: ramp {ramp_seams(model.eval())}")
        history = finetune(model, photos, args.steps, args.minutes, args.crop, args.batch, args.lr, rng, device, log)
    model = model.cpu().eval()
    with torch.no_grad():
        check = torch.from_numpy(data.random_crops(photos, args.crop, 256, np.random.default_rng(args.seed)))
        latents = torch.cat([model.encode(b).sample(torch.Generator().manual_seed(args.seed)) for b in check.split(64)])
    model.config.scale_factor = float(1.0 / latents.std())
    record = {"steps": history[-1]["step"] if history else 0, "crop": args.crop, "batch": args.batch,
              "lr": args.lr, "seed": args.seed, "device": str(device),
              "torch": None if args.from_weights else torch.__version__,
              "seconds": history[-1]["seconds"] if history else 0.0, "history": history,
              "statistics_from": f"1024 random {tile}x{tile} training tiles"}
    metrics = {k: v for k, v in old_metrics.items() if k not in ("norm_finetune",)}
    if args.skip_eval:  # figures of the previous weights must not be passed off as these weights'
        for key in ("split", "n_images", "mse", "psnr", "ssim", "per_photo", "ramp_seams"):
            metrics.pop(key, None)
        metrics["evaluated"] = False
    else:
        metrics.update(evaluate_vae_photos(model))
        metrics["ramp_seams"] = ramp_seams(model)
    metrics["norm_finetune"] = record
    metrics["params"] = sum(p.numel() for p in model.parameters())
    description = ("SD-style VAE for colour photos, f=8, 4 channels (48x), trained on 32x32 crops, then its "
                   "normalisation statistics frozen and fine-tuned on whole 64x64 crops: runs on whole photos, "
                   "no tiles")
    save_checkpoint(args.out, model, name=old_config["name"], family=old_config["family"], kind=old_config["kind"],
                    dataset=old_config["dataset"], metrics=metrics, description=description,
                    pad_to=old_config.get("pad_to"))
    log(f"wrote {args.out}: " + ", ".join(f"{k} {metrics[k]}" for k in ("psnr", "ssim", "ramp_seams") if k in metrics))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
