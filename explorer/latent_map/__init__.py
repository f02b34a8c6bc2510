"""The latent map's logic, between the model service and the tab, one concept per module:

- held_out.py   the 500 held-out digits, encoded once per model (cached); which models; the digit-index rule
- paths.py      pair paths: interpolated latents decoded in one batch, placed on the map like the dots
- plane.py      the 2-D VAE's latent plane: extent, decoded grid (manifold), single points
- evaluate.py   measurements of interpolation behaviour, and the CLI (python -m explorer.latent_map)
- images.py     PNG / uint8 conversions of frames

`LatentMapExplorer` composes them over one service (the tab and the public API use it); the 2-D projections
(PCA / UMAP, cached, UMAP fitted in the background) are explorer.projection's, the interpolation formulas
explorer.interpolation's. Everything takes plain numbers in and gives numpy arrays / dicts out; bad input
raises a messages.Refusal (a ValueError) whose str() is the English message the API answers.

Indices are positions in the held-out split `load_mnist("test")` (500 digits, 50 per class): the `index`
field of /latent_map.
"""
from __future__ import annotations

from .. import data
from ..projection import ProjectionCache, check_method as check_projection_method
from .evaluate import CLASSIFIER, PathEvaluation, blend_psnr, path_evenness, step_sizes
from .held_out import (API_FIELDS, DIGIT, THREADS, DigitLatents, HeldOutLatents, check_index, crop_digits,
                       pad_digits)
from .images import image_strip, png_bytes, png_data_uri, tile_grid, to_uint8
from .paths import FRAMES, PairPath, PairPaths, random_pair
from .plane import LatentPlane

SD_KL_MODEL, REGULARISED_MODEL = "sd-vae-mnist-c4", "vae-mnist-kl1"  # the comparison pair

__all__ = ["API_FIELDS", "CLASSIFIER", "DIGIT", "FRAMES", "REGULARISED_MODEL", "SD_KL_MODEL", "THREADS",
           "DigitLatents", "HeldOutLatents", "LatentMapExplorer", "LatentPlane", "PairPath", "PairPaths",
           "PathEvaluation", "blend_psnr", "check_index", "crop_digits", "image_strip", "pad_digits",
           "path_evenness", "png_bytes", "png_data_uri", "random_pair", "step_sizes", "tile_grid", "to_uint8"]


class LatentMapExplorer:
    """Held-out latents, their projections, pair paths, the 2-D plane and the measurements, over one service.

    The parts are attributes (`held`, `projections`, `paths`, `plane`, `evaluation`); the methods below are the
    calls the tab and the API make, each handed to the part that owns it."""

    def __init__(self, service, digits: data.DigitSplit | None = None, threads: int = THREADS, **umap_params):
        self.held = HeldOutLatents(service, digits, threads)
        self.projections = ProjectionCache(lambda model: self.held.latents(model).latents, **umap_params)
        self.paths = PairPaths(self.held, self.projections)
        self.plane = LatentPlane(self.held)
        self.evaluation = PathEvaluation(self.held, self.paths)
        self.service, self.digits = service, self.held.digits

    # held-out latents
    def models(self) -> list[str]:
        return self.held.models()

    def check_model(self, model) -> str:
        return self.held.check_model(model)

    def latent_shape(self, model: str) -> list[int]:
        return self.held.latent_shape(model)

    def is_planar(self, model: str) -> bool:
        return self.held.is_planar(model)

    def latents(self, model: str) -> DigitLatents:
        return self.held.latents(model)

    def decode(self, model: str, latents):
        return self.held.decode(model, latents)

    def check_pair(self, index_a, index_b, fields=API_FIELDS) -> tuple[int, int]:
        return self.held.check_pair(index_a, index_b, fields)

    # the map
    def points(self, model: str, method: str, timeout: float | None = 180.0) -> list[dict]:
        """The /latent_map answer: [{"x", "y", "label", "index"}] for every held-out digit. Waits for a
        background UMAP fit if needed (up to `timeout` s; TimeoutError after)."""
        self.check_model(model)
        proj = self.projections.wait(model, check_projection_method(method), timeout)
        labels = self.digits.labels
        return [{"x": float(x), "y": float(y), "label": int(labels[i]), "index": i}
                for i, (x, y) in enumerate(proj.coords)]

    # pair paths
    def interpolate(self, model: str, index_a, index_b, alpha, method: str = "lerp"):
        """The decoded latent at `alpha` between digits A and B: (28, 28) in [0, 1] (the /interpolate answer).
        alpha 0 / 1 decode exactly the latents of A / B (a batch of one, like every call here)."""
        return self.paths.exact(model, index_a, index_b, alpha, method)[0]

    def exact(self, model: str, index_a, index_b, alpha, method: str = "lerp", projection: str | None = None):
        return self.paths.exact(model, index_a, index_b, alpha, method, projection)

    def pair_path(self, model: str, index_a, index_b, method: str = "lerp", n: int = FRAMES,
                  projection: str | None = None, fields=API_FIELDS) -> PairPath:
        return self.paths.pair_path(model, index_a, index_b, method, n, projection, fields)

    def path_xy(self, model: str, index_a, index_b, method: str, n: int, proj, fields=API_FIELDS):
        return self.paths.path_xy(model, index_a, index_b, method, n, proj, fields)

    # the 2-D plane
    def plane_extent(self, model: str, quantile: float = 0.99, margin: float = 0.1):
        return self.plane.extent(model, quantile, margin)

    def plane_grid(self, model: str, n: int, extent=None):
        return self.plane.grid(model, n, extent)

    def decode_point(self, model: str, z1, z2):
        return self.plane.decode_point(model, z1, z2)

    # measurements
    def compare(self, models: list[str], index_a, index_b, method: str = "lerp", n: int = 9) -> list[dict]:
        return self.evaluation.compare(models, index_a, index_b, method, n)

    def path_statistics(self, model: str, n_pairs: int = 50, seed: int = 0, method: str = "lerp", n: int = 9):
        return self.evaluation.path_statistics(model, n_pairs, seed, method, n)

    def digit_confidence(self, frames):
        return self.evaluation.digit_confidence(frames)
