"""The reverse SDE with the analytic noised score reproduces the target (an integrator check)."""

import pytest
import torch

from etude_diffusion_samplers.metrics import mode_tv, wasserstein2
from etude_idem.particles import remove_mean
from etude_idem.schedules import NoiseSchedule
from etude_idem.sde import prior_sample, reverse_sde


def test_oracle_score_integrator_matches_the_target(gmm9, schedule):
    g = torch.Generator().manual_seed(0)
    x1 = prior_sample(2500, 2, schedule, generator=g)
    x = reverse_sde(lambda y, t: gmm9.noised_score(y, schedule.h(t)), x1, schedule, n_steps=1000, generator=g)
    # W2 on 600 vs 600 (exact EMD is cubic in n); the TV on all 2500 samples (its sampling noise is ~0.025 at 2500)
    exact = gmm9.sample((600,), generator=torch.Generator().manual_seed(1))
    floor = wasserstein2(exact, gmm9.sample((600,), generator=torch.Generator().manual_seed(2)))
    assert wasserstein2(x[:600], exact) <= 1.5 * floor
    assert mode_tv(x, gmm9.modes, gmm9.weights, radius=1.0) <= 0.05


def test_sign_of_time_matters(gmm9, schedule):
    """With the score's sign flipped the samples do not concentrate on the modes (the check can fail)."""
    g = torch.Generator().manual_seed(0)
    x = reverse_sde(lambda y, t: -gmm9.noised_score(y, schedule.h(t)), prior_sample(300, 2, schedule, generator=g), schedule, n_steps=200, generator=g)
    assert mode_tv(x, gmm9.modes, gmm9.weights, radius=1.0) > 0.5


def test_centre_of_mass_is_zero_after_every_step():
    sch = NoiseSchedule(sigma_min=0.01, sigma_max=2.0)
    layout = (4, 2)
    worst = []

    def score(x, t):  # a score with a non-zero mean: the projection must remove it
        return -x + 1.0

    def check(k, x):
        worst.append(float(x.reshape(-1, 4, 2).mean(1).abs().max()))

    x1 = torch.randn(32, 8, generator=torch.Generator().manual_seed(0)) + 3.0
    reverse_sde(score, x1, sch, n_steps=50, layout=layout, on_step=check)
    assert len(worst) == 50 and max(worst) < 1e-5


def test_negative_time_descends_the_energy():
    from etude_idem.targets import MultiDoubleWell

    t = MultiDoubleWell()
    sch = NoiseSchedule(sigma_min=0.01, sigma_max=0.02)
    x1 = remove_mean(torch.randn(64, 8, generator=torch.Generator().manual_seed(0)) * 2, (4, 2))
    base = reverse_sde(lambda x, s: torch.zeros_like(x), x1, sch, n_steps=2, diffusion_scale=0.0, layout=(4, 2))
    desc = reverse_sde(lambda x, s: torch.zeros_like(x), x1, sch, n_steps=2, diffusion_scale=0.0, layout=(4, 2),
                       target=t, negative_time_steps=50, negative_time_lr=1e-3, max_norm=20.0)
    assert float(t.energy(desc).mean()) < float(t.energy(base).mean())
    with pytest.raises(ValueError, match="target"):
        reverse_sde(lambda x, s: x, x1, sch, n_steps=2, negative_time_steps=1)
