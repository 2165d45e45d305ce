"""AttentionMechanism: batch-first attention over (B, T, D) sequences."""

from __future__ import annotations

import abc
from typing import Any

import torch
from torch import Tensor, nn

from ._component import Component


class AttentionMechanism(Component, nn.Module, abc.ABC):
    """An attention layer: ``forward(query, key=None, value=None, *, mask=None, need_weights=False)``.

    Contract:
        - ``query``: float tensor (B, Tq, E) with ``E == self.embed_dim``; ``key`` and
          ``value``: (B, Tk, E); ``key=None`` means self-attention (key = value =
          query), ``value=None`` means value = key.
        - ``mask``: optional bool tensor broadcastable to (B, Tq, Tk) or
          (B, H, Tq, Tk); **True = may attend** (the SDPA convention).
          A query row with no True entry (in every head, for a 4-D mask)
          outputs exactly zeros, never NaN and never the output projection's
          bias: :meth:`forward` enforces this for every mechanism. Its
          weights are 0.
        - Returns ``(output, weights)``: ``output`` (B, Tq, E) in the query's dtype
          and device; ``weights`` is None unless ``need_weights=True``, then a
          tensor or a dict of tensors the subclass documents.
        - Stateless between calls; dropout only in training mode.

    Subclasses implement :meth:`attend`; :meth:`forward` validates shapes first.
    """

    embed_dim: int

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        nn.Module.__init__(self)
        self._init_config(config, overrides)

    def forward(
        self,
        query: Tensor,
        key: Tensor | None = None,
        value: Tensor | None = None,
        *,
        mask: Tensor | None = None,
        need_weights: bool = False,
    ) -> tuple[Tensor, Any]:
        key = query if key is None else key
        value = key if value is None else value
        check_attention_inputs(query, key, value, mask, self.embed_dim, type(self).__name__)
        check_matches_parameters(self, (("query", query), ("key", key), ("value", value), ("mask", mask)))
        out, weights = self.attend(query, key, value, mask=mask, need_weights=need_weights)
        return zero_fully_masked_queries(out, mask), weights

    @abc.abstractmethod
    def attend(
        self, query: Tensor, key: Tensor, value: Tensor, *, mask: Tensor | None, need_weights: bool
    ) -> tuple[Tensor, Any]:
        """Validated inputs in, ``(output, weights-or-None)`` out."""


_WEIGHT_KEYS = ("attention", "weights", "probabilities", "search", "keys")


def key_weights(weights: Any) -> Tensor:
    """Head-averaged attention probabilities ``(B, Tq, Tk)`` from what any mechanism returns as ``weights``.

    Accepts a tensor (B, Tq, Tk) (returned as is) or (B, H, Tq, Tk)
    (averaged over heads H), a dict (the entry under the first of
    ``"attention"``, ``"weights"``, ``"probabilities"``, ``"search"``,
    ``"keys"`` that exists, or its only 3-D / 4-D tensor entry), or a
    list / tuple of per-layer weights (the last layer's). Rows of
    probabilities keep summing to 1 (a fully masked query row stays 0).
    Used to read which keys a query attends to, whatever the mechanism
    (multi-head attention, compositional attention's search weights, ...).

    Examples:
        >>> import torch
        >>> w = torch.softmax(torch.randn(2, 4, 3, 5), dim=-1)   # (B, H, Tq, Tk)
        >>> key_weights(w).shape, bool(torch.allclose(key_weights(w).sum(-1), torch.ones(2, 3)))
        (torch.Size([2, 3, 5]), True)
        >>> key_weights({"search": w, "retrieval": torch.rand(2, 3)}).shape
        torch.Size([2, 3, 5])
    """
    if isinstance(weights, (list, tuple)):
        if not weights:
            raise ValueError("key_weights: got an empty sequence of weights")
        return key_weights(weights[-1])
    if isinstance(weights, dict):
        for key in _WEIGHT_KEYS:
            if key in weights:
                return key_weights(weights[key])
        tensors = {k: v for k, v in weights.items() if isinstance(v, Tensor) and v.dim() in (3, 4)}
        if len(tensors) != 1:
            raise ValueError(
                f"key_weights: cannot tell which of the dict entries {sorted(weights)} are the attention "
                f"probabilities; name it one of {_WEIGHT_KEYS} or pass the tensor"
            )
        return key_weights(next(iter(tensors.values())))
    if weights is None:
        raise ValueError("key_weights: weights is None; call the mechanism with need_weights=True")
    if not isinstance(weights, Tensor):
        raise TypeError(f"key_weights: expected a tensor, dict or sequence of weights, got {type(weights).__name__}")
    if weights.dim() == 3:
        return weights
    if weights.dim() == 4:
        return weights.mean(dim=1)
    raise ValueError(f"key_weights: weights must be (B, Tq, Tk) or (B, H, Tq, Tk), got shape {tuple(weights.shape)}")


def check_matches_parameters(module: nn.Module, tensors: Any) -> None:
    """A clear error when inputs and the module's parameters differ in floating dtype or device.

    Every floating dtype (float32, float64, float16, bfloat16) and device
    (cpu, cuda, meta) is supported once module and inputs agree: cast the
    module with ``.to(dtype)`` / ``.to(device)``. Without this check torch
    raises "mat1 and mat2 must have the same dtype" from inside a projection.
    """
    param = next(module.parameters(), None)
    if param is None:
        return
    name = type(module).__name__
    for label, t in tensors:
        if t is None:
            continue
        if t.device != param.device:
            raise ValueError(
                f"{name}: {label} is on {t.device} but the module's parameters are on {param.device}; "
                f"move one of them (module.to({str(t.device)!r}) or {label}.to({str(param.device)!r}))"
            )
        if t.is_floating_point() and t.dtype != param.dtype and not _autocast(t.device.type):
            raise TypeError(
                f"{name}: {label} is {t.dtype} but the module's parameters are {param.dtype}; cast the module "
                f"with .to({t.dtype}) or the input with .to({param.dtype}) (float32, float64, float16 and "
                "bfloat16 are all supported when they agree)"
            )


def _autocast(device_type: str) -> bool:
    try:
        return bool(torch.is_autocast_enabled(device_type))
    except (TypeError, RuntimeError):  # older torch or a device type autocast does not know
        return False


def zero_fully_masked_queries(out: Tensor, mask: Tensor | None) -> Tensor:
    """``out`` (B, Tq, E) with the rows of queries that may attend to nothing set to 0 (the contract)."""
    if mask is None:
        return out
    empty = ~mask.any(dim=-1)  # (.., Tq) or (B, H, Tq)
    if mask.dim() == 4:
        empty = empty.all(dim=1)
    return out.masked_fill(empty.unsqueeze(-1), 0.0)


def check_attention_inputs(
    query: Tensor, key: Tensor, value: Tensor, mask: Tensor | None, embed_dim: int, name: str
) -> None:
    """Raise a ValueError naming the tensor, its shape and the fix."""
    for label, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: {label} must be a torch.Tensor, got {type(t).__name__}")
        if t.dim() != 3:
            raise ValueError(
                f"{name}: {label} must be batch-first (B, T, E), got shape {tuple(t.shape)}; "
                "add a batch dimension with .unsqueeze(0)"
            )
        if t.shape[-1] != embed_dim:
            raise ValueError(f"{name}: {label} last dimension must be embed_dim={embed_dim}, got {t.shape[-1]}")
        if not t.is_floating_point():
            raise TypeError(f"{name}: {label} must be a floating tensor, got {t.dtype}")
    if key.shape[:2] != value.shape[:2]:
        raise ValueError(f"{name}: key and value must share (B, Tk), got {tuple(key.shape)} and {tuple(value.shape)}")
    if query.shape[0] != key.shape[0]:
        raise ValueError(f"{name}: query and key batch sizes differ: {query.shape[0]} vs {key.shape[0]}")
    if mask is not None:
        if mask.dtype != torch.bool:
            raise TypeError(f"{name}: mask must be a bool tensor (True = attend), got {mask.dtype}")
        target = (query.shape[0], query.shape[1], key.shape[1])
        try:
            torch.broadcast_shapes(mask.shape[-3:] if mask.dim() >= 3 else mask.shape, target)
        except RuntimeError:
            raise ValueError(
                f"{name}: mask of shape {tuple(mask.shape)} does not broadcast to (B, Tq, Tk)={target}"
            ) from None
