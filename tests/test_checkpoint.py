"""Checkpoint round trip, and clear messages for missing or corrupt files."""
import json

import pytest
import torch

from explorer.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from explorer.models import SDVAE, SDVAEConfig


def _tiny():
    torch.manual_seed(0)
    return SDVAE(SDVAEConfig(base_channels=8, norm_groups=4, latent_channels=2)).eval()


def test_round_trip_rebuilds_identical_model(tmp_path):
    model = _tiny()
    save_checkpoint(tmp_path / "m", model, name="m", family="sd_vae", kind="vae", dataset="mnist",
                    metrics={"psnr": 1.0})
    loaded, config, metrics = load_checkpoint(tmp_path / "m")
    assert config["config"]["latent_channels"] == 2 and metrics == {"psnr": 1.0}
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "metrics.json", "model.safetensors"]
    x = torch.rand(2, 1, 28, 28)
    with torch.inference_mode():
        assert torch.equal(model.decode(model.encode(x).mode()), loaded.decode(loaded.encode(x).mode()))


def test_missing_weights_names_the_file(tmp_path):
    save_checkpoint(tmp_path / "m", _tiny(), name="m", family="sd_vae", kind="vae", dataset="mnist")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"missing checkpoint file: .*m/model.safetensors"):
        load_checkpoint(tmp_path / "m")


def test_corrupt_weights_and_json_are_reported(tmp_path):
    save_checkpoint(tmp_path / "m", _tiny(), name="m", family="sd_vae", kind="vae", dataset="mnist")
    (tmp_path / "m" / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="corrupt weights file .*model.safetensors"):
        load_checkpoint(tmp_path / "m")
    (tmp_path / "m" / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt JSON in .*config.json"):
        load_checkpoint(tmp_path / "m")


def test_weights_that_do_not_match_the_config_are_reported(tmp_path):
    save_checkpoint(tmp_path / "m", _tiny(), name="m", family="sd_vae", kind="vae", dataset="mnist")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    config["config"]["latent_channels"] = 3
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    with pytest.raises(CheckpointError, match="does not match"):
        load_checkpoint(tmp_path / "m")
