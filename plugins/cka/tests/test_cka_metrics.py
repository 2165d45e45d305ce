"""CKA metrics: identities, invariances, paths, estimators, errors, and an independent NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import etude
from etude.testing.conformance import SimilarityConformance
from etude_cka import RBFCKA, DebiasedCKA, LinearCKA, MinibatchCKA

torch.set_num_threads(1)


# -- an independent NumPy reference, written from the formulas (explicit H, loops-free) --------
def np_hsic0(K, L):
    n = K.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    return np.trace(K @ H @ L @ H) / (n - 1) ** 2


def np_hsic1(K, L):
    n = K.shape[0]
    Kt, Lt = K.copy(), L.copy()
    np.fill_diagonal(Kt, 0.0)
    np.fill_diagonal(Lt, 0.0)
    one = np.ones(n)
    term1 = np.trace(Kt @ Lt)
    term2 = (one @ Kt @ one) * (one @ Lt @ one) / ((n - 1) * (n - 2))
    term3 = 2.0 / (n - 2) * (one @ Kt @ Lt @ one)
    return (term1 + term2 - term3) / (n * (n - 3))


def np_cka(K, L, hsic):
    return hsic(K, L) / np.sqrt(hsic(K, K) * hsic(L, L))


def np_rbf(X, multiplier, median="pairs"):
    D2 = ((X[:, None, :] - X[None, :, :]) ** 2).sum(-1)
    if median == "full":  # Kornblith et al.'s gram_rbf: np.median of the whole squared-distance matrix
        return np.exp(-D2 / (2 * multiplier**2 * np.median(D2)))
    iu = np.triu_indices(X.shape[0], k=1)
    sigma = multiplier * np.median(np.sqrt(D2[iu]))
    return np.exp(-D2 / (2 * sigma**2))


def pair(n=40, d1=6, d2=9, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d1, generator=g, dtype=torch.float64)
    k = min(2, d1)
    Y = X[:, :k] @ torch.randn(k, d2, generator=g, dtype=torch.float64) + torch.randn(n, d2, generator=g, dtype=torch.float64)
    return X.to(dtype), Y.to(dtype)


def orthogonal(d, seed):
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64))
    return Q


METRICS = [LinearCKA(), LinearCKA(method="feature"), LinearCKA(method="gram"), RBFCKA(), RBFCKA(multiplier=0.4),
           DebiasedCKA(), DebiasedCKA(method="gram")]
IDS = ["linear", "linear-feature", "linear-gram", "rbf", "rbf-0.4", "debiased", "debiased-gram"]


# -- conformance suites (one per registered similarity) ------------------------------------------
class TestLinearCKAConformance(SimilarityConformance):
    component = ("similarity", "linear-cka")
    value_range = (0.0, 1.0)
    identity_is_one = orthogonal_invariant = isotropic_scale_invariant = True


class TestRBFCKAConformance(SimilarityConformance):
    component = ("similarity", "rbf-cka")
    value_range = (0.0, 1.0)
    identity_is_one = orthogonal_invariant = isotropic_scale_invariant = True


class TestDebiasedCKAConformance(SimilarityConformance):
    component = ("similarity", "debiased-cka")
    value_range = (-1.0, 1.0)  # the unbiased HSIC may be slightly negative
    identity_is_one = orthogonal_invariant = isotropic_scale_invariant = True


# -- agreement with the NumPy reference ------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1])
def test_linear_matches_numpy_reference(seed):
    X, Y = pair(seed=seed)
    Xn, Yn = X.numpy(), Y.numpy()
    expected = np_cka(Xn @ Xn.T, Yn @ Yn.T, np_hsic0)
    for method in ("feature", "gram"):
        assert float(LinearCKA(method=method)(X, Y)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_debiased_matches_numpy_reference(seed):
    X, Y = pair(n=30, seed=seed)
    Xn, Yn = X.numpy(), Y.numpy()
    expected = np_cka(Xn @ Xn.T, Yn @ Yn.T, np_hsic1)
    for method in ("feature", "gram"):
        assert float(DebiasedCKA(method=method)(X, Y)) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("median", ["full", "pairs"])
@pytest.mark.parametrize("multiplier", [0.4, 1.0])
def test_rbf_matches_numpy_reference(multiplier, median):
    for n in (30, 31, 32):  # odd and even counts: both median conventions' middle values exercised
        X, Y = pair(n=n)
        expected = np_cka(np_rbf(X.numpy(), multiplier, median), np_rbf(Y.numpy(), multiplier, median), np_hsic0)
        assert float(RBFCKA(multiplier=multiplier, median=median)(X, Y)) == pytest.approx(expected, abs=1e-12)


def test_rbf_default_is_the_reference_codes_full_matrix_median():
    X, Y = pair(n=30)
    expected = np_cka(np_rbf(X.numpy(), 0.4, "full"), np_rbf(Y.numpy(), 0.4, "full"), np_hsic0)
    assert float(RBFCKA(multiplier=0.4)(X, Y)) == pytest.approx(expected, abs=1e-12)
    assert etude.create("similarity", "rbf-cka").config.median == "full"


# -- numerics at extreme scales and with outliers (issue 14, items 12-13) --------------------------
def exact_debiased_cka(X, Y):
    """Debiased linear CKA in exact rational arithmetic (the float inputs taken as exact)."""
    from fractions import Fraction

    n = X.shape[0]

    def centred(M):
        rows = [[Fraction(v) for v in r] for r in M.tolist()]
        mean = [sum(col) / n for col in zip(*rows)]
        return [[v - m for v, m in zip(r, mean)] for r in rows]

    def gram(A):
        return [[sum(a * b for a, b in zip(A[i], A[j])) if i != j else Fraction(0) for j in range(n)] for i in range(n)]

    def hsic1(K, L):
        k1, l1 = [sum(r) for r in K], [sum(r) for r in L]
        trace = sum(K[i][j] * L[i][j] for i in range(n) for j in range(n))
        return trace + sum(k1) * sum(l1) / ((n - 1) * (n - 2)) - Fraction(2, n - 2) * sum(a * b for a, b in zip(k1, l1))

    K, L = gram(centred(X.double())), gram(centred(Y.double()))
    return float(hsic1(K, L)) / float(np.sqrt(float(hsic1(K, K)) * float(hsic1(L, L))))


def outlier_pair(n, shift, dtype):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 4, generator=g, dtype=torch.float64)
    Y = X @ torch.randn(4, 4, generator=g, dtype=torch.float64) + torch.randn(n, 4, generator=g, dtype=torch.float64)
    X[0] += shift
    return X.to(dtype), Y.to(dtype)


@pytest.mark.parametrize(
    ("n", "shift", "dtype", "tol"),
    [(50, 1e4, torch.float32, 1e-4), (10, 1e4, torch.float32, 1e-4), (50, 1e8, torch.float64, 1e-8),
     (50, 1e4, torch.float64, 1e-10)],
)
def test_debiased_auto_is_accurate_with_one_far_outlier(n, shift, dtype, tol):
    X, Y = outlier_pair(n, shift, dtype)
    expected = exact_debiased_cka(X, Y)
    assert float(DebiasedCKA()(X, Y)) == pytest.approx(expected, abs=tol)
    assert float(DebiasedCKA(method="gram")(X, Y)) == pytest.approx(expected, abs=tol)


def test_debiased_auto_keeps_the_feature_form_on_ordinary_data():
    X, Y = pair(n=500, d1=4, d2=4, dtype=torch.float32)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    assert DebiasedCKA.feature_form_is_accurate(Xc / Xc.abs().max(), Yc / Yc.abs().max())


@pytest.mark.parametrize("scale", [3e5, 1e19, 1e-19])
@pytest.mark.parametrize("metric", METRICS, ids=IDS)
def test_large_and_small_scale_float32_matches_float64(metric, scale):
    X, Y = pair(n=400, d1=32, d2=16)
    expected = float(metric(X, Y))
    assert float(metric((X * scale).float(), Y.float())) == pytest.approx(expected, abs=1e-4)


# -- properties ---------------------------------------------------------------------------------
shapes = st.tuples(st.integers(6, 40), st.integers(1, 12), st.integers(1, 12), st.integers(0, 10_000))
hyp = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@hyp
@given(shapes)
def test_self_similarity_is_one(shape):
    n, d1, _, seed = shape
    X, _ = pair(n, d1, 2, seed)
    for metric in METRICS:
        assert float(metric(X, X)) == pytest.approx(1.0, abs=1e-10)


@hyp
@given(shapes)
def test_symmetry_and_range(shape):
    n, d1, d2, seed = shape
    X, Y = pair(n, d1, d2, seed)
    for metric in METRICS:
        assert float(metric(X, Y)) == pytest.approx(float(metric(Y, X)), abs=1e-12)
    for metric in METRICS[:5]:  # biased estimators lie in [0, 1]
        value = float(metric(X, Y))
        assert -1e-12 <= value <= 1 + 1e-12


@hyp
@given(shapes, st.floats(0.01, 100.0), st.floats(-50.0, 50.0))
def test_orthogonal_scale_translation_invariance(shape, scale, shift):
    n, d1, d2, seed = shape
    X, Y = pair(n, d1, d2, seed)
    Q = orthogonal(d1, seed + 1)
    Xt = scale * X @ Q + shift
    for metric in METRICS:
        assert float(metric(Xt, Y)) == pytest.approx(float(metric(X, Y)), abs=1e-9)
        assert float(metric(Y, Xt)) == pytest.approx(float(metric(Y, X)), abs=1e-9)


@hyp
@given(shapes)
def test_feature_and_gram_paths_agree(shape):
    n, d1, d2, seed = shape
    X, Y = pair(n, d1, d2, seed)
    assert float(LinearCKA(method="feature")(X, Y)) == pytest.approx(float(LinearCKA(method="gram")(X, Y)), abs=1e-11)
    assert float(DebiasedCKA(method="feature")(X, Y)) == pytest.approx(float(DebiasedCKA(method="gram")(X, Y)), abs=1e-11)


def test_feature_and_gram_paths_agree_float32():
    X, Y = pair(200, 30, 50, 3, dtype=torch.float32)
    for cls in (LinearCKA, DebiasedCKA):
        torch.testing.assert_close(cls(method="feature")(X, Y), cls(method="gram")(X, Y), atol=1e-5, rtol=0)


def test_auto_picks_the_cheaper_path():
    from etude_cka._hsic import prefer_features

    assert prefer_features(10_000, 512, 512) and not prefer_features(100, 4096, 4096)


def test_not_invariant_to_general_invertible_map():
    X, Y = pair(200, 6, 6, 0)
    A = torch.diag(torch.tensor([10.0, 1.0, 1.0, 1.0, 1.0, 0.1], dtype=torch.float64))
    for metric in (LinearCKA(), DebiasedCKA()):
        assert abs(float(metric(X @ A, Y)) - float(metric(X, Y))) > 0.05
        assert float(metric(X, X @ A)) < 0.9


def test_rbf_tends_to_linear_for_large_bandwidth():
    X, Y = pair(60, 5, 7, 2)
    assert float(RBFCKA(multiplier=1e3)(X, Y)) == pytest.approx(float(LinearCKA()(X, Y)), abs=1e-5)
    assert abs(float(RBFCKA(multiplier=0.5)(X, Y)) - float(LinearCKA()(X, Y))) > 1e-3


def test_debiased_near_zero_on_independent_data_biased_not():
    g = torch.Generator().manual_seed(0)
    biased, debiased = [], []
    for _ in range(20):
        X = torch.randn(32, 64, generator=g, dtype=torch.float64)
        Y = torch.randn(32, 64, generator=g, dtype=torch.float64)
        biased.append(float(LinearCKA()(X, Y)))
        debiased.append(float(DebiasedCKA()(X, Y)))
    assert np.mean(biased) > 0.3  # the small-n bias of the biased estimator (pitfall 2)
    assert abs(np.mean(debiased)) < 0.02
    assert min(debiased) < 0  # the unbiased estimator can be negative


# -- minibatch accumulation ---------------------------------------------------------------------
@hyp
@given(shapes, st.integers(1, 9))
def test_minibatch_exact_equals_full_batch(shape, batches):
    n, d1, d2, seed = shape
    X, Y = pair(n + 4, d1, d2, seed)
    X = X + 100.0  # a large offset: the streaming sums must still be exact
    acc = MinibatchCKA(mode="exact")
    for idx in torch.tensor_split(torch.arange(X.shape[0]), batches):
        if idx.numel():
            acc.update(X[idx], Y[idx])
    assert float(acc.compute()) == pytest.approx(float(DebiasedCKA()(X, Y)), abs=1e-9)


def test_minibatch_average_one_batch_equals_full_and_many_batches_close():
    X, Y = pair(2000, 8, 8, 5)
    one = MinibatchCKA()
    one.update(X, Y)
    assert float(one.compute()) == pytest.approx(float(DebiasedCKA()(X, Y)), abs=1e-12)
    many = MinibatchCKA()
    for start in range(0, 2000, 250):
        many.update(X[start:start + 250], Y[start:start + 250])
    assert float(many.compute()) == pytest.approx(float(DebiasedCKA()(X, Y)), abs=0.02)
    # averaging per-batch CKA values instead of HSIC terms is a different quantity
    assert many.n == 2000 and many.batches == 8


def test_minibatch_errors():
    acc = MinibatchCKA()
    with pytest.raises(ValueError, match="no batches"):
        acc.compute()
    X, Y = pair(10, 3, 3, 0)
    with pytest.raises(ValueError, match="at least 4"):
        acc.update(X[:3], Y[:3])
    acc.update(X, Y)
    with pytest.raises(ValueError, match="widths changed"):
        acc.update(X[:, :2], Y)
    with pytest.raises(ValueError, match="mode"):
        MinibatchCKA(mode="mean")
    with pytest.raises(ValueError, match="same n"):
        MinibatchCKA().update(X, Y[:-1])


# -- input checks: clear errors, never NaN -------------------------------------------------------
@pytest.mark.parametrize("metric", METRICS, ids=IDS)
def test_constant_representation_is_a_clear_error(metric):
    X, _ = pair(20, 4, 4, 0)
    const = torch.full((20, 4), 3.25, dtype=torch.float64)
    with pytest.raises(ValueError, match="zero variance"):
        metric(const, X)
    with pytest.raises(ValueError, match="zero variance"):
        metric(X, const.float())


@pytest.mark.parametrize("metric", METRICS, ids=IDS)
def test_one_constant_column_is_fine(metric):
    X, Y = pair(20, 4, 4, 0)
    X[:, 1] = 7.0
    assert torch.isfinite(metric(X, Y))


@pytest.mark.parametrize("metric", METRICS, ids=IDS)
def test_bad_inputs(metric):
    X, Y = pair(20, 4, 4, 0)
    with pytest.raises(ValueError, match="same n"):
        metric(X, Y[:-2])
    with pytest.raises(ValueError, match="2-D"):
        metric(X[:, 0], Y)
    with pytest.raises(ValueError, match="at least"):
        metric(X[:1], Y[:1])
    bad = X.clone()
    bad[3, 1] = float("inf")
    with pytest.raises(ValueError, match="NaN or inf"):
        metric(X, bad)
    with pytest.raises(TypeError, match="torch.Tensor"):
        metric(X.numpy(), Y)


def test_debiased_needs_four_examples():
    X, Y = pair(10, 3, 3, 0)
    with pytest.raises(ValueError, match="at least 4 examples, got n=3"):
        DebiasedCKA()(X[:3], Y[:3])
    assert torch.isfinite(DebiasedCKA()(X[:4], Y[:4]))


def test_rbf_zero_median_distance_is_a_clear_error():
    X = torch.zeros(10, 3, dtype=torch.float64)
    X[0, 0] = 1.0  # only one example differs: the median pairwise distance is 0
    with pytest.raises(ValueError, match="median pairwise distance"):
        RBFCKA()(X, torch.randn(10, 3, dtype=torch.float64))


def test_config_errors_name_the_field():
    with pytest.raises(etude.ConfigError, match="method"):
        etude.create("similarity", "linear-cka", method="fast")
    with pytest.raises(etude.ConfigError, match="multiplier"):
        etude.create("similarity", "rbf-cka", multiplier=-1.0)


def test_gradients_match_between_paths():
    X, Y = pair(30, 4, 5, 1)
    grads = []
    for method in ("feature", "gram"):
        Xg = X.clone().requires_grad_(True)
        DebiasedCKA(method=method)(Xg, Y).backward()
        grads.append(Xg.grad)
    torch.testing.assert_close(grads[0], grads[1])


@pytest.mark.gpu
def test_metrics_on_cuda_match_cpu():
    X, Y = pair(500, 64, 32, 0)
    for metric in (LinearCKA(), DebiasedCKA(), RBFCKA()):
        torch.testing.assert_close(metric(X.cuda(), Y.cuda()).cpu(), metric(X, Y))
    acc = MinibatchCKA(mode="exact")
    acc.update(X.cuda(), Y.cuda())
    torch.testing.assert_close(acc.compute().cpu(), DebiasedCKA()(X, Y))


def test_symmetric_block_split_of_self_products_is_exact():
    from etude_cka._hsic import cross_fro2

    X = torch.randn(50, 1030, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert float(cross_fro2(X, X)) == pytest.approx(float((X.T @ X).pow(2).sum()), rel=1e-12)
    Y = X[:, :700] @ torch.randn(700, 600, dtype=torch.float64)
    assert float(LinearCKA(method="feature")(X, Y)) == pytest.approx(float(LinearCKA(method="gram")(X, Y)), abs=1e-12)
    assert float(DebiasedCKA(method="feature")(X, Y)) == pytest.approx(float(DebiasedCKA(method="gram")(X, Y)), abs=1e-12)
