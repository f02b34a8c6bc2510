"""The learning-rate schedule every trainer here uses: linear warm-up, then one cosine decay to zero."""
from __future__ import annotations

import math

import torch


def set_cosine_lr(optimizer: torch.optim.Optimizer, base_lr: float, step: int, total: int, warmup: int) -> None:
    """Set the learning rate for `step` of `total`: base_lr * min(1, (step + 1) / warmup) * cosine decay."""
    lr = base_lr * min(1.0, (step + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(step / max(total, 1), 1.0)))
    for group in optimizer.param_groups:
        group["lr"] = lr
