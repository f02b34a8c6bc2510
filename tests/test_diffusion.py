"""explorer.diffusion agrees with diffusers' DDPMScheduler and DDIMScheduler (add_noise, timesteps, and
step: prev_sample AND pred_original_sample) to float tolerance, for several step counts."""
from __future__ import annotations

import pytest
import torch

from explorer.diffusion import NoiseSchedule, sample_progressive

diffusers = pytest.importorskip("diffusers")

STEP_COUNTS = (1, 7, 10, 50, 1000)
CONFIG = {"num_train_timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02, "beta_schedule": "linear"}
TOL = {"rtol": 1e-5, "atol": 1e-5}


def reference(kind: str, clip: bool):
    if kind == "ddpm":
        return diffusers.DDPMScheduler(**CONFIG, clip_sample=clip, variance_type="fixed_small",
                                       prediction_type="epsilon", timestep_spacing="leading", steps_offset=0)
    return diffusers.DDIMScheduler(**CONFIG, clip_sample=clip, set_alpha_to_one=True, prediction_type="epsilon",
                                   timestep_spacing="leading", steps_offset=0)


def fake_eps(x: torch.Tensor, t: int) -> torch.Tensor:
    """A deterministic stand-in for a network: depends on x and t, not on either library."""
    return 0.8 * torch.tanh(x) + 0.05 * torch.cos(torch.tensor(float(t)) / 97.0)


@pytest.mark.parametrize("steps", STEP_COUNTS)
@pytest.mark.parametrize("kind", ["ddpm", "ddim"])
def test_timesteps_match(kind, steps):
    ref = reference(kind, clip=False)
    ref.set_timesteps(steps)
    assert NoiseSchedule(**CONFIG).timesteps(steps) == ref.timesteps.tolist()


def test_alphas_cumprod_and_add_noise_match():
    ours, ref = NoiseSchedule(**CONFIG), reference("ddpm", clip=False)
    torch.testing.assert_close(ours.alphas_cumprod, ref.alphas_cumprod, rtol=1e-6, atol=1e-7)
    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(6, 4, 7, 7, generator=g), torch.randn(6, 4, 7, 7, generator=g)
    t = torch.tensor([0, 1, 250, 500, 998, 999])
    torch.testing.assert_close(ours.add_noise(x0, noise, t), ref.add_noise(x0, noise, t), **TOL)


@pytest.mark.parametrize("clip", [False, True])
@pytest.mark.parametrize("steps", STEP_COUNTS)
@pytest.mark.parametrize("kind", ["ddpm", "ddim"])
def test_every_step_matches(kind, steps, clip):
    """Walk the whole chain; at each step feed both the same sample and eps and compare both outputs."""
    ours, ref = NoiseSchedule(**CONFIG, clip_sample=clip), reference(kind, clip)
    ref.set_timesteps(steps)
    step_fn = ours.ddpm_step if kind == "ddpm" else ours.ddim_step
    ratio = 1000 // steps
    x = torch.randn(2, 1, 6, 6, generator=torch.Generator().manual_seed(steps))
    for t in ours.timesteps(steps):
        eps = fake_eps(x, t)
        g_ours, g_ref = torch.Generator().manual_seed(t), torch.Generator().manual_seed(t)
        prev, x0 = step_fn(eps, t, t - ratio, x, generator=g_ours)
        out = ref.step(eps, t, x, generator=g_ref)
        torch.testing.assert_close(x0, out.pred_original_sample, **TOL)
        torch.testing.assert_close(prev, out.prev_sample, **TOL)
        x = out.prev_sample  # follow the reference chain so errors cannot accumulate unseen


@pytest.mark.parametrize("kind", ["ddpm", "ddim"])
def test_sample_progressive_matches_reference_loop(kind):
    """The full sampling loop, with the same generator, ends where diffusers' loop ends."""
    steps, shape = 20, (3, 4, 7, 7)
    ours = list(sample_progressive(NoiseSchedule(**CONFIG), fake_eps, shape, steps, sampler=kind,
                                   generator=torch.Generator().manual_seed(5)))
    ref, g = reference(kind, clip=False), torch.Generator().manual_seed(5)
    ref.set_timesteps(steps)
    x = torch.randn(shape, generator=g)
    for i, t in enumerate(ref.timesteps.tolist()):
        out = ref.step(fake_eps(x, t), t, x, generator=g)
        x = out.prev_sample
        assert ours[i].timestep == t
        torch.testing.assert_close(ours[i].pred_x0, out.pred_original_sample, rtol=1e-4, atol=1e-4)
    assert len(ours) == steps
    torch.testing.assert_close(ours[-1].sample, x, rtol=1e-4, atol=1e-4)


def test_snr_falls_and_clip_is_applied():
    schedule = NoiseSchedule(**CONFIG)
    snr = schedule.snr()
    assert torch.all(snr[1:] < snr[:-1]) and snr[0] > 1e3 and snr[-1] < 1e-3
    big = torch.full((1, 1, 2, 2), 50.0)
    assert NoiseSchedule(**CONFIG, clip_sample=True).predict_x0(big, torch.zeros_like(big), 500).max() == 1.0
    assert schedule.predict_x0(big, torch.zeros_like(big), 500).max() > 1.0


@pytest.mark.parametrize("bad", [0, -3, 1001])
def test_step_count_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="steps must be between 1 and 1000"):
        NoiseSchedule(**CONFIG).timesteps(bad)


def test_unknown_sampler_is_refused():
    with pytest.raises(ValueError, match="sampler must be one of"):
        next(sample_progressive(NoiseSchedule(**CONFIG), fake_eps, (1, 1, 2, 2), 5, sampler="euler"))
