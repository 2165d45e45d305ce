"""JS divergence and normalised mutual information against independent references."""

from __future__ import annotations

import math

import numpy as np
import pytest

from etude_diffusion_time_mixing.analysis import js_divergence, normalized_mutual_information


def test_js_against_scipy():
    from scipy.spatial.distance import jensenshannon  # noqa: PLC0415

    p, q = [0.1, 0.4, 0.5], [0.3, 0.3, 0.4]
    assert js_divergence(p, q) == pytest.approx(jensenshannon(p, q) ** 2, rel=1e-9)
    assert js_divergence([1, 0], [0, 1]) == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match="same shape|one shape"):
        js_divergence([1, 0], [1, 0, 0])


def test_nmi_against_sklearn():
    from sklearn.metrics import normalized_mutual_info_score  # noqa: PLC0415

    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, 500)
    b = (a + (rng.random(500) < 0.3) * rng.integers(0, 3, 500)) % 5
    ref = normalized_mutual_info_score(a, b, average_method="geometric")
    assert normalized_mutual_information(a.tolist(), b.tolist()) == pytest.approx(ref, rel=1e-9)
    assert normalized_mutual_information([1, 1, 1], [0, 1, 0]) == 0.0
