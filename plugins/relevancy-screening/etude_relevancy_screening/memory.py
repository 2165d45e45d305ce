"""The attention memories of self-attentive RNNs: relevancy screening (bounded) and full (growing)."""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["FullMemory", "RelevancyMemory"]


def _check_state(name: str, h: Tensor, batch: int, dim: int) -> None:
    if not isinstance(h, Tensor) or h.dim() != 2 or tuple(h.shape) != (batch, dim):
        raise ValueError(f"{name}.update: h must be (batch, dim) = ({batch}, {dim}), got "
                         f"{tuple(getattr(h, 'shape', ()))}; pass the new hidden state of every example")


class RelevancyMemory:
    """Relevancy screening: a short-term buffer of the last ν states and a relevant set of at most ρ older ones.

    The state is explicit (tensors replaced at every :meth:`update`, never
    written in place, so autograd keeps the graph to every retained state)
    and owned by the recurrent model, since attention mechanisms are
    stateless. Per example b:

    - the buffer holds ``h_{t-ν+1} .. h_t`` with scores that accumulate the
      **detached** attention weight each state receives while buffered;
    - when a state leaves the buffer it enters the first empty relevant slot;
      if there is none it replaces the lowest-scored relevant state only if
      its own score is **strictly** larger (ties: the lowest slot index);
      scores are frozen once a state has left the buffer.

    Examples keep different relevant sets; the choice is made for the whole
    batch at once with index tensors and ``torch.where`` (no Python loop
    over examples). Attention cost and memory per step: ν + ρ slots.

    References:
        G. Kerg, B. Kanuparthi, A. Goyal, K. Goyette, Y. Bengio, G. Lajoie, "Untangling tradeoffs between
        recurrence and self-attention in artificial neural networks", NeurIPS 2020, arXiv:2006.09471
        (Section 4, Algorithm 1: relevancy screening).

    Examples:
        >>> import torch
        >>> mem = RelevancyMemory(batch=2, dim=4, buffer_size=2, relevant_size=1)
        >>> for t in range(4):
        ...     keys, mask = mem.slots()
        ...     weights = mask.float() / mask.float().sum(-1, keepdim=True).clamp(min=1)
        ...     mem.update(torch.randn(2, 4), weights)
        >>> mem.slots()[0].shape, mem.inspect()["relevant_steps"].tolist()
        (torch.Size([2, 3, 4]), [[0], [0]])
    """

    needs_weights = True  # update() reads the attention weights

    def __init__(self, batch: int, dim: int, buffer_size: int = 10, relevant_size: int = 15, *,
                 device=None, dtype=None) -> None:
        for name, value, low in (("batch", batch, 1), ("dim", dim, 1), ("buffer_size", buffer_size, 1),
                                 ("relevant_size", relevant_size, 0)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"RelevancyMemory: {name} must be an integer >= {low}, got {value!r}")
        dtype = torch.get_default_dtype() if dtype is None else dtype
        self.batch, self.dim, self.buffer_size, self.relevant_size = batch, dim, buffer_size, relevant_size
        nu, rho = buffer_size, relevant_size
        self.buffer = torch.zeros(batch, nu, dim, device=device, dtype=dtype)
        self.buffer_scores = torch.zeros(batch, nu, device=device, dtype=dtype)
        self.buffer_steps = torch.full((nu,), -1, dtype=torch.long, device=device)  # oldest first; -1 empty
        self.relevant = torch.zeros(batch, rho, dim, device=device, dtype=dtype)
        self.relevant_scores = torch.zeros(batch, rho, device=device, dtype=dtype)
        self.relevant_steps = torch.full((batch, rho), -1, dtype=torch.long, device=device)
        self.relevant_mask = torch.zeros(batch, rho, dtype=torch.bool, device=device)
        self._slot_index = torch.arange(rho, device=device)
        self.step = 0

    @property
    def num_slots(self) -> int:
        return self.buffer_size + self.relevant_size

    def slots(self) -> tuple[Tensor, Tensor]:
        """Keys (B, ν + ρ, d), buffer first (oldest to newest) then the relevant set, and the mask (B, ν + ρ), True = filled."""
        keys = torch.cat([self.buffer, self.relevant], dim=1)
        buffer_mask = (self.buffer_steps >= 0).unsqueeze(0).expand(self.batch, -1)
        return keys, torch.cat([buffer_mask, self.relevant_mask], dim=1)

    def update(self, h: Tensor, weights: Tensor) -> None:
        """Add this step's attention ``weights`` (B, ν + ρ) over :meth:`slots` to the buffer scores, screen the
        state leaving the buffer into the relevant set, and push the new state ``h`` (B, d)."""
        _check_state("RelevancyMemory", h, self.batch, self.dim)
        if not isinstance(weights, Tensor) or tuple(weights.shape) != (self.batch, self.num_slots):
            raise ValueError(f"RelevancyMemory.update: weights must be (batch, buffer_size + relevant_size) = "
                             f"({self.batch}, {self.num_slots}), the attention over slots(); got "
                             f"{tuple(getattr(weights, 'shape', ()))}")
        nu = self.buffer_size
        scores = self.buffer_scores + weights[:, :nu].detach().to(self.buffer_scores.dtype)
        if self.step >= nu and self.relevant_size > 0:
            self._screen(self.buffer[:, 0], scores[:, 0], self.buffer_steps[0])
        self.buffer = torch.cat([self.buffer[:, 1:], h.unsqueeze(1).to(self.buffer.dtype)], dim=1)
        self.buffer_scores = torch.cat([scores[:, 1:], scores.new_zeros(self.batch, 1)], dim=1)
        new_step = torch.full((1,), self.step, dtype=torch.long, device=self.buffer_steps.device)
        self.buffer_steps = torch.cat([self.buffer_steps[1:], new_step])
        self.step += 1

    def _screen(self, leaving: Tensor, score: Tensor, step: Tensor) -> None:
        empty = ~self.relevant_mask
        has_empty = empty.any(dim=1)
        first_empty = empty.to(torch.int8).argmax(dim=1)  # first True (0 when none, then unused)
        lowest = self.relevant_scores.masked_fill(empty, float("inf")).argmin(dim=1)  # first minimum: lowest index
        lowest_score = self.relevant_scores.gather(1, lowest.unsqueeze(1)).squeeze(1)
        accept = has_empty | (score > lowest_score)
        position = torch.where(has_empty, first_empty, lowest)
        put = (self._slot_index.unsqueeze(0) == position.unsqueeze(1)) & accept.unsqueeze(1)  # (B, ρ)
        self.relevant = torch.where(put.unsqueeze(-1), leaving.unsqueeze(1), self.relevant)
        self.relevant_scores = torch.where(put, score.unsqueeze(1), self.relevant_scores)
        self.relevant_steps = torch.where(put, step, self.relevant_steps)
        self.relevant_mask = self.relevant_mask | put

    def inspect(self) -> dict[str, Tensor]:
        """Retained step indices and scores: ``relevant_steps`` (B, ρ) (-1 = empty slot), ``relevant_scores``
        (B, ρ) frozen, ``buffer_steps`` (ν,), ``buffer_scores`` (B, ν) still accumulating."""
        return {"relevant_steps": self.relevant_steps.clone(), "relevant_scores": self.relevant_scores.detach().clone(),
                "buffer_steps": self.buffer_steps.clone(), "buffer_scores": self.buffer_scores.detach().clone()}


class FullMemory:
    """Full self-attention memory (MemRNN): every past state is a slot; cost O(t) at step t.

    Examples:
        >>> import torch
        >>> mem = FullMemory(batch=2, dim=4)
        >>> for t in range(3):
        ...     mem.update(torch.randn(2, 4))
        >>> mem.slots()[0].shape
        torch.Size([2, 3, 4])
    """

    needs_weights = False

    def __init__(self, batch: int, dim: int, *, device=None, dtype=None) -> None:
        self.batch, self.dim = batch, dim
        self.states: list[Tensor] = []
        self.device, self.dtype = device, torch.get_default_dtype() if dtype is None else dtype
        self.step = 0

    def slots(self) -> tuple[Tensor, Tensor]:
        """Keys (B, t, d) of every state so far and an all-True mask (B, t)."""
        if not self.states:
            keys = torch.zeros(self.batch, 0, self.dim, device=self.device, dtype=self.dtype)
        else:
            keys = torch.stack(self.states, dim=1)
        return keys, torch.ones(self.batch, keys.shape[1], dtype=torch.bool, device=keys.device)

    def update(self, h: Tensor, weights: Tensor | None = None) -> None:
        """Append the new state ``h`` (B, d); ``weights`` is accepted for the common interface and unused."""
        _check_state("FullMemory", h, self.batch, self.dim)
        self.states.append(h)
        self.step += 1

    def inspect(self) -> dict[str, Tensor]:
        steps = torch.arange(self.step, device=self.device)
        return {"relevant_steps": steps.expand(self.batch, -1).clone()}
