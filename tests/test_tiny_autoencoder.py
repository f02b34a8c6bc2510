"""The Tiny AutoEncoder family (explorer/models/tiny_autoencoder.py) and the converted TAEF2 checkpoint
(explorer/convert_taef2.py -> checkpoints/taef2): shapes, pickle-free loading, the conversion against the
published files' sha256, and the held-out quality that metrics.json records."""
from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pytest
import torch

from tests.conftest import SHIPPED

TAEF2 = SHIPPED / "taef2"


def tiny_config(**overrides):
    from explorer.models.tiny_autoencoder import TinyAutoencoderConfig

    return TinyAutoencoderConfig(**{"latent_channels": 4, "width": 8, "factor": 4, "blocks_per_stage": 1,
                                    "norm_groups": 2, **overrides})


def test_random_init_tiny_model_shapes_and_deterministic_posterior():
    from explorer.models import build_model
    from explorer.models.tiny_autoencoder import TinyAutoencoder

    torch.manual_seed(0)
    config = tiny_config()
    model = TinyAutoencoder(config).eval()
    assert model.downsampling_factor == 4
    with torch.no_grad():
        for h, w in ((32, 32), (24, 40), (30, 21)):  # odd sides: each stride-2 conv rounds up
            posterior = model.encode(torch.rand(2, 3, h, w))
            assert tuple(posterior.mean.shape[1:]) == config.latent_shape((3, h, w))
            assert torch.count_nonzero(posterior.std) == 0  # deterministic: a point mass
            assert torch.equal(posterior.sample(torch.Generator().manual_seed(1)), posterior.mode())
            assert torch.equal(posterior.kl(), torch.zeros(2))
        image = model.decode(posterior.mode())
        assert image.shape == (2, 3, 4 * posterior.mean.shape[2], 4 * posterior.mean.shape[3])
    assert config.latent_shape((3, 512, 512)) == (4, 128, 128)
    assert tiny_config(factor=8, latent_channels=32).latent_shape((3, 512, 512)) == (32, 64, 64)
    with pytest.raises(ValueError, match="power of two"):
        tiny_config(factor=6)
    # the registry rebuilds it from a config dict, as load_checkpoint does
    assert isinstance(build_model("tiny_autoencoder", {"latent_channels": 4, "width": 8}), TinyAutoencoder)


def test_module_keys_match_the_published_layout():
    """Keys of our own module equal the TAESD layout the .pth files use (checked here without reading them)."""
    from safetensors import safe_open

    from explorer.models.tiny_autoencoder import TinyAutoencoder, TinyAutoencoderConfig

    model_keys = set(TinyAutoencoder(TinyAutoencoderConfig()).state_dict())
    with safe_open(str(TAEF2 / "model.safetensors"), "pt") as handle:
        assert set(handle.keys()) == model_keys
    assert "encoder.11.pool.1.weight" in model_keys and "decoder.3.pool.3.weight" in model_keys  # mid-block norms
    assert "encoder.1.pool.0.weight" not in model_keys and "decoder.18.conv.4.bias" in model_keys


def test_converted_checkpoint_loads_without_any_pickle(monkeypatch):
    from explorer.service import ModelService

    def refuse(*args, **kwargs):
        raise AssertionError("a pickle was opened")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    service = ModelService(SHIPPED, device="cpu")
    loaded = service.get("taef2")
    assert type(loaded.model).__name__ == "TinyAutoencoder"
    config = service.config("taef2")
    assert config["family"] == "tiny_autoencoder" and config["licence"] == "MIT"
    assert "Ollin Boer Bohan" in config["author"] and config["source"]["commit"] == "5cccb12"
    assert (TAEF2 / "LICENSE").read_text().startswith("MIT License")
    entry = next(m for m in service.models() if m["name"] == "taef2")
    assert entry["latent_shape"] == [32, 64, 64] and entry["factor"] == 8 and entry["input_shape"] == [3, 512, 512]


def test_a_512_photo_gives_a_32x64x64_latent_and_the_metrics_json_figures(shipped_service):
    """Through ModelService: astronaut 512x512 -> 32x64x64 -> back, PSNR above 30 dB and equal to the figure
    metrics.json records (which explorer.evaluation reproduces)."""
    from explorer import data
    from explorer.metrics import psnr

    photo = data.load_photo("astronaut")
    x = np.ascontiguousarray(photo.transpose(2, 0, 1))[None]
    out = shipped_service.encode("taef2", x)
    assert out["z"].shape == (1, 32, 64, 64) and not out["std"].any()
    recon = shipped_service.decode("taef2", out["z"])[0].transpose(1, 2, 0)
    value = psnr(photo, recon)
    recorded = json.loads((TAEF2 / "metrics.json").read_text())["per_photo"]["astronaut"]["psnr"]
    assert value > 30.0
    assert value == pytest.approx(recorded, abs=0.05)


@pytest.fixture(scope="module")
def taef2_source():
    from explorer.convert_taef2 import find_source

    source = find_source()
    if source is None:
        pytest.skip("the TAEF2 source weights (../shared/third_party/taef2) are not on this machine")
    return source


def test_conversion_matches_the_source_files_sha256(taef2_source, tmp_path):
    from safetensors.torch import load_file

    from explorer.convert_taef2 import SOURCE_FILES, ConversionError, convert, sha256_of

    record = json.loads((TAEF2 / "config.json").read_text())
    for file_name, expected in SOURCE_FILES.values():
        assert sha256_of(taef2_source / file_name) == expected == record["source"]["files"][file_name]["sha256"]
    convert(taef2_source, tmp_path / "taef2", evaluate=False)
    fresh, shipped = load_file(str(tmp_path / "taef2" / "model.safetensors")), load_file(str(TAEF2 / "model.safetensors"))
    assert fresh.keys() == shipped.keys()
    assert all(torch.equal(fresh[k], shipped[k]) for k in fresh)  # the committed weights are the published ones
    assert json.loads((tmp_path / "taef2" / "config.json").read_text()) == record

    altered = tmp_path / "altered"
    shutil.copytree(taef2_source, altered)
    with open(altered / "taef2_decoder.pth", "r+b") as handle:
        handle.seek(-1, 2)
        last = handle.read(1)
        handle.seek(-1, 2)
        handle.write(bytes([last[0] ^ 1]))
    with pytest.raises(ConversionError, match="taef2_decoder.pth has sha256"):
        convert(altered, tmp_path / "never", evaluate=False)
    assert not (tmp_path / "never").exists()
