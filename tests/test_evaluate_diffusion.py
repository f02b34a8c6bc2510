"""The grading measures of explorer.evaluate_diffusion: mid-grey share and the real-MNIST reference."""
import numpy as np
import pytest
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


TINY_UNET = {"base_channels": 8, "channel_mults": [1, 2], "num_res_blocks": 1, "num_classes": 10, "norm_groups": 4}


def test_validation_grade_during_training_leaves_the_training_unchanged(tiny_checkpoint_dir, tmp_path):
    """The validation grade runs every `validate_every` steps and after the last, saves a loadable snapshot
    with the VAE and classifier beside it, and does not disturb the run (same weights as without it)."""
    from dataclasses import replace

    from explorer.trainers.diffusion import RECIPES, train_denoiser, validation_grader

    for name in ("tiny-sd-mnist", "tiny-classifier"):
        (tmp_path / name).symlink_to(tiny_checkpoint_dir / name, target_is_directory=True)
    recipe = replace(RECIPES["ldm-mnist"], name="ldm-test", vae="tiny-sd-mnist",
                     unet={**TINY_UNET, "in_channels": 4, "sample_size": 7}, epochs=2, batch_size=16)
    x = torch.randn(32, 4, 7, 7, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(32) % 10
    records = []
    validate = validation_grader(recipe, tmp_path, x, 0.5, records, per_digit=1, snapshot_dir=tmp_path / "curve",
                                 classifier="tiny-classifier", settings={"steps": 2})
    plain, _, _, _ = train_denoiser(recipe, x, labels, progress=False)
    graded, history, _, steps = train_denoiser(recipe, x, labels, progress=False, validate=validate, validate_every=3)
    assert steps == 4 and len(history) == 2 and [r["step"] for r in records] == [3, 4]
    for a, b in zip(plain.state_dict().values(), graded.state_dict().values()):
        assert torch.equal(a, b)
    assert all(r["n_samples"] == 10 and 0 <= r["smudged"] <= 1 and 0 <= r["agreement"] <= 1 for r in records)
    snapshot = tmp_path / "curve" / "step-000003"
    assert {p.name for p in snapshot.iterdir()} == {"ldm-test", "tiny-sd-mnist", "tiny-classifier"}
    from explorer.checkpoint import load_checkpoint
    _, config, saved = load_checkpoint(snapshot / "ldm-test")
    assert saved["train_steps"] == 3 and config["schedule"]["clip_sample_range"] == clip_range_from(x)


def test_smudge_reference_rows_and_x0_clip_switch(tiny_service):
    """Real digits sit 5% above their own 95th percentile; the VAE row decodes every held-out digit; the x0-clip
    switch turns clipping off inside the block only."""
    from explorer.evaluate_diffusion import real_heldout_digits, reference_row, vae_reconstructions, x0_clip

    images, labels = real_heldout_digits()
    recon = vae_reconstructions(tiny_service, "tiny-sd-mnist")
    assert recon.shape == images.shape == (500, 1, 28, 28) and 0 <= recon.min() and recon.max() <= 1
    row = reference_row("real", images, {"real": real_mid_grey_p95()})
    assert row["n"] == 500 and row["above_real"] == pytest.approx(0.05, abs=0.01) and row["agreement"] is None
    name = "tiny-classifier"  # any checkpoint: the switch edits the in-memory config's schedule only
    config = tiny_service.config(name)
    before = dict(config.get("schedule", {}))
    with x0_clip(tiny_service, name, "off"):
        assert tiny_service.config(name)["schedule"]["clip_sample"] is False
    assert tiny_service.config(name).get("schedule", {}) == before


def test_nearest_rms_is_the_per_element_distance_to_the_closest_reference():
    from explorer.evaluate_diffusion import nearest_rms

    reference = np.zeros((3, 4, 7, 7), np.float32)
    reference[1] += 1.0
    latents = np.stack([reference[1] + 0.5, reference[0]])
    np.testing.assert_allclose(nearest_rms(latents, reference), [0.5, 0.0], atol=1e-6)


def test_quality_table_shows_the_smudged_share_and_the_vae_floor():
    from explorer.views.denoising import quality_markdown

    graded = {"agreement": 0.98, "n_samples": 500, "smudged": 0.123, "vae_floor_smudged": 0.068, "vae": "vae-x",
              "settings": {"sampler": "ddim", "spacing": "leading", "steps": 50, "guidance": 5.0}}
    metrics = {"train_steps": 2100, "batch_size": 64, "samples_seen": 134400, "train_seconds": 200.0,
               "ms_per_train_step": 97.0, "agreement": graded}
    ungraded = {**metrics, "agreement": {k: v for k, v in graded.items() if k not in ("smudged", "vae_floor_smudged")}}
    for lang in ("en", "zh"):
        text = quality_markdown([("ldm-mnist", "latent", metrics), ("pixel-dm-mnist", "pixel", ungraded)], 0.982,
                                [1.0, 5.0], lang)
        rows = [line for line in text.splitlines() if line.startswith("| ldm") or line.startswith("| pixel")]
        assert rows[0].endswith("| 12.3% |") and "vae-x" in text and "6.8%" in text
        assert not rows[1].endswith("| 12.3% |") and rows[1].count("|") == rows[0].count("|")


def save_tiny_ldm(folder) -> None:
    """An untrained latent denoiser "tiny-ldm" over tiny-sd-mnist (which must be in `folder`), seeded."""
    from explorer.checkpoint import save_checkpoint
    from explorer.models import build_model

    torch.manual_seed(0)
    save_checkpoint(folder / "tiny-ldm", build_model("unet", {**TINY_UNET, "in_channels": 4, "sample_size": 7}),
                    name="tiny-ldm", family="unet", kind="denoiser", dataset="mnist", metrics={"untrained": True},
                    space="latent", vae="tiny-sd-mnist", scale_factor=0.5, sample_shape=[4, 7, 7],
                    schedule={"num_train_timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02,
                              "beta_schedule": "linear", "clip_sample": False})


def test_decoder_sensitivity_rows(tiny_checkpoint_dir, tmp_path, monkeypatch):
    """One row for real digits, one per noise level (noise 0 = the VAE's own reconstructions, nearest training
    latent farther with more noise), one for the denoiser's samples; every share is a share."""
    from explorer import data
    from explorer.evaluate_diffusion import decoder_sensitivity
    from explorer.service import ModelService

    from explorer import evaluate_diffusion

    images, labels = evaluate_diffusion.real_heldout_digits()
    monkeypatch.setattr(evaluate_diffusion, "real_heldout_digits", lambda: (images[::10], labels[::10]))
    train = data.load_mnist("train")
    small = data.DigitSplit(train.images[:90], train.labels[:90], train.source_index[:90])
    monkeypatch.setattr(data, "load_mnist", lambda split, idx=None: small)  # training latents: 90 digits
    (tmp_path / "tiny-sd-mnist").symlink_to(tiny_checkpoint_dir / "tiny-sd-mnist", target_is_directory=True)
    save_tiny_ldm(tmp_path)
    rows = decoder_sensitivity(ModelService(tmp_path, device="cpu"), "tiny-ldm", sigmas=(0.0, 1.0), per_digit=1,
                               steps=2, progress=lambda row: None)
    assert [r["n"] for r in rows] == [50, 50, 50, 10]
    assert np.isnan(rows[0]["nearest_rms"]) and rows[1]["nearest_rms"] < rows[2]["nearest_rms"]
    assert all(0 <= r["smudged"] <= 1 and 0 <= r["ink"] <= 1 for r in rows)


def test_record_smudge_adds_to_the_stored_grade_only_for_the_same_samples(tiny_checkpoint_dir, tmp_path):
    from explorer.checkpoint import update_metrics
    from explorer.evaluate_diffusion import grade, record_smudge
    from explorer.service import ModelService

    for name in ("tiny-sd-mnist", "tiny-classifier"):
        (tmp_path / name).symlink_to(tiny_checkpoint_dir / name, target_is_directory=True)
    save_tiny_ldm(tmp_path)
    service = ModelService(tmp_path, device="cpu")
    stored = grade(service, "tiny-ldm", per_digit=1, steps=2, guidance=2.0, seed=5, classifier="tiny-classifier")
    stored = {k: v for k, v in stored.items() if k not in ("smudged", "mid_grey_share")}
    update_metrics(tmp_path / "tiny-ldm", agreement=stored)
    added = record_smudge(ModelService(tmp_path, device="cpu"), "tiny-ldm")["agreement"]
    assert added["agreement"] == stored["agreement"] and 0 <= added["smudged"] <= 1
    assert 0 <= added["vae_floor_smudged"] <= 1 and added["settings"] == stored["settings"]
    assert added["vae"] == "tiny-sd-mnist"
    update_metrics(tmp_path / "tiny-ldm", agreement={**stored, "agreement": stored["agreement"] + 0.5})
    with pytest.raises(ValueError, match="not the graded samples"):
        record_smudge(ModelService(tmp_path, device="cpu"), "tiny-ldm")
