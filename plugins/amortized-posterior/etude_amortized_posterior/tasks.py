"""Tasks whose examples are whole datasets: simulated from a Bayesian model, or GP draws.

Every split holds D padded datasets: ``inputs`` (D, N, dx), ``targets`` (D, N)
(zeros for the unsupervised GM / GMM, whose observations are the inputs), and
``info`` with ``mask`` (D, N) bool, ``theta`` (D, P) (None for GP data),
``x_query`` / ``y_query`` held-out points of the same dataset and
``feature_mask`` under variable dimensionality. :meth:`BayesTask.simulate`
draws fresh datasets (the amortised estimators train on a stream of them).

References:
    S. Mittal et al., "Amortized In-Context Bayesian Posterior Estimation", arXiv:2502.06601 (2025),
    sections 4 and 5 (simulators of the reference code's ``data.py``).

Examples:
    >>> task = BayesLinearRegression(dim=2, num_train=8, num_test=4, seed=0)
    >>> s = task.split("train")
    >>> s.inputs.shape[0], s.info["mask"].shape == s.targets.shape
    (8, True)
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import torch
from torch import Tensor

from etude.config import FieldValueError, configclass, field, non_negative, positive
from etude.kinds import Split, Task

from . import models


@configclass
class BayesTaskConfig:
    seed: int = field(default=0, doc="seed of every split")
    dim: int = field(default=2, validator=positive, doc="input dimension dx (GM/GMM: the data dimension)")
    n_min: int = field(default=16, validator=positive, doc="fewest observations per dataset")
    n_max: int = field(default=64, validator=positive, doc="most observations per dataset (the padded length N)")
    n_query: int = field(default=64, validator=non_negative, doc="held-out query points per dataset")
    num_train: int = field(default=512, validator=positive, doc="datasets in the train split")
    num_test: int = field(default=512, validator=positive, doc="datasets in the test split")
    min_dim: int | None = field(default=None, doc="variable dimensionality: active features ~ U{min_dim..dim} (None: fixed)")

    def __attrs_post_init__(self) -> None:
        if self.n_min > self.n_max:
            raise FieldValueError("n_min", self.n_min, f"<= n_max={self.n_max}")
        if self.min_dim is not None and not 1 <= self.min_dim <= self.dim:
            raise FieldValueError("min_dim", self.min_dim, f"an integer in [1, dim={self.dim}] or None")


@configclass
class RegressionTaskConfig(BayesTaskConfig):
    noise_variance: float = field(default=0.25, validator=positive, doc="observation noise variance (paper: 0.25)")


@configclass
class ClassificationTaskConfig(BayesTaskConfig):
    temperature: float = field(default=0.1, validator=positive, doc="softmax temperature (paper: 0.1)")
    num_classes: int = field(default=2, validator=positive, doc="classes C")


@configclass
class MixtureTaskConfig(BayesTaskConfig):
    components: int = field(default=2, validator=positive, doc="mixture components K (paper: 2)")


@configclass
class NonlinearRegressionTaskConfig(RegressionTaskConfig):
    hidden: int = field(default=32, validator=positive, doc="tanh hidden units (paper: 32; the 24-parameter BNN: dim=1, hidden=8)")


@configclass
class NonlinearClassificationTaskConfig(ClassificationTaskConfig):
    hidden: int = field(default=32, validator=positive, doc="tanh hidden units (paper: 32)")


class BayesTask(Task):
    """A task of datasets simulated from a :class:`~etude_amortized_posterior.models.BayesModel`."""

    Config: ClassVar[type] = BayesTaskConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        self.model = self.make_model()

    def make_model(self) -> models.BayesModel:
        raise NotImplementedError

    @property
    def input_shape(self) -> tuple[int, ...]:  # type: ignore[override]
        return (self.config.n_max, self.config.dim)

    def simulate(self, num_datasets: int, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """Fresh datasets from the model, with this task's sizes (dict of tensors, see the module doc)."""
        c = self.config
        dims = None if c.min_dim is None else (c.min_dim, c.dim)
        return self.model.simulate(num_datasets, n_min=c.n_min, n_max=c.n_max, n_query=c.n_query,
                                   feature_dims=dims, generator=generator)

    @staticmethod
    def to_split(data: dict[str, Tensor]) -> Split:
        x = data["x"]
        y = data.get("y")
        targets = torch.zeros(x.shape[:2], dtype=x.dtype) if y is None else y
        info = {k: v for k, v in data.items() if k not in ("x", "y")}
        info["supervised"] = y is not None
        return Split(x, targets, info)

    def make_splits(self) -> dict[str, Split]:
        gen = torch.Generator().manual_seed(self.config.seed)
        return {"train": self.to_split(self.simulate(self.config.num_train, gen)),
                "test": self.to_split(self.simulate(self.config.num_test, gen))}


class BayesGaussianMean(BayesTask):
    """GM datasets: theta ~ N(0, I_d), x_n ~ N(theta, I_d) (exact posterior known).

    Splits hold padded datasets (see the module docstring); ``simulate`` draws fresh ones
    and ``model`` is the Pyro program. Reference: Mittal et al., arXiv:2502.06601 (2025), section 4.

    Examples:
        >>> task = BayesGaussianMean(num_train=2, num_test=2, n_min=4, n_max=8, n_query=2)
        >>> task.split("train").info["mask"].shape
        torch.Size([2, 8])
    """

    def make_model(self):
        return models.GaussianMean(self.config.dim)


class BayesGaussianMixture(BayesTask):
    """GMM datasets: K = 2 means ~ N(0, I_d), x_n from the equal-weight mixture (label switching).

    Splits hold padded datasets (see the module docstring); ``simulate`` draws fresh ones
    and ``model`` is the Pyro program. Reference: Mittal et al., arXiv:2502.06601 (2025), section 4.

    Examples:
        >>> task = BayesGaussianMixture(num_train=2, num_test=2, n_min=4, n_max=8, n_query=2)
        >>> task.split("train").info["mask"].shape
        torch.Size([2, 8])
    """

    Config = MixtureTaskConfig

    def make_model(self):
        return models.GaussianMixture(self.config.dim, components=self.config.components)


class BayesLinearRegression(BayesTask):
    """LR datasets: y = w^T x + b + N(0, 0.25), (w, b) ~ N(0, I) (exact posterior known).

    Splits hold padded datasets (see the module docstring); ``simulate`` draws fresh ones
    and ``model`` is the Pyro program. Reference: Mittal et al., arXiv:2502.06601 (2025), section 4.

    Examples:
        >>> task = BayesLinearRegression(num_train=2, num_test=2, n_min=4, n_max=8, n_query=2)
        >>> task.split("train").info["mask"].shape
        torch.Size([2, 8])
    """

    Config = RegressionTaskConfig

    def make_model(self):
        return models.LinearRegression(self.config.dim, noise_variance=self.config.noise_variance)


class BayesLinearClassification(BayesTask):
    """LC datasets: y ~ softmax([x, 1] W / 0.1), W ~ N(0, I).

    Splits hold padded datasets (see the module docstring); ``simulate`` draws fresh ones
    and ``model`` is the Pyro program. Reference: Mittal et al., arXiv:2502.06601 (2025), section 4.

    Examples:
        >>> task = BayesLinearClassification(num_train=2, num_test=2, n_min=4, n_max=8, n_query=2)
        >>> task.split("train").info["mask"].shape
        torch.Size([2, 8])
    """

    Config = ClassificationTaskConfig
    num_classes = 2

    def make_model(self):
        c = self.config
        self.num_classes = c.num_classes
        return models.LinearClassification(c.dim, num_classes=c.num_classes, temperature=c.temperature)


class BayesNonlinearRegression(BayesTask):
    """NLR datasets: y = v^T tanh(W x + b) + N(0, 0.25), all weights ~ N(0, 1) (a BNN posterior).

    Splits hold padded datasets (see the module docstring); ``simulate`` draws fresh ones
    and ``model`` is the Pyro program. Reference: Mittal et al., arXiv:2502.06601 (2025), section 4.

    Examples:
        >>> task = BayesNonlinearRegression(num_train=2, num_test=2, n_min=4, n_max=8, n_query=2)
        >>> task.split("train").info["mask"].shape
        torch.Size([2, 8])
    """

    Config = NonlinearRegressionTaskConfig

    def make_model(self):
        c = self.config
        return models.NonlinearRegression(c.dim, hidden=c.hidden, noise_variance=c.noise_variance)


class BayesNonlinearClassification(BayesTask):
    """NLC datasets: y ~ softmax(V^T tanh(W x + b) / 0.1).

    Splits hold padded datasets (see the module docstring); ``simulate`` draws fresh ones
    and ``model`` is the Pyro program. Reference: Mittal et al., arXiv:2502.06601 (2025), section 4.

    Examples:
        >>> task = BayesNonlinearClassification(num_train=2, num_test=2, n_min=4, n_max=8, n_query=2)
        >>> task.split("train").info["mask"].shape
        torch.Size([2, 8])
    """

    Config = NonlinearClassificationTaskConfig
    num_classes = 2

    def make_model(self):
        c = self.config
        self.num_classes = c.num_classes
        return models.NonlinearClassification(c.dim, hidden=c.hidden, num_classes=c.num_classes,
                                              temperature=c.temperature)


# -- GP data ------------------------------------------------------------------------------------
@configclass
class GPDatasetsConfig:
    seed: int = field(default=0, doc="seed of every split")
    dim: int = field(default=1, validator=positive, doc="input dimension")
    lengthscale: float = field(default=1.0, validator=positive, doc="RBF lengthscale")
    variance: float = field(default=1.0, validator=positive, doc="RBF signal variance")
    noise_variance: float = field(default=0.25, validator=positive, doc="observation noise variance")
    n_min: int = field(default=16, validator=positive, doc="fewest observations per dataset")
    n_max: int = field(default=64, validator=positive, doc="most observations per dataset")
    n_query: int = field(default=64, validator=non_negative, doc="held-out query points per dataset")
    num_train: int = field(default=512, validator=positive, doc="datasets in the train split")
    num_test: int = field(default=512, validator=positive, doc="datasets in the test split")

    def __attrs_post_init__(self) -> None:
        if self.n_min > self.n_max:
            raise FieldValueError("n_min", self.n_min, f"<= n_max={self.n_max}")


class GPDatasets(Task):
    """Regression datasets drawn exactly from a GP prior: f ~ GP(0, s^2 exp(-|x - x'|^2 / 2 l^2)), y = f + noise.

    Inputs x ~ N(0, I); the n observed and the query points of a dataset
    share one function draw, made exactly by a batched Cholesky factor of
    the kernel matrix (jitter 1e-6). The paper's misspecification study
    (Table 4) treats such datasets as "real" data for an assumed NLR model;
    they have no true theta.

    Examples:
        >>> task = GPDatasets(num_train=4, num_test=4, n_max=20, n_query=5)
        >>> task.split("test").info["x_query"].shape
        torch.Size([4, 5, 1])
    """

    Config = GPDatasetsConfig

    @property
    def input_shape(self) -> tuple[int, ...]:  # type: ignore[override]
        return (self.config.n_max, self.config.dim)

    def simulate(self, num_datasets: int, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        c = self.config
        d, total = num_datasets, c.n_max + c.n_query
        lengths = torch.randint(c.n_min, c.n_max + 1, (d,), generator=generator)
        mask = torch.arange(c.n_max)[None, :] < lengths[:, None]
        x = torch.randn(d, total, c.dim, generator=generator)
        xd = x.double()
        sq = (xd.unsqueeze(-2) - xd.unsqueeze(-3)).square().sum(-1)
        k = c.variance * torch.exp(-0.5 * sq / c.lengthscale**2)
        k = k + 1e-6 * c.variance * torch.eye(total, dtype=torch.float64)
        chol = torch.linalg.cholesky(k)
        f = (chol @ torch.randn(d, total, 1, generator=generator, dtype=torch.float64)).squeeze(-1).to(x.dtype)
        y = f + math.sqrt(c.noise_variance) * torch.randn(d, total, generator=generator)
        m = mask.to(x.dtype)
        return {"theta": None, "x": x[:, : c.n_max] * m[..., None], "y": y[:, : c.n_max] * m, "mask": mask,
                "feature_mask": None, "x_query": x[:, c.n_max :], "y_query": y[:, c.n_max :], "f_query": f[:, c.n_max :]}

    def make_splits(self) -> dict[str, Split]:
        gen = torch.Generator().manual_seed(self.config.seed)
        return {"train": BayesTask.to_split(self.simulate(self.config.num_train, gen)),
                "test": BayesTask.to_split(self.simulate(self.config.num_test, gen))}


TASKS = {
    "bayes-gaussian-mean": BayesGaussianMean,
    "bayes-gaussian-mixture": BayesGaussianMixture,
    "bayes-linear-regression": BayesLinearRegression,
    "bayes-linear-classification": BayesLinearClassification,
    "bayes-nonlinear-regression": BayesNonlinearRegression,
    "bayes-nonlinear-classification": BayesNonlinearClassification,
    "gp-datasets": GPDatasets,
}
