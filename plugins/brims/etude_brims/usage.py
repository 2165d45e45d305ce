"""Per-layer module usage of a BRIMs trace, scored with the etude-modularity metrics.

For each layer the active masks of ``trace["layers"][l]["active"]`` (T, B, K)
are pooled over time steps and examples as routing rows (a bool mask per
row, normalised by :func:`etude_modularity.metrics.usage_matrix`) against a
ground-truth factor per example (e.g. the template class of
``task/noisy-sequences``), repeated over time.

References:
    S. Mittal et al., ICML 2020, arXiv:2006.16981; metrics of etude-modularity
    (``usage_matrix``, ``inverse_mutual_information``, ``specialisation_report``).

Examples:
    >>> import torch
    >>> from etude_brims.model import BRIMs
    >>> model = BRIMs(input_size=2, output_size=2, hidden_size=8, num_modules=4, active=2).eval()
    >>> _, trace = model(torch.randn(6, 3, 2), return_trace=True)
    >>> reports = layer_usage(trace, torch.tensor([0, 1, 0, 1, 0, 1]), 2)
    >>> len(reports), tuple(reports[0]["usage"].shape)
    (2, (2, 4))
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from etude_modularity.metrics import inverse_mutual_information, specialisation_report, usage_matrix


def layer_usage(trace: dict[str, Any], factor: Tensor, num_factors: int) -> list[dict[str, Any]]:
    """One dict per layer: ``usage`` (G, K) joint usage, ``inverse_mi`` and the full ``report`` (as_dict)."""
    factor = torch.as_tensor(factor)
    out = []
    for layer in trace["layers"]:
        active = layer["active"]  # (T, B, K)
        t, b, k = active.shape
        if factor.shape != (b,):
            raise ValueError(f"layer_usage: factor must be (B,) = ({b},) labels, got {tuple(factor.shape)}")
        routing = active.reshape(t * b, k)
        labels = factor.repeat(t)
        usage = usage_matrix(routing, labels, num_factors)
        out.append({"usage": usage, "inverse_mi": inverse_mutual_information(usage),
                    "report": specialisation_report(routing, labels, num_factors).as_dict()})
    return out


__all__ = ["layer_usage"]
