"""The GPU path on a ZeroGPU Space, with a stand-in for `spaces.GPU` that forks and pickles like ZeroGPU:
heavy work (photos, sampling) goes to a worker and comes back identical to a CPU run; cheap work (digits,
slider decoding) never does; errors keep their type and message; a model lock held in the parent when the
worker forks does not deadlock it. Without ZeroGPU, heavy work runs in place."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

from explorer import gpu
from explorer.generation import generate, validate_request
from explorer.messages import Refusal
from explorer.reconstruction import reconstruct
from explorer.service import ModelService
from tests.e2e_support import held_out
from tests.zero_gpu_stand_in import StandInGPU

PHOTO_VAE = "sd-vae-photos-f8c4"
DIGIT_VAE = "sd-vae-mnist-c4"


def where(service) -> tuple[int, bool, str]:
    """A heavy task that reports where it ran."""
    return os.getpid(), service.accelerated, str(service.device)


def fail_with(service, message: str) -> None:
    raise Refusal("img.unreadable", detail=message)


def use_model(service, name: str) -> float:
    return float(service.decode(name, np.zeros((1, 4, 7, 7), np.float32)).mean())


@pytest.fixture()
def zero_gpu():
    stand_in = StandInGPU()
    gpu.install(stand_in.GPU)
    yield stand_in
    gpu.uninstall()


def in_place(stand_in: StandInGPU, fn):
    """fn() with ZeroGPU switched off for a moment: the CPU reference a GPU result must match."""
    gpu.uninstall()
    try:
        return fn()
    finally:
        gpu.install(stand_in.GPU)


@pytest.fixture()
def gpu_service(zero_gpu, shipped_service):
    """The shipped models as a ZeroGPU Space would serve them; "cpu" stands in for the worker's CUDA."""
    assert zero_gpu is not None
    return ModelService(shipped_service.checkpoint_dir, accelerator="cpu")


@pytest.mark.parametrize("value, expected", [("true", True), ("1", True), ("T", True), ("false", False),
                                             ("0", False), ("", False)])
def test_zero_gpu_is_read_like_the_spaces_package(monkeypatch, value, expected):
    monkeypatch.setenv(gpu.ZERO_GPU_ENV, value)
    assert gpu.zero_gpu_requested() is expected


def test_without_zero_gpu_heavy_work_runs_in_place(shipped_service):
    assert not gpu.zero_gpu_active()
    pid, accelerated, device = shipped_service.heavy(where)
    assert (pid, accelerated, device) == (os.getpid(), False, "cpu")


def test_service_on_zero_gpu_keeps_models_on_the_cpu_and_targets_cuda(zero_gpu, tiny_checkpoint_dir):
    service = ModelService(tiny_checkpoint_dir)  # on ZeroGPU, "auto" must not put models on the (patched) CUDA
    assert service.base_device == torch.device("cpu") and service.accelerator == torch.device("cuda")
    assert service.device == torch.device("cpu")
    assert service.describe("tiny-sd-mnist")["accelerator"] == "cuda"


def test_heavy_work_runs_in_a_forked_worker_on_the_accelerator(zero_gpu, gpu_service):
    pid, accelerated, _ = gpu_service.heavy(where, seconds=7)
    assert pid != os.getpid() and accelerated
    assert zero_gpu.calls == [{"task": "_run_registered", "seconds": 7, "pid": pid}]
    assert not gpu_service.accelerated  # the parent's calls stay on the base device


def test_photo_reconstruction_goes_to_the_gpu_and_matches_the_cpu(zero_gpu, gpu_service, shipped_service):
    from explorer.data import load_photo, photo_names

    photo = load_photo(photo_names("test")[0])[:64, :64]
    on_gpu = reconstruct(gpu_service, PHOTO_VAE, photo)
    assert len(zero_gpu.calls) == 1 and zero_gpu.calls[0]["seconds"] > 0
    on_cpu = in_place(zero_gpu, lambda: reconstruct(shipped_service, PHOTO_VAE, photo))
    assert len(zero_gpu.calls) == 1
    np.testing.assert_array_equal(on_gpu.reconstruction, on_cpu.reconstruction)
    assert on_gpu.metrics == on_cpu.metrics


def test_cheap_work_stays_on_the_cpu(zero_gpu, gpu_service):
    from explorer.latent_map import LatentMapExplorer

    reconstruct(gpu_service, DIGIT_VAE, held_out().images[0])
    LatentMapExplorer(gpu_service).interpolate(DIGIT_VAE, 0, 1, 0.5, "slerp")
    assert zero_gpu.calls == []


def test_sampling_goes_to_the_gpu_and_matches_the_cpu(zero_gpu, gpu_service, shipped_service):
    request = validate_request(3, 11, 4, "ddim", 3.0, "latent")
    on_gpu = generate(gpu_service, request)
    assert [c["task"] for c in zero_gpu.calls] == ["_run_registered"]
    on_cpu = in_place(zero_gpu, lambda: generate(shipped_service, request))
    assert len(zero_gpu.calls) == 1
    np.testing.assert_array_equal(on_gpu.final, on_cpu.final)
    np.testing.assert_array_equal(on_gpu.x0_images, on_cpu.x0_images)
    assert len(on_gpu.step_seconds) == 4  # per-step timings measured in the worker come back too


def test_latent_and_pixel_runs_share_one_gpu_borrow(zero_gpu, gpu_service):
    """The Denoising tab runs the same request in both spaces; on ZeroGPU that is one GPU call, not two
    (heavy work nested in heavy work runs where it is)."""
    from explorer.generation import generate_all

    requests = [validate_request(5, 2, 3, "ddpm", 2.0, space) for space in ("latent", "pixel")]
    latent, pixel = generate_all(gpu_service, requests)
    assert len(zero_gpu.calls) == 1
    assert (latent.request.space, pixel.request.space) == ("latent", "pixel")
    assert latent.final.shape == pixel.final.shape == (1, 1, 28, 28)


def test_errors_come_back_with_their_type_and_message(zero_gpu, gpu_service):
    with pytest.raises(Refusal, match="a clear message"):
        gpu_service.heavy(fail_with, "a clear message")


def test_locks_held_in_the_parent_do_not_deadlock_the_worker(zero_gpu, gpu_service):
    """ZeroGPU forks while other users' threads may be loading a model (the loader's load lock) or
    running one (its model lock); the worker's copies of those locks must not stay locked forever."""
    zero_gpu.timeout_s = 30
    loaded = gpu_service.get(DIGIT_VAE)
    holding, release = threading.Event(), threading.Event()

    def hold_the_locks():
        with gpu_service.loader._load_lock, loaded.lock:
            holding.set()
            release.wait(60)

    holder = threading.Thread(target=hold_the_locks, daemon=True)
    holder.start()
    assert holding.wait(30), "the helper thread never took the locks"
    assert gpu_service.loader._load_lock.locked() and loaded.lock.locked()
    try:
        assert np.isfinite(gpu_service.heavy(use_model, DIGIT_VAE))  # forked while both locks are held
    finally:
        release.set()
        holder.join(10)


def test_zero_gpu_without_the_spaces_package_warns_and_runs_on_the_cpu():
    code = ("import sys; sys.modules['spaces'] = None\n"  # importing it now raises ImportError
            "import explorer.gpu as g; print('active', g.zero_gpu_active())")
    env = {**os.environ, gpu.ZERO_GPU_ENV: "true"}
    done = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, env=env,
                          timeout=120, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 0, done.stderr
    assert "active False" in done.stdout
    assert "spaces` package is missing" in done.stderr


def test_the_app_sends_photos_and_sampling_to_the_gpu_and_sliders_stay_on_the_cpu(zero_gpu, gpu_service, tmp_path):
    """Through the real server: /reconstruct of a photo and /generate each take one GPU call; a digit and
    /interpolate take none; a bad upload still gets its usual message."""
    from gradio_client import Client, handle_file
    from PIL import Image

    from explorer.data import load_photo, photo_names
    from explorer.ui.app import build_demo, launch_kwargs
    from tests.conftest import free_port
    from tests.e2e_support import write_digit

    photo_file = tmp_path / "photo.png"
    Image.fromarray((load_photo(photo_names("test")[0])[:96, :96] * 255).astype(np.uint8)).save(photo_file)
    corrupt_file = tmp_path / "corrupt.png"
    corrupt_file.write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
    demo = build_demo(gpu_service)
    demo.queue(default_concurrency_limit=2, max_size=16)
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, server_name="127.0.0.1", server_port=free_port(),
                            **launch_kwargs())
    try:
        client = Client(url, verbose=False)
        client.predict(handle_file(str(write_digit(tmp_path, 0))), DIGIT_VAE, api_name="/reconstruct")
        client.predict(0, 1, 0.5, "slerp", DIGIT_VAE, api_name="/interpolate")
        assert zero_gpu.calls == []
        _, payload = client.predict(handle_file(str(photo_file)), PHOTO_VAE, api_name="/reconstruct")
        assert payload["model"] == PHOTO_VAE and len(zero_gpu.calls) == 1
        client.predict(7, 1, 4, "ddim", 3.0, "latent", api_name="/generate")
        assert len(zero_gpu.calls) == 2
        with pytest.raises(Exception, match="(?i)image"):
            client.predict(handle_file(str(corrupt_file)), PHOTO_VAE, api_name="/reconstruct")
        client.close()
    finally:
        demo.close()
