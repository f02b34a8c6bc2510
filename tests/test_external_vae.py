"""--vae: a diffusers AutoencoderKL from a local folder, tested offline with a tiny random one."""
import json

import numpy as np
import pytest

import diffusers  # a requirement (requirements.txt), not optional


@pytest.fixture(scope="module")
def tiny_autoencoder_dir(tmp_path_factory):
    import torch

    torch.manual_seed(0)
    vae = diffusers.AutoencoderKL(block_out_channels=(8, 8, 8, 8), down_block_types=("DownEncoderBlock2D",) * 4,
                                  up_block_types=("UpDecoderBlock2D",) * 4, latent_channels=4, norm_num_groups=4,
                                  layers_per_block=1, sample_size=64)
    folder = tmp_path_factory.mktemp("tiny-sd-vae")
    vae.save_pretrained(folder)  # config.json + diffusion_pytorch_model.safetensors
    return folder


def test_local_autoencoder_is_served_like_a_shipped_vae(tiny_autoencoder_dir, tiny_checkpoint_dir):
    from explorer.service import ModelService

    service = ModelService(tiny_checkpoint_dir, device="cpu")
    name = service.add_external_vae(str(tiny_autoencoder_dir))
    assert name in service.names("vae", dataset="photos")
    entry = next(m for m in service.models() if m["name"] == name)
    assert entry["latent_shape"] == [4, 64, 64] and entry["factor"] == 8 and entry["external"] is True
    assert entry["input_shape"] == [3, 512, 512] and entry["family"] == "diffusers_autoencoderkl"
    assert entry["metrics"] == {"params": entry["params"], "measured": False}
    assert service.add_external_vae(str(tiny_autoencoder_dir)) == name + "'"  # a second copy gets a new name

    photo = np.random.default_rng(0).random((1, 3, 512, 512), dtype=np.float32)
    z = service.encode(name, photo)["z"]
    assert z.shape == (1, 4, 64, 64) and photo.size / z.size == 48.0  # the real 48x
    assert service.decode(name, z).shape == (1, 3, 512, 512)

    metrics = service.measure_external(name)
    assert metrics["untrained"] is True and metrics["psnr"] < 15  # random weights are labelled as such
    assert "UNTRAINED" in service.config(name)["description"]
    assert service.metrics(name)["measured"] is True and service.metrics(name)["latent_shape"] == [4, 64, 64]


def test_folder_that_is_not_a_vae_gives_a_clear_message(tmp_path):
    from explorer.external_vae import load_autoencoder_kl
    from explorer.messages import Refusal, word

    (tmp_path / "config.json").write_text(json.dumps({"_class_name": "UNet2DModel"}))
    with pytest.raises(Refusal) as not_vae:
        load_autoencoder_kl(str(tmp_path))
    assert not_vae.value.code == "external.not_autoencoder"
    assert str(not_vae.value) == f"{tmp_path / 'config.json'} describes UNet2DModel, not an AutoencoderKL or AutoencoderTiny VAE"
    assert word(not_vae.value, "zh") == f"{tmp_path / 'config.json'} 描述的是 UNet2DModel，不是 AutoencoderKL 或 AutoencoderTiny VAE"
    (tmp_path / "config.json").write_text(json.dumps({}))
    with pytest.raises(Refusal, match="describes no diffusers model, not an AutoencoderKL or AutoencoderTiny VAE"):
        load_autoencoder_kl(str(tmp_path))
    (tmp_path / "config.json").write_text("{ not json")
    with pytest.raises(Refusal, match="^corrupt JSON in .*config.json"):
        load_autoencoder_kl(str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"_class_name": "AutoencoderKL"}))
    with pytest.raises(Refusal, match="has no .safetensors weights"):
        load_autoencoder_kl(str(tmp_path))
    with pytest.raises(Refusal, match=f"^{tmp_path.parent} has no config.json: not a diffusers VAE folder$"):
        load_autoencoder_kl(str(tmp_path.parent))
    with pytest.raises(Refusal, match="^/no/such/folder is neither an existing folder nor a hub id"):
        load_autoencoder_kl("/no/such/folder")
    (tmp_path / "weights.bin").write_bytes(b"x")
    with pytest.raises(Refusal, match="is a file; give the folder"):
        load_autoencoder_kl(str(tmp_path / "weights.bin"))


def test_hub_id_offline_is_reported_and_the_app_still_starts(monkeypatch, tiny_checkpoint_dir, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import app

    args = app.parse_args(["--checkpoints", str(tiny_checkpoint_dir), "--device", "cpu",
                           "--vae", "stabilityai/sd-vae-ft-mse", "--vae", "/no/such/folder"])
    service, demo = app.build(args)
    err = capsys.readouterr().err
    assert "stabilityai/sd-vae-ft-mse" in err and "starting without it" in err
    assert not any(n.startswith("ext:") for n in service.names())
    assert demo is not None


# ---- AutoencoderTiny (the TAESD family), same path and checks -------------------------------------------------
@pytest.fixture(scope="module")
def tiny_taesd_dir(tmp_path_factory):
    import torch

    torch.manual_seed(0)
    vae = diffusers.AutoencoderTiny(encoder_block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                                    num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1),
                                    latent_channels=4)
    folder = tmp_path_factory.mktemp("tiny-taesd")
    vae.save_pretrained(folder / "vae")  # a pipeline-style folder: the VAE in vae/
    return folder


def test_local_autoencoder_tiny_is_served_like_a_shipped_vae(tiny_taesd_dir, tiny_checkpoint_dir):
    from explorer.service import ModelService

    service = ModelService(tiny_checkpoint_dir, device="cpu")
    name = service.add_external_vae(str(tiny_taesd_dir))
    assert name in service.names("vae", dataset="photos")
    entry = next(m for m in service.models() if m["name"] == name)
    assert entry["latent_shape"] == [4, 64, 64] and entry["factor"] == 8 and entry["external"]
    assert "AutoencoderTiny" in entry["description"]

    photo = np.random.default_rng(0).random((1, 3, 512, 512), dtype=np.float32)
    out = service.encode(name, photo, sample=True, seed=3)
    assert out["z"].shape == (1, 4, 64, 64) and photo.size / out["z"].size == 48.0
    assert not out["std"].any() and np.array_equal(out["z"], out["mean"])  # deterministic: std 0
    assert service.decode(name, out["z"]).shape == (1, 3, 512, 512)

    metrics = service.measure_external(name)
    assert metrics["untrained"] is True and metrics["psnr"] < 15  # random weights are labelled as such
    assert "UNTRAINED" in service.config(name)["description"]


def test_autoencoder_tiny_folder_without_safetensors_or_with_another_class_is_refused(tiny_taesd_dir, tmp_path):
    import shutil

    from explorer.external_vae import load_autoencoder_kl
    from explorer.messages import Refusal

    pickled = tmp_path / "pickled"
    shutil.copytree(tiny_taesd_dir / "vae", pickled)
    for weights in pickled.glob("*.safetensors"):
        weights.unlink()
    with pytest.raises(Refusal, match="no .safetensors weights"):
        load_autoencoder_kl(str(pickled))
    config = json.loads((tiny_taesd_dir / "vae" / "config.json").read_text())
    assert config["_class_name"] == "AutoencoderTiny"
    (pickled / "config.json").write_text(json.dumps({**config, "_class_name": "UNet2DModel"}))
    with pytest.raises(Refusal, match="UNet2DModel, not an AutoencoderKL or AutoencoderTiny"):
        load_autoencoder_kl(str(pickled))
