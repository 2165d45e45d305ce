"""``procedure/amortized-inference``: train an amortised posterior and report the paper's metrics.

References:
    S. Mittal et al., "Amortized In-Context Bayesian Posterior Estimation", arXiv:2502.06601 (2025),
    sections 4-5 (Tables 1, 4 and 5).
"""

from __future__ import annotations

import time
from typing import Any

import torch

from etude.config import configclass, field, non_negative, one_of, positive
from etude.kinds import Procedure, ProcedureResult

from .estimator import AmortizedPosterior
from .metrics import evaluate, symmetric_kl, wasserstein2


@configclass
class AmortizedInferenceConfig:
    encoder: str = field(default="transformer", validator=one_of("transformer", "deepsets", "gru"), doc="set encoder")
    encoder_options: dict[str, Any] = field(factory=dict, doc="config of the encoder")
    head: str = field(default="gaussian", validator=one_of("gaussian", "flow"), doc="posterior head")
    head_options: dict[str, Any] = field(factory=dict, doc="config of the flow head")
    objective: str = field(default="reverse-kl", validator=one_of("forward-kl", "reverse-kl", "mixed"), doc="objective")
    kl: str = field(default="analytic", validator=one_of("analytic", "monte-carlo"), doc="reverse-KL KL term")
    particles: int = field(default=1, validator=positive, doc="reverse-KL particles")
    steps: int = field(default=10001, validator=positive, doc="training steps (paper: 10,001)")
    batch_size: int = field(default=128, validator=positive, doc="datasets per step (paper: 128)")
    lr: float = field(default=1e-4, validator=positive, doc="Adam learning rate (paper: 1e-4)")
    data_task: str | None = field(default=None, doc="train reverse KL on this task's train datasets and evaluate on its test split (switched / real data)")
    data_task_options: dict[str, Any] = field(factory=dict, doc="config of data_task")
    eval_task: str | None = field(default=None, doc="evaluate on this task's test split (default: data_task, else the task)")
    eval_task_options: dict[str, Any] = field(factory=dict, doc="config of eval_task")
    num_samples: int = field(default=25, validator=positive, doc="posterior samples per dataset for the predictive metrics (paper: 25)")
    nuts_datasets: int = field(default=0, validator=non_negative, doc="also W2^2 to NUTS on this many test datasets (0: off)")
    nuts_samples: int = field(default=200, validator=positive, doc="NUTS warm-up and kept samples")


class AmortizedInference(Procedure):
    """Train ``estimator/amortized-posterior`` on a task's simulator (or another task's datasets) and evaluate.

    Metrics: predictive ``l2`` (regression, GM) or ``accuracy`` (classification) or
    ``closest_mean_l2`` (GMM), with ``num_samples`` posterior samples; the
    ``predictive_loglik``; ``symmetric_kl`` to the exact posterior where the model
    has one (GM, LR); ``w2_to_nuts`` when ``nuts_datasets > 0``; training seconds.

    Examples:
        >>> from etude_amortized_posterior.tasks import BayesGaussianMean
        >>> proc = AmortizedInference(encoder="deepsets", encoder_options={"hidden": 16, "out_features": 16},
        ...                           steps=5, batch_size=8, lr=1e-3)
        >>> res = proc.run(BayesGaussianMean(dim=2, num_train=8, num_test=8), seed=0)
        >>> sorted(res.metrics)[:3]
        ['l2', 'predictive_loglik', 'symmetric_kl']
    """

    Config = AmortizedInferenceConfig

    def run(self, task: Any, *, seed: int = 0, device: Any = None, progress: bool = False, **kwargs: Any) -> ProcedureResult:
        import etude  # noqa: PLC0415

        c = self.config
        if not hasattr(task, "model"):
            raise ValueError("procedure/amortized-inference: task must be a bayes-* task (it supplies the model); "
                             "give real datasets as data_task")
        device = torch.device(device or "cpu")
        torch.manual_seed(seed)
        est = AmortizedPosterior(task_instance=task, encoder=c.encoder, encoder_options=c.encoder_options,
                                 head=c.head, head_options=c.head_options, objective=c.objective, kl=c.kl,
                                 particles=c.particles, steps=c.steps, batch_size=c.batch_size, lr=c.lr, seed=seed)
        est.to(device)
        start = time.perf_counter()
        data_task = etude.create("task", c.data_task, **c.data_task_options) if c.data_task else None
        if data_task is not None:
            tr = data_task.split("train")
            est.fit(tr.inputs, tr.targets if task.model.supervised else None, tr.info["mask"], progress=progress)
        else:
            est.fit(progress=progress)
        seconds = time.perf_counter() - start
        if c.eval_task:
            eval_task = etude.create("task", c.eval_task, **c.eval_task_options)
        else:
            eval_task = data_task or task
        te = eval_task.split("test")
        y = te.targets if task.model.supervised else None
        data = {"x": te.inputs, "y": y, "mask": te.info["mask"], **{k: te.info.get(k) for k in ("x_query", "y_query")}}
        q = est.estimate(data["x"], y, data["mask"])
        metrics = evaluate(task.model, q, data, num_samples=c.num_samples)
        if te.info.get("theta") is not None:
            try:
                exact = task.model.exact_posterior(data["x"], y, data["mask"])
            except NotImplementedError:
                exact = None
            if exact is not None and c.head == "gaussian":
                metrics["symmetric_kl"] = float(symmetric_kl(q, exact).mean())
        if c.nuts_datasets:
            from .baselines import NUTSPosterior  # noqa: PLC0415

            k = min(c.nuts_datasets, data["x"].shape[0])
            nuts = NUTSPosterior(model=task.model, warmup_steps=c.nuts_samples, num_samples=c.nuts_samples, seed=seed)
            nuts.fit(data["x"][:k], None if y is None else y[:k], data["mask"][:k])
            sub = est.estimate(data["x"][:k], None if y is None else y[:k], data["mask"][:k])
            metrics["w2_to_nuts"] = float(wasserstein2(sub.sample((c.nuts_samples,)), nuts.samples).mean())
        return ProcedureResult(metrics=metrics, history={"loss": list(est.history)}, models={"estimator": est},
                               info={"train_seconds": seconds})
