"""The amortised guide q_phi(theta | D): a ``PyroModule`` of a set encoder and a posterior head.

References:
    S. Mittal et al., "Amortized In-Context Bayesian Posterior Estimation", arXiv:2502.06601 (2025).

Examples:
    >>> import torch
    >>> from etude_amortized_posterior.models import LinearRegression
    >>> m = LinearRegression(dim=2)
    >>> guide = AmortizedGuide(m, encoder="deepsets", encoder_options={"hidden": 16, "out_features": 16})
    >>> data = m.simulate(5, generator=torch.Generator().manual_seed(0))
    >>> q = guide.posterior(data["x"], data["y"], data["mask"])
    >>> q.batch_shape, q.event_shape
    (torch.Size([5]), torch.Size([3]))
"""

from __future__ import annotations

from typing import Any

import pyro
from pyro import poutine
from pyro.nn import PyroModule
from torch import Tensor

from .encoders import ENCODERS
from .heads import HEADS, FlowHead, GaussianHead


class AmortizedGuide(PyroModule):
    """Encoder + head: ``posterior(x, y, mask)`` is q(theta | D) with batch (D,) and event (P,).

    Called as a Pyro guide with the model's arguments it samples the
    ``"theta"`` site inside the same ``datasets`` plate as the model.
    """

    def __init__(self, model: Any, *, encoder: str = "deepsets", encoder_options: dict[str, Any] | None = None,
                 head: str = "gaussian", head_options: dict[str, Any] | None = None) -> None:
        super().__init__()
        if encoder not in ENCODERS:
            raise ValueError(f"encoder must be one of {sorted(ENCODERS)}, got {encoder!r}")
        if head not in HEADS:
            raise ValueError(f"head must be one of {sorted(HEADS)}, got {head!r}")
        self.model = model  # a BayesModel (plain object, not a module)
        options = dict(encoder_options or {})
        self.encoder = ENCODERS[encoder](in_features=model.feature_dim, **options)
        context = self.encoder.config.out_features
        if head == "gaussian":
            self.head = GaussianHead(context, model.num_params)
        else:
            self.head = FlowHead(context, model.num_params, **dict(head_options or {}))

    def summary(self, x: Tensor, y: Tensor | None, mask: Tensor) -> Tensor:
        return self.encoder(self.model.encode(x, y), mask)

    def posterior(self, x: Tensor, y: Tensor | None = None, mask: Tensor | None = None) -> Any:
        """q(theta | D) for every dataset of the batch, from one forward pass."""
        if mask is None:
            import torch  # noqa: PLC0415

            mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
        return self.head(self.summary(x, y, mask))

    def forward(self, x: Tensor, y: Tensor | None = None, mask: Tensor | None = None,
                feature_mask: Tensor | None = None, kl_weight: float = 1.0) -> Tensor:
        q = self.head(self.summary(x, y, mask).unsqueeze(-2))  # batch (D, 1): the datasets plate is dim -2
        with pyro.plate("datasets", x.shape[0], dim=-2):
            with poutine.scale(scale=kl_weight):
                return pyro.sample("theta", q)


__all__ = ["AmortizedGuide", "FlowHead", "GaussianHead"]
