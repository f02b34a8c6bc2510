"""CPU cost of the photo autoencoders per working size: encode and decode through ModelService (the path every
tab and /reconstruct takes), medians of n calls, printed as a table.

    python -m benchmarks.bench_taef2                 # sizes 128 256 384 512, n=5, torch threads as app.py (1)
    python -m benchmarks.bench_taef2 --threads 2 --n 3 --sizes 256 512

Models: taef2 (FLUX.2 tiny autoencoder, 32 channels, 2 x 1.34M parameters, 64 features at every level) and
sd-vae-photos-f8c4 (ours, 4 channels, 0.94M parameters, 16-64 features). Input: the held-out astronaut photo,
resized to side x side. A machine shared with other jobs inflates every figure alike; read the ratios.
The real server adds upload, PNG encoding and the transport floor (see benchmarks/bench_reconstruct.py).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

MODELS = ("taef2", "sd-vae-photos-f8c4")


def timed(fn, n: int) -> list[float]:
    fn()  # warm-up (allocations, lazy init)
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from explorer import data
    from explorer.service import ModelService

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 384, 512])
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (app.py uses 1 per call)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    service = ModelService(device="cpu")
    photo = (data.load_photo("astronaut") * 255).astype(np.uint8)
    print(f"torch {torch.__version__}, {args.threads} thread(s), n={args.n}, medians in seconds")
    print(f"{'model':22s} {'size':>7s} {'latent':>10s} {'encode s':>9s} {'decode s':>9s} {'round trip s':>13s}")
    for name in MODELS:
        service.get(name)
        for side in args.sizes:
            image = np.asarray(Image.fromarray(photo).resize((side, side), Image.BICUBIC), np.float32) / 255.0
            x = np.ascontiguousarray(image.transpose(2, 0, 1))[None]
            z = service.encode(name, x)["z"]
            enc = statistics.median(timed(lambda: service.encode(name, x), args.n))
            dec = statistics.median(timed(lambda: service.decode(name, z), args.n))
            latent = "x".join(map(str, z.shape[1:]))
            print(f"{name:22s} {side:>3d}x{side:<3d} {latent:>10s} {enc:9.3f} {dec:9.3f} {enc + dec:13.3f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
