"""The training command line: one recipe registry, one CLI dispatching to trainer modules that never import it
back, a loadable checkpoint with held-out metrics (tiny budget), metrics.json updated through checkpoint.py."""
import ast
import dataclasses
import json
from pathlib import Path

import pytest

from explorer.checkpoint import CheckpointError, load_checkpoint, update_metrics
from explorer.recipes import RECIPES, TRAINERS, scaled, trainer_key
from explorer.train import build_checkpoint, main, parse_args

EXPLORER = Path(__file__).resolve().parent.parent / "explorer"


def test_tiny_training_run_improves_and_saves_everything(tmp_path):
    recipe = scaled(RECIPES["sd-vae-mnist-c4"], name="tiny", epochs=2,
                    config={"base_channels": 8, "norm_groups": 4})
    metrics = build_checkpoint(recipe, tmp_path, progress=False)
    history = metrics["history"]
    assert [h["epoch"] for h in history] == [1, 2] and history[1]["reconstruction"] < history[0]["reconstruction"]
    assert metrics["latent_shape"] == [4, 7, 7] and metrics["n_images"] == 500
    assert 10 < metrics["psnr"] < 40 and metrics["seed"] == 0 and metrics["epochs"] == 2
    model, config, saved = load_checkpoint(tmp_path / "tiny")
    assert config["config"]["scale_factor"] > 0 and saved["psnr"] == metrics["psnr"]
    assert (config["kind"], config["family"], config["dataset"], config["pad_to"]) == ("vae", "sd_vae", "mnist", None)
    assert json.loads((tmp_path / "tiny" / "metrics.json").read_text())["epochs"] == 2


def test_evaluate_only_remeasures_a_saved_vae(tmp_path, capsys, monkeypatch, few_digits):
    import explorer.train as cli

    recipe = scaled(RECIPES["sd-vae-mnist-c4"], name="tiny", epochs=1, config={"base_channels": 8, "norm_groups": 4})
    metrics = build_checkpoint(recipe, tmp_path, progress=False)
    saved = json.loads((tmp_path / "tiny" / "metrics.json").read_text())
    (tmp_path / "tiny" / "metrics.json").write_text(json.dumps({**saved, "psnr": 0.0}))
    monkeypatch.setattr(cli, "RECIPES", {**RECIPES, "tiny": recipe})
    assert cli.main(["tiny", "--out", str(tmp_path), "--evaluate-only", "--quiet"]) == 0
    again = json.loads((tmp_path / "tiny" / "metrics.json").read_text())
    assert again["psnr"] == pytest.approx(metrics["psnr"], abs=1e-6)  # measured again, not copied
    assert again["history"] == saved["history"] and again["train_seconds"] == saved["train_seconds"]
    assert f"tiny                     PSNR {metrics['psnr']:6.2f} dB" in capsys.readouterr().out


def test_update_metrics_merges_and_refuses_a_folder_that_is_not_a_checkpoint(tmp_path):
    (tmp_path / "m").mkdir()
    with pytest.raises(CheckpointError, match="missing checkpoint file: .*m/config.json"):
        update_metrics(tmp_path / "m", agreement=1)
    (tmp_path / "m" / "config.json").write_text("{}")
    (tmp_path / "m" / "metrics.json").write_text(json.dumps({"psnr": 20.0, "params": 3}))
    assert update_metrics(tmp_path / "m", psnr=21.5) == {"psnr": 21.5, "params": 3}
    assert json.loads((tmp_path / "m" / "metrics.json").read_text()) == {"psnr": 21.5, "params": 3}
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "metrics.json"]  # no temp left


def test_one_cli_for_every_recipe(capsys):
    """explorer.train builds VAEs, the classifier and the denoisers; explorer.train_diffusion is the same
    command with the denoisers as its default."""
    from explorer import train_diffusion

    assert parse_args([]).names == list(RECIPES)
    assert list(RECIPES)[:1] == ["sd-vae-mnist-c1"] and list(RECIPES)[-2:] == ["ldm-mnist", "pixel-dm-mnist"]
    assert parse_args([], default_names=["ldm-mnist", "pixel-dm-mnist"]).names == ["ldm-mnist", "pixel-dm-mnist"]
    assert parse_args(["ldm-mnist", "--evaluate-only", "--per-digit", "3"]).per_digit == 3
    assert list(train_diffusion.RECIPES) == ["ldm-mnist", "pixel-dm-mnist"]
    with pytest.raises(SystemExit):
        parse_args(["no-such-recipe"])
    assert "unknown recipe(s): no-such-recipe; see --list" in capsys.readouterr().err
    assert {recipe.kind for recipe in RECIPES.values()} == {"vae", "classifier", "denoiser"}
    assert {trainer_key(r) for r in RECIPES.values()} == set(TRAINERS)  # every trainer is used


def test_cli_lists_recipes(capsys):
    assert main(["--list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(RECIPES)
    assert [line.split()[1] for line in lines] == [r.kind for r in RECIPES.values()]


def _imports(path: Path) -> set[str]:
    """Modules a file imports (relative imports resolved inside explorer/)."""
    package = ["explorer", *path.relative_to(EXPLORER).parent.parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else [])) if node.level else node.module
            found |= {module} | {f"{module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


def test_trainers_never_import_the_command_line():
    for path in sorted((EXPLORER / "trainers").glob("*.py")):
        imported = _imports(path)
        assert not {"explorer.train", "explorer.train_diffusion"} & imported, path.name
    assert "explorer.train" not in _imports(EXPLORER / "recipes.py")


def test_denoiser_budget_flags_reach_the_trainer(tmp_path, monkeypatch):
    """--epochs replaces the recipe's budget (70 steps per epoch at batch 64) and --device reaches the trainer
    and metrics.json; a tiny UNet so it runs in seconds."""
    import explorer.train as cli

    recipe = dataclasses.replace(RECIPES["pixel-dm-mnist"], name="tiny-dm", unet={
        **RECIPES["pixel-dm-mnist"].unet, "base_channels": 8, "channel_mults": [1], "norm_groups": 4})
    monkeypatch.setattr(cli, "RECIPES", {**RECIPES, "tiny-dm": recipe})
    assert cli.main(["tiny-dm", "--out", str(tmp_path), "--quiet", "--no-eval", "--max-steps", "100",
                     "--epochs", "1", "--device", "cpu"]) == 0
    saved = json.loads((tmp_path / "tiny-dm" / "metrics.json").read_text())
    assert (saved["epochs"], saved["train_steps"], saved["device"]) == (1, 70, "cpu")  # 100 steps: 2 epochs
