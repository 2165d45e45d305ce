"""The information-bottleneck application of MINE (paper section 5.3) as an etude Procedure."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, in_range, non_negative, one_of, positive
from etude.kinds import Procedure, ProcedureResult, Task

from .bounds import dv_corrected
from .critics import mlp
from .estimators import MINE


def _int_at_least(low: int):
    def check(instance, attribute, value):
        if not (isinstance(value, int) and value >= low):
            raise FieldValueError(attribute.name, value, f"an integer >= {low}")

    return check


@configclass
class MINEInformationBottleneckConfig:
    method: str = field(default="mine-ib", validator=one_of("mine-ib", "baseline"),
                        doc="'mine-ib': stochastic encoder + beta * MINE estimate of I(X; Z); "
                            "'baseline': the same network, deterministic, no MI term")
    beta: float = field(default=1e-3, validator=non_negative, doc="weight of I(X; Z) in the loss (paper: 1e-3)")
    hidden: int = field(default=256, validator=_int_at_least(1), doc="encoder hidden units (2 layers; paper 1024)")
    z_dim: int = field(default=32, validator=_int_at_least(1), doc="bottleneck width K (paper 256)")
    critic_hidden: int = field(default=128, validator=_int_at_least(1), doc="MINE critic hidden units (2 layers)")
    epochs: int = field(default=60, validator=_int_at_least(1), doc="training epochs")
    batch_size: int = field(default=100, validator=_int_at_least(2), doc="minibatch size (paper 100)")
    lr: float = field(default=1e-3, validator=positive, doc="Adam learning rate of encoder and decoder")
    critic_lr: float = field(default=1e-3, validator=positive, doc="Adam learning rate of the MINE critic")
    ema_rate: float = field(default=0.01, validator=in_range(0.0, 1.0, low_open=True),
                            doc="MINE moving-average rate (weight of the new batch)")
    noise_init: float = field(default=-5.0, doc="offset of the encoder's std pre-activation: std = softplus(s + noise_init)")


class MINEInformationBottleneck(Procedure):
    """Information bottleneck with MINE: minimise cross-entropy + beta * I(X; Z) estimated by MINE.

    A stochastic encoder ``Z = mu(X) + sigma(X) * eps`` feeds a linear
    softmax decoder. MINE needs no tractable encoder density: a critic
    ``T(x, z)`` is trained by ascent on the Donsker-Varadhan bound (bias
    corrected), and the encoder descends ``CE(y, dec(Z)) + beta * I_MINE(X; Z)``,
    alternating one critic step and one encoder step per minibatch. The
    ``baseline`` method trains the same network deterministically without
    the MI term. Test predictions use ``Z = mu(X)``.

    References:
        M. I. Belghazi et al., "Mutual Information Neural Estimation", ICML 2018,
        arXiv:1801.04062 (section 5.3). A. Alemi et al., "Deep Variational Information
        Bottleneck", ICLR 2017, arXiv:1612.00410.

    Examples:
        >>> proc = MINEInformationBottleneck(epochs=1, hidden=16, z_dim=4, critic_hidden=8)
        >>> from etude.data import Digits
        >>> result = proc.run(Digits(test_fraction=500 / 1797, standardize=True), seed=0)
        >>> 0 <= result.metrics["test_error_pct"] <= 100
        True
    """

    Config = MINEInformationBottleneckConfig

    def run(self, task: Any, *, seed: int = 0, device: Any = None, progress: bool = False, **kwargs: Any) -> ProcedureResult:
        """Train on ``task`` (a classification Task with train/test splits); returns errors and I(X; Z)."""
        if kwargs:
            raise TypeError(f"MINEInformationBottleneck.run: unexpected arguments {sorted(kwargs)}")
        if not isinstance(task, Task) or not task.num_classes:
            raise TypeError(
                f"MINEInformationBottleneck.run: task must be a classification etude Task (num_classes set), "
                f"got {type(task).__name__}"
            )
        from etude.runtime import check_finite, resolve_device  # noqa: PLC0415

        device = resolve_device("cpu" if device is None else device)
        c = self.config
        train, test = task.split("train"), task.split("test")
        xtr, ytr = train.inputs.reshape(len(train), -1).float().to(device), train.targets.to(device)
        xte, yte = test.inputs.reshape(len(test), -1).float().to(device), test.targets.to(device)
        if not torch.isfinite(xtr).all():
            raise ValueError("MINEInformationBottleneck.run: the task's training inputs contain NaN or inf")
        d, k = xtr.shape[1], int(task.num_classes)
        use_mine = c.method == "mine-ib"
        with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
            torch.manual_seed(seed)
            encoder = mlp([d, c.hidden, c.hidden, 2 * c.z_dim], "relu").to(device)
            decoder = nn.Linear(c.z_dim, k).to(device)
            mine = MINE(hidden=c.critic_hidden, lr=c.critic_lr, ema_rate=c.ema_rate, seed=seed).to(device)
            mine.build_critic(d, c.z_dim)
            params = list(encoder.parameters()) + list(decoder.parameters())
            opt = torch.optim.Adam(params, lr=c.lr)
            gen = torch.Generator().manual_seed(seed)
            history: dict[str, list[float]] = {"loss": [], "ce": [], "mi_xz": [], "test_error_pct": []}
            epochs: Any = range(c.epochs)
            if progress:
                from tqdm.auto import tqdm  # noqa: PLC0415

                epochs = tqdm(epochs, desc=f"IB ({c.method})", leave=False)
            step = 0
            n, b = len(xtr), min(c.batch_size, len(xtr))
            for _ in epochs:
                perm = torch.randperm(n, generator=gen).to(device)
                for i in range(0, n - b + 1, b):
                    idx = perm[i : i + b]
                    xb, yb = xtr[idx], ytr[idx]
                    z = self._encode(encoder, xb, stochastic=use_mine)
                    if use_mine:
                        # critic ascent on the (bias-corrected) DV bound, encoder fixed
                        mine.optimizer.zero_grad(set_to_none=True)
                        (-mine.objective(xb, z.detach())).backward()
                        mine.optimizer.step()
                    ce = F.cross_entropy(decoder(z), yb)
                    loss = ce
                    mi = torch.zeros(())
                    if use_mine:
                        t_joint, t_marg = mine._scores(xb, z, "shuffle")
                        mi = dv_corrected(t_joint, t_marg, mine.moving_average.log_value)
                        loss = ce + c.beta * mi
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    step += 1
                    history["loss"].append(check_finite(loss, step=step, name="IB loss"))
                    history["ce"].append(float(ce.detach()))
                    history["mi_xz"].append(float(mi.detach()))
                history["test_error_pct"].append(self._error(encoder, decoder, xte, yte))
            metrics = {
                "test_error_pct": self._error(encoder, decoder, xte, yte),
                "train_error_pct": self._error(encoder, decoder, xtr, ytr),
            }
            if use_mine:
                with torch.no_grad():
                    z = self._encode(encoder, xte, stochastic=True)
                    metrics["mi_xz_test"] = float(mine.estimate(xte, z))
        return ProcedureResult(metrics=metrics, history=history,
                               models={"encoder": encoder, "decoder": decoder, "critic": mine})

    def _encode(self, encoder: nn.Module, x: Tensor, *, stochastic: bool) -> Tensor:
        out = encoder(x)
        mu, s = out.chunk(2, dim=-1)
        if not stochastic:
            return mu
        return mu + F.softplus(s + self.config.noise_init) * torch.randn_like(mu)

    @torch.no_grad()
    def _error(self, encoder: nn.Module, decoder: nn.Module, x: Tensor, y: Tensor) -> float:
        pred = decoder(self._encode(encoder, x, stochastic=False)).argmax(-1)
        return 100.0 * float((pred != y).float().mean())


__all__ = ["MINEInformationBottleneck", "digits_task"]


def digits_task(seed: int = 0, test_size: int = 500) -> Task:
    """The bottleneck experiment's data: the core's ``task/digits``, standardised, ``test_size`` images held out.

    Stratified, seeded split of scikit-learn's 1797 digits (``etude.data.Digits``
    with ``standardize=True``: per-pixel train mean and std).

    Examples:
        >>> tuple(digits_task(seed=0).split("train").inputs.shape)
        (1297, 64)
    """
    from etude.data import Digits  # noqa: PLC0415

    return Digits(seed=seed, test_fraction=test_size / 1797, standardize=True)
