"""ModelService: device choice, load-once, thread safety, clear errors."""
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from explorer.service import ModelService, UnknownModelError, choose_device


def test_device_choice(monkeypatch):
    monkeypatch.delenv("EXPLORER_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert choose_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert choose_device("auto") == torch.device("cuda")  # CUDA first when present
    monkeypatch.setenv("EXPLORER_DEVICE", "cpu")
    assert choose_device() == torch.device("cpu")  # the environment variable overrides auto
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        choose_device("cuda")
    with pytest.raises(ValueError, match="unknown device|unsupported device"):
        choose_device("tpu")


def test_unknown_model_lists_known_ones(tiny_service):
    with pytest.raises(UnknownModelError, match="known models: .*tiny-sd-mnist"):
        tiny_service.get("nope")
    with pytest.raises(UnknownModelError, match="not a VAE"):
        tiny_service.decode("tiny-classifier", np.zeros((1, 4, 7, 7), np.float32))


def test_each_checkpoint_loads_once_under_concurrent_first_use(tiny_checkpoint_dir):
    service = ModelService(tiny_checkpoint_dir, device="cpu")
    barrier = threading.Barrier(8)

    def first_use(_):
        barrier.wait()
        return service.get("tiny-sd-mnist")

    with ThreadPoolExecutor(8) as pool:
        models = list(pool.map(first_use, range(8)))
    assert service.load_count == {"tiny-sd-mnist": 1}
    assert all(m is models[0] for m in models)


def test_concurrent_callers_each_get_their_own_answer(tiny_service):
    rng = np.random.default_rng(0)
    inputs = [rng.random((1, 1, 28, 28), dtype=np.float32) for _ in range(12)]
    expected = [tiny_service.decode("tiny-sd-mnist", tiny_service.encode("tiny-sd-mnist", x)["z"]) for x in inputs]

    def work(i):
        z = tiny_service.encode("tiny-sd-mnist", inputs[i])["z"]
        return i, tiny_service.decode("tiny-sd-mnist", z)

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(work, list(range(12)) * 3))
    for i, image in results:
        np.testing.assert_allclose(image, expected[i], atol=1e-5)


def test_encode_decode_shapes_and_sampling_seed(tiny_service):
    x = np.random.default_rng(1).random((2, 1, 28, 28), dtype=np.float32)
    mean_only = tiny_service.encode("tiny-sd-mnist", x)
    assert mean_only["z"].shape == (2, 4, 7, 7) and np.array_equal(mean_only["z"], mean_only["mean"])
    a = tiny_service.encode("tiny-sd-mnist", x, sample=True, seed=3)["z"]
    b = tiny_service.encode("tiny-sd-mnist", x, sample=True, seed=3)["z"]
    c = tiny_service.encode("tiny-sd-mnist", x, sample=True, seed=4)["z"]
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    images = tiny_service.decode("tiny-sd-mnist", a)
    assert images.shape == (2, 1, 28, 28) and images.min() >= 0 and images.max() <= 1


def test_models_listing_describes_each_checkpoint(tiny_service):
    entries = {m["name"]: m for m in tiny_service.models()}
    assert entries["tiny-sd-mnist"]["latent_shape"] == [4, 7, 7]
    assert entries["tiny-chapter"]["latent_shape"] == [4, 4, 4]
    assert entries["tiny-2d"]["latent_shape"] == [2]
    assert entries["tiny-photos"]["latent_shape"] == [4, 64, 64] and entries["tiny-photos"]["dataset"] == "photos"
    assert entries["tiny-sd-mnist"]["params"] > 0


def test_broken_checkpoint_is_reported_not_fatal(tmp_path, tiny_checkpoint_dir):
    import shutil

    shutil.copytree(tiny_checkpoint_dir / "tiny-sd-mnist", tmp_path / "broken")
    (tmp_path / "broken" / "model.safetensors").write_bytes(b"junk")
    service = ModelService(tmp_path, device="cpu")
    service.warm_up()  # must not raise
    with pytest.raises(Exception, match="corrupt weights file .*broken/model.safetensors"):
        service.get("tiny-sd-mnist")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_service_runs_on_cuda_when_present(tiny_checkpoint_dir):
    service = ModelService(tiny_checkpoint_dir, device="auto")
    assert service.device.type == "cuda"
    loaded = service.get("tiny-sd-mnist")
    assert next(loaded.model.parameters()).is_cuda
    x = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
    images = service.decode("tiny-sd-mnist", service.encode("tiny-sd-mnist", x)["z"])
    assert images.shape == (2, 1, 28, 28)  # results come back to the CPU as numpy


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine")
def test_heavy_work_uses_the_cuda_accelerator_and_cheap_work_the_cpu(tiny_checkpoint_dir):
    """The ZeroGPU split on a real GPU: models live on the CPU, heavy work runs on a CUDA copy."""
    service = ModelService(tiny_checkpoint_dir, device="cpu", accelerator="cuda")
    x = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
    on_cpu = service.encode("tiny-sd-mnist", x)["z"]
    on_gpu = service.heavy(lambda s: (s.device.type, s.encode("tiny-sd-mnist", x)["z"]))
    assert on_gpu[0] == "cuda"
    assert next(service.get("tiny-sd-mnist").model.parameters()).device.type == "cpu"
    np.testing.assert_allclose(on_gpu[1], on_cpu, atol=1e-4)
