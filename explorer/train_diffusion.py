"""`python -m explorer.train_diffusion`: the training command line with the two denoisers as its default recipes
(the same command as `python -m explorer.train ldm-mnist pixel-dm-mnist`, same flags):

    python -m explorer.train_diffusion                    # both: ldm-mnist, then pixel-dm-mnist
    python -m explorer.train_diffusion ldm-mnist          # latent diffusion on sd-vae-mnist-c4 latents
    python -m explorer.train_diffusion --evaluate-only    # re-grade saved checkpoints, update metrics.json

The trainer itself lives in explorer/trainers/diffusion.py; its public names are re-exported here for scripts
that import them from this module (benchmarks/bench_train_step.py, tests).
"""
from __future__ import annotations

import sys

from .recipes import DIFFUSION_RECIPES
from .train import main as train_main
from .trainers.diffusion import (NULL_LABEL, RECIPES, build_checkpoint, diffusion_loss, encode_latents,  # noqa: F401
                                 grade_checkpoint, schedule_for, summary_row, train_denoiser, training_data)


def main(argv: list[str] | None = None) -> int:
    return train_main(argv, default_names=list(DIFFUSION_RECIPES))


if __name__ == "__main__":
    sys.exit(main())
