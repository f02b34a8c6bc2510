"""The catalogue: what checkpoints exist and what they are, read from disk without loading any weights.

It owns the config.json of every checkpoint folder under a checkpoint directory (and of models registered in
memory, such as external VAEs), their metrics.json, the geometry of each VAE at its natural input size, and the
/models description. It knows no family by name: a checkpoint's geometry comes from its family's config
dataclass (`explorer.models.FAMILIES`), which answers `factor` and `latent_shape((C, H, W))`; a model registered
in memory brings its own geometry object with the same two answers.

Refusals (an unknown model name, a model of the wrong kind) are `explorer.messages.Refusal`s with the codes
below; a checkpoint whose config.json is broken is listed (so it can be reported) but has no geometry.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .checkpoint import CONFIG_FILE, METRICS_FILE, CheckpointError, list_checkpoints, read_json
from .messages import Message, Refusal, define

NATURAL_SIDE = {"mnist": 28, "photos": 512}  # the side of the image a VAE of this data set is described at
METRICS_HIDDEN_FROM_API = ("history", "per_photo")  # long per-epoch / per-photo lists stay in metrics.json

define({
    "model.unknown": "unknown model {model!r}; known models: {known}",
    "model.none_installed": "none (is {folder} empty?)",
    "model.wrong_kind": "{model!r} is a {kind}, not a {wanted}; {wanted}s: {known}",
})


class Catalogue:
    """Configs, metrics and geometry of the checkpoints under `checkpoint_dir` (plus in-memory entries)."""

    def __init__(self, checkpoint_dir: str | os.PathLike):
        self.checkpoint_dir = Path(checkpoint_dir)
        self._configs: dict[str, dict] = {}
        self._geometry: dict[str, Any] = {}  # name -> object with .factor and .latent_shape (in-memory entries)
        self._metrics: dict[str, dict] = {}  # name -> metrics of in-memory entries
        for folder in list_checkpoints(self.checkpoint_dir):
            try:
                config = read_json(folder / CONFIG_FILE)
            except CheckpointError:
                config = {"name": folder.name, "broken": True}
            self._configs[config.get("name", folder.name)] = {**config, "_folder": str(folder)}

    # ---- names ---------------------------------------------------------------------------------------------
    def names(self, kind: str | None = None, dataset: str | None = None) -> list[str]:
        """Checkpoint names in folder order, optionally filtered by kind ("vae", "denoiser", "classifier") and
        dataset ("mnist", "photos")."""
        return [n for n, c in self._configs.items()
                if (kind is None or c.get("kind") == kind) and (dataset is None or c.get("dataset") == dataset)]

    def __contains__(self, name: Any) -> bool:
        return isinstance(name, str) and name in self._configs

    def check(self, name: Any) -> str:
        """`name` if the catalogue has it; else Refusal "model.unknown" listing the known names."""
        if name not in self:
            known = ", ".join(self._configs) or Message("model.none_installed", folder=str(self.checkpoint_dir))
            raise Refusal("model.unknown", model=name, known=known)
        return name

    def check_kind(self, name: Any, kind: str) -> str:
        """`name` if it is a checkpoint of `kind`; else Refusal "model.unknown" or "model.wrong_kind", or
        CheckpointError naming the file when its config.json cannot be read."""
        config = self.config(name)
        if config.get("broken"):  # say what is wrong with the file rather than "a None, not a vae"
            read_json(Path(config["_folder"]) / CONFIG_FILE)
        if config.get("kind") != kind:
            raise Refusal("model.wrong_kind", model=name, kind=config.get("kind"), wanted=kind,
                          known=", ".join(self.names(kind)))
        return name

    # ---- what is on disk -------------------------------------------------------------------------------------
    def config(self, name: str) -> dict:
        """config.json of `name` ({"name", "family", "kind", "dataset", "config": {...}, ...}; "_folder" is
        where it lives). Refusal "model.unknown" for a name the catalogue lacks."""
        return self._configs[self.check(name)]

    def folder(self, name: str) -> Path | None:
        """The checkpoint folder of `name`, or None for a model registered in memory."""
        folder = self.config(name).get("_folder")
        return Path(folder) if folder else None

    def metrics(self, name: str) -> dict:
        """metrics.json of `name` (read now, without loading weights; {} when the file is absent), or the
        metrics of a model registered in memory."""
        if self.check(name) in self._metrics:
            return self._metrics[name]
        path = Path(self._configs[name]["_folder"]) / METRICS_FILE
        return read_json(path) if path.exists() else {}

    # ---- in-memory entries -----------------------------------------------------------------------------------
    def add(self, name: str, config: dict, metrics: dict, geometry: Any) -> str:
        """Register a model held in memory (e.g. an external VAE) under `name`, or `name` with primes appended
        when it is taken; `geometry` answers `.factor` and `.latent_shape((C, H, W))`. Returns the name used."""
        while name in self._configs:
            name += "'"
        self._configs[name] = {**config, "name": name}
        self._metrics[name] = metrics
        self._geometry[name] = geometry
        return name

    def in_memory(self, name: str) -> bool:
        return self.check(name) in self._metrics

    # ---- geometry ---------------------------------------------------------------------------------------------
    def geometry(self, name: str) -> Any:
        """The object that answers `factor` and `latent_shape((C, H, W))` for `name`: its family's config
        dataclass built from config.json, or the geometry a model registered in memory brought."""
        if name in self._geometry:
            return self._geometry[name]
        from .models import FAMILIES

        config = self.config(name)
        if config.get("broken") or config.get("family") not in FAMILIES:
            raise CheckpointError(f"{self.folder(name) or name}: config.json does not describe a known model family")
        config_cls, _ = FAMILIES[config["family"]]
        try:
            return config_cls(**config.get("config", {}))
        except TypeError as exc:
            raise CheckpointError(f"{self.folder(name)}/{CONFIG_FILE} does not describe a model: {exc}") from exc

    def input_shape(self, name: str) -> list[int]:
        """[C, H, W] of the image a VAE is described at: its data set's natural side (digits 28, photos 512),
        or `pad_to` when the checkpoint pads digits first (the chapter VAE: 32)."""
        config = self.config(name)
        side = config.get("pad_to") or NATURAL_SIDE.get(config.get("dataset"), NATURAL_SIDE["mnist"])
        channels = config.get("config", {}).get("image_channels", 1)
        return [int(channels), int(side), int(side)]

    def vae_shapes(self, name: str) -> dict:
        """{"input_shape": [C, H, W], "latent_shape": [...]} of a VAE at its natural size (see input_shape),
        plus "factor" (f) and "pad_to" (int or None) when the latent is a spatial grid (C', H', W'); a vector
        latent (the 2-D MLP VAE) has no factor to report. Refusal "model.unknown"/"model.wrong_kind" for a
        name that is not a VAE here."""
        self.check_kind(name, "vae")
        geometry = self.geometry(name)
        input_shape = self.input_shape(name)
        shapes = {"input_shape": input_shape,
                  "latent_shape": [int(d) for d in geometry.latent_shape(tuple(input_shape))]}
        if len(shapes["latent_shape"]) == 3:
            shapes.update(factor=int(geometry.factor), pad_to=self.config(name).get("pad_to"))
        return shapes

    # ---- /models -------------------------------------------------------------------------------------------------
    def describe(self, name: str, devices: dict | None = None) -> dict:
        """The /models entry of one checkpoint: name, kind, dataset, family, description, params, the `devices`
        given ({"device", "accelerator"}), a VAE's shapes (vae_shapes), and metrics without long histories."""
        config, metrics = self.config(name), self.metrics(name)
        entry = {"name": name, "kind": config.get("kind"), "dataset": config.get("dataset"),
                 "family": config.get("family"), "description": config.get("description", ""),
                 "params": metrics.get("params"), **(devices or {})}
        if config.get("kind") == "vae":
            entry.update(self.vae_shapes(name))
        entry["metrics"] = {k: v for k, v in metrics.items() if k not in METRICS_HIDDEN_FROM_API}
        if config.get("external"):
            entry.update(external=True, source=config.get("source"), untrained=metrics.get("untrained"))
        return entry

