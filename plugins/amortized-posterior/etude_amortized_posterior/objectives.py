"""The amortised objectives: forward KL (NPE), reverse KL (amortised VI) and their mixture.

Forward KL:  min_phi E_{theta ~ p(theta), D ~ p(D | theta)} [-log q_phi(theta | D)], on simulated pairs.
Reverse KL:  min_phi E_{D ~ chi} E_{theta ~ q_phi(. | D)} [log q_phi(theta | D) - log p(theta, D)],
             = -ELBO per dataset, computed by Pyro's ``Trace_ELBO(num_particles=S,
             vectorize_particles=True).differentiable_loss`` on the model and the amortised
             guide; ``kl="analytic"`` uses ``TraceMeanField_ELBO`` (closed-form KL(q || prior),
             the reference code's Gaussian default). chi is free: simulated, real or switched data.
Mixed:       the average of both (the reference code's option).

All losses are means over the D datasets of a batch.

References:
    S. Mittal et al., "Amortized In-Context Bayesian Posterior Estimation", arXiv:2502.06601
    (2025), section 3, eqs. for L_fwd and L_rev.

Examples:
    >>> import torch
    >>> from etude_amortized_posterior.models import GaussianMean
    >>> from etude_amortized_posterior.guide import AmortizedGuide
    >>> m = GaussianMean(dim=2); g = AmortizedGuide(m, encoder_options={"hidden": 16, "out_features": 16})
    >>> data = m.simulate(8, generator=torch.Generator().manual_seed(0))
    >>> float(forward_kl(g, data)) > 0, reverse_kl(g, data, particles=2).shape
    (True, torch.Size([]))
"""

from __future__ import annotations

from typing import Any

from pyro.infer import Trace_ELBO, TraceMeanField_ELBO
from torch import Tensor


def warmup_weight(step: int, warmup_steps: int) -> float:
    """The reference code's linear KL warm-up: min(1, (step + 1) / warmup_steps)."""
    return min(1.0, (step + 1) / max(1, warmup_steps))


def forward_kl(guide: Any, data: dict[str, Tensor]) -> Tensor:
    """Mean over datasets of -log q(theta_true | D) for simulated (theta, D) pairs."""
    if data.get("theta") is None:
        raise ValueError(
            "forward KL needs the parameters theta that generated each dataset (simulated pairs); "
            "real or switched datasets have none: use objective='reverse-kl'"
        )
    q = guide.posterior(data["x"], data.get("y"), data["mask"])
    return -q.log_prob(data["theta"]).mean()


def reverse_kl(guide: Any, data: dict[str, Tensor], *, particles: int = 1, kl: str = "monte-carlo",
               kl_weight: float = 1.0) -> Tensor:
    """Mean over datasets of -ELBO(D) = E_q[log q(theta | D) - log p(theta, D)] through Pyro."""
    elbo_cls = TraceMeanField_ELBO if kl == "analytic" else Trace_ELBO
    elbo = elbo_cls(num_particles=particles, vectorize_particles=particles > 1, max_plate_nesting=2)
    args = (data["x"], data.get("y"), data["mask"], data.get("feature_mask"), kl_weight)
    loss = elbo.differentiable_loss(guide.model.model, guide, *args)
    return loss / data["x"].shape[0]


def mixed(guide: Any, data: dict[str, Tensor], **reverse_options: Any) -> Tensor:
    """0.5 (forward KL + reverse KL), the reference code's ``mixed`` objective."""
    return 0.5 * (forward_kl(guide, data) + reverse_kl(guide, data, **reverse_options))
