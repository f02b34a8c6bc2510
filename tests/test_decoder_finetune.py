"""The decoder fine-tune (explorer/trainers/decoder.py): the encoder and scale_factor stay the parent's, only the
decoder learns; a latent denoiser adopts the new decoder only when the encoders are identical."""
import json
import shutil
from dataclasses import replace

import pytest
import torch

from explorer import roles
from explorer.checkpoint import CheckpointError, load_checkpoint, read_json, update_config
from explorer.models import build_model
from explorer.recipes import RECIPES
from explorer.train import trainer_for
from explorer.trainers import decoder


def _tiny_recipe(**changes):
    return replace(RECIPES[roles.LATENT_DENOISER_VAE], name="tiny-ft", epochs=1, batch_size=256,
                   extra={"decoder_of": "tiny-sd-mnist", "latent_noise": 0.3}, **changes)


def test_the_shipped_recipe_fine_tunes_the_digit_vae_with_l1_and_noise():
    recipe = RECIPES[roles.LATENT_DENOISER_VAE]
    assert trainer_for(recipe) is decoder and recipe.kind == "vae"
    assert recipe.extra["decoder_of"] == roles.DIGIT_VAE and recipe.config["recon_loss"] == "l1"
    names = list(RECIPES)  # built after its parent, before the denoiser that decodes with it
    assert names.index(roles.DIGIT_VAE) < names.index(recipe.name) < names.index(roles.LATENT_DENOISER)
    assert RECIPES[roles.LATENT_DENOISER].vae == recipe.name


def test_l1_loss_is_the_summed_absolute_error_and_images_map_like_mse():
    model = build_model("sd_vae", {"base_channels": 8, "norm_groups": 4, "recon_loss": "l1"})
    raw, x = torch.zeros(2, 1, 4, 4), torch.full((2, 1, 4, 4), 0.75)
    assert torch.allclose(model.reconstruction_loss(raw, x), torch.full((2,), 16 * 0.5))
    assert torch.allclose(model.raw_to_image(raw), torch.full_like(raw, 0.5))


def test_fine_tune_keeps_encoder_and_scale_factor_and_changes_the_decoder(tiny_checkpoint_dir, tmp_path,
                                                                         few_digits):
    shutil.copytree(tiny_checkpoint_dir / "tiny-sd-mnist", tmp_path / "tiny-sd-mnist")
    parent, parent_config, _ = load_checkpoint(tmp_path / "tiny-sd-mnist")
    metrics = decoder.build_checkpoint(_tiny_recipe(), tmp_path, progress=False)
    model, config, saved = load_checkpoint(tmp_path / "tiny-ft")
    assert decoder.same_encoder(tmp_path / "tiny-sd-mnist", tmp_path / "tiny-ft")
    assert config["config"]["scale_factor"] == parent_config["config"]["scale_factor"]
    assert config["config"]["recon_loss"] == "l1" and config["kind"] == "vae"
    changed = [k for k, v in model.decoder.state_dict().items()
               if v.is_floating_point() and not torch.equal(v, parent.decoder.state_dict()[k])]
    assert changed, "the decoder did not train"
    assert saved["decoder_of"] == "tiny-sd-mnist" and saved["latent_noise"] == 0.3 and metrics["epochs"] == 1
    assert 0 < saved["psnr"] < 60 and saved["history"][0]["reconstruction"] > 0


def test_fine_tune_without_its_parent_says_which_to_train_first(tmp_path):
    with pytest.raises(CheckpointError, match="train tiny-sd-mnist into"):
        decoder.build_checkpoint(_tiny_recipe(), tmp_path, progress=False)


def test_a_denoiser_adopts_a_decoder_only_over_the_same_encoder(tiny_checkpoint_dir, tmp_path):
    for name in ("tiny-sd-mnist", "tiny-chapter"):
        shutil.copytree(tiny_checkpoint_dir / name, tmp_path / name)
    shutil.copytree(tmp_path / "tiny-sd-mnist", tmp_path / "tiny-twin")  # same encoder, same scale_factor
    (tmp_path / "dm").mkdir()
    (tmp_path / "dm" / "config.json").write_text(json.dumps({"name": "dm", "vae": "tiny-sd-mnist"}))
    assert decoder.adopt_decoder(tmp_path, "dm", "tiny-twin") is True
    assert read_json(tmp_path / "dm" / "config.json") == {"name": "dm", "vae": "tiny-twin",
                                                          "trained_on_vae": "tiny-sd-mnist"}
    assert decoder.adopt_decoder(tmp_path, "dm", "tiny-twin") is False  # already
    with pytest.raises(CheckpointError, match="retrain dm"):
        decoder.adopt_decoder(tmp_path, "dm", "tiny-chapter")
    assert read_json(tmp_path / "dm" / "config.json")["vae"] == "tiny-twin"


def test_update_config_refuses_the_models_own_config(tiny_checkpoint_dir, tmp_path):
    shutil.copytree(tiny_checkpoint_dir / "tiny-2d", tmp_path / "m")
    with pytest.raises(CheckpointError, match="retrain instead"):
        update_config(tmp_path / "m", config={})
    assert update_config(tmp_path / "m", note="x")["note"] == "x"
