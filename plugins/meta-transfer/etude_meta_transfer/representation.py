"""Learning the encoder with the structural parameter: the regret's gradient in the rotation angle.

Setting (official notebook ``bivariate-continuous-multimodal/03_encoder_learning``): a spline SCM
A -> B (etude-scm ``spline-scm``), observed through a fixed rotation ``(X, Y) = R(phi)(A, B)``,
``phi = pi/4``; a :class:`~etude_meta_transfer.encoder.RotationEncoder` gives ``(U, V) = R(theta)(X, Y)``
and the hypotheses are G1 = p(U) p(V | U), G2 = p(V) p(U | V), each conditional a
:class:`~etude_meta_transfer.continuous.MixtureDensityNetwork` (10 components, capacity 32).

One meta-step (the notebook's loop, with the paper's regret):

1. Preheat: 20 Adam steps (lr 0.01, a fresh optimiser) of each conditional on 1000 fresh training
   samples (A ~ N(0, 2^2)), encoded by the current encoder without gradient.
2. A transfer: ``A ~ N(m, 2^2)``, ``m ~ U(-4, 4)`` (etude-scm ``replace_mechanism``), 1000 samples,
   rotated by ``phi`` and encoded with gradient in theta.
3. Marginals: a 10-component Gaussian mixture fitted by EM to the encoded U (for G1) and V (for G2);
   as in the notebook, their log-likelihoods enter as constants (no theta-gradient: a baseline).
4. Online log-likelihood: each conditional is fine-tuned by 5 Adam steps (lr 1e-3) on the transfer
   samples, every step's summed log-likelihood taken **before** the step;
   ``log L_G = sum_t sum_i log p_t(.|.) + 5 * sum_i log q(.)``. The fine-tuning is written
   functionally (parameters as tensors, Adam in closed form), so the modules are never changed and
   the regret is a differentiable function of theta *through* the adaptation.
5. ``R = -logsumexp(logsigmoid(gamma) + log L1, logsigmoid(-gamma) + log L2)`` (the paper's regret);
   gamma takes the closed-form gradient ``sigma(gamma) - P(G1 | D)``, theta autograd's ``dR/dtheta``;
   both by Adam (gamma lr 1e-3, theta lr 0.01; the notebook's), 1000 meta-steps.

Differences from the notebook: its loss is ``logsumexp(logsigmoid(a) + mean NLL_1, logsigmoid(-a) +
mean NLL_2)``, a mixture of exp(NLL) (the per-sample mean, the steps averaged), not of likelihoods;
its theta-gradient ignores the dependence of the fine-tuned parameters on theta (in-place Adam steps,
which torch >= 1.5 also refuses to backpropagate through). We follow the paper's regret and
differentiate through the fine-tuning (checked against finite differences in the tests).

References:
    Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle Causal Mechanisms".
    ICLR 2020. arXiv:1901.10912.

Example:
    >>> out = encoder_meta_train(0, meta_steps=2, samples=50, preheat_steps=2, em_iters=5)
    >>> sorted(out)
    ['sigma_gamma', 'theta']
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from etude_scm import LinearGaussian, create_spline_scm

from .continuous import MixtureDensityNetwork, fit_gaussian_mixture, gaussian_mixture_log_prob
from .encoder import RotationEncoder, rotation_matrix
from .episodes import make_meta_optimizer
from .regret import regret_grad, transfer_regret

__all__ = ["mdn_log_prob", "online_log_likelihood_fn", "encoder_regret", "encoder_meta_train"]

_LOG_2PI = math.log(2 * math.pi)


def mdn_log_prob(mdn: MixtureDensityNetwork, params: dict[str, Tensor], y: Tensor, x: Tensor) -> Tensor:
    """``log p(y | x)`` of ``mdn`` with its body's parameters replaced by ``params`` (functional)."""
    out = torch.func.functional_call(mdn.body, params, (x.unsqueeze(-1),))
    logits, mu, log_sigma = out.chunk(3, -1)
    z = (y.unsqueeze(-1) - mu) * torch.exp(-log_sigma)
    comp = -0.5 * z * z - log_sigma - 0.5 * _LOG_2PI
    return (logits.log_softmax(-1) + comp).logsumexp(-1)


def online_log_likelihood_fn(
    mdn: MixtureDensityNetwork, x: Tensor, y: Tensor, steps: int, lr: float, *, create_graph: bool = True,
) -> Tensor:
    """``sum_t sum_i log p_t(y_i | x_i)`` over ``steps`` Adam fine-tuning steps, each scored before its step.

    Adam (betas 0.9, 0.999, eps 1e-8, ``torch.optim.Adam``'s formulas) runs on copies of the
    parameters, so ``mdn`` is untouched; with ``create_graph`` the result is differentiable in
    ``x`` and ``y`` through the adapted parameters.
    """
    params = {k: p.detach().requires_grad_(True) for k, p in mdn.body.named_parameters()}
    m = {k: torch.zeros_like(p) for k, p in params.items()}
    v = {k: torch.zeros_like(p) for k, p in params.items()}
    total = x.new_zeros(())
    for t in range(1, steps + 1):
        ll = mdn_log_prob(mdn, params, y, x)
        total = total + ll.sum()
        if t == steps:
            break  # the last step's update is never scored
        grads = torch.autograd.grad(-ll.mean(), list(params.values()), create_graph=create_graph, retain_graph=True)
        new = {}
        for (k, p), g in zip(params.items(), grads):
            m[k] = 0.9 * m[k] + 0.1 * g
            v[k] = 0.999 * v[k] + 0.001 * g * g
            denom = torch.sqrt(v[k] / (1 - 0.999**t) + 1e-30) + 1e-8  # 1e-30: no inf derivative at g = 0
            new[k] = p - lr * (m[k] / (1 - 0.9**t)) / denom
        params = new
    return total


def encoder_regret(
    gamma: Tensor, encoded: Tensor, g1: MixtureDensityNetwork, g2: MixtureDensityNetwork,
    marginal1: Tensor | float, marginal2: Tensor | float, *, steps: int = 5, lr: float = 1e-3,
) -> tuple[Tensor, Tensor, Tensor]:
    """The regret of one transfer, differentiable in the encoded samples ``(n, 2)`` (columns U, V).

    ``marginal1``/``marginal2``: summed log-likelihoods of U and V under their fitted marginals
    (constants, counted once per fine-tuning step). Returns ``(R, log L1, log L2)``.
    """
    u, v = encoded[:, 0], encoded[:, 1]
    log_l1 = online_log_likelihood_fn(g1, u, v, steps, lr) + steps * marginal1
    log_l2 = online_log_likelihood_fn(g2, v, u, steps, lr) + steps * marginal2
    return transfer_regret(gamma, log_l1, log_l2), log_l1, log_l2


def _preheat(mdn: MixtureDensityNetwork, batches: list[tuple[Tensor, Tensor]], lr: float) -> None:
    """Adam (a fresh optimiser, as the notebook's ``train_nll``) on ``-mean log p(y | x)`` per batch."""
    opt = torch.optim.Adam(mdn.parameters(), lr=lr)
    for x, y in batches:
        loss = -mdn.log_prob(y, x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def encoder_meta_train(
    seed: int, *, meta_steps: int = 1000, samples: int = 1000, mixing_angle: float = math.pi / 4,
    init_angle: float = 0.0, preheat_steps: int = 20, preheat_lr: float = 0.01, finetune_steps: int = 5,
    finetune_lr: float = 1e-3, encoder_lr: float = 0.01, meta_lr: float = 1e-3, components: int = 10,
    capacity: int = 32, em_iters: int = 50, shift: float = 4.0, marginal_gradient: bool = True,
) -> dict[str, list[float]]:
    """One spline SCM A -> B seen through ``R(mixing_angle)``; learn theta and gamma. Per-step curves.

    Returns ``theta`` and ``sigma_gamma`` after every meta-step. The correct angles are
    ``-mixing_angle + k pi/2``.
    """
    g = torch.Generator().manual_seed(int(seed))
    torch.manual_seed(int(seed))  # MDN initialisation
    scm = create_spline_scm("A->B", g)
    mix = rotation_matrix(torch.tensor(float(mixing_angle)))
    encoder = RotationEncoder(init_angle=init_angle)
    g1, g2 = MixtureDensityNetwork(components, capacity), MixtureDensityNetwork(components, capacity)
    gamma = torch.zeros(1, dtype=torch.float64)
    gamma_opt = make_meta_optimizer("adam", meta_lr)
    theta_opt = torch.optim.Adam(encoder.parameters(), lr=encoder_lr)

    def observe(values) -> Tensor:
        return torch.stack([values["A"], values["B"]], -1).float() @ mix.T

    thetas, sigmas = [], []
    for _ in range(meta_steps):
        with torch.no_grad():
            train = [encoder(observe(scm.sample(samples, g))) for _ in range(preheat_steps)]
        _preheat(g1, [(t[:, 0], t[:, 1]) for t in train], preheat_lr)
        _preheat(g2, [(t[:, 1], t[:, 0]) for t in train], preheat_lr)
        m = float(torch.empty(()).uniform_(-shift, shift, generator=g))
        with torch.no_grad():
            obs = observe(scm.replace_mechanism("A", LinearGaussian((), m, 2.0)).sample(samples, g))
        enc = encoder(obs)
        u, v = enc[:, 0].double(), enc[:, 1].double()
        fit1 = fit_gaussian_mixture(u.detach(), components, em_iters)
        fit2 = fit_gaussian_mixture(v.detach(), components, em_iters)
        if marginal_gradient:  # at the EM fit, d/dtheta of the fitted log-likelihood is the partial one
            marg1, marg2 = gaussian_mixture_log_prob(u, fit1).sum(), gaussian_mixture_log_prob(v, fit2).sum()
        else:  # the notebook's baseline: a constant
            with torch.no_grad():
                marg1, marg2 = gaussian_mixture_log_prob(u, fit1).sum(), gaussian_mixture_log_prob(v, fit2).sum()
        marg1, marg2 = marg1.float(), marg2.float()
        regret, log_l1, log_l2 = encoder_regret(
            gamma.float(), enc, g1, g2, marg1, marg2, steps=finetune_steps, lr=finetune_lr,
        )
        theta_opt.zero_grad()
        regret.sum().backward()
        if torch.isfinite(encoder.theta.grad).all():
            theta_opt.step()
        grad_gamma = regret_grad(gamma, log_l1.detach().double().reshape(1), log_l2.detach().double().reshape(1))
        gamma = gamma_opt.step(gamma, grad_gamma)
        thetas.append(float(encoder.theta.detach()))
        sigmas.append(float(torch.sigmoid(gamma)))
    return {"theta": thetas, "sigma_gamma": sigmas}
