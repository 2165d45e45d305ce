"""Shared fixtures of the iDEM tests."""

import pytest


@pytest.fixture
def gmm9():
    from etude_idem.claims import nine_mode_gmm

    return nine_mode_gmm()


@pytest.fixture
def schedule():
    from etude_idem.schedules import NoiseSchedule

    return NoiseSchedule("geometric", sigma_min=0.01, sigma_max=6.0)

