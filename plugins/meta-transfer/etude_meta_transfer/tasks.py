"""``task/bivariate-transfer``: observational and intervened samples of a two-variable categorical SCM.

The data SCM is etude-scm's ``model/categorical-scm`` (N categories, every
table row ``~ Dirichlet(1)``), with graph ``A -> B`` (``cause="A"``) or the
role-swapped control ``B -> A`` (``cause="B"``). A transfer distribution is
the SCM after ``replace_mechanism(cause, CategoricalTable(N))``: a new cause
marginal ``~ Dirichlet(1)``, the effect's mechanism kept.

Splits (inputs int64, columns ``(A, B)``):
``train`` (num_train, 2) observational; ``transfer`` (episodes, steps, batch, 2)
one transfer distribution per episode, for meta-training; ``test``
(test_episodes, steps, batch, 2) held-out transfers. Targets of the transfer
splits are each episode's new cause marginal (episodes, N) float64; of
``train``, the column of the effect. ``info["joints"]`` holds each transfer's
exact joint ``P[a, b]``.

References:
    Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle
    Causal Mechanisms". ICLR 2020. arXiv:1901.10912 (Sec. 3, experiments).

Example:
    >>> t = BivariateTransferTask(num_categories=4, num_train=100, episodes=3, test_episodes=2, seed=0)
    >>> t.split("transfer").inputs.shape, t.split("train").inputs.dtype
    (torch.Size([3, 2, 10, 2]), torch.int64)
"""

from __future__ import annotations

import torch

from etude.config import configclass, field, non_negative, one_of, positive
from etude.kinds import Split, Task
from etude_scm import SCM, CategoricalTable, create_categorical_scm

from .tabular import joint_probs

__all__ = ["BivariateTransferTask", "BivariateTransferTaskConfig", "SplineTransferTask", "SplineTransferTaskConfig", "sample_transfers", "make_data_scm"]


@configclass
class BivariateTransferTaskConfig:
    num_categories: int = field(default=10, validator=positive, doc="categories N of A and of B")
    cause: str = field(default="A", validator=one_of("A", "B"), doc="'A': data A -> B; 'B': role-swapped B -> A")
    num_train: int = field(default=10_000, validator=positive, doc="observational training samples")
    episodes: int = field(default=300, validator=positive, doc="transfer distributions for meta-training")
    test_episodes: int = field(default=20, validator=positive, doc="held-out transfer distributions")
    steps: int = field(default=2, validator=positive, doc="transfer batches per episode")
    batch_size: int = field(default=10, validator=positive, doc="samples per transfer batch")
    seed: int = field(default=0, validator=non_negative, doc="seed of the SCM, the interventions and the samples")


def make_data_scm(num_categories: int, cause: str, generator: torch.Generator) -> SCM:
    """etude-scm's categorical SCM ``cause -> effect`` (Dirichlet(1) rows), in float64."""
    graph = "A->B" if cause == "A" else "B->A"
    return create_categorical_scm(graph, generator, num_categories=num_categories).double()


def sample_transfers(
    scm: SCM, cause: str, episodes: int, samples: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``episodes`` transfer distributions (new cause marginal ~ Dirichlet(1)) with ``samples`` draws each.

    Returns values (episodes, samples, 2) int64 in columns (A, B), the new marginals (episodes, N) and
    the exact joints (episodes, N, N).
    """
    n = scm.mechanisms[cause].num_categories
    xs, marginals, joints = [], [], []
    for _ in range(episodes):
        new = CategoricalTable(n, generator=generator).double()
        shifted = scm.replace_mechanism(cause, new)
        v = shifted.sample(samples, generator)
        xs.append(torch.stack([v["A"], v["B"]], -1))
        marginals.append(new.probs.detach())
        joints.append(joint_probs(shifted))
    return torch.stack(xs), torch.stack(marginals), torch.stack(joints)


class BivariateTransferTask(Task):
    """Two categorical variables, cause -> effect, and transfers that change only the cause's marginal.

    The training distribution and each transfer distribution come from etude-scm
    (``create_categorical_scm`` and ``replace_mechanism`` on the cause); a transfer
    keeps ``p(effect | cause)``.

    References:
        Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle Causal
        Mechanisms". ICLR 2020. arXiv:1901.10912.

    Example:
        >>> BivariateTransferTask(num_categories=3, num_train=20, episodes=2, test_episodes=1).split("test").inputs.shape
        torch.Size([1, 2, 10, 2])
    """

    Config = BivariateTransferTaskConfig
    split_names = ("train", "transfer", "test")

    def __init__(self, config=None, **overrides) -> None:
        super().__init__(config, **overrides)
        self.input_shape = (2,)

    def make_splits(self) -> dict[str, Split]:
        cfg = self.config
        g = torch.Generator().manual_seed(int(cfg.seed))
        scm = make_data_scm(cfg.num_categories, cfg.cause, g)
        v = scm.sample(cfg.num_train, g)
        train = torch.stack([v["A"], v["B"]], -1)
        effect = "B" if cfg.cause == "A" else "A"
        splits = {"train": Split(train, v[effect], {"cause": cfg.cause, "joint": joint_probs(scm)})}
        per = cfg.steps * cfg.batch_size
        for name, count in (("transfer", cfg.episodes), ("test", cfg.test_episodes)):
            x, marg, joints = sample_transfers(scm, cfg.cause, count, per, g)
            x = x.view(count, cfg.steps, cfg.batch_size, 2)
            splits[name] = Split(x, marg, {"cause": cfg.cause, "joints": joints})
        return splits


@configclass
class SplineTransferTaskConfig:
    num_train: int = field(default=10_000, validator=positive, doc="observational training samples")
    episodes: int = field(default=500, validator=positive, doc="transfer distributions for meta-training")
    test_episodes: int = field(default=20, validator=positive, doc="held-out transfer distributions")
    samples: int = field(default=1000, validator=positive, doc="samples per transfer distribution")
    seed: int = field(default=0, validator=non_negative, doc="seed of the spline, the transfers and the samples")


class SplineTransferTask(Task):
    """``B := spline(A) + N(0, 1)`` (etude-scm ``spline-scm``); A ~ N(0, 2^2) to train, N(m, 2^2) for transfers.

    ``m`` is a uniform integer in [-4, 4] per transfer (the official continuous notebook), applied by
    ``replace_mechanism("A", LinearGaussian((), m, 2))``. Splits: ``train`` (num_train, 2) float,
    ``transfer`` (episodes, samples, 2) and ``test`` (test_episodes, samples, 2), columns (A, B);
    targets of the transfer splits are the shifts ``m``.

    References:
        Y. Bengio et al. "A Meta-Transfer Objective for Learning to Disentangle Causal Mechanisms".
        ICLR 2020. arXiv:1901.10912 (continuous multimodal experiment).

    Example:
        >>> SplineTransferTask(num_train=10, episodes=2, test_episodes=1, samples=5).split("transfer").inputs.shape
        torch.Size([2, 5, 2])
    """

    Config = SplineTransferTaskConfig
    split_names = ("train", "transfer", "test")

    def __init__(self, config=None, **overrides) -> None:
        super().__init__(config, **overrides)
        self.input_shape = (2,)

    def make_splits(self) -> dict[str, Split]:
        from etude_scm import LinearGaussian, create_spline_scm  # noqa: PLC0415

        cfg = self.config
        g = torch.Generator().manual_seed(int(cfg.seed))
        scm = create_spline_scm("A->B", g)
        v = scm.sample(cfg.num_train, g)
        splits = {"train": Split(torch.stack([v["A"], v["B"]], -1), v["B"], {})}
        for name, count in (("transfer", cfg.episodes), ("test", cfg.test_episodes)):
            shifts = torch.randint(-4, 5, (count,), generator=g).to(torch.get_default_dtype())
            xs = []
            for m in shifts.tolist():
                w = scm.replace_mechanism("A", LinearGaussian((), m, 2.0)).sample(cfg.samples, g)
                xs.append(torch.stack([w["A"], w["B"]], -1))
            splits[name] = Split(torch.stack(xs), shifts, {})
        return splits
