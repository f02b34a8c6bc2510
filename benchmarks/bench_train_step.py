"""One training step of each denoiser recipe (same UNet design, batch 64), timed back to back in one process,
so the latent-vs-pixel training cost is compared under the same machine load (the two shipped runs
were timed hours apart on a shared machine).

    python -m benchmarks.bench_train_step              # 20 interleaved steps each, 1 thread
    python -m benchmarks.bench_train_step --threads 2 --n 10
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from explorer.diffusion import NoiseSchedule
from explorer.models import build_model
from explorer.train_diffusion import RECIPES, diffusion_loss, schedule_for


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    setups = {}
    for name in ("ldm-mnist", "pixel-dm-mnist"):
        recipe = RECIPES[name]
        model = build_model("unet", recipe.unet).train()
        shape = (recipe.batch_size, recipe.unet["in_channels"], recipe.unet["sample_size"], recipe.unet["sample_size"])
        setups[name] = (model, torch.optim.AdamW(model.parameters(), lr=recipe.lr),
                        NoiseSchedule(**schedule_for(recipe)), torch.randn(shape),
                        torch.randint(0, 10, (recipe.batch_size,)), torch.Generator().manual_seed(0))
    times = {name: [] for name in setups}
    print(f"load average before: {os.getloadavg()}, threads {args.threads}", flush=True)
    for i in range(args.n + 2):  # 2 warm-up rounds
        for name, (model, optimizer, schedule, x, labels, generator) in setups.items():
            start = time.perf_counter()
            loss = diffusion_loss(model, schedule, x, labels, generator, 0.1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if i >= 2:
                times[name].append(time.perf_counter() - start)
    rows = {name: 1000 * statistics.median(t) for name, t in times.items()}
    for name, ms in rows.items():
        print(f"{name:16s} median train step {ms:8.1f} ms  (batch {RECIPES[name].batch_size}, "
              f"{RECIPES[name].unet['in_channels']}x{RECIPES[name].unet['sample_size']}^2)")
    print(f"pixel / latent: {rows['pixel-dm-mnist'] / rows['ldm-mnist']:.1f}x per training step; "
          f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
