"""A small CNN digit classifier, used only to grade generated digits (does it look like the request?)."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class ClassifierConfig:
    num_classes: int = 10
    width: int = 32

    factor = 1  # not an autoencoder: no spatial downsampling to report

    def latent_shape(self, input_shape: tuple[int, int, int] | None = None) -> tuple[int]:
        """What the network maps an image to: (num_classes,) logits."""
        return (self.num_classes,)


class DigitClassifier(nn.Module):
    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        w = config.width
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3, padding=1), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 4 * w, 3, padding=1), nn.BatchNorm2d(4 * w), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(4 * w, config.num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (B, 1, 28, 28) in [0, 1] -> logits (B, num_classes)."""
        return self.net(x)
