"""``task/scm-shift``: regress one node of a random SCM on the others, with an ood split after a shift.

Train and test are observational samples of a registered random SCM; the
``ood`` split is sampled after :func:`~etude_scm.shift.sparse_mechanism_shift`
redraws ``k`` mechanisms. Inputs are the other nodes (``(n, d - 1)`` float,
in index order, names in ``info["features"]``), targets the ``target`` node
(float, or int64 classes for categorical SCMs). A predictor that uses only
the target's causal parents is unaffected by shifts of other mechanisms
(Schölkopf et al. 2021, Sec. 5 "robustness and transfer").

References:
    B. Schölkopf et al. "Toward Causal Representation Learning". Proceedings
    of the IEEE, 2021. arXiv:2102.11107.

Example:
    >>> import etude
    >>> task = etude.create("task", "scm-shift", graph="chain3", num_train=50, num_test=20, seed=0)
    >>> task.split("ood").inputs.shape, task.split("train").info["features"]
    (torch.Size([20, 2]), ('X0', 'X1'))
"""

from __future__ import annotations

from typing import Any

import torch

from etude.config import configclass, field, non_negative, one_of, positive
from etude.kinds import Split, Task

__all__ = ["SCMShiftTask", "SCMShiftTaskConfig"]

_SCMS = ("linear-gaussian-scm", "categorical-scm", "spline-scm", "categorical-mlp-scm")


@configclass
class SCMShiftTaskConfig:
    scm: str = field(default="linear-gaussian-scm", validator=one_of(*_SCMS), doc="which registered random SCM")
    graph: str = field(default="random", doc="the SCM's graph: skeleton, edge list or 'random'")
    num_nodes: int = field(default=5, validator=positive, doc="nodes of a random graph")
    target: str | None = field(default=None, doc="node to predict; None: the last node in index order")
    k: int = field(default=1, validator=non_negative, doc="mechanisms redrawn for the ood split")
    num_train: int = field(default=1000, validator=positive, doc="training examples")
    num_test: int = field(default=1000, validator=positive, doc="examples of the test and of the ood split")
    seed: int = field(default=0, validator=non_negative, doc="seed of the SCM, the shift and the samples")


class SCMShiftTask(Task):
    """Predict a node of a random SCM from the others; ``ood`` after a sparse mechanism shift.

    Train and test are observational samples of the SCM; ``ood`` samples the
    SCM after ``k`` of its mechanisms are redrawn in their family. Inputs
    are the other nodes in index order, targets the ``target`` node.

    References:
        B. Schölkopf et al. "Toward Causal Representation Learning". Proc.
        IEEE, 2021. arXiv:2102.11107 (Sec. 5, robustness and transfer).

    Example:
        >>> SCMShiftTask(graph="chain3", num_train=8, num_test=4).split("train").inputs.shape
        torch.Size([8, 2])
    """

    Config = SCMShiftTaskConfig
    split_names = ("train", "test", "ood")

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        from .models import CategoricalMLPSCM, CategoricalSCM, LinearGaussianSCM, SplineSCM  # noqa: PLC0415

        cfg = self.config
        cls = dict(zip(_SCMS, (LinearGaussianSCM, CategoricalSCM, SplineSCM, CategoricalMLPSCM)))[cfg.scm]
        graph = "A->B" if cfg.scm in ("categorical-scm", "spline-scm") and cfg.graph == "random" else cfg.graph
        self.scm = cls(graph=graph, num_nodes=cfg.num_nodes, seed=cfg.seed)
        nodes = self.scm.nodes
        self.target = cfg.target if cfg.target is not None else nodes[-1]
        if self.target not in nodes:
            raise ValueError(f"scm-shift: 'target' {self.target!r} is not a node of {list(nodes)}")
        if cfg.k > len(nodes):
            raise ValueError(f"scm-shift: 'k' = {cfg.k} exceeds the {len(nodes)} nodes")
        self.features = tuple(v for v in nodes if v != self.target)
        first = self.scm.mechanisms[self.target]
        self.num_classes = getattr(first, "num_categories", None) if first.discrete else None
        self.input_shape = (len(self.features),)

    def make_splits(self) -> dict[str, Split]:
        from .shift import sparse_mechanism_shift  # noqa: PLC0415

        cfg = self.config
        g = torch.Generator().manual_seed(10_007 * (cfg.seed + 1))
        shifted, nodes = sparse_mechanism_shift(self.scm, cfg.k, g)
        out = {}
        with torch.no_grad():
            for name, scm, n in (("train", self.scm, cfg.num_train), ("test", self.scm, cfg.num_test),
                                 ("ood", shifted, cfg.num_test)):
                s = scm.sample(n, g)
                inputs = torch.stack([s[v].to(torch.get_default_dtype()) for v in self.features], dim=-1)
                if not self.features:
                    inputs = torch.zeros(n, 0)
                info = {"features": self.features, "target": self.target, "shifted": nodes if name == "ood" else ()}
                out[name] = Split(inputs.detach(), s[self.target].detach(), info)
        return out
