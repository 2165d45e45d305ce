"""A FIFO replay buffer of terminal states with rank-, reward- or uniform prioritisation."""

from __future__ import annotations

import torch
from torch import Tensor


class ReplayBuffer:
    """FIFO buffer of ``(x, log R(x))`` pairs sampled with replacement.

    Prioritisation:
        - ``"rank"``: ``p(x) ∝ 1 / (k |D| + rank(x))``, rank 0 = highest log R (Tripp et al. 2020; k = 0.01);
        - ``"reward"``: ``p(x) ∝ R(x)^beta``;
        - ``"uniform"``: every stored point equally likely (the mode that fails in the reference code).

    Storage is a preallocated ring: when full, the oldest entries are overwritten.
    """

    def __init__(self, capacity: int, *, prioritization: str = "rank", rank_k: float = 0.01, beta: float = 1.0) -> None:
        if not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive integer, got {capacity!r}")
        if prioritization not in ("rank", "reward", "uniform"):
            raise ValueError(f"prioritization must be 'rank', 'reward' or 'uniform', got {prioritization!r}")
        if not rank_k > 0:
            raise ValueError(f"rank_k must be > 0, got {rank_k}")
        self.capacity, self.prioritization, self.rank_k, self.beta = capacity, prioritization, rank_k, beta
        self._x: Tensor | None = None
        self._log_r: Tensor | None = None
        self._next = 0
        self._size = 0

    def __len__(self) -> int:
        return self._size

    @property
    def x(self) -> Tensor:
        """Stored points (oldest first)."""
        return self._ordered(self._x)

    @property
    def log_r(self) -> Tensor:
        return self._ordered(self._log_r)

    def _ordered(self, t: Tensor | None) -> Tensor:
        if t is None:
            raise RuntimeError("the buffer is empty")
        if self._size < self.capacity:
            return t[: self._size]
        return torch.cat([t[self._next :], t[: self._next]])

    def add(self, x: Tensor, log_r: Tensor) -> None:
        """Append a batch (B, d) with its log-rewards (B,); the oldest entries leave when full."""
        if x.ndim != 2 or log_r.shape != x.shape[:1]:
            raise ValueError(f"add needs x (B, d) and log_r (B,), got {tuple(x.shape)} and {tuple(log_r.shape)}")
        if not torch.isfinite(log_r).all():
            keep = torch.isfinite(log_r)
            x, log_r = x[keep], log_r[keep]
        x, log_r = x.detach(), log_r.detach()
        if self._x is None:
            self._x = x.new_empty(self.capacity, x.shape[1])
            self._log_r = log_r.new_empty(self.capacity)
        if x.shape[0] > self.capacity:
            x, log_r = x[-self.capacity :], log_r[-self.capacity :]
        n = x.shape[0]
        idx = (self._next + torch.arange(n, device=x.device)) % self.capacity
        self._x[idx], self._log_r[idx] = x, log_r
        self._next = (self._next + n) % self.capacity
        self._size = min(self.capacity, self._size + n)

    def weights(self) -> Tensor:
        """Sampling probabilities of the stored points (same order as :attr:`x`), summing to 1."""
        log_r = self.log_r
        if self.prioritization == "uniform":
            w = torch.ones_like(log_r)
        elif self.prioritization == "rank":
            ranks = torch.argsort(torch.argsort(-log_r)).to(log_r.dtype)
            w = 1.0 / (self.rank_k * log_r.numel() + ranks)
        else:
            w = torch.softmax(self.beta * log_r, 0)
        return w / w.sum()

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """``n`` points with replacement by priority: ``(x (n, d), log_r (n,))``."""
        if self._size == 0:
            raise RuntimeError("cannot sample from an empty buffer: add points first")
        w = self.weights()
        idx = torch.multinomial(w.cpu().double(), n, replacement=True, generator=generator).to(w.device)
        return self.x[idx], self.log_r[idx]
