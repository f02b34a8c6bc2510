"""The one command line that (re)builds every checkpoint, seeded and reproducible:

    python -m explorer.train                      # every recipe, in dependency order (VAEs, classifier, denoisers)
    python -m explorer.train sd-vae-mnist-c4      # just some
    python -m explorer.train ldm-mnist            # a denoiser (needs sd-vae-mnist-c4 and mnist-classifier in --out)
    python -m explorer.train --evaluate-only      # re-measure saved checkpoints only; metrics.json updated
    python -m explorer.train --mnist-idx ~/mnist  # train on full MNIST IDX files instead
    python -m explorer.train --list

It reads the recipe registry (explorer/recipes.py) and hands each recipe to the trainer module of its kind
(explorer/trainers/: vae, classifier, diffusion; recipes.TRAINERS), which never imports this module back. Each
checkpoint gets config.json, model.safetensors and metrics.json (held-out metrics, per-epoch history, training
time, data, seed). A summary table is printed at the end. `python -m explorer.train_diffusion` is the same
command with the denoisers as its default.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
from pathlib import Path
from types import ModuleType

import torch

from .recipes import RECIPES, TRAINERS, trainer_key
from .trainers.common import DEFAULT_OUT


def trainer_for(recipe) -> ModuleType:
    """The trainer module of `recipe` (explorer.recipes.TRAINERS, by trainer_key)."""
    return importlib.import_module(TRAINERS[trainer_key(recipe)])


def build_checkpoint(recipe, out_dir: Path, mnist_idx: str | None = None, progress: bool = True, **options) -> dict:
    """Train, evaluate and save one recipe of any kind with its trainer; returns its metrics. `options` go to
    the trainer (VAEs: resume; denoisers: max_steps, evaluate, per_digit); others ignore them."""
    return trainer_for(recipe).build_checkpoint(recipe, Path(out_dir), mnist_idx=mnist_idx, progress=progress,
                                                **options)


def parse_args(argv: list[str] | None, default_names: list[str] | None = None) -> argparse.Namespace:
    """One command line for every recipe; the denoiser-only flags are ignored for VAEs and the classifier."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="recipes to build (default: all, in dependency order)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="checkpoint folder (default: checkpoints/)")
    parser.add_argument("--mnist-idx", help="folder with full MNIST IDX files (train-images-idx3-ubyte[.gz] ...)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--list", action="store_true", help="list recipes and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="re-measure saved checkpoints (held-out metrics; denoisers: classifier grade), "
                             "no training")
    parser.add_argument("--resume", action="store_true",
                        help="VAEs: run only the fine-tuning stage, from the weights saved in --out")
    denoisers = parser.add_argument_group("denoisers (ldm-mnist, pixel-dm-mnist)")
    denoisers.add_argument("--max-steps", type=int, default=None, help="stop early (smoke tests)")
    denoisers.add_argument("--per-digit", type=int, default=50, help="samples per digit for the classifier grade")
    denoisers.add_argument("--no-eval", action="store_true", help="skip the classifier grade")
    denoisers.add_argument("--epochs", type=int, default=None,
                           help="passes over the training digits instead of the recipe's (a longer budget)")
    denoisers.add_argument("--validate-every", type=int, default=0,
                           help="grade the EMA weights with the classifier every N training steps "
                                "(metrics.json 'validation'; 10 samples per digit)")
    denoisers.add_argument("--device", default="cpu",
                           help="where the denoiser trains: cpu (default) or cuda; the seeded draws stay on the CPU")
    denoisers.add_argument("--snapshot-dir", type=Path, default=None,
                           help="with --validate-every: keep each graded EMA snapshot here (step-NNNNNN/<name>)")
    args = parser.parse_args(argv)
    args.recipes = RECIPES
    args.names = args.names or default_names or list(RECIPES)
    unknown = [n for n in args.names if n not in RECIPES]
    if unknown and not args.list:
        parser.error(f"unknown recipe(s): {', '.join(unknown)}; see --list")
    return args


def build_one(name: str, args: argparse.Namespace) -> str:
    """Build (or, with --evaluate-only, re-measure) one recipe; returns its summary row."""
    recipe = RECIPES[name]
    trainer = trainer_for(recipe)
    options = {"mnist_idx": args.mnist_idx, "per_digit": args.per_digit}
    if args.evaluate_only:
        metrics = trainer.evaluate_checkpoint(args.out, name, **options)
    else:
        if args.epochs and recipe.kind == "denoiser":
            recipe = dataclasses.replace(recipe, epochs=args.epochs)
        metrics = trainer.build_checkpoint(recipe, args.out, progress=not args.quiet, resume=args.resume,
                                           max_steps=args.max_steps, evaluate=not args.no_eval,
                                           validate_every=args.validate_every, snapshot_dir=args.snapshot_dir,
                                           device=args.device,
                                           **options)
    return trainer.summary_row(name, metrics)


def main(argv: list[str] | None = None, default_names: list[str] | None = None) -> int:
    args = parse_args(argv, default_names)
    if args.list:
        for recipe in RECIPES.values():
            print(f"{recipe.name:24s} {recipe.kind:10s} {recipe.description}")
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for name in args.names:
        rows.append(build_one(name, args))
        print(rows[-1], flush=True)
    print("\nSummary (held-out data)\n" + "\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
