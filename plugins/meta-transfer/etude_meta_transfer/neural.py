"""Neural hypotheses for the estimator: MLP conditionals (categorical data) and MDN conditionals (continuous).

Each hypothesis is a marginal and a conditional, G1 = p(A) p(B | A) and G2 = p(B) p(A | B):

- ``mlp`` (categorical A, B in [0, N); the official ``run_mlp.py``): the conditional is the core's
  ``model/mlp`` on the one-hot parent (hidden 8, ReLU; the official uses leaky ReLU, which the core's
  neurons do not include), the marginal a free logit vector. Pretrained on the training samples (Adam
  1e-3, batches of 256); adapted on each transfer batch by SGD.
- ``mdn`` (continuous A, B; notebook ``bivariate-continuous-multimodal/02``): the conditional is a
  :class:`~etude_meta_transfer.continuous.MixtureDensityNetwork` (10 components, a ``model/mlp`` body of
  capacity 32, ``MixtureSameFamily``), pretrained the same way; the marginal of each episode is a
  10-component Gaussian mixture fitted by EM to the episode's samples (the notebook's choice). The
  conditional is adapted on each transfer batch by Adam.

In both, each batch is scored before the inner step on it (online likelihood), the modules are copied
per episode (the pretrained ones never change: gamma is the only state kept), and ``log L_G`` sums the
episode. The loop is per episode and per run (not batched over runs like the tabular hot path).

References:
    Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle Causal Mechanisms".
    ICLR 2020. arXiv:1901.10912 (MLP parametrisation; continuous multimodal variables).

Example:
    >>> import torch
    >>> h = NeuralHypotheses("mdn", pretrain_steps=2)
    >>> h.pretrain(torch.randn(64, 2), torch.Generator().manual_seed(0))
    >>> [t.shape for t in h.episode_log_likelihood(torch.randn(2, 8, 2), inner_lr=1e-3)]
    [torch.Size([]), torch.Size([])]
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .continuous import MixtureDensityNetwork, fit_gaussian_mixture, gaussian_mixture_log_prob

__all__ = ["NeuralHypotheses", "CategoricalMLPConditional"]


class CategoricalMLPConditional(nn.Module):
    """``p(y | x)`` for categories: logits = core ``model/mlp``(one-hot x) (hidden 8), and a free marginal."""

    def __init__(self, num_categories: int, hidden: int = 8) -> None:
        super().__init__()
        import etude  # noqa: PLC0415

        self.num_categories = num_categories
        self.body = etude.create(
            "model", "mlp", in_features=num_categories, out_features=num_categories, hidden=(hidden,),
            activation="relu",
        )
        self.marginal = nn.Parameter(torch.zeros(num_categories))

    def log_prob(self, x: Tensor, y: Tensor) -> Tensor:
        """``log p(x) + log p(y | x)`` per sample: the whole hypothesis with x the parent."""
        onehot = F.one_hot(x, self.num_categories).to(self.marginal.dtype)
        cond = self.body(onehot).log_softmax(-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
        return self.marginal.log_softmax(-1)[x] + cond


class NeuralHypotheses:
    """G1 and G2 with neural conditionals: ``pretrain(train)`` then ``episode_log_likelihood(episode)``."""

    def __init__(self, kind: str, *, num_categories: int = 10, hidden: int = 8, components: int = 10,
                 capacity: int = 32, pretrain_steps: int = 1000, pretrain_batch: int = 256,
                 em_iters: int = 50) -> None:
        if kind not in ("mlp", "mdn"):
            raise ValueError(f"'hypotheses' must be 'mlp' or 'mdn' here, got {kind!r}")
        self.kind, self.components, self.em_iters = kind, components, em_iters
        self.pretrain_steps, self.pretrain_batch = pretrain_steps, pretrain_batch
        if kind == "mlp":
            self.g1 = CategoricalMLPConditional(num_categories, hidden)
            self.g2 = CategoricalMLPConditional(num_categories, hidden)
        else:
            self.g1 = MixtureDensityNetwork(components, capacity)
            self.g2 = MixtureDensityNetwork(components, capacity)

    def _ll(self, model: nn.Module, parent: Tensor, child: Tensor) -> Tensor:
        if self.kind == "mlp":
            return model.log_prob(parent, child)
        return model.log_prob(child, parent)

    def pretrain(self, train: Tensor, generator: torch.Generator) -> None:
        """Fit both conditionals (and the MLP marginals) on the training samples ``(n, 2)`` by Adam 1e-3."""
        train = train if self.kind == "mlp" else train.to(torch.get_default_dtype())
        for model, (p, c) in ((self.g1, (0, 1)), (self.g2, (1, 0))):
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            for _ in range(self.pretrain_steps):
                idx = torch.randint(0, train.shape[0], (min(self.pretrain_batch, train.shape[0]),), generator=generator)
                batch = train[idx]
                loss = -self._ll(model, batch[:, p], batch[:, c]).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()

    def episode_log_likelihood(self, episode: Tensor, inner_lr: float) -> tuple[Tensor, Tensor]:
        """``(log L1, log L2)`` of one episode ``(steps, batch, 2)``: each batch scored before its step."""
        out = []
        flat = episode.reshape(-1, 2)
        for model, (p, c) in ((self.g1, (0, 1)), (self.g2, (1, 0))):
            m = copy.deepcopy(model)
            params = m.body.parameters() if self.kind == "mdn" else m.parameters()
            opt = (torch.optim.Adam if self.kind == "mdn" else torch.optim.SGD)(params, lr=inner_lr)
            total = torch.zeros((), dtype=torch.float64)
            if self.kind == "mdn":
                x = flat[:, p].to(torch.float64)
                marginal = gaussian_mixture_log_prob(x, fit_gaussian_mixture(x, self.components, self.em_iters))
                total = total + marginal.sum()
            data = episode if self.kind == "mlp" else episode.to(torch.get_default_dtype())
            for batch in data:
                ll = self._ll(m, batch[:, p], batch[:, c])
                total = total + ll.detach().sum().double()
                opt.zero_grad()
                (-ll.mean()).backward()
                opt.step()
            out.append(total)
        return out[0], out[1]
