"""Diffusion priors for RTB: every prior is a :class:`~etude_diffusion_samplers.path.DiffusionPath`.

A prior ``p_theta`` is a T-step Euler-Maruyama chain from ``x_0 = 0`` with
Gaussian transitions ``N(x + u(x, t) dt, sigma^2 dt I)``. Because each prior is a
``DiffusionPath``, scoring a posterior trajectory under the prior is one
batched ``forward_log_density`` call on the posterior's detached states, with
the prior's own discretisation, variance and clipping (pitfall 1 of the paper).

* :class:`BrownianPrior`: ``u = 0``; terminal law ``N(0, sigma^2 I)``.
* :class:`FollmerPrior`: the Föllmer drift of a Gaussian mixture in closed
  form, ``u*(x, t) = (E[x_1 | x_t = x] - x) / (1 - t)`` with
  ``x_t | x_1 ~ N(t x_1, sigma^2 t (1 - t) I)``; at ``t = 0`` it is the mixture
  mean. The discrete chain *defines* the prior (its terminal law tends to the
  mixture as ``T`` grows).
* :class:`PathPrior`: any trained diffusion path or ``DiffusionSampler``, frozen.
* :func:`fit_prior_mle`: the reference's prior pre-training, backward maximum
  likelihood on exact samples (Brownian-bridge trajectories from the data).

References:
    S. Venkatraman, M. Jain, L. Scimeca, M. Kim, M. Sendera et al., "Amortizing
    intractable inference in diffusion models for vision, language, and
    control", NeurIPS 2024, arXiv:2405.20971.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor

from etude_diffusion_samplers.objectives import backward_mle
from etude_diffusion_samplers.path import DiffusionPath, DiffusionPolicy


def _null_policy(dim: int) -> DiffusionPolicy:
    """A zero-initialised, frozen policy: its drift is exactly 0 (zero last layer)."""
    if not isinstance(dim, int) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    return DiffusionPolicy(dim, hidden_dim=1, s_emb_dim=1, t_emb_dim=1, harmonics=1, joint_layers=1).requires_grad_(False)


def path_drift(path: DiffusionPath, x: Tensor, t: Tensor) -> Tensor:
    """The full drift ``b(x, t) + NN(x, t)`` of ``path`` at points ``x`` (N, d) and times ``t`` (N,)."""
    if path.policy.langevin:
        raise ValueError("path_drift: a Langevin prior needs the reward's score; use parametrisation='copy'")
    emb, _ = path.policy.embed_times(t)
    drift, _ = path.policy(x, emb)
    if path.base_drift is not None:
        drift = drift + path.base_drift(x, t)
    return drift


class BrownianPrior(DiffusionPath):
    """Brownian motion from 0 with variance ``sigma2`` per unit time: ``p_theta(x_1) = N(0, sigma^2 I)``.

    With this prior RTB is trajectory balance on ``r(x) N(x; 0, sigma^2 I)``
    (the Brownian bridge is the backward process of both).

    Examples:
        >>> p = BrownianPrior(2, sigma2=4.0, n_steps=10)
        >>> import torch
        >>> p.sample_forward(3, None, with_grad=False).terminal.shape
        torch.Size([3, 2])
    """

    analytic = True

    def __init__(self, dim: int, *, sigma2: float = 5.0, n_steps: int = 100) -> None:
        super().__init__(_null_policy(dim), sigma2=sigma2, n_steps=n_steps)


class FollmerPrior(DiffusionPath):
    """The Föllmer process of a Gaussian mixture ``gmm`` (a diffusion-samplers ``GMM``), in closed form.

    For components ``N(mu_k, s^2 I)`` with weights ``w_k``, ``x_t | k ~ N(t mu_k, v_t I)``
    with ``v_t = t^2 s^2 + sigma^2 t (1 - t)``, so ``E[x_1 | x_t] = sum_k r_k(x_t)
    (mu_k + t s^2 / v_t (x_t - t mu_k))`` with responsibilities ``r_k ∝ w_k
    N(x_t; t mu_k, v_t I)`` (``r = w`` at ``t = 0``), and
    ``u*(x, t) = (E[x_1 | x_t = x] - x) / (1 - t)``.

    Examples:
        >>> from etude_diffusion_samplers.targets import GMM
        >>> g = GMM(layout="custom", means=[[3.0, 3.0], [-3.0, 3.0]], weights=[3, 1], std=0.5)
        >>> p = FollmerPrior(g, sigma2=4.0, n_steps=20)
        >>> import torch
        >>> p.base_drift(torch.zeros(1, 2), torch.zeros(1)).tolist()
        [[1.5, 3.0]]
    """

    analytic = True

    def __init__(self, gmm, *, sigma2: float = 5.0, n_steps: int = 100) -> None:
        for attr in ("modes", "weights", "std"):
            if not hasattr(gmm, attr):
                raise TypeError(f"FollmerPrior needs a GMM target with modes, weights and std; got {type(gmm).__name__}")
        super().__init__(_null_policy(int(gmm.modes.shape[1])), sigma2=sigma2, n_steps=n_steps)
        self.register_buffer("means", gmm.modes.detach().clone().float())
        self.register_buffer("log_w", gmm.weights.detach().clone().float().log())
        self.s2 = float(gmm.std) ** 2
        self.base_drift = self.follmer_drift

    def posterior_mean(self, x: Tensor, t: Tensor) -> Tensor:
        """``E[x_1 | x_t = x]`` (N, d) for points ``x`` (N, d) at times ``t`` (N,), ``0 <= t < 1``."""
        mu, s2, sig2 = self.means.to(x), self.s2, self.sigma2
        t = t.to(x)[:, None]  # (N, 1)
        v = t * t * s2 + sig2 * t * (1 - t)  # (N, 1)
        diff = x[:, None, :] - t[:, :, None] * mu  # (N, K, d)
        safe_v = torch.where(v > 0, v, torch.ones_like(v))
        logits = self.log_w.to(x) - 0.5 * (diff**2).sum(-1) / safe_v
        logits = torch.where(t > 0, logits, self.log_w.to(x).expand_as(logits))
        r = torch.softmax(logits, -1)  # (N, K)
        gain = s2 / (t * s2 + sig2 * (1 - t))  # t s^2 / v_t with the t cancelled: finite at t = 0
        cond = mu + gain[:, :, None] * diff  # (N, K, d)
        return (r[:, :, None] * cond).sum(1)

    def follmer_drift(self, x: Tensor, t: Tensor) -> Tensor:
        """``u*(x, t) = (E[x_1 | x_t = x] - x) / (1 - t)``."""
        return (self.posterior_mean(x, t) - x) / (1 - t.to(x))[:, None]


def PathPrior(sampler_or_path) -> DiffusionPath:  # noqa: N802 (a constructor in the user's eyes)
    """A frozen copy of a trained diffusion path (a ``DiffusionPath`` or a fitted ``DiffusionSampler``).

    Examples:
        >>> p = PathPrior(BrownianPrior(2, sigma2=1.0, n_steps=4))
        >>> all(not q.requires_grad for q in p.parameters())
        True
    """
    path = getattr(sampler_or_path, "path", sampler_or_path)
    if not isinstance(path, DiffusionPath):
        raise TypeError(
            f"PathPrior needs a DiffusionPath or a fitted DiffusionSampler (with .path), got {type(sampler_or_path).__name__}"
        )
    out = copy.deepcopy(path)
    out.requires_grad_(False)
    out.eval()
    return out


def fit_prior_mle(
    samples: Tensor,
    *,
    sigma2: float = 5.0,
    n_steps: int = 100,
    steps: int = 2000,
    batch_size: int = 500,
    lr: float = 1e-3,
    hidden_dim: int = 64,
    joint_layers: int = 2,
    harmonics: int = 64,
    generator: torch.Generator | None = None,
    progress: bool = False,
) -> DiffusionPath:
    """Pre-train a diffusion prior by backward maximum likelihood on exact ``samples`` (N, d).

    Each step draws a batch of data points, noises them to 0 along the Brownian
    bridge and maximises the policy's ``sum_k log p_F`` of that trajectory
    (``backward_mle``). Returns a frozen ``DiffusionPath``.

    Examples:
        >>> import torch
        >>> x = torch.randn(64, 2) + 3
        >>> p = fit_prior_mle(x, sigma2=1.0, n_steps=5, steps=2, batch_size=16, hidden_dim=8, harmonics=4)
        >>> p.n_steps, p.sigma2
        (5, 1.0)
    """
    from etude.runtime import train  # noqa: PLC0415

    if not isinstance(samples, Tensor) or samples.ndim != 2 or samples.shape[0] < 2:
        raise ValueError(f"samples must be a (N >= 2, d) tensor, got {tuple(getattr(samples, 'shape', ()))}")
    if not bool(torch.isfinite(samples).all()):
        raise ValueError("samples contain NaN or inf: clean them before fitting the prior")
    dim = int(samples.shape[1])
    policy = DiffusionPolicy(dim, hidden_dim=hidden_dim, s_emb_dim=hidden_dim, t_emb_dim=hidden_dim,
                             harmonics=harmonics, joint_layers=joint_layers)
    path = DiffusionPath(policy, sigma2=sigma2, n_steps=n_steps).to(samples.device)
    opt = torch.optim.Adam(path.parameters(), lr=lr)

    def step(_):
        idx = torch.randint(samples.shape[0], (batch_size,), generator=generator).to(samples.device)
        traj = path.sample_backward(samples[idx], None, generator=generator, log_r=torch.zeros(batch_size))
        loss = backward_mle(traj)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return {"loss": float(loss.detach())}

    train(step, steps, progress=progress, desc="prior (backward MLE)")
    path.requires_grad_(False)
    return path.eval()


def prior_state(path: DiffusionPath) -> dict:
    """A ``weights_only``-loadable description of a policy-network prior (for ``ctx.artefact``)."""
    pol = path.policy
    return {
        "state": {k: v.detach().cpu() for k, v in path.policy.state_dict().items()},
        "dim": pol.dim, "sigma2": path.sigma2, "n_steps": path.n_steps,
        "hidden_dim": pol.joint[0].out_features, "harmonics": pol.time_features.coeff.shape[1],
        "joint_layers": sum(isinstance(m, torch.nn.Linear) for m in pol.joint) - 1,
    }


def prior_from_state(state: dict) -> DiffusionPath:
    """Inverse of :func:`prior_state`: a frozen ``DiffusionPath``."""
    h = state["hidden_dim"]
    policy = DiffusionPolicy(state["dim"], hidden_dim=h, s_emb_dim=h, t_emb_dim=h, harmonics=state["harmonics"],
                             joint_layers=state["joint_layers"])
    policy.load_state_dict(state["state"])
    return PathPrior(DiffusionPath(policy, sigma2=state["sigma2"], n_steps=state["n_steps"]))
