"""Convert the published TAEF2 weights (the FLUX.2 member of the Tiny AutoEncoder family, by Ollin Boer Bohan,
github.com/madebyollin/taesd, MIT) into this project's checkpoint format, once:

    python -m explorer.convert_taef2 [--source ../shared/third_party/taef2] [--out checkpoints/taef2]

Reads `taef2_encoder.pth` and `taef2_decoder.pth` with `torch.load(map_location="cpu", weights_only=True)` (the
only place in the project that opens a pickle, and only in the restricted weights-only mode), refuses files whose
sha256 differs from the published ones, and writes `<out>/config.json` (source, commit, licence, author, sha256),
`<out>/model.safetensors` (the weights as published: float16; they load into the float32 model unchanged),
`<out>/metrics.json` (held-out PSNR / SSIM measured by explorer.evaluation on the written checkpoint, reloaded
through explorer.checkpoint.load_checkpoint) and `<out>/LICENSE` (the MIT licence of the weights).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors.torch import save_file

from .checkpoint import CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE, load_checkpoint
from .models.tiny_autoencoder import TinyAutoencoder, TinyAutoencoderConfig

ROOT = Path(__file__).resolve().parent.parent
# The clone's ../shared (CI, the main checkout) or, from a git worktree one level deeper, ../../shared.
SOURCE_CANDIDATES = [ROOT.parent / "shared" / "third_party" / "taef2",
                     ROOT.parent.parent / "shared" / "third_party" / "taef2"]
DEFAULT_OUT = ROOT / "checkpoints" / "taef2"

SOURCE_FILES = {  # part -> (file name, sha256 of the file published at SOURCE_COMMIT)
    "encoder": ("taef2_encoder.pth", "10a4e1021e89d7551eaf161352da8dbd0b1aa83872ae28b150c1df1ce2f147b6"),
    "decoder": ("taef2_decoder.pth", "0a44a31e1ae59eb9dbf9359d24942fd3ef5928162c1800d97a28c61d51be0ab5"),
}
SOURCE_REPOSITORY = "https://github.com/madebyollin/taesd"
SOURCE_COMMIT = "5cccb12"
AUTHOR = "Ollin Boer Bohan"
LICENCE = "MIT"
NAME = "taef2"
DESCRIPTION = ("Tiny AutoEncoder for FLUX.2 (TAEF2) by Ollin Boer Bohan: the FLUX.2 VAE's latent space distilled "
               "into 2 x 1.34M parameters; photos, f=8, 32 channels (6x), deterministic (posterior std 0); "
               "pretrained weights from github.com/madebyollin/taesd (MIT)")


def find_source() -> Path | None:
    """The first candidate folder that holds the TAEF2 weights, or None when none does."""
    return next((p for p in SOURCE_CANDIDATES if (p / SOURCE_FILES["encoder"][0]).is_file()), None)


class ConversionError(RuntimeError):
    """A source file is missing, altered (sha256 differs) or does not match the architecture."""


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_source(source: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Check both files' sha256, read each once (weights_only) -> (state dict keyed "encoder.*"/"decoder.*",
    {file name: sha256}). Raises ConversionError on a missing or altered file."""
    state, digests = {}, {}
    for part, (file_name, expected) in SOURCE_FILES.items():
        path = source / file_name
        if not path.is_file():
            raise ConversionError(f"missing source file: {path}")
        digest = sha256_of(path)
        if digest != expected:
            raise ConversionError(f"{path} has sha256 {digest}, expected {expected} (the file published at "
                                  f"{SOURCE_REPOSITORY} commit {SOURCE_COMMIT})")
        digests[file_name] = digest
        weights = torch.load(path, map_location="cpu", weights_only=True)
        state.update({f"{part}.{key}": value for key, value in weights.items()})
    return state, digests


def convert(source: Path, out: Path = DEFAULT_OUT, evaluate: bool = True) -> dict:
    """Write the checkpoint folder `out` from the files in `source`; returns the metrics written."""
    state, digests = read_source(Path(source))
    config = TinyAutoencoderConfig()
    model = TinyAutoencoder(config)
    try:
        model.load_state_dict(state, strict=True)  # checks every key and shape before anything is written
    except RuntimeError as exc:
        raise ConversionError(f"the source weights do not match TinyAutoencoder({config}): {exc}") from exc
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    save_file({key: value.contiguous() for key, value in state.items()}, str(out / WEIGHTS_FILE))
    params = sum(p.numel() for p in model.parameters())
    record = {"name": NAME, "family": "tiny_autoencoder", "kind": "vae", "dataset": "photos",
              "config": asdict(config), "description": DESCRIPTION,
              "source": {"repository": SOURCE_REPOSITORY, "commit": SOURCE_COMMIT,
                         "files": {name: {"sha256": digest} for name, digest in digests.items()},
                         "weights_dtype": "float16 (as published)"},
              "licence": LICENCE, "licence_file": "LICENSE", "author": AUTHOR,
              "credit": f"TAEF2 weights by {AUTHOR}, {SOURCE_REPOSITORY} (MIT licence)"}
    (out / CONFIG_FILE).write_text(json.dumps(record, indent=2) + "\n")
    licence_src = Path(source) / "LICENSE"
    if licence_src.is_file():
        shutil.copyfile(licence_src, out / "LICENSE")
    metrics: dict = {"params": params}
    if evaluate:
        from .evaluation import evaluate_vae_photos

        reloaded, _, _ = load_checkpoint(out)  # measure what ships, read back from safetensors
        metrics = {**evaluate_vae_photos(reloaded), "params": params, "torch": torch.__version__,
                   "threads": torch.get_num_threads(), "trained_here": False,
                   "note": "pretrained weights converted by explorer.convert_taef2; not trained in this project"}
    (out / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None,
                        help="folder holding taef2_*.pth (default: ../shared/third_party/taef2 or ../../shared/...)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="checkpoint folder to write")
    parser.add_argument("--no-evaluate", action="store_true", help="skip the held-out measurement")
    args = parser.parse_args(argv)
    source = args.source or find_source()
    if source is None:
        print("error: no taef2_encoder.pth in " + ", ".join(map(str, SOURCE_CANDIDATES)) + "; pass --source",
              file=sys.stderr)
        return 1
    try:
        metrics = convert(source, args.out, evaluate=not args.no_evaluate)
    except ConversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, m in metrics.get("per_photo", {}).items():
        print(f"{name:10s} {m['shape'][0]}x{m['shape'][1]}  PSNR {m['psnr']:.2f} dB  SSIM {m['ssim']:.3f}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
