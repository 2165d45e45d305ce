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

__all__ = [
    "mdn_log_prob", "online_log_likelihood_fn", "stack_hypotheses", "pair_log_prob", "pair_online_log_likelihood",
    "encoder_regret", "encoder_meta_train",
]

_LOG_2PI = math.log(2 * math.pi)


def mdn_log_prob(mdn: MixtureDensityNetwork, params: dict[str, Tensor], y: Tensor, x: Tensor) -> Tensor:
    """``log p(y | x)`` of ``mdn`` with its body's parameters replaced by ``params`` (functional)."""
    out = torch.func.functional_call(mdn.body, params, (x.unsqueeze(-1),))
    logits, mu, log_sigma = out.chunk(3, -1)
    z = (y.unsqueeze(-1) - mu) * torch.exp(-log_sigma)
    comp = -0.5 * z * z - log_sigma - 0.5 * _LOG_2PI
    return (logits.log_softmax(-1) + comp).logsumexp(-1)


def _adam_step(params: dict, grads, m: dict, v: dict, t: int, lr: float) -> dict:
    """One Adam step written out (``torch.optim.Adam``'s defaults), differentiable in ``grads``."""
    new = {}
    for (k, p), g in zip(params.items(), grads):
        m[k] = 0.9 * m[k] + 0.1 * g
        v[k] = 0.999 * v[k] + 0.001 * g * g
        denom = torch.sqrt(v[k] / (1 - 0.999**t) + 1e-30) + 1e-8  # 1e-30: no inf derivative at g = 0
        new[k] = p - lr * (m[k] / (1 - 0.9**t)) / denom
    return new


def _online(log_prob, params: dict, steps: int, lr: float, create_graph: bool) -> Tensor:
    m = {k: torch.zeros_like(p) for k, p in params.items()}
    v = {k: torch.zeros_like(p) for k, p in params.items()}
    total = 0.0
    for t in range(1, steps + 1):
        ll = log_prob(params)  # (..., n)
        total = total + ll.sum(-1)
        if t == steps:
            break  # the last step's update is never scored
        grads = torch.autograd.grad(-ll.mean(-1).sum(), list(params.values()), create_graph=create_graph,
                                    retain_graph=True)
        params = _adam_step(params, grads, m, v, t, lr)
    return total


def online_log_likelihood_fn(
    mdn: MixtureDensityNetwork, x: Tensor, y: Tensor, steps: int, lr: float, *, create_graph: bool = True,
) -> Tensor:
    """``sum_t sum_i log p_t(y_i | x_i)`` over ``steps`` Adam fine-tuning steps, each scored before its step.

    Adam (betas 0.9, 0.999, eps 1e-8, ``torch.optim.Adam``'s formulas) runs on copies of the
    parameters, so ``mdn`` is untouched; with ``create_graph`` the result is differentiable in
    ``x`` and ``y`` through the adapted parameters.
    """
    params = {k: p.detach().requires_grad_(True) for k, p in mdn.body.named_parameters()}
    return _online(lambda p: mdn_log_prob(mdn, p, y, x), params, steps, lr, create_graph)


def stack_hypotheses(g1: MixtureDensityNetwork, g2: MixtureDensityNetwork) -> dict[str, Tensor]:
    """The two conditionals' body parameters stacked ``(2, ...)`` (G1 first), fresh leaves."""
    params, _ = torch.func.stack_module_state([g1.body, g2.body])
    return {k: p.detach().requires_grad_(True) for k, p in params.items()}


def pair_log_prob(template: MixtureDensityNetwork, params: dict[str, Tensor], y: Tensor, x: Tensor) -> Tensor:
    """``log p_h(y[h] | x[h])`` for both hypotheses at once: params ``(2, ...)``, x, y ``(2, n)`` -> ``(2, n)``."""
    return torch.func.vmap(lambda p, yy, xx: mdn_log_prob(template, p, yy, xx))(params, y, x)


def pair_online_log_likelihood(
    template: MixtureDensityNetwork, params: dict[str, Tensor], x: Tensor, y: Tensor, steps: int, lr: float,
    *, create_graph: bool = True,
) -> Tensor:
    """:func:`online_log_likelihood_fn` for both stacked hypotheses in one pass; returns ``(2,)``.

    The gradient of the summed per-hypothesis losses is, slice by slice, each hypothesis' own gradient,
    and Adam is elementwise: this equals two separate calls.
    """
    start = {k: p.detach().requires_grad_(True) for k, p in params.items()}
    return _online(lambda p: pair_log_prob(template, p, y, x), start, steps, lr, create_graph)


def encoder_regret(
    gamma: Tensor, encoded: Tensor, template: MixtureDensityNetwork, params: dict[str, Tensor],
    marginals: Tensor, *, steps: int = 5, lr: float = 1e-3,
) -> tuple[Tensor, Tensor, Tensor]:
    """The regret of one transfer, differentiable in the encoded samples ``(n, 2)`` (columns U, V).

    ``params``: both conditionals stacked (:func:`stack_hypotheses`); ``marginals`` ``(2,)``: summed
    log-likelihoods of U (G1) and V (G2) under their fitted marginals, counted once per fine-tuning
    step. Returns ``(R, log L1, log L2)``.
    """
    u, v = encoded[:, 0], encoded[:, 1]
    cond = pair_online_log_likelihood(template, params, torch.stack([u, v]), torch.stack([v, u]), steps, lr)
    log_l = cond + steps * marginals
    return transfer_regret(gamma, log_l[0], log_l[1]), log_l[0], log_l[1]


def _preheat(template: MixtureDensityNetwork, params: dict[str, Tensor], batches: Tensor, lr: float) -> None:
    """Adam (a fresh optimiser, as the notebook's ``train_nll``) on each hypothesis' ``-mean log p``.

    ``batches`` ``(steps, n, 2)`` encoded (U, V); updates the stacked ``params`` in place.
    """
    opt = torch.optim.Adam(list(params.values()), lr=lr)
    for b in batches:
        u, v = b[:, 0], b[:, 1]
        loss = -pair_log_prob(template, params, torch.stack([v, u]), torch.stack([u, v])).mean(-1).sum()
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
    template = MixtureDensityNetwork(components, capacity)
    params = stack_hypotheses(template, MixtureDensityNetwork(components, capacity))
    gamma = torch.zeros(1, dtype=torch.float64)
    gamma_opt = make_meta_optimizer("adam", meta_lr)
    theta_opt = torch.optim.Adam(encoder.parameters(), lr=encoder_lr)

    def observe(values) -> Tensor:
        return torch.stack([values["A"], values["B"]], -1).float() @ mix.T

    thetas, sigmas = [], []
    for _ in range(meta_steps):
        with torch.no_grad():
            train = encoder(observe(scm.sample(preheat_steps * samples, g))).view(preheat_steps, samples, 2)
        _preheat(template, params, train, preheat_lr)
        m = float(torch.empty(()).uniform_(-shift, shift, generator=g))
        with torch.no_grad():
            obs = observe(scm.replace_mechanism("A", LinearGaussian((), m, 2.0)).sample(samples, g))
        enc = encoder(obs)
        uv = enc.T.double()  # (2, n): U (the parent in G1), V (the parent in G2)
        fits = fit_gaussian_mixture(uv.detach(), components, em_iters)
        if marginal_gradient:  # at the EM fit, d/dtheta of the fitted log-likelihood is the partial one
            marginals = gaussian_mixture_log_prob(uv, fits).sum(-1)
        else:  # the notebook's baseline: a constant
            with torch.no_grad():
                marginals = gaussian_mixture_log_prob(uv, fits).sum(-1)
        regret, log_l1, log_l2 = encoder_regret(
            gamma.float(), enc, template, params, marginals.float(), steps=finetune_steps, lr=finetune_lr,
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
