"""The grading measures of explorer.evaluate_diffusion: mid-grey share and the real-MNIST reference."""
import numpy as np
import torch

from explorer.diffusion import clip_range_from
from explorer.evaluate_diffusion import mid_grey_share, real_mid_grey_p95


def test_mid_grey_share_counts_pixels_strictly_between_the_bounds():
    images = np.zeros((2, 1, 2, 2), np.float32)
    images[0, 0] = [[0.5, 0.15], [0.85, 1.0]]  # only 0.5 is strictly inside (0.15, 0.85)
    images[1, 0] = [[0.2, 0.3], [0.4, 0.84]]
    np.testing.assert_allclose(mid_grey_share(images), [0.25, 1.0])


def test_real_mnist_reference_is_a_small_share():
    p95 = real_mid_grey_p95()
    assert 0.05 < p95 < 0.15  # strokes are mostly near 0 or 1; anti-aliased edges make up the rest


def test_clip_range_is_the_quantile_of_absolute_values_rounded_up():
    samples = torch.linspace(-4.0, 2.0, 60001)
    expected = np.quantile(np.abs(samples.numpy().astype(np.float64)), 0.999)
    assert clip_range_from(samples) == np.ceil(expected * 100) / 100
    assert clip_range_from(samples, quantile=1.0) == 4.0


def test_latent_denoisers_clip_x0_to_their_training_range_and_pixel_ones_to_one():
    from explorer.recipes import DIFFUSION_RECIPES
    from explorer.trainers.diffusion import schedule_for

    latent = next(r for r in DIFFUSION_RECIPES.values() if r.space == "latent")
    pixel = next(r for r in DIFFUSION_RECIPES.values() if r.space == "pixel")
    z = torch.randn(200, 4, 7, 7, generator=torch.Generator().manual_seed(0)) * 1.5
    schedule = schedule_for(latent, z)
    assert schedule["clip_sample"] and schedule["use_clipped_model_output"]
    assert schedule["clip_sample_range"] == clip_range_from(z) and 4.0 < schedule["clip_sample_range"] < 6.0
    assert schedule_for(pixel, z)["clip_sample"] and "clip_sample_range" not in schedule_for(pixel, z)
