"""E(n)-equivariant graph network score model with dense (B, n, n, h) messages.

An EGNN layer (Satorras et al. 2021) on the fully connected graph of n particles:

    m_ij  = phi_e(h_i, h_j, |x_i - x_j|^2, a_ij)
    x_i  <- x_i + sum_{j != i} (x_i - x_j) / (|x_i - x_j| + 1) * phi_x(m_ij)
    h_i  <- h_i + phi_h(h_i, sum_{j != i} m_ij)

with ``a_ij`` the squared input distance (an edge attribute) and time t as the
invariant node feature. The score is ``x_L - x_0``, projected to zero centre of
mass, so ``s(R P x + c, t) = R P s(x, t)``. All pairs are one batched tensor
(no edge lists, no Python loop over particles). As in DEM's EGNN: SiLU, sum
aggregation, residual node updates, the coordinate head's last layer
initialised with gain 0.001.

References:
    V. G. Satorras, E. Hoogeboom, M. Welling, "E(n) Equivariant Graph Neural
    Networks", ICML 2021, arXiv:2102.09844. T. Akhound-Sadegh et al., ICML 2024,
    arXiv:2402.06121 (score network for DW-4 and LJ).

Examples:
    >>> import torch
    >>> net = EGNNScore(n_particles=4, spatial_dim=2, hidden=16, n_layers=2)
    >>> net(torch.randn(3, 8), torch.rand(3)).shape
    torch.Size([3, 8])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field
from etude.kinds import Model

from .particles import remove_mean


def _pos_int(instance, attribute, value):
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise FieldValueError(attribute.name, value, "an integer >= 1")


@configclass
class EGNNScoreConfig:
    n_particles: int = field(default=4, validator=_pos_int, doc="number of particles n")
    spatial_dim: int = field(default=2, validator=_pos_int, doc="spatial dimension d")
    hidden: int = field(default=128, validator=_pos_int, doc="hidden width of every MLP")
    n_layers: int = field(default=3, validator=_pos_int, doc="EGNN layers (3 for DW-4, 5 for LJ)")


class _Layer(nn.Module):
    def __init__(self, hidden: int, update_nodes: bool = True) -> None:
        super().__init__()
        self.edge = nn.Sequential(nn.Linear(2 * hidden + 2, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU())
        # the last layer's node update would feed nothing (the score is read from the coordinates)
        self.node = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.SiLU(), nn.Linear(hidden, hidden)) if update_nodes else None
        last = nn.Linear(hidden, 1, bias=False)
        nn.init.xavier_uniform_(last.weight, gain=0.001)
        self.coord = nn.Sequential(nn.Linear(hidden, hidden), nn.SiLU(), last)

    def forward(self, h: Tensor, x: Tensor, edge_attr: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
        n = x.shape[1]
        diff = x.unsqueeze(2) - x.unsqueeze(1)  # (B, n, n, d): x_i - x_j
        radial = (diff**2).sum(-1, keepdim=True)
        hi = h.unsqueeze(2).expand(-1, -1, n, -1)
        hj = h.unsqueeze(1).expand(-1, n, -1, -1)
        m = self.edge(torch.cat([hi, hj, radial, edge_attr], -1)) * mask  # (B, n, n, h)
        direction = diff / (torch.sqrt(radial + 1e-8) + 1.0)
        x = x + (direction * self.coord(m) * mask).sum(2)
        if self.node is not None:
            h = h + self.node(torch.cat([h, m.sum(2)], -1))
        return h, x


class EGNNScore(Model):
    """E(n)-equivariant score network ``s(x, t)`` for particle systems, (B, n*d), (B,) -> (B, n*d).

    See the module docstring for the layer; DEM uses hidden 128 and 3 layers
    (DW-4) or 5 (LJ-13, LJ-55).
    """

    Config = EGNNScoreConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        self.embed = nn.Linear(1, c.hidden)
        self.layers = nn.ModuleList(_Layer(c.hidden, update_nodes=i < c.n_layers - 1) for i in range(c.n_layers))
        n = c.n_particles
        self.register_buffer("mask", (1.0 - torch.eye(n)).reshape(1, n, n, 1), persistent=False)

    @property
    def layout(self) -> tuple[int, int]:
        return (self.config.n_particles, self.config.spatial_dim)

    def forward(self, x: Tensor, t: Tensor) -> Tensor:
        n, d = self.layout
        if x.ndim != 2 or x.shape[1] != n * d:
            raise ValueError(f"EGNNScore: x must have shape (B, {n * d}) for {n} particles in {d}-D, got {tuple(x.shape)}")
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        t = t.expand(x.shape[0]) if t.ndim == 0 else t.reshape(-1)
        if t.shape[0] != x.shape[0]:
            raise ValueError(f"EGNNScore: t must be a scalar or have shape ({x.shape[0]},), got {tuple(t.shape)}")
        x0 = x.reshape(-1, n, d)
        h = self.embed(t[:, None, None].expand(-1, n, 1))
        edge_attr = ((x0.unsqueeze(2) - x0.unsqueeze(1)) ** 2).sum(-1, keepdim=True)
        mask = self.mask.to(x)
        xl = x0
        for layer in self.layers:
            h, xl = layer(h, xl, edge_attr, mask)
        return remove_mean((xl - x0).reshape(x.shape), self.layout)
