"""Checkpoints on disk: `<dir>/<name>/config.json` + `model.safetensors` + `metrics.json`. This module is the
only code that writes them (`save_checkpoint`, and `update_metrics` for a re-grade of a saved model).

config.json holds {"name", "family", "kind", "dataset", "config": {...dataclass fields...}, ...};
weights are safetensors (never pickles). Errors name the file that is missing or broken (CheckpointError: a
broken file on disk, not a refused request).
"""
from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .models import build_model

CONFIG_FILE, WEIGHTS_FILE, METRICS_FILE = "config.json", "model.safetensors", "metrics.json"


class CheckpointError(RuntimeError):
    """A checkpoint folder is missing, incomplete or corrupt; the message names the file."""


def save_checkpoint(folder: str | Path, model: torch.nn.Module, *, name: str, family: str, kind: str,
                    dataset: str, metrics: dict[str, Any] | None = None, **extra: Any) -> Path:
    """Write config.json, model.safetensors (fp32, contiguous) and metrics.json into `folder`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = {"name": name, "family": family, "kind": kind, "dataset": dataset,
              "config": asdict(model.config), **extra}
    tensors = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()
               if v.is_floating_point()}
    tensors.update({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()
                    if not v.is_floating_point()})
    save_file(tensors, str(folder / WEIGHTS_FILE))
    _write_json(folder / CONFIG_FILE, config)
    _write_json(folder / METRICS_FILE, metrics or {})
    return folder


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """Write `data` as indented JSON via a temporary file renamed over `path` (a reader never sees half a file)."""
    temporary = path.with_name(f".{path.name}.part")
    temporary.write_text(json.dumps(data, indent=2) + "\n")
    temporary.replace(path)


def update_metrics(folder: str | Path, **changes: Any) -> dict[str, Any]:
    """Merge `changes` into `folder`/metrics.json (e.g. a new classifier grade) and return the whole file.
    CheckpointError when the folder has no config.json (not a checkpoint) or its metrics.json is corrupt."""
    folder = Path(folder)
    if not (folder / CONFIG_FILE).exists():
        raise CheckpointError(f"missing checkpoint file: {folder / CONFIG_FILE}")
    path = folder / METRICS_FILE
    metrics = {**(read_json(path) if path.exists() else {}), **changes}
    _write_json(path, metrics)
    return metrics


def update_config(folder: str | Path, **changes: Any) -> dict[str, Any]:
    """Merge `changes` into `folder`/config.json's top level (never the model's own "config"; the weights are
    untouched) and return the whole file. CheckpointError as for update_metrics, or for a change to "config"."""
    path = Path(folder) / CONFIG_FILE
    if "config" in changes:
        raise CheckpointError(f"{path}: the model's config goes with its weights; retrain instead")
    config = {**read_json(path), **changes}
    _write_json(path, config)
    return config


def read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise CheckpointError(f"missing checkpoint file: {path}")
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"corrupt JSON in {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise CheckpointError(f"{path} should hold a JSON object")
    return data


def load_checkpoint(folder: str | Path, device: str | torch.device = "cpu") -> tuple[torch.nn.Module, dict, dict]:
    """Rebuild the model from config.json, load its safetensors weights; returns (model.eval(), config, metrics)."""
    folder = Path(folder)
    config = read_json(folder / CONFIG_FILE)
    for key in ("family", "config"):
        if key not in config:
            raise CheckpointError(f"{folder / CONFIG_FILE} has no {key!r} entry")
    try:
        model = build_model(config["family"], config["config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{folder / CONFIG_FILE} does not describe a model: {exc}") from exc
    weights_path = folder / WEIGHTS_FILE
    if not weights_path.exists():
        raise CheckpointError(f"missing checkpoint file: {weights_path}")
    try:
        state = load_file(str(weights_path), device=str(device))
    except (SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"corrupt weights file {weights_path}: {exc}") from exc
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{weights_path} does not match {folder / CONFIG_FILE}: {exc}") from exc
    metrics_path = folder / METRICS_FILE
    metrics = read_json(metrics_path) if metrics_path.exists() else {}
    return model.to(device).eval(), config, metrics


def list_checkpoints(root: str | Path) -> list[Path]:
    """Checkpoint folders under `root` (those holding a config.json), sorted by name."""
    root = Path(root)
    return sorted(p.parent for p in root.glob(f"*/{CONFIG_FILE}")) if root.is_dir() else []
