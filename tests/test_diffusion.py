"""explorer.diffusion agrees with diffusers' DDPMScheduler and DDIMScheduler (add_noise, timesteps, and
step: prev_sample AND pred_original_sample) to float tolerance, for several step counts and both timestep
spacings ("trailing", our default, and "leading", Stable Diffusion 1.x's)."""
from __future__ import annotations

import pytest
import torch

from explorer.diffusion import SPACINGS, NoiseSchedule, sample_progressive

diffusers = pytest.importorskip("diffusers")

STEP_COUNTS = (1, 7, 10, 50, 1000)
CONFIG = {"num_train_timesteps": 1000, "beta_start": 1e-4, "beta_end": 0.02, "beta_schedule": "linear"}
TOL = {"rtol": 1e-5, "atol": 1e-5}


TRAILING = NoiseSchedule(**CONFIG, timestep_spacing="trailing")


def reference(kind: str, clip: bool, spacing: str = "trailing", clip_range: float = 1.0):
    """diffusers' scheduler configured as our NoiseSchedule(**CONFIG, clip_sample=clip, timestep_spacing=spacing,
    clip_sample_range=clip_range)."""
    if kind == "ddpm":
        return diffusers.DDPMScheduler(**CONFIG, clip_sample=clip, variance_type="fixed_small",
                                       prediction_type="epsilon", timestep_spacing=spacing, steps_offset=0,
                                       clip_sample_range=clip_range)
    return diffusers.DDIMScheduler(**CONFIG, clip_sample=clip, set_alpha_to_one=True, prediction_type="epsilon",
                                   timestep_spacing=spacing, steps_offset=0, clip_sample_range=clip_range)


def reference_prev(ref, kind: str, t: int, steps: int) -> int:
    """The timestep diffusers' step() goes to from t: DDPM the next one in its list, DDIM t - T // n."""
    return int(ref.previous_timestep(t)) if kind == "ddpm" else t - CONFIG["num_train_timesteps"] // steps


def fake_eps(x: torch.Tensor, t: int) -> torch.Tensor:
    """A deterministic stand-in for a network: depends on x and t, not on either library."""
    return 0.8 * torch.tanh(x) + 0.05 * torch.cos(torch.tensor(float(t)) / 97.0)


@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("kind", ["ddpm", "ddim"])
def test_timesteps_match_for_every_step_count(kind, spacing):
    """Equal for every count, except that diffusers' "trailing" list has an extra -1 for 62 counts (below)."""
    ours, ref = NoiseSchedule(**CONFIG, timestep_spacing=spacing), reference(kind, clip=False, spacing=spacing)
    for steps in range(1, 1001):
        ref.set_timesteps(steps)
        theirs = ref.timesteps.tolist()
        assert ours.timesteps(steps) == theirs[:steps], steps
        assert theirs[steps:] in ([], [-1]), steps


def test_diffusers_trailing_float_range_can_hold_one_timestep_too_many():
    """diffusers 0.42 computes "trailing" as round(arange(T, 0, -T / n)) - 1; for n = 61 the float range
    has 62 values, the last a timestep of -1. We keep the first n."""
    ref = reference("ddpm", clip=False, spacing="trailing")
    ref.set_timesteps(61)
    if len(ref.timesteps) == 61:
        pytest.skip("this diffusers version returns exactly n trailing timesteps")
    assert ref.timesteps.tolist()[-1] == -1 and TRAILING.timesteps(61)[-1] == ref.timesteps.tolist()[-2]


def test_trailing_starts_at_pure_noise_for_every_step_count():
    """What this spacing fixes: "leading" (the default, measured better for our models) hands 1-step sampling
    pure noise labelled t = 0 (almost clean)."""
    assert NoiseSchedule(**CONFIG).timestep_spacing == "leading" and NoiseSchedule(**CONFIG).timesteps(1) == [0]
    schedule = NoiseSchedule(**{**CONFIG, "timestep_spacing": "trailing"})
    for steps in range(1, 1001):
        ts = schedule.timesteps(steps)
        assert ts[0] == 999 and len(ts) == steps and ts[-1] >= 0
        assert all(a > b for a, b in zip(ts, ts[1:])), steps
    leading = NoiseSchedule(**CONFIG, timestep_spacing="leading")
    assert leading.timesteps(1) == [0] and leading.timesteps(2) == [500, 0] and leading.timesteps(1000)[0] == 999


def test_unknown_spacing_is_refused():
    with pytest.raises(ValueError, match="timestep_spacing must be one of"):
        NoiseSchedule(**CONFIG, timestep_spacing="linspace")


@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("steps", (*STEP_COUNTS, 3, 48, 333))
def test_each_step_goes_to_the_next_timestep_as_ddpm_scheduler_does(spacing, steps):
    """Our chain: every timestep, then the next one, then -1 (clean): DDPMScheduler.previous_timestep."""
    ours, ref = NoiseSchedule(**CONFIG, timestep_spacing=spacing), reference("ddpm", clip=False, spacing=spacing)
    ref.set_timesteps(steps)
    assert ours.step_pairs(steps) == [(t, reference_prev(ref, "ddpm", t, steps)) for t in ref.timesteps.tolist()]


def test_ddim_scheduler_trailing_uneven_counts_skip_off_the_list():
    """Why the sampling loop follows DDPMScheduler's chain: DDIMScheduler steps to t - T // n, which for
    "trailing" and n not dividing T is not its own next timestep (7 steps: 999 -> 857, then the model is asked
    at 856; diffusers issue #9261 fixed this for DDPM only). Where n divides T, or for "leading", both rules
    agree (tested above and below)."""
    ref = reference("ddim", clip=False, spacing="trailing")
    ref.set_timesteps(7)
    assert ref.timesteps.tolist()[:2] == [999, 856] and reference_prev(ref, "ddim", 999, 7) == 857
    assert TRAILING.step_pairs(7)[0] == (999, 856)


def test_alphas_cumprod_and_add_noise_match():
    ours, ref = NoiseSchedule(**CONFIG), reference("ddpm", clip=False)
    torch.testing.assert_close(ours.alphas_cumprod, ref.alphas_cumprod, rtol=1e-6, atol=1e-7)
    g = torch.Generator().manual_seed(0)
    x0, noise = torch.randn(6, 4, 7, 7, generator=g), torch.randn(6, 4, 7, 7, generator=g)
    t = torch.tensor([0, 1, 250, 500, 998, 999])
    torch.testing.assert_close(ours.add_noise(x0, noise, t), ref.add_noise(x0, noise, t), **TOL)


@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("clip, clip_range", [(False, 1.0), (True, 1.0), (True, 0.4)])
@pytest.mark.parametrize("steps", STEP_COUNTS)
@pytest.mark.parametrize("kind", ["ddpm", "ddim"])
def test_every_step_matches(kind, steps, clip, clip_range, spacing):
    """Walk the whole chain; at each step feed both the same sample and eps (and diffusers' own previous
    timestep) and compare both outputs (0.4: a range that the fake x0 predictions do exceed)."""
    ours = NoiseSchedule(**CONFIG, clip_sample=clip, clip_sample_range=clip_range, timestep_spacing=spacing)
    ref = reference(kind, clip, spacing, clip_range)
    ref.set_timesteps(steps)
    step_fn = ours.ddpm_step if kind == "ddpm" else ours.ddim_step
    x = torch.randn(2, 1, 6, 6, generator=torch.Generator().manual_seed(steps))
    for t in ours.timesteps(steps):
        eps = fake_eps(x, t)
        g_ours, g_ref = torch.Generator().manual_seed(t), torch.Generator().manual_seed(t)
        prev, x0 = step_fn(eps, t, reference_prev(ref, kind, t, steps), x, generator=g_ours)
        out = ref.step(eps, t, x, generator=g_ref)
        torch.testing.assert_close(x0, out.pred_original_sample, **TOL)
        torch.testing.assert_close(prev, out.prev_sample, **TOL)
        x = out.prev_sample  # follow the reference chain so errors cannot accumulate unseen


@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("steps", [1, 2, 20])
@pytest.mark.parametrize("kind", ["ddpm", "ddim"])
def test_sample_progressive_matches_reference_loop(kind, steps, spacing):
    """The full sampling loop, with the same generator, ends where diffusers' loop ends."""
    shape = (3, 4, 7, 7)
    ours = list(sample_progressive(NoiseSchedule(**CONFIG, timestep_spacing=spacing), fake_eps, shape, steps,
                                   sampler=kind, generator=torch.Generator().manual_seed(5)))
    ref, g = reference(kind, clip=False, spacing=spacing), torch.Generator().manual_seed(5)
    ref.set_timesteps(steps)
    x = torch.randn(shape, generator=g)
    for i, t in enumerate(ref.timesteps.tolist()):
        out = ref.step(fake_eps(x, t), t, x, generator=g)
        x = out.prev_sample
        assert ours[i].timestep == t
        torch.testing.assert_close(ours[i].pred_x0, out.pred_original_sample, rtol=1e-4, atol=1e-4)
    assert len(ours) == steps
    torch.testing.assert_close(ours[-1].sample, x, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("steps", [10, 50])
def test_ddim_with_clipped_model_output_matches(steps):
    """use_clipped_model_output re-derives eps from the clipped x0, as diffusers' DDIMScheduler.step does."""
    ours = NoiseSchedule(**CONFIG, clip_sample=True, clip_sample_range=0.4, use_clipped_model_output=True,
                         timestep_spacing="leading")
    ref = reference("ddim", True, "leading", 0.4)
    ref.set_timesteps(steps)
    x = torch.randn(2, 1, 6, 6, generator=torch.Generator().manual_seed(steps))
    plain = NoiseSchedule(**CONFIG, clip_sample=True, clip_sample_range=0.4, timestep_spacing="leading")
    differs = False
    for t in ours.timesteps(steps):
        eps, prev_t = fake_eps(x, t), reference_prev(ref, "ddim", t, steps)
        prev, x0 = ours.ddim_step(eps, t, prev_t, x)
        out = ref.step(eps, t, x, use_clipped_model_output=True)
        torch.testing.assert_close(x0, out.pred_original_sample, **TOL)
        torch.testing.assert_close(prev, out.prev_sample, **TOL)
        differs |= not torch.allclose(prev, plain.ddim_step(eps, t, prev_t, x)[0])
        x = out.prev_sample
    assert differs  # the option changes the chain where the clip is active


def test_snr_falls_and_clip_is_applied():
    schedule = NoiseSchedule(**CONFIG)
    snr = schedule.snr()
    assert torch.all(snr[1:] < snr[:-1]) and snr[0] > 1e3 and snr[-1] < 1e-3
    big = torch.full((1, 1, 2, 2), 50.0)
    assert NoiseSchedule(**CONFIG, clip_sample=True).predict_x0(big, torch.zeros_like(big), 500).max() == 1.0
    clipped = NoiseSchedule(**CONFIG, clip_sample=True, clip_sample_range=3.25).predict_x0(-big, torch.zeros_like(big), 500)
    assert clipped.min() == -3.25
    assert schedule.predict_x0(big, torch.zeros_like(big), 500).max() > 1.0


@pytest.mark.parametrize("bad", [0, -3, 1001])
def test_step_count_out_of_range_is_refused(bad):
    with pytest.raises(ValueError, match="steps must be between 1 and 1000"):
        NoiseSchedule(**CONFIG).timesteps(bad)


def test_unknown_sampler_is_refused():
    with pytest.raises(ValueError, match="sampler must be one of"):
        next(sample_progressive(NoiseSchedule(**CONFIG), fake_eps, (1, 1, 2, 2), 5, sampler="euler"))
