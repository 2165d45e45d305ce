"""The Monte Carlo score S_K: convergence to closed forms, the vmap reference, Richardson, clipping."""

import pytest
import torch

from etude_diffusion_samplers.targets import Gaussian
from etude_idem.particles import remove_mean
from etude_idem.score import clip_score, dem_score, dem_score_vmap, draw_noise


def _noised_points(target, schedule, t, n, seed):
    g = torch.Generator().manual_seed(seed)
    x0 = target.sample((n,), generator=g)
    return x0 + schedule.sigma(torch.tensor(t)) * torch.randn(n, target.dim, generator=g)


def test_sk_converges_to_the_noised_gmm_score(gmm9, schedule):
    errors = {10: [], 1000: []}
    for seed in range(3):
        x = _noised_points(gmm9, schedule, 0.5, 512, seed)
        exact = gmm9.noised_score(x, schedule.h(torch.tensor(0.5)))
        for k in errors:
            s = dem_score(gmm9, x, 0.5, k, schedule, generator=torch.Generator().manual_seed(100 + seed))
            errors[k].append(float(torch.linalg.vector_norm(s - exact, dim=-1).mean()))
    e10, e1000 = sum(errors[10]) / 3, sum(errors[1000]) / 3
    assert e1000 <= 0.4 * e10, (e10, e1000)


def test_richardson_reduces_the_bias(gmm9, schedule):
    x = _noised_points(gmm9, schedule, 0.5, 32, 7)
    exact = gmm9.noised_score(x, schedule.h(torch.tensor(0.5)))
    reps = 400  # average over noise draws (one batched call): what remains is the bias
    xr = x.repeat(reps, 1)
    noise = draw_noise(xr.shape[0], 16, 2, generator=torch.Generator().manual_seed(0))
    plain = dem_score(gmm9, xr, 0.5, 16, schedule, noise=noise).reshape(reps, 32, 2).mean(0)
    rich = dem_score(gmm9, xr, 0.5, 16, schedule, noise=noise, richardson=True).reshape(reps, 32, 2).mean(0)
    bias_plain = float(torch.linalg.vector_norm(plain - exact, dim=-1).mean())
    bias_rich = float(torch.linalg.vector_norm(rich - exact, dim=-1).mean())
    assert bias_rich < bias_plain, (bias_plain, bias_rich)


def test_gaussian_target_and_the_k1_limit(schedule):
    target = Gaussian(dim=3, mean=0.5, std=0.7)
    t = 0.4
    h = float(schedule.h(torch.tensor(t)))
    x = 0.5 + (0.49 + h) ** 0.5 * torch.randn(400, 3, generator=torch.Generator().manual_seed(0))
    s = dem_score(target, x, t, 1000, schedule, generator=torch.Generator().manual_seed(1))
    exact = -(x - 0.5) / (0.49 + h)
    assert float(torch.linalg.vector_norm(s - exact) / torch.linalg.vector_norm(exact)) < 0.05
    s1 = dem_score(target, x, t, 1, schedule, noise=torch.zeros(400, 1, 3))
    torch.testing.assert_close(s1, -(x - 0.5) / 0.49)


def test_fused_equals_vmap_reference_and_rows_get_different_noise(gmm9, schedule):
    target = gmm9.to(dtype=torch.float64)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(16, 2, generator=g, dtype=torch.float64) * 3
    t = torch.rand(16, generator=g, dtype=torch.float64)
    noise = draw_noise(16, 30, 2, generator=g, dtype=torch.float64)
    fused = dem_score(target, x, t, 30, schedule, noise=noise)
    ref = dem_score_vmap(target, x, t, 30, schedule, noise=noise)
    torch.testing.assert_close(fused, ref, rtol=1e-6, atol=1e-6)
    # without fixed noise, identical rows get different estimates (randomness="different")
    same = x[:1].expand(8, 2).contiguous()
    tt = torch.full((8,), 0.7, dtype=torch.float64)
    for fn in (dem_score, dem_score_vmap):
        out = fn(target, same, tt, 5, schedule)
        assert float((out - out[:1]).abs().max()) > 1e-6, fn.__name__


def test_exactly_bk_energy_calls(gmm9, schedule):
    before = gmm9.energy_calls
    dem_score(gmm9, torch.zeros(13, 2), 0.3, 17, schedule, richardson=True)
    assert gmm9.energy_calls - before == 13 * 17


def test_clipping_global_and_per_particle():
    s = torch.randn(50, 8, generator=torch.Generator().manual_seed(0)) * 30
    g = clip_score(s, 5.0)
    assert float(torch.linalg.vector_norm(g, dim=-1).max()) <= 5.0 + 1e-5
    small = s / 1000
    torch.testing.assert_close(clip_score(small, 5.0), small)  # below the bound: unchanged
    p = clip_score(s, 2.0, (4, 2))
    assert float(torch.linalg.vector_norm(p.reshape(50, 4, 2), dim=-1).max()) <= 2.0 + 1e-5
    # direction preserved per particle
    cos = torch.nn.functional.cosine_similarity(p.reshape(-1, 2), s.reshape(-1, 2), dim=-1)
    assert float(cos.min()) > 1 - 1e-6
    assert clip_score(s, None) is s


def test_mean_free_noise_and_errors(gmm9, schedule):
    eps = draw_noise(5, 7, 8, layout=(4, 2), generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(remove_mean(eps, (4, 2)), eps)
    with pytest.raises(ValueError, match=r"\(B, 2\)"):
        dem_score(gmm9, torch.zeros(3, 5), 0.5, 4, schedule)
    with pytest.raises(ValueError, match="num_mc"):
        dem_score(gmm9, torch.zeros(3, 2), 0.5, 0, schedule)
    with pytest.raises(ValueError, match="t must"):
        dem_score(gmm9, torch.zeros(3, 2), torch.zeros(4), 4, schedule)
    with pytest.raises(ValueError, match="noise"):
        dem_score(gmm9, torch.zeros(3, 2), 0.5, 4, schedule, noise=torch.zeros(3, 5, 2))
