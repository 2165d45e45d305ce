"""Kernel-target alignment: identities, invariances and a NumPy reference written from the formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from etude.testing.conformance import SimilarityConformance
from etude_feature_alignment import KernelTargetAlignment, TangentKernel, centre_blocks, kernel_alignment, label_kernel


class TestKernelTargetAlignmentConformance(SimilarityConformance):
    component = ("similarity", "kernel-target-alignment")
    d1, d2 = 12, 3  # tangent features (n, C*P) with C = 3, P = 4 against (n, C) targets
    symmetric = False
    value_range = (-1.0, 1.0)
    isotropic_scale_invariant = True


class TestTraceModeConformance(SimilarityConformance):
    component = ("similarity", "kernel-target-alignment")
    d1, d2 = 12, 3
    symmetric = False
    value_range = (0.0, 1.0)
    isotropic_scale_invariant = True

    def make_metric(self):
        return self.create(mode="trace")


def features(seed=0, n=12, C=3, P=5):
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % C
    Y = torch.nn.functional.one_hot(y, C).double()
    phi = torch.randn(n, C, P, generator=g, dtype=torch.float64) + 0.7 * Y[:, :, None]
    return phi, Y


def numpy_full(phi: np.ndarray, Y: np.ndarray) -> float:
    n, C, P = phi.shape
    H = np.eye(n) - np.ones((n, n)) / n
    K = phi.reshape(n * C, P) @ phi.reshape(n * C, P).T
    HI = np.kron(H, np.eye(C))  # example-major order: (H x I_C)
    Kc = HI @ K @ HI
    y = (Y - Y.mean(0)).reshape(n * C)
    return float(y @ Kc @ y / (np.linalg.norm(Kc) * (y @ y)))


def numpy_trace(phi: np.ndarray, Y: np.ndarray) -> float:
    n = phi.shape[0]
    H = np.eye(n) - np.ones((n, n)) / n
    Ktr = np.einsum("icp,jcp->ij", phi, phi)
    Kc, Lc = H @ Ktr @ H, H @ (Y @ Y.T) @ H
    return float((Kc * Lc).sum() / (np.linalg.norm(Kc) * np.linalg.norm(Lc)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_both_modes_equal_numpy_reference(seed):
    phi, Y = features(seed)
    n, C, P = phi.shape
    a_full = KernelTargetAlignment()(phi.reshape(n, C * P), Y)
    a_tr = KernelTargetAlignment(mode="trace")(phi.reshape(n, C * P), Y)
    assert float(a_full) == pytest.approx(numpy_full(phi.numpy(), Y.numpy()), abs=1e-12)
    assert float(a_tr) == pytest.approx(numpy_trace(phi.numpy(), Y.numpy()), abs=1e-12)
    K = phi.reshape(n * C, P) @ phi.reshape(n * C, P).T
    assert float(kernel_alignment(K, label_kernel(Y), num_outputs=C)) == pytest.approx(float(a_full), abs=1e-12)
    Ktr = torch.einsum("icp,jcp->ij", phi, phi)
    assert float(kernel_alignment(Ktr, label_kernel(Y, "trace"))) == pytest.approx(float(a_tr), abs=1e-12)


def test_perfect_alignment_is_one_and_scale_invariant():
    phi, Y = features()
    y = (Y - Y.mean(0)).reshape(-1, 1)
    L = y @ y.T
    assert float(kernel_alignment(L, label_kernel(Y), num_outputs=3)) == pytest.approx(1.0, abs=1e-12)
    n, C, P = phi.shape
    K = phi.reshape(n * C, P) @ phi.reshape(n * C, P).T
    a = kernel_alignment(K, label_kernel(Y), num_outputs=C)
    for s in (1e-6, 3.0, 1e5):
        assert float(kernel_alignment(s * K, label_kernel(Y), num_outputs=C)) == pytest.approx(float(a), abs=1e-12)
    assert -1.0 <= float(a) <= 1.0 and float(a) > 0.05


def test_joint_permutation_invariance_of_precomputed_kernels():
    phi, Y = features(1)
    n, C, P = phi.shape
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(5))
    a = KernelTargetAlignment()(phi.reshape(n, -1), Y)
    b = KernelTargetAlignment()(phi[perm].reshape(n, -1), Y[perm])
    assert float(a) == pytest.approx(float(b), abs=1e-12)
    K = phi.reshape(n * C, P) @ phi.reshape(n * C, P).T
    idx = (perm[:, None] * C + torch.arange(C)).reshape(-1)  # permute examples, keep outputs
    assert float(kernel_alignment(K[idx][:, idx], label_kernel(Y[perm]), num_outputs=C)) == pytest.approx(float(a), abs=1e-12)


def test_centring_idempotent_and_equals_centred_features():
    phi, _ = features(2)
    n, C, P = phi.shape
    K = phi.reshape(n * C, P) @ phi.reshape(n * C, P).T
    Kc = centre_blocks(K, C)
    torch.testing.assert_close(centre_blocks(Kc, C), Kc, atol=1e-12, rtol=0)
    phic = phi - phi.mean(0, keepdim=True)
    torch.testing.assert_close(Kc, phic.reshape(n * C, P) @ phic.reshape(n * C, P).T, atol=1e-12, rtol=0)
    H = torch.eye(n, dtype=torch.float64) - 1.0 / n
    HI = torch.kron(H, torch.eye(C, dtype=torch.float64))
    torch.testing.assert_close(Kc, HI @ K @ HI, atol=1e-12, rtol=0)


def test_alignment_of_a_network_tangent_kernel_matches_features():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3)).double()
    x = torch.randn(10, 4, dtype=torch.float64)
    Y = torch.nn.functional.one_hot(torch.arange(10) % 3, 3).double()
    tk = TangentKernel(net)
    J = tk.jacobian(x)
    a_feat = KernelTargetAlignment()(J.reshape(10, -1), Y)
    a_kern = kernel_alignment(tk.gram(x), label_kernel(Y), num_outputs=3)
    assert float(a_feat) == pytest.approx(float(a_kern), abs=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="multiple of C"):
        KernelTargetAlignment()(torch.randn(8, 7), torch.randn(8, 3))
    with pytest.raises(ValueError, match="same shape"):
        kernel_alignment(torch.eye(4), torch.eye(3))
    with pytest.raises(ValueError, match="centred kernel is zero"):
        kernel_alignment(torch.ones(4, 4), torch.eye(4))
