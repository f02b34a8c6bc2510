"""The training CLI builds a loadable checkpoint with held-out metrics (tiny budget)."""
import json

import pytest

from explorer.checkpoint import load_checkpoint
from explorer.recipes import RECIPES, scaled
from explorer.train import build_checkpoint, main, parse_args


def test_tiny_training_run_improves_and_saves_everything(tmp_path):
    recipe = scaled(RECIPES["sd-vae-mnist-c4"], name="tiny", epochs=2,
                    config={"base_channels": 8, "norm_groups": 4})
    metrics = build_checkpoint(recipe, tmp_path, progress=False)
    history = metrics["history"]
    assert len(history) == 2 and history[1]["reconstruction"] < history[0]["reconstruction"]
    assert metrics["latent_shape"] == [4, 7, 7] and metrics["n_images"] == 500
    assert 10 < metrics["psnr"] < 40 and metrics["seed"] == 0
    model, config, saved = load_checkpoint(tmp_path / "tiny")
    assert config["config"]["scale_factor"] > 0 and saved["psnr"] == metrics["psnr"]
    assert json.loads((tmp_path / "tiny" / "metrics.json").read_text())["epochs"] == 2


def test_one_cli_for_every_recipe(capsys):
    """explorer.train builds VAEs, the classifier and the denoisers; explorer.train_diffusion is the same
    command with the denoisers as its default."""
    assert parse_args([]).names[0] == "sd-vae-mnist-c1" and "ldm-mnist" in parse_args([]).names
    assert parse_args([], default_names=["ldm-mnist", "pixel-dm-mnist"]).names == ["ldm-mnist", "pixel-dm-mnist"]
    assert parse_args(["ldm-mnist", "--evaluate-only", "--per-digit", "3"]).per_digit == 3
    with pytest.raises(SystemExit):
        parse_args(["no-such-recipe"])
    assert "unknown recipe(s): no-such-recipe" in capsys.readouterr().err


def test_cli_lists_recipes(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in ("sd-vae-mnist-c1", "sd-vae-mnist-c8", "chapter-vae-mnist", "vae-mnist-kl1", "vae-mnist-2d",
                 "sd-vae-photos-f8c4", "mnist-classifier", "ldm-mnist", "pixel-dm-mnist"):
        assert name in out
