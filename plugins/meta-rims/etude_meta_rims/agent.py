"""The Meta-RIMs actor-critic for MiniGrid / BabyAI: image encoder and mission GRU into a RIM cell (or an LSTM).

Meta-RIMs' Figure 1 (Madan et al., ICLR 2021): the 7 x 7 x 3 image goes
through the standard MiniGrid convolutional encoder (torch-ac /
rl-starter-files: three 2 x 2 convolutions 16 / 32 / 64 with a 2 x 2
max-pool, 64 features), the mission tokens through a word embedding and a
GRU read at the last real token, and the two are the input slots of a
:class:`~etude_meta_rims.cell.RIMCell` (``core="rims"``) or an
``nn.LSTMCell`` over their concatenation (``core="lstm"``); actor and
critic are two-layer tanh heads. Trained by :class:`etude_meta_rims.ppo.PPO`.

References:
    K. Madan, N. R. Ke, A. Goyal, B. Schölkopf, Y. Bengio, "Fast and Slow Learning of Recurrent
    Independent Mechanisms", ICLR 2021, arXiv:2105.08710.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, one_of, positive

Memory = tuple[Tensor, Tensor]

@configclass
class ActorCriticConfig:
    num_actions: int = field(default=7, validator=positive, doc="discrete actions (MiniGrid: 7)")
    vocab_size: int = field(default=51, validator=positive, doc="mission vocabulary size (MISSION_VOCABULARY)")
    core: str = field(default="rims", validator=one_of("rims", "lstm"), doc="recurrent core: RIM cell or LSTMCell")
    hidden_size: int = field(default=32, validator=positive,
                             doc="RIMs: state width per module; LSTM: its width (match the parameter count)")
    num_modules: int = field(default=4, validator=positive, doc="RIMs modules K")
    active: int = field(default=2, validator=positive, doc="RIMs active modules k_A")
    word_dim: int = field(default=32, validator=positive, doc="word embedding width (torch-ac 32)")
    use_mission: bool = field(default=True, doc="read the mission (False: image only, MiniGrid-style)")
    cell_options: dict = field(factory=lambda: {"input_dropout": 0.0, "comm_dropout": 0.0}, converter=dict,
                               doc="further RIMCellConfig fields (dropout off by default: PPO's ratios need a "
                                   "deterministic network)")

    def __attrs_post_init__(self) -> None:
        if self.active > self.num_modules:
            raise FieldValueError("active", self.active, f"at most num_modules={self.num_modules}")


IMAGE_FEATURES = 64


class ActorCritic(nn.Module):
    """Image encoder + mission GRU -> RIM cell (or LSTMCell) -> actor and critic heads.

    ``forward(image (B, 7, 7, 3), mission (B, L) int64, memory) -> (logits
    (B, A), value (B,), memory, active (B, K) bool or None)``; ``memory`` is
    ``(h, c)`` ((B, K, d_h) each for RIMs, (B, H) for the LSTM) from
    :meth:`initial_memory`. Parameter groups: :meth:`module_parameters` (θ)
    and :meth:`attention_parameters` (φ) of the RIM cell; everything else
    (encoders, heads) is neither (slow in the Meta-RIMs modes).

    References:
        K. Madan et al., "Fast and Slow Learning of Recurrent Independent Mechanisms", ICLR 2021,
        arXiv:2105.08710 (Figure 1).

    Examples:
        >>> import torch
        >>> agent = ActorCritic(hidden_size=8, num_modules=4, active=2)
        >>> mem = agent.initial_memory(3)
        >>> logits, value, mem, active = agent(torch.zeros(3, 7, 7, 3), torch.ones(3, 5, dtype=torch.long), mem)
        >>> logits.shape, value.shape, active.sum(1).tolist()
        (torch.Size([3, 7]), torch.Size([3]), [2, 2, 2])
    """

    Config = ActorCriticConfig

    def __init__(self, config: ActorCriticConfig | dict | None = None, **overrides: Any) -> None:
        super().__init__()
        if config is None:
            config = ActorCriticConfig(**overrides)
        elif isinstance(config, dict):
            config = ActorCriticConfig(**{**config, **overrides})
        self.config = c = config
        self.image = nn.Sequential(nn.Conv2d(3, 16, 2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 2), nn.ReLU(),
                                   nn.Conv2d(32, IMAGE_FEATURES, 2), nn.ReLU(), nn.Flatten())
        if c.use_mission:
            self.words = nn.Embedding(c.vocab_size, c.word_dim, padding_idx=0)
            self.text = nn.GRU(c.word_dim, IMAGE_FEATURES, batch_first=True)
        slots = 2 if c.use_mission else 1
        if c.core == "rims":
            from .cell import RIMCell  # noqa: PLC0415

            self.cell = RIMCell(input_size=IMAGE_FEATURES, hidden_size=c.hidden_size, num_modules=c.num_modules,
                                active=c.active, **c.cell_options)
            width = c.num_modules * c.hidden_size
        else:
            self.cell = nn.LSTMCell(slots * IMAGE_FEATURES, c.hidden_size)
            width = c.hidden_size
        self.actor = nn.Sequential(nn.Linear(width, 64), nn.Tanh(), nn.Linear(64, c.num_actions))
        self.critic = nn.Sequential(nn.Linear(width, 64), nn.Tanh(), nn.Linear(64, 1))

    def module_parameters(self) -> list[nn.Parameter]:
        """θ: the RIM modules' own recurrent weights (stacked (K, ...))."""
        if self.config.core != "rims":
            raise TypeError("ActorCritic.module_parameters: only core='rims' has module parameters")
        return self.cell.module_parameters()

    def attention_parameters(self) -> list[nn.Parameter]:
        """φ: the RIM cell's input and communication attention with their projections and gate."""
        if self.config.core != "rims":
            raise TypeError("ActorCritic.attention_parameters: only core='rims' has attention parameters")
        return self.cell.attention_parameters()

    def initial_memory(self, batch_size: int, device: Any = None) -> Memory:
        """Zero recurrent state for ``batch_size`` environments."""
        c = self.config
        shape = (batch_size, c.num_modules, c.hidden_size) if c.core == "rims" else (batch_size, c.hidden_size)
        h = torch.zeros(shape, device=device)
        return h, h.clone()

    def encode(self, image: Tensor, mission: Tensor) -> Tensor:
        """Input slots (B, S, 64): the image features and (with ``use_mission``) the mission's GRU state."""
        if image.dim() != 4 or image.shape[-1] != 3:
            raise ValueError(f"ActorCritic: image must be (B, H, W, 3), got {tuple(image.shape)}")
        feats = [self.image(image.float().permute(0, 3, 1, 2))]
        if self.config.use_mission:
            if mission.dim() != 2 or mission.dtype != torch.long:
                raise ValueError(f"ActorCritic: mission must be (B, L) int64 token ids, got {tuple(mission.shape)} "
                                 f"{mission.dtype}")
            out, _ = self.text(self.words(mission))
            last = (mission != 0).sum(1).clamp(min=1) - 1  # the last real token (padding is id 0, at the end)
            feats.append(out[torch.arange(out.shape[0], device=out.device), last])
        return torch.stack(feats, dim=1)

    def forward(self, image: Tensor, mission: Tensor, memory: Memory) -> tuple[Tensor, Tensor, Memory, Tensor | None]:
        slots = self.encode(image, mission)
        if self.config.core == "rims":
            from .cell import RIMState  # noqa: PLC0415

            h, state, info = self.cell(slots, RIMState(*memory))
            feats, memory, active = h.flatten(1), (state.h, state.c), info["active"]
        else:
            h, c = self.cell(slots.flatten(1), memory)
            feats, memory, active = h, (h, c), None
        return self.actor(feats), self.critic(feats).squeeze(-1), memory, active


__all__ = ["IMAGE_FEATURES", "ActorCritic", "ActorCriticConfig", "Memory"]
