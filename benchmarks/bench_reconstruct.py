"""Latency of /reconstruct through the real server, against the transport floor (/ping) in the same run.

    python -m benchmarks.bench_reconstruct            # n=40 digit calls, n=8 photo calls
    python -m benchmarks.bench_reconstruct --quick    # fewer calls
    python -m benchmarks.bench_reconstruct --threads 1  # server started with OMP_NUM_THREADS=1
    python -m benchmarks.bench_reconstruct --stand-in-photo  # photo timing before the photo VAE ships

Targets (issue 3, 2 CPU cores): an MNIST reconstruction adds at most ~20 ms over the floor; a 512x512
photo takes under ~1.5 s. Each /reconstruct call is paired with a /ping call right before it (the
"paired floor"), so a machine whose load drifts hits both alike. A /reconstruct call also uploads the
image file and downloads the PNG, which /ping does not; the in-process rows (same models, no server)
show how much of it is the model itself.
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import numpy as np
from PIL import Image

from .harness import print_table, running_server, summarize, timed

DIGIT_MODELS = ("sd-vae-mnist-c4", "chapter-vae-mnist", "vae-mnist-2d")
PHOTO_MODEL = "sd-vae-photos-f8c4"
STAND_IN = "UNTRAINED-timing-stand-in-photos-f8c4"


def interleaved(floor_fn, fn, n: int, warmup: int = 2) -> tuple[list[float], list[float]]:
    """n (floor, fn) pairs timed back to back, so drifting load on a shared machine hits both alike."""
    for _ in range(warmup):
        floor_fn()
        fn()
    floor, samples = [], []
    for _ in range(n):
        floor += timed(floor_fn, n=1, warmup=0)
        samples += timed(fn, n=1, warmup=0)
    return floor, samples


def write_inputs(folder: str) -> tuple[str, str]:
    """A held-out digit (28x28 PNG) and the held-out astronaut photo (512x512 PNG)."""
    from explorer.data import load_mnist, load_photo

    digit = os.path.join(folder, "digit.png")
    Image.fromarray(np.round(load_mnist("test").images[0] * 255).astype(np.uint8)).save(digit)
    photo = os.path.join(folder, "astronaut.png")
    Image.fromarray(np.round(load_photo("astronaut") * 255).astype(np.uint8)).save(photo)
    return digit, photo


def stand_in_checkpoints(folder: str) -> str:
    """A checkpoint folder with every shipped checkpoint (linked) plus, if the photo VAE is not shipped yet,
    an UNTRAINED model of its exact recipe (same architecture, so the same compute), named so nobody can
    mistake it: its timings are real, its pictures are noise."""
    from explorer.checkpoint import save_checkpoint
    from explorer.models import build_model
    from explorer.recipes import RECIPES
    from explorer.service import DEFAULT_CHECKPOINTS

    root = os.path.join(folder, "checkpoints")
    os.makedirs(root)
    for entry in DEFAULT_CHECKPOINTS.iterdir():
        if entry.is_dir():
            os.symlink(entry, os.path.join(root, entry.name))
    if not (DEFAULT_CHECKPOINTS / PHOTO_MODEL).exists():
        recipe = RECIPES[PHOTO_MODEL]
        save_checkpoint(os.path.join(root, STAND_IN), build_model(recipe.family, recipe.config), name=STAND_IN,
                        family=recipe.family, kind="vae", dataset="photos", metrics={"untrained": True},
                        description=f"UNTRAINED stand-in with {PHOTO_MODEL}'s architecture, for timing only")
    return root


def in_process(models: list[str], photo_models: set[str], digit: str, photo: str, n_digit: int, n_photo: int,
               threads: int, checkpoints: str | None) -> list[dict]:
    """The same work without the server: decode file, prepare, encode, decode, metrics."""
    import torch

    from explorer.reconstruction import reconstruct_any
    from explorer.service import ModelService

    torch.set_num_threads(threads)
    service = ModelService(checkpoints, device="cpu")
    rows = []
    for name in models:
        path, n = (photo, n_photo) if name in photo_models else (digit, n_digit)
        samples = timed(lambda: reconstruct_any(service, name, path), n=n, warmup=2)
        rows.append(summarize(f"in-process reconstruct_any, {name}, {threads} thread(s)", samples))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads: the server gets OMP_NUM_THREADS=N (default: torch's own choice)")
    parser.add_argument("--stand-in-photo", action="store_true",
                        help=f"if {PHOTO_MODEL} is not shipped yet, time an untrained model of its architecture")
    args = parser.parse_args()
    n_floor, n_digit, n_photo = (10, 10, 3) if args.quick else (40, 40, 8)
    from gradio_client import handle_file

    folder = tempfile.mkdtemp(prefix="bench-reconstruct-")
    digit, photo = write_inputs(folder)
    checkpoints = stand_in_checkpoints(folder) if args.stand_in_photo else None
    env = {"OMP_NUM_THREADS": str(args.threads)} if args.threads else {}
    if checkpoints:
        env["EXPLORER_CHECKPOINTS"] = checkpoints
    rows = []
    with running_server(extra_env=env) as server:
        client = server.client
        served = {m["name"]: m for m in client.predict(api_name="/models")}
        photo_models = {n for n in (PHOTO_MODEL, STAND_IN) if n in served}
        models = [m for m in (*DIGIT_MODELS, PHOTO_MODEL, STAND_IN) if m in served]
        ping = lambda: client.predict(api_name="/ping")  # noqa: E731
        rows.append(summarize("/ping (transport floor)", timed(ping, n=n_floor)))
        for name in models:
            path, n = (photo, n_photo) if name in photo_models else (digit, n_digit)
            label = f"/reconstruct {name}, {'512x512 photo' if name in photo_models else '28x28 digit'}"
            call = lambda: client.predict(handle_file(path), name, api_name="/reconstruct")  # noqa: E731
            floor, samples = interleaved(ping, call, n)
            rows.append(summarize(label, samples, floor, paired_floor_p50_ms=1000 * statistics.median(floor)))
        rows.append({"what": "server peak RSS (MB)", "value": round(server.peak_rss_mb(), 1)})
    rows += in_process(models, photo_models, digit, photo, n_digit, n_photo, args.threads or 2, checkpoints)
    missing = [m for m in (*DIGIT_MODELS, PHOTO_MODEL) if m not in models]
    print(f"# bench_reconstruct, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs visible, "
          f"load average {os.getloadavg()[0]:.1f}, server threads {args.threads or 'default'}"
          + (f"; not shipped yet: {', '.join(missing)}" if missing else ""))
    print_table(rows)


if __name__ == "__main__":
    main()
