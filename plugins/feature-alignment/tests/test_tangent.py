"""TangentKernel against explicitly stacked per-example autograd Jacobians (the loop lives in the test)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from etude_feature_alignment import TangentKernel, full_to


def tiny_mlp(seed: int = 0, d: int = 3, h: int = 5, C: int = 3) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, h), nn.Tanh(), nn.Linear(h, h), nn.Softplus(), nn.Linear(h, C)).double()


def explicit_jacobian(model: nn.Module, x: torch.Tensor, names=None) -> torch.Tensor:
    """(n, C, P): one autograd.grad per example and output, P in named_parameters order."""
    params = [p for n, p in model.named_parameters() if names is None or n in names]
    rows = []
    for i in range(x.shape[0]):
        out = model(x[i:i + 1])[0]
        per_c = []
        for c in range(out.shape[0]):
            grads = torch.autograd.grad(out[c], params, retain_graph=True)
            per_c.append(torch.cat([g.reshape(-1) for g in grads]))
        rows.append(torch.stack(per_c))
    return torch.stack(rows)


@pytest.fixture
def setup():
    model = tiny_mlp()
    x1 = torch.randn(7, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    x2 = torch.randn(4, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    return model, x1, x2


def test_jacobian_equals_explicit(setup):
    model, x1, _ = setup
    J = TangentKernel(model).jacobian(x1)
    torch.testing.assert_close(J, explicit_jacobian(model, x1), atol=1e-10, rtol=0)


@pytest.mark.parametrize("implementation", ["jacobian", "ntk-vp"])
@pytest.mark.parametrize("chunk_size", [1, 3, 64])
def test_gram_equals_explicit_cross_and_self(setup, implementation, chunk_size):
    model, x1, x2 = setup
    tk = TangentKernel(model, chunk_size=chunk_size, implementation=implementation)
    J1, J2 = explicit_jacobian(model, x1), explicit_jacobian(model, x2)
    n, C, P = J1.shape
    K_ref = J1.reshape(n * C, P) @ J2.reshape(-1, P).T
    torch.testing.assert_close(tk.gram(x1, x2), K_ref, atol=1e-8, rtol=0)
    K_self = J1.reshape(n * C, P) @ J1.reshape(n * C, P).T
    torch.testing.assert_close(tk.gram(x1), K_self, atol=1e-8, rtol=0)
    # trace / diagonal modes are views of the full Gram
    diag_ref = torch.einsum("icp,jcp->ijc", J1, J2)
    torch.testing.assert_close(tk.gram(x1, x2, mode="diagonal"), diag_ref, atol=1e-8, rtol=0)
    torch.testing.assert_close(tk.gram(x1, x2, mode="trace"), diag_ref.sum(-1), atol=1e-8, rtol=0)
    torch.testing.assert_close(full_to(tk.gram(x1, x2), "trace", num_outputs=C), diag_ref.sum(-1), atol=1e-8, rtol=0)


def test_gram_matches_finite_differences():
    """An independent check of the Jacobian itself: central differences in float64."""
    model = tiny_mlp(seed=3, h=4, C=2)
    x = torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    flat = torch.nn.utils.parameters_to_vector(model.parameters()).detach()
    eps = 1e-6
    cols = []
    for k in range(flat.numel()):
        e = torch.zeros_like(flat)
        e[k] = eps
        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(flat + e, model.parameters())
            up = model(x)
            torch.nn.utils.vector_to_parameters(flat - e, model.parameters())
            down = model(x)
        cols.append(((up - down) / (2 * eps)).reshape(-1))
    torch.nn.utils.vector_to_parameters(flat, model.parameters())
    J = torch.stack(cols, dim=1)  # (n C, P), example-major rows
    torch.testing.assert_close(TangentKernel(model).gram(x), J @ J.T, atol=1e-6, rtol=1e-6)


def test_layer_grams_sum_to_full_and_selection(setup):
    model, x1, _ = setup
    tk = TangentKernel(model)
    layers = tk.layer_grams(x1)
    assert list(layers) == ["0", "2", "4"]
    torch.testing.assert_close(sum(layers.values()), tk.gram(x1), atol=1e-10, rtol=0)
    only = TangentKernel(model, params=["2"])  # a layer by name
    assert only.names == ["2.weight", "2.bias"] and only.num_params == 30
    torch.testing.assert_close(only.gram(x1), layers["2"], atol=1e-12, rtol=0)
    J = explicit_jacobian(model, x1, names={"4.weight"})
    torch.testing.assert_close(TangentKernel(model, params=["4.weight"]).jacobian(x1), J, atol=1e-10, rtol=0)


def test_trace_identities(setup):
    model, x1, _ = setup
    tk = TangentKernel(model, chunk_size=2)
    J = explicit_jacobian(model, x1)
    n, C, P = J.shape
    by_examples = sum(float(J[i].pow(2).sum()) for i in range(n))
    JtJ = J.reshape(n * C, P).T @ J.reshape(n * C, P)  # parameter-space (P, P)
    assert tk.trace(x1).dtype == torch.float64
    assert float(tk.trace(x1)) == pytest.approx(by_examples, rel=1e-12)
    assert float(tk.trace(x1)) == pytest.approx(float(torch.trace(JtJ)), rel=1e-12)
    assert float(tk.trace(x1)) == pytest.approx(float(torch.diagonal(tk.gram(x1)).sum()), rel=1e-12)


def test_ordering_hand_case():
    """f(x) = W x with W (2, 2): df_c(x)/dW_{ab} = delta_{ca} x_b, so K[(i,c),(j,c')] = delta_{cc'} <x_i, x_j>."""
    model = nn.Linear(2, 2, bias=False).double()
    x = torch.tensor([[1.0, 2.0], [3.0, -1.0]], dtype=torch.float64)
    K = TangentKernel(model).gram(x)
    g = x @ x.T  # [[5, 1], [1, 10]]
    expected = torch.tensor([[g[0, 0], 0, g[0, 1], 0],
                             [0, g[0, 0], 0, g[0, 1]],
                             [g[1, 0], 0, g[1, 1], 0],
                             [0, g[1, 0], 0, g[1, 1]]], dtype=torch.float64)
    torch.testing.assert_close(K, expected)
    # the label vector in the same order: Y.reshape(n * C), row i * C + c
    Y = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    assert Y.reshape(-1).tolist() == [1.0, 0.0, 0.0, 1.0]


def test_dtype_follows_model_and_one_output():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    x = torch.randn(5, 3)
    tk = TangentKernel(model)
    assert tk.gram(x).dtype == torch.float32 and tk.gram(x).shape == (5, 5)
    squeezed = nn.Sequential(model, nn.Flatten(0))  # (n,) outputs are C = 1
    torch.testing.assert_close(TangentKernel(squeezed).gram(x), tk.gram(x))


def test_batchnorm_in_train_mode_raises():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    x = torch.randn(6, 3)
    with pytest.raises(ValueError, match="BatchNorm.*train mode.*model.eval"):
        TangentKernel(model).gram(x)
    model.eval()
    assert TangentKernel(model).gram(x).shape == (12, 12)


def test_bad_inputs_have_clear_errors():
    model = tiny_mlp()
    with pytest.raises(ValueError, match="neither a parameter nor a layer"):
        TangentKernel(model, params=["nope"])
    with pytest.raises(ValueError, match="chunk_size"):
        TangentKernel(model, chunk_size=0)
    with pytest.raises(ValueError, match="implementation"):
        TangentKernel(model, implementation="fast")
    with pytest.raises(ValueError, match="mode must be one of"):
        TangentKernel(model).gram(torch.randn(2, 3, dtype=torch.float64), mode="block")
    with pytest.raises(ValueError, match="NaN or inf"):
        TangentKernel(model).gram(torch.full((2, 3), float("nan"), dtype=torch.float64))


def test_kernel_follows_training():
    model = tiny_mlp()
    x = torch.randn(4, 3, dtype=torch.float64)
    tk = TangentKernel(model)
    before = tk.gram(x)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.5)
    assert not torch.allclose(before, tk.gram(x))


def _explicit_gram(model, x):
    J = explicit_jacobian(model, x)
    return J.reshape(-1, J.shape[-1]) @ J.reshape(-1, J.shape[-1]).T


@pytest.mark.parametrize("implementation", ["jacobian", "ntk-vp"])
def test_doubly_registered_modules_and_tied_weights(implementation):
    """model/cnn registers its blocks twice (``conv_blocks`` and ``blocks``); tied weights share a Parameter.

    The Gram is right in both cases and the model keeps its trainable Parameters afterwards.
    """
    import etude

    torch.manual_seed(0)
    cnn = etude.create("model", "cnn", input_shape=(12,), out_features=3, channels=[4, 4], strides=[1, 2]).double()
    x = torch.randn(3, 12, dtype=torch.float64)
    torch.testing.assert_close(TangentKernel(cnn, implementation=implementation).gram(x), _explicit_gram(cnn, x),
                               atol=1e-10, rtol=0)
    assert all(isinstance(p, nn.Parameter) for p in cnn.parameters()) and cnn(x).requires_grad
    a, b = nn.Linear(3, 3).double(), nn.Linear(3, 3).double()
    b.weight = a.weight
    tied = nn.Sequential(a, nn.Tanh(), b)
    x = torch.randn(4, 3, dtype=torch.float64)
    torch.testing.assert_close(TangentKernel(tied, implementation=implementation).gram(x), _explicit_gram(tied, x),
                               atol=1e-10, rtol=0)
    assert isinstance(b.weight, nn.Parameter) and b.weight is a.weight and tied(x).requires_grad
