"""World models of CausalMBRL: a CNN object extractor, an encoder and a residual transition model.

``WorldModel`` maps an image ``(B, 3, H, W)`` to ``N`` object slots
``z (B, N, D)`` and predicts the next slots ``z' = z + T(z, a)``:

- extractor: a CNN with ``N`` output maps, "small" (kernel = stride = one
  cell: one value per cell) or "medium" (a 9 x 9 conv, then kernel = stride =
  half a cell), sigmoid outputs, as C-SWM / CausalMBRL;
- encoder: per-object MLP (Modular, GNN) or one MLP of the flattened maps
  (AE, VAE: ``N * D`` dimensions, read as ``N`` slots; the VAE's gives a mean
  and a log-variance);
- transition ``T``: one MLP of ``[z, a]`` (AE, VAE); ``N`` MLPs, each reading
  every slot and the action, as one grouped einsum (Modular; the reference
  loops over objects); or C-SWM message passing, an edge MLP on every ordered
  pair of slots and a node MLP on ``[z_i, a_i, sum_j e_ji]``, in one batched op
  (GNN). Action ``a = object * A + value`` is one-hot (``N * A``) or per
  object (``(N, A)``, GNN).
- heads: a :class:`PixelDecoder` (NLL training) and a :class:`RewardPredictor`.

Reference sizes: hidden 512, CNN width hidden / 16, Modular hidden per
object ``hidden // N``, 128 dimensions per object; the transition MLP is
``[Linear(a), Linear(z)] -> ReLU -> Linear -> LN -> ReLU -> Linear(2h) -> LN ->
ReLU -> Linear``.

References:
    N. R. Ke et al. "Systematic Evaluation of Causal Discovery in Visual Model
    Based Reinforcement Learning". NeurIPS 2021 Datasets and Benchmarks.
    arXiv:2107.00848 (Sec. 4, the models).
    T. Kipf, E. van der Pol, M. Welling. "Contrastive Learning of Structured
    World Models". ICLR 2020. arXiv:1911.12247 (C-SWM: encoders, GNN, hinge loss).

Example:
    >>> import torch
    >>> m = ModularWorldModel(num_objects=3, action_dim=5, image_size=25, cell_size=5, hidden=32, embedding_dim=4)
    >>> z, _ = m.encode(torch.rand(2, 3, 25, 25))
    >>> m.transition(z, torch.tensor([0, 7])).shape
    torch.Size([2, 3, 4])
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, one_of
from etude.kinds import Model

from ._common import int_range

__all__ = ["AEWorldModel", "GNNWorldModel", "GroupedTransition", "MLPTransition", "ModularWorldModel",
           "PixelDecoder", "RewardPredictor", "TransitionGNN", "VAEWorldModel", "WorldModel", "WorldModelConfig"]


def _optional_positive(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise FieldValueError(attribute.name, value, "None or an integer >= 1")


@configclass
class WorldModelConfig:
    num_objects: int = field(default=5, validator=int_range(1, 64), doc="object slots N")
    action_dim: int = field(default=5, validator=int_range(1, 1024), doc="action values per object A (colours C, or 5 moves)")
    image_size: int = field(default=50, validator=int_range(1, 1024), doc="image side H = W (5 cells)")
    cell_size: int = field(default=10, validator=int_range(1, 256), doc="pixels per cell")
    encoder: str = field(default="small", validator=one_of("small", "medium"), doc="CNN object extractor")
    embedding_dim: int = field(default=128, validator=int_range(1, 4096), doc="dimensions D per object")
    hidden: int = field(default=512, validator=int_range(1, 65536), doc="transition width (and encoder's by default)")
    encoder_hidden: int | None = field(default=None, validator=_optional_positive, doc="encoder MLP width (None: hidden)")
    cnn_channels: int | None = field(default=None, validator=_optional_positive, doc="CNN width (None: hidden // 16)")

    def __attrs_post_init__(self) -> None:
        if self.image_size % self.cell_size:
            raise FieldValueError("image_size", self.image_size, f"a multiple of cell_size = {self.cell_size}")
        if self.encoder == "medium" and self.cell_size % 2:
            raise FieldValueError("cell_size", self.cell_size, "even for the 'medium' encoder (stride = half a cell)")


class MLPTransition(nn.Module):
    """The reference's transition MLP: ``[W_a a, W_z z] -> ReLU -> h -> LN -> ReLU -> 2h -> LN -> ReLU -> out``."""

    def __init__(self, state_dim: int, action_dim: int, hidden: int, out_dim: int) -> None:
        super().__init__()
        self.action_encoder = nn.Linear(action_dim, hidden)
        self.state_encoder = nn.Linear(state_dim, hidden)
        self.net = nn.Sequential(nn.ReLU(), nn.Linear(2 * hidden, hidden), nn.LayerNorm(hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2 * hidden), nn.LayerNorm(2 * hidden), nn.ReLU(),
                                 nn.Linear(2 * hidden, out_dim))

    def forward(self, state: Tensor, action: Tensor) -> Tensor:
        return self.net(torch.cat([self.action_encoder(action), self.state_encoder(state)], -1))


def _grouped_init(groups: int, fan_in: int, fan_out: int) -> tuple[nn.Parameter, nn.Parameter]:
    bound = 1 / math.sqrt(fan_in)
    w = nn.Parameter(torch.empty(groups, fan_in, fan_out).uniform_(-bound, bound))
    b = nn.Parameter(torch.empty(groups, fan_out).uniform_(-bound, bound))
    return w, b


def _group_norm(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    return nn.functional.layer_norm(x, x.shape[-1:]) * weight + bias


class GroupedTransition(nn.Module):
    """``N`` independent :class:`MLPTransition` s (one per object, each reading all slots) as grouped einsums.

    Equal to a loop ``[MLPTransition_i(z_flat, a) for i in range(N)]`` with
    the same weights (see :meth:`load_from_mlps`), without the loop.
    """

    def __init__(self, groups: int, state_dim: int, action_dim: int, hidden: int, out_dim: int) -> None:
        super().__init__()
        self.groups, self.hidden = groups, hidden
        self.wa, self.ba = _grouped_init(groups, action_dim, hidden)
        self.ws, self.bs = _grouped_init(groups, state_dim, hidden)
        self.w1, self.b1 = _grouped_init(groups, 2 * hidden, hidden)
        self.w2, self.b2 = _grouped_init(groups, hidden, 2 * hidden)
        self.w3, self.b3 = _grouped_init(groups, 2 * hidden, out_dim)
        self.g1, self.c1 = nn.Parameter(torch.ones(groups, hidden)), nn.Parameter(torch.zeros(groups, hidden))
        self.g2, self.c2 = nn.Parameter(torch.ones(groups, 2 * hidden)), nn.Parameter(torch.zeros(groups, 2 * hidden))

    def forward(self, state: Tensor, action: Tensor) -> Tensor:
        """``state (B, S)``, ``action (B, A)`` -> ``(B, N, out)``.

        The first layers read the same input in every group, so they are one
        matmul with the groups' weights side by side; the rest are batched
        matmuls over groups, in a ``(N, B, .)`` layout throughout.
        """
        n, h, b = self.groups, self.hidden, state.shape[0]
        wa = self.wa.permute(1, 0, 2).reshape(-1, n * h)
        ws = self.ws.permute(1, 0, 2).reshape(-1, n * h)
        ha = (action @ wa).reshape(b, n, h).transpose(0, 1) + self.ba.unsqueeze(1)
        hs = (state @ ws).reshape(b, n, h).transpose(0, 1) + self.bs.unsqueeze(1)
        x = torch.cat([ha, hs], -1).relu()  # (N, B, 2h)
        x = _group_norm(torch.baddbmm(self.b1.unsqueeze(1), x, self.w1), self.g1.unsqueeze(1), self.c1.unsqueeze(1)).relu()
        x = _group_norm(torch.baddbmm(self.b2.unsqueeze(1), x, self.w2), self.g2.unsqueeze(1), self.c2.unsqueeze(1)).relu()
        return torch.baddbmm(self.b3.unsqueeze(1), x, self.w3).transpose(0, 1)

    @torch.no_grad()
    def load_from_mlps(self, mlps: list[MLPTransition]) -> GroupedTransition:
        """Copy the weights of ``N`` :class:`MLPTransition` s (for tests and the reference comparison)."""
        for i, m in enumerate(mlps):
            self.wa[i], self.ba[i] = m.action_encoder.weight.T, m.action_encoder.bias
            self.ws[i], self.bs[i] = m.state_encoder.weight.T, m.state_encoder.bias
            self.w1[i], self.b1[i] = m.net[1].weight.T, m.net[1].bias
            self.g1[i], self.c1[i] = m.net[2].weight, m.net[2].bias
            self.w2[i], self.b2[i] = m.net[4].weight.T, m.net[4].bias
            self.g2[i], self.c2[i] = m.net[5].weight, m.net[5].bias
            self.w3[i], self.b3[i] = m.net[7].weight.T, m.net[7].bias
        return self


class TransitionGNN(nn.Module):
    """C-SWM message passing over all ordered pairs of slots, batched (no loop over pairs or objects).

    ``e_ij = f_edge([z_i, z_j])`` for ``i != j``; ``delta_j = f_node([z_j, a_j, sum_{i != j} e_ij])``.
    ``f_edge = L3 . ReLU . LN . L2 . ReLU . L1``: its first layer is linear in
    ``[z_i, z_j]``, so it is computed per node and added pairwise, and its
    last layer is linear, so it is applied after the sum over sources (plus
    ``(N - 1)`` times its bias); only ``L2`` runs per edge. Exactly the edge
    MLP summed over edges, in fewer operations.
    """

    def __init__(self, dim: int, action_dim: int, hidden: int) -> None:
        super().__init__()
        self.edge_mlp = nn.Sequential(nn.Linear(2 * dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                      nn.LayerNorm(hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.node_mlp = nn.Sequential(nn.Linear(dim + action_dim + hidden, hidden), nn.ReLU(),
                                      nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.ReLU(),
                                      nn.Linear(hidden, dim))
        self.dim = dim

    @staticmethod
    def _sources(n: int, device) -> Tensor:
        """``(N, N - 1)`` source indices i != j for each target j."""
        i = torch.arange(n, device=device)
        return i.repeat(n, 1)[~torch.eye(n, dtype=torch.bool, device=device)].reshape(n, n - 1)

    def forward(self, z: Tensor, action: Tensor) -> Tensor:
        """``z (B, N, D)``, per-object ``action (B, N, A)`` -> ``(B, N, D)``."""
        b, n, d = z.shape
        l1, l2, ln, l3 = self.edge_mlp[0], self.edge_mlp[2], self.edge_mlp[3], self.edge_mlp[5]
        if n == 1:
            agg = z.new_zeros(b, 1, l3.out_features)
        else:
            src = z @ l1.weight[:, :d].T  # (B, N, H): the source half of L1
            dst = z @ l1.weight[:, d:].T + l1.bias
            h = (src[:, self._sources(n, z.device)] + dst.unsqueeze(2)).relu()  # (B, N_target, N - 1, H)
            h = ln(l2(h)).relu()
            agg = l3(h.sum(2)) + (n - 2) * l3.bias  # sum_i (L3 h_ij + b3) = L3(sum_i h_ij) + (N - 1) b3
        return self.node_mlp(torch.cat([z, action, agg], -1))


class _ObjectExtractor(nn.Module):
    def __init__(self, kind: str, channels: int, num_objects: int, cell: int) -> None:
        super().__init__()
        if kind == "small":
            self.net = nn.Sequential(nn.Conv2d(3, channels, cell, stride=cell), nn.BatchNorm2d(channels), nn.ReLU(),
                                     nn.Conv2d(channels, num_objects, 1), nn.Sigmoid())
            self.factor = cell
        else:
            half = cell // 2
            self.net = nn.Sequential(nn.Conv2d(3, channels, 9, padding=4), nn.BatchNorm2d(channels), nn.LeakyReLU(),
                                     nn.Conv2d(channels, num_objects, half, stride=half), nn.Sigmoid())
            self.factor = half

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def _encoder_mlp(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.LayerNorm(hidden),
                         nn.ReLU(), nn.Linear(hidden, out_dim))


class PixelDecoder(nn.Module):
    """Slots ``(B, N, D)`` -> pixel logits ``(B, 3, H, W)``: an MLP to ``N`` maps, a transposed conv back to pixels.

    The NLL objective's decoder (pixel BCE); a head of the training procedure,
    not part of the world model, which is the encoder and the transition.
    """

    def __init__(self, num_objects: int, dim: int, hidden: int, map_size: int, factor: int, channels: int) -> None:
        super().__init__()
        self.num_objects, self.map_size = num_objects, map_size
        self.mlp = nn.Sequential(nn.Linear(num_objects * dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                 nn.LayerNorm(hidden), nn.ReLU(), nn.Linear(hidden, num_objects * map_size ** 2))
        self.deconv = nn.Sequential(nn.ConvTranspose2d(num_objects, channels, factor, stride=factor), nn.ReLU(),
                                    nn.Conv2d(channels, 3, 3, padding=1))

    def forward(self, z: Tensor) -> Tensor:
        maps = self.mlp(z.flatten(1)).reshape(z.shape[0], self.num_objects, self.map_size, self.map_size)
        return self.deconv(maps)


class RewardPredictor(nn.Module):
    """``r(z, z_goal)``: an MLP of the flattened slots of a state and of the goal (the reference: 512 hidden)."""

    def __init__(self, state_dim: int, hidden: int = 512) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(2 * state_dim, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, z: Tensor, goal: Tensor) -> Tensor:
        return self.net(torch.cat([z.flatten(1), goal.flatten(1)], -1)).squeeze(-1)


class WorldModel(Model):
    """Base of the four world models; ``forward(obs, action)`` is the predicted next slots ``(B, N, D)``."""

    Config = WorldModelConfig
    variant = "ae"

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        nn.Module.__init__(self)
        self._init_config(config, overrides)
        c = self.config
        n, d, a = c.num_objects, c.embedding_dim, c.action_dim
        channels = c.cnn_channels or max(c.hidden // 16, 1)
        enc_hidden = c.encoder_hidden or c.hidden
        self.extractor = _ObjectExtractor(c.encoder, channels, n, c.cell_size)
        side = c.image_size // self.extractor.factor
        self.map_size = side
        self.flat = self.variant in ("ae", "vae")
        if self.flat:
            out = 2 * n * d if self.variant == "vae" else n * d
            self.encoder = _encoder_mlp(n * side * side, enc_hidden, out)
        else:
            self.encoder = _encoder_mlp(side * side, enc_hidden, d)
        if self.variant == "modular":
            self.transition_net = GroupedTransition(n, n * d, n * a, max(c.hidden // n, 1), d)
        elif self.variant == "gnn":
            self.transition_net = TransitionGNN(d, a, c.hidden)
        else:
            self.transition_net = MLPTransition(n * d, n * a, c.hidden, n * d)

    def _check_obs(self, obs: Tensor) -> None:
        s = self.config.image_size
        if obs.ndim != 4 or tuple(obs.shape[1:]) != (3, s, s):
            raise ValueError(f"{type(self).__name__}: observations must be (B, 3, {s}, {s}) images, "
                             f"got shape {tuple(obs.shape)}; set image_size / cell_size to the task's")

    def encode(self, obs: Tensor) -> tuple[Tensor, tuple[Tensor, Tensor] | None]:
        """Slots ``z (B, N, D)`` and, for the VAE, ``(mean, log-variance)`` (z is sampled in training mode)."""
        self._check_obs(obs)
        c = self.config
        maps = self.extractor(obs)
        b = obs.shape[0]
        if not self.flat:
            return self.encoder(maps.flatten(2)), None
        h = self.encoder(maps.flatten(1))
        if self.variant == "vae":
            mu, logvar = h.chunk(2, -1)
            z = mu + torch.randn_like(mu) * (0.5 * logvar).exp() if self.training else mu
            return z.reshape(b, c.num_objects, c.embedding_dim), (mu, logvar)
        return h.reshape(b, c.num_objects, c.embedding_dim), None

    def _actions(self, action: Tensor) -> Tensor:
        c = self.config
        action = torch.as_tensor(action)
        total = c.num_objects * c.action_dim
        if action.dtype.is_floating_point or action.ndim != 1:
            raise ValueError(f"action must be a (B,) int tensor of indices object * {c.action_dim} + value, "
                             f"got dtype {action.dtype} shape {tuple(action.shape)}")
        if action.numel() and (int(action.min()) < 0 or int(action.max()) >= total):
            raise ValueError(f"action indices must be in [0, {total - 1}], got range "
                             f"[{int(action.min())}, {int(action.max())}]")
        return nn.functional.one_hot(action.long(), total)

    def transition(self, z: Tensor, action: Tensor) -> Tensor:
        """Residual prediction ``z + T(z, a)`` of the next slots ``(B, N, D)``."""
        c = self.config
        onehot = self._actions(action).to(z.dtype)
        b = z.shape[0]
        if self.variant == "gnn":
            delta = self.transition_net(z, onehot.reshape(b, c.num_objects, c.action_dim))
        elif self.variant == "modular":
            delta = self.transition_net(z.flatten(1), onehot)
        else:
            delta = self.transition_net(z.flatten(1), onehot).reshape(z.shape)
        return z + delta

    def make_decoder(self) -> PixelDecoder:
        """A fresh :class:`PixelDecoder` matching this model's sizes (for NLL training)."""
        c = self.config
        return PixelDecoder(c.num_objects, c.embedding_dim, c.hidden, self.map_size, self.extractor.factor,
                            c.cnn_channels or max(c.hidden // 16, 1))

    def forward(self, obs: Tensor, action: Tensor) -> Tensor:
        z, _ = self.encode(obs)
        return self.transition(z, action)


class AEWorldModel(WorldModel):
    """AE: flattened encoder and one monolithic transition MLP (see the module docstring).

    Example:
        >>> import torch
        >>> m = AEWorldModel(num_objects=3, image_size=25, cell_size=5, hidden=32, embedding_dim=4)
        >>> m(torch.rand(2, 3, 25, 25), torch.tensor([1, 2])).shape
        torch.Size([2, 3, 4])
    """

    variant = "ae"


class VAEWorldModel(WorldModel):
    """VAE: the AE with a Gaussian posterior over the flat embedding (KL term in NLL training).

    Example:
        >>> import torch
        >>> m = VAEWorldModel(num_objects=3, image_size=25, cell_size=5, hidden=32, embedding_dim=4)
        >>> m.encode(torch.rand(2, 3, 25, 25))[1][0].shape
        torch.Size([2, 12])
    """

    variant = "vae"


class ModularWorldModel(WorldModel):
    """Modular: per-object encoder and one transition MLP per object slot (grouped einsum).

    Example:
        >>> import torch
        >>> m = ModularWorldModel(num_objects=3, image_size=25, cell_size=5, hidden=32, embedding_dim=4)
        >>> m(torch.rand(2, 3, 25, 25), torch.tensor([1, 2])).shape
        torch.Size([2, 3, 4])
    """

    variant = "modular"


class GNNWorldModel(WorldModel):
    """GNN: per-object encoder and C-SWM message passing over all pairs of slots.

    Example:
        >>> import torch
        >>> m = GNNWorldModel(num_objects=3, image_size=25, cell_size=5, hidden=32, embedding_dim=4)
        >>> m(torch.rand(2, 3, 25, 25), torch.tensor([1, 2])).shape
        torch.Size([2, 3, 4])
    """

    variant = "gnn"
