"""VE schedules: h(0) = 0, monotone, h(1) = sigma_max^2 - sigma_min^2, h' = g^2."""

import pytest
import torch

from etude_idem.schedules import NoiseSchedule


@pytest.mark.parametrize("kind", ["geometric", "linear", "quadratic"])
def test_schedule_identities(kind):
    s = NoiseSchedule(kind, sigma_min=0.01, sigma_max=6.0)
    t = torch.linspace(0, 1, 2001, dtype=torch.float64)
    h = s.h(t)
    assert float(h[0]) == pytest.approx(0.0, abs=1e-15)
    assert bool((h[1:] > h[:-1]).all())
    assert float(h[-1]) == pytest.approx(36.0 - 1e-4, rel=1e-12)
    # h' = g^2 by central differences away from the end points
    dt = 1e-6
    tm = torch.linspace(0.01, 0.99, 99, dtype=torch.float64)
    fd = (s.h(tm + dt) - s.h(tm - dt)) / (2 * dt)
    torch.testing.assert_close(fd, s.g(tm) ** 2, rtol=1e-3, atol=0)
    torch.testing.assert_close(s.sigma(tm) ** 2, s.h(tm))
    assert s.prior_std == pytest.approx((36.0 - 1e-4) ** 0.5)


def test_geometric_closed_form():
    s = NoiseSchedule("geometric", sigma_min=1e-2, sigma_max=6.0)
    assert float(s.sigma(torch.tensor(0.5, dtype=torch.float64))) == pytest.approx(0.01 * (600.0 - 1) ** 0.5, rel=1e-12)


def test_schedule_errors():
    with pytest.raises(ValueError, match="kind"):
        NoiseSchedule("cosine")
    with pytest.raises(ValueError, match="sigma_min"):
        NoiseSchedule(sigma_min=2.0, sigma_max=1.0)
