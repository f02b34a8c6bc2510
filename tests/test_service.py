"""ModelService: device choice, load-once, thread safety, clear errors."""
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch

from explorer.checkpoint import CheckpointError
from explorer.messages import Refusal, word
from explorer.service import ModelService, choose_device


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
    with pytest.raises(Refusal, match="^unknown device 'tpu'; use auto, cpu, cuda or mps$"):
        choose_device("tpu")
    with pytest.raises(Refusal, match="^unsupported device 'xla'; use auto, cpu, cuda or mps$"):
        choose_device("xla")


def test_unknown_model_lists_known_ones(tiny_service):
    known = "tiny-sd-mnist, tiny-chapter, tiny-2d, tiny-photos, tiny-classifier"
    with pytest.raises(Refusal) as unknown:
        tiny_service.get("nope")
    assert unknown.value.code == "model.unknown"
    assert sorted(str(unknown.value).split("known models: ")[1].split(", ")) == sorted(known.split(", "))
    assert str(unknown.value).startswith("unknown model 'nope'; known models: ")
    assert word(unknown.value, "zh").startswith("未知模型 'nope'；已知模型：")
    with pytest.raises(Refusal) as wrong_kind:
        tiny_service.decode("tiny-classifier", np.zeros((1, 4, 7, 7), np.float32))
    assert wrong_kind.value.code == "model.wrong_kind"
    assert str(wrong_kind.value).startswith("'tiny-classifier' is a classifier, not a vae; vaes: ")
    for query in (tiny_service.config, tiny_service.metrics, tiny_service.vae_shapes, tiny_service.describe):
        with pytest.raises(Refusal, match="unknown model 'nope'"):
            query("nope")
    with pytest.raises(Refusal, match="is a classifier, not a vae"):
        tiny_service.vae_shapes("tiny-classifier")


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
    assert list(entries) == ["tiny-2d", "tiny-chapter", "tiny-classifier", "tiny-photos", "tiny-sd-mnist"]
    shape_keys = ("input_shape", "latent_shape", "factor", "pad_to")
    assert {k: entries["tiny-sd-mnist"].get(k) for k in shape_keys} == {
        "input_shape": [1, 28, 28], "latent_shape": [4, 7, 7], "factor": 4, "pad_to": None}
    assert {k: entries["tiny-chapter"].get(k) for k in shape_keys} == {
        "input_shape": [1, 32, 32], "latent_shape": [4, 4, 4], "factor": 8, "pad_to": 32}
    assert {k: entries["tiny-photos"].get(k) for k in shape_keys} == {
        "input_shape": [3, 512, 512], "latent_shape": [4, 64, 64], "factor": 8, "pad_to": None}
    assert tiny_service.vae_shapes("tiny-2d") == {"input_shape": [1, 28, 28], "latent_shape": [2]}  # no grid
    assert "latent_shape" not in entries["tiny-classifier"] and entries["tiny-classifier"]["kind"] == "classifier"
    model = tiny_service.get("tiny-sd-mnist").model
    assert entries["tiny-sd-mnist"]["params"] == sum(p.numel() for p in model.parameters())
    assert entries["tiny-sd-mnist"]["metrics"] == {"untrained": True, "params": entries["tiny-sd-mnist"]["params"]}
    assert entries["tiny-sd-mnist"]["device"] == "cpu" and entries["tiny-sd-mnist"]["accelerator"] is None


def test_the_catalogue_reads_geometry_from_the_families_without_loading(tiny_checkpoint_dir):
    """vae_shapes come from each family's config dataclass (factor, latent_shape), not from loaded weights."""
    service = ModelService(tiny_checkpoint_dir, device="cpu")
    shapes = {name: service.vae_shapes(name) for name in service.names("vae")}
    assert service.load_count == {}
    for name, expected in shapes.items():
        x = np.zeros((1, *expected["input_shape"]), np.float32)
        assert list(service.encode(name, x)["z"].shape[1:]) == expected["latent_shape"], name


def test_roles_name_checkpoints_that_ship(shipped_service):
    from explorer import roles

    assert roles.present(shipped_service) == roles.ROLES
    assert shipped_service.config(roles.LATENT_DENOISER)["vae"] == roles.LATENT_DENOISER_VAE
    assert shipped_service.config(roles.PHOTO_VAE)["dataset"] == "photos"
    assert shipped_service.config(roles.CLASSIFIER)["kind"] == "classifier"


def test_broken_checkpoint_is_reported_not_fatal(tmp_path, tiny_checkpoint_dir):
    import shutil

    shutil.copytree(tiny_checkpoint_dir / "tiny-sd-mnist", tmp_path / "broken")
    (tmp_path / "broken" / "model.safetensors").write_bytes(b"junk")
    service = ModelService(tmp_path, device="cpu")
    service.warm_up()  # must not raise
    with pytest.raises(CheckpointError, match="corrupt weights file .*broken/model.safetensors"):
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
