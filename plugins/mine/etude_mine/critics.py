"""Statistics networks ("critics") T(x, y): joint (concatenation) and separable MLPs.

Every critic maps paired rows to scores, ``critic(x, y) -> (N,)``, and scores
all pairs of two batches, ``critic.pairwise(x, y) -> (N, M)`` with entry
``(i, j) = T(x_i, y_j)``, without a Python loop over examples.
"""

from __future__ import annotations

from torch import Tensor, nn

ACTIVATIONS = {"elu": nn.ELU, "relu": nn.ReLU, "tanh": nn.Tanh, "softplus": nn.Softplus, "gelu": nn.GELU}


def mlp(sizes: list[int], activation: str = "elu") -> nn.Sequential:
    """Linear layers of ``sizes`` with ``activation`` between them (none after the last)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class ConcatCritic(nn.Module):
    """Joint critic ``T(x, y) = MLP([x, y])`` (the paper's statistics network).

    ``pairwise`` splits the first linear layer, ``W [x; y] = W_x x + W_y y``, so
    all (N, M) pairs cost one (N, M, hidden) broadcast instead of N*M concatenations.

    Examples:
        >>> import torch
        >>> T = ConcatCritic(2, 3, hidden=8, layers=2)
        >>> T(torch.randn(5, 2), torch.randn(5, 3)).shape, T.pairwise(torch.randn(4, 2), torch.randn(6, 3)).shape
        (torch.Size([5]), torch.Size([4, 6]))
    """

    def __init__(self, x_dim: int, y_dim: int, *, hidden: int = 128, layers: int = 2, activation: str = "elu") -> None:
        super().__init__()
        self.x_dim, self.y_dim = x_dim, y_dim
        self.net = mlp([x_dim + y_dim] + [hidden] * layers + [1], activation)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.net(_cat(x, y)).squeeze(-1)

    def pairwise(self, x: Tensor, y: Tensor) -> Tensor:
        first = self.net[0]
        hx = x @ first.weight[:, : self.x_dim].T  # (N, H)
        hy = y @ first.weight[:, self.x_dim :].T + first.bias  # (M, H)
        h = hx.unsqueeze(-2) + hy.unsqueeze(-3)  # (N, M, H)
        return self.net[1:](h).squeeze(-1)


class SeparableCritic(nn.Module):
    """Separable critic ``T(x, y) = g(x) . h(y)`` with MLP embeddings g, h of width ``embed_dim``.

    All pairs cost one matrix product; the usual critic for InfoNCE.

    Examples:
        >>> import torch
        >>> T = SeparableCritic(2, 3, hidden=8, layers=1, embed_dim=4)
        >>> T.pairwise(torch.randn(4, 2), torch.randn(6, 3)).shape
        torch.Size([4, 6])
    """

    def __init__(
        self, x_dim: int, y_dim: int, *, hidden: int = 128, layers: int = 2, activation: str = "elu", embed_dim: int = 32
    ) -> None:
        super().__init__()
        self.x_dim, self.y_dim = x_dim, y_dim
        self.g = mlp([x_dim] + [hidden] * layers + [embed_dim], activation)
        self.h = mlp([y_dim] + [hidden] * layers + [embed_dim], activation)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return (self.g(x) * self.h(y)).sum(-1)

    def pairwise(self, x: Tensor, y: Tensor) -> Tensor:
        return self.g(x) @ self.h(y).transpose(-1, -2)


def _cat(x: Tensor, y: Tensor) -> Tensor:
    import torch  # noqa: PLC0415

    return torch.cat([x, y], dim=-1)


def make_critic(kind: str, x_dim: int, y_dim: int, **kwargs) -> nn.Module:
    """``"joint"`` -> :class:`ConcatCritic`, ``"separable"`` -> :class:`SeparableCritic`."""
    if kind == "joint":
        kwargs.pop("embed_dim", None)
        return ConcatCritic(x_dim, y_dim, **kwargs)
    if kind == "separable":
        return SeparableCritic(x_dim, y_dim, **kwargs)
    raise ValueError(f"critic must be 'joint' or 'separable', got {kind!r}")
