"""Measurements during training: the spectrum of the prediction, learning times, layer spectral norms.

:class:`SpectrumTracker` is a callback of the core's supervised loop
(``procedure/supervised``): every ``every`` optimiser steps it evaluates
the network on the train grid and records ``2 |rfft(f)[k]| / N / A_k`` at
the target frequencies (the heat-map of Rahaman et al. 2019, Fig. 1). The
learning time of frequency k is the first recorded iteration at which that
normalised magnitude reaches ``threshold`` (0.5), infinite if it never
does. :func:`learning_order` is Spearman's rank correlation between k and
its learning time, with infinite times tied (average ranks).
:class:`SpectralNormTracker` follows the largest singular value of every
linear layer by power iteration, warm-started from the previous record.

References:
    N. Rahaman et al., "On the Spectral Bias of Neural Networks", ICML 2019, arXiv:1806.08734.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor

from etude.data import Callback

from .fourier import _frequency_index


def rankdata(values: Sequence[float] | Tensor) -> Tensor:
    """Ranks 1..n (float64) with ties (infinities included) given their average rank.

    Examples:
        >>> rankdata([3.0, float("inf"), 1.0, float("inf")]).tolist()
        [2.0, 3.5, 1.0, 3.5]
    """
    x = torch.as_tensor(values, dtype=torch.float64).reshape(-1)
    if torch.isnan(x).any():
        raise ValueError(f"cannot rank NaN values: {x.tolist()}")
    order = torch.argsort(x, stable=True)
    xs = x[order]
    ranks = torch.empty_like(x)
    i, n = 0, x.numel()
    while i < n:
        j = i
        while j + 1 < n and xs[j + 1] == xs[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(a: Sequence[float] | Tensor, b: Sequence[float] | Tensor) -> float:
    """Spearman's rho: Pearson correlation of the average ranks; NaN when either side is constant.

    Examples:
        >>> spearman([1, 2, 3, 4], [10, 20, 40, 30])
        0.8
    """
    ra, rb = rankdata(a), rankdata(b)
    if ra.numel() != rb.numel() or ra.numel() < 2:
        raise ValueError(f"spearman needs two sequences of equal length >= 2, got {ra.numel()} and {rb.numel()}")
    ra, rb = ra - ra.mean(), rb - rb.mean()
    denom = math.sqrt(float((ra * ra).sum() * (rb * rb).sum()))
    if denom == 0:
        return float("nan")
    return round(float((ra * rb).sum()) / denom, 12)


def learning_order(frequencies: Sequence[float] | Tensor, learning_times: Sequence[float] | Tensor) -> float:
    """Spearman(k, t_k): +1 when higher frequencies are learned strictly later; never-learned (inf) tie last.

    NaN when every frequency has the same learning time (nothing, or everything at once, was learned).

    Examples:
        >>> learning_order([5, 10, 15, 20], [100, 400, float("inf"), float("inf")])
        0.948683298051
    """
    return spearman(frequencies, learning_times)


def learning_times(iterations: Sequence[int] | Tensor, magnitudes: Tensor, threshold: float = 0.5) -> list[float]:
    """Per frequency (columns of ``magnitudes`` (R, K)), the first of ``iterations`` (R,) with magnitude >= threshold, else inf.

    Examples:
        >>> learning_times([0, 25, 50], torch.tensor([[0.1, 0.0], [0.6, 0.2], [0.4, 0.3]]))
        [25.0, inf]
    """
    it = torch.as_tensor(iterations, dtype=torch.float64).reshape(-1)
    m = torch.as_tensor(magnitudes)
    if m.dim() != 2 or m.shape[0] != it.numel():
        raise ValueError(f"magnitudes must be (records, frequencies) with {it.numel()} records, got {tuple(m.shape)}")
    reached = (m >= threshold).cpu()
    out = []
    for col in reached.T:
        hit = torch.nonzero(col)
        out.append(float(it[hit[0, 0]]) if hit.numel() else math.inf)
    return out


class SpectrumTracker(Callback):
    """Record the normalised amplitudes ``2 |rfft(f)[k]| / (N A_k)`` of the prediction every ``every`` steps.

    The network is evaluated (no grad, eval mode) on ``inputs`` (default: the
    train split, which both tasks of this plugin store in grid order) before
    the optimiser step numbered ``0, every, 2 every, ...`` and once after the
    last step, so iteration ``i`` means "after i updates". ``frequencies``
    and ``amplitudes`` default to the train split's ``info`` (the tasks of
    this plugin set them). After training: ``iterations`` (R,),
    ``magnitudes`` (R, K) on the CPU, :meth:`learning_times`, :meth:`plot`.

    Examples:
        >>> tracker = SpectrumTracker(frequencies=[5, 10], amplitudes=[1.0, 1.0], every=25)
        >>> tracker.frequencies, tracker.every
        ([5, 10], 25)
    """

    def __init__(self, frequencies: Sequence[int] | None = None, amplitudes: Sequence[float] | None = None, *,
                 every: int = 25, threshold: float = 0.5, inputs: Tensor | None = None,
                 keep_spectra: bool = False) -> None:
        if int(every) != every or every < 1:
            raise ValueError(f"every must be a positive integer number of steps, got {every!r}")
        if not 0 < threshold:
            raise ValueError(f"threshold must be > 0 (a fraction of A_k), got {threshold!r}")
        self.frequencies = None if frequencies is None else [int(k) for k in frequencies]
        self.amplitudes = None if amplitudes is None else [float(a) for a in amplitudes]
        self.every, self.threshold, self.inputs, self.keep_spectra = int(every), float(threshold), inputs, keep_spectra
        self.iterations: list[int] = []
        self._records: list[Tensor] = []
        self._spectra: list[Tensor] = []
        self.magnitudes: Tensor | None = None
        self.spectra: Tensor | None = None

    def on_train_start(self, state: Any) -> None:
        info = getattr(state, "info", None) or {}
        if self.frequencies is None:
            self.frequencies = [int(k) for k in _required(info, "frequencies")]
        if self.amplitudes is None:
            self.amplitudes = [float(a) for a in info.get("amplitudes", [1.0] * len(self.frequencies))]
        if len(self.amplitudes) != len(self.frequencies):
            raise ValueError(f"amplitudes ({len(self.amplitudes)}) must match frequencies ({len(self.frequencies)})")
        x = self.inputs if self.inputs is not None else state.data["train"][0]
        self._x = x.to(state.device)
        self._k = _frequency_index(self.frequencies, self._x.shape[0], self._x.device)
        self._scale = 2.0 / (self._x.shape[0] * torch.tensor(self.amplitudes, device=self._x.device))
        self.iterations, self._records, self._spectra = [], [], []

    def on_batch_start(self, state: Any, indices: Tensor) -> None:
        if state.step % self.every == 0:
            self.record(state.model, state.step)

    def on_train_end(self, state: Any) -> None:
        if not self.iterations or self.iterations[-1] != state.step:
            self.record(state.model, state.step)
        self.magnitudes = torch.stack(self._records).cpu()
        if self.keep_spectra:
            self.spectra = torch.stack(self._spectra).cpu()

    def record(self, model: torch.nn.Module, step: int) -> None:
        """Evaluate ``model`` on the grid and append its normalised amplitudes at the target frequencies."""
        was_training = model.training
        model.eval()
        with torch.no_grad():
            f = model(self._x).reshape(self._x.shape[0], -1)[:, 0].to(torch.float64)
            fft = torch.fft.rfft(f).abs()
        model.train(was_training)
        self._records.append(fft.index_select(0, self._k) * self._scale)
        if self.keep_spectra:
            self._spectra.append(2.0 * fft / self._x.shape[0])
        self.iterations.append(int(step))

    def learning_times(self) -> list[float]:
        """First recorded iteration with normalised magnitude >= threshold, per frequency (inf: never)."""
        if self.magnitudes is None:
            raise RuntimeError("SpectrumTracker has no records yet: pass it to a training run first")
        return learning_times(self.iterations, self.magnitudes, self.threshold)

    def plot(self, ax: Any = None, title: str = "") -> Any:
        """The frequency x iteration heat-map (colour: 2|f(k)|/(N A_k), clipped to [0, 1]); returns the axes."""
        return plot_heatmap(self.iterations, self.frequencies, self.magnitudes, ax=ax, title=title)


def plot_heatmap(iterations: Sequence[int], frequencies: Sequence[int], magnitudes: Any, *, ax: Any = None,
                 title: str = "") -> Any:
    """Heat-map of normalised magnitudes (R, K): frequency on x, training iteration on y (as the paper's Fig. 1)."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    m = torch.as_tensor(magnitudes, dtype=torch.float64).clamp(0, 1).numpy()
    k = list(frequencies)
    step = (k[1] - k[0]) if len(k) > 1 else 1
    it = list(iterations)
    image = ax.imshow(m, aspect="auto", origin="lower", vmin=0, vmax=1, cmap="viridis", interpolation="nearest",
                      extent=(k[0] - step / 2, k[-1] + step / 2, it[0], it[-1]))
    ax.set_xlabel("frequency k")
    ax.set_ylabel("training iteration")
    ax.set_xticks(k)
    if title:
        ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label="2|f(k)| / (N A_k)")
    return ax


def power_iteration(weight: Tensor, vector: Tensor | None = None, n_iter: int = 20, *,
                    generator: torch.Generator | None = None) -> tuple[float, Tensor]:
    """Largest singular value of ``weight`` (out, in) by power iteration on ``W^T W``; returns (sigma, right vector).

    Warm-start by passing the returned vector back. (The official notebooks
    iterate ``W v`` on square matrices, which finds the largest |eigenvalue|,
    not the spectral norm, for non-symmetric W; ``W^T W`` avoids that.)

    Examples:
        >>> w = torch.diag(torch.tensor([3.0, 1.0]))
        >>> round(power_iteration(w)[0], 4)
        3.0
    """
    if weight.dim() != 2:
        raise ValueError(f"power_iteration needs a matrix (out, in), got shape {tuple(weight.shape)}")
    w = weight.detach()
    if vector is None:
        vector = torch.randn(w.shape[1], generator=generator, dtype=w.dtype).to(w.device)
    v = vector / vector.norm().clamp_min(1e-30)
    for _ in range(int(n_iter)):
        v = w.T @ (w @ v)
        v = v / v.norm().clamp_min(1e-30)
    return float((w @ v).norm()), v


class SpectralNormTracker(Callback):
    """Spectral norm of every ``nn.Linear`` weight every ``every`` steps, by warm-started power iteration.

    The first record runs ``first_iter`` iterations from a random vector
    (seeded by ``seed``), later ones ``n_iter`` from the previous vector:
    weights change little between records, so a few iterations track the
    top singular value. ``norms`` (R, layers) and ``iterations`` after training.

    Examples:
        >>> SpectralNormTracker(every=100).every
        100
    """

    def __init__(self, every: int = 25, n_iter: int = 3, first_iter: int = 50, seed: int = 0) -> None:
        if int(every) != every or every < 1:
            raise ValueError(f"every must be a positive integer number of steps, got {every!r}")
        self.every, self.n_iter, self.first_iter, self.seed = int(every), int(n_iter), int(first_iter), int(seed)
        self.iterations: list[int] = []
        self._rows: list[list[float]] = []
        self._vectors: dict[int, Tensor] = {}
        self.norms: Tensor | None = None

    def on_train_start(self, state: Any) -> None:
        self.iterations, self._rows, self._vectors = [], [], {}
        self._generator = torch.Generator().manual_seed(self.seed)

    def on_batch_start(self, state: Any, indices: Tensor) -> None:
        if state.step % self.every == 0:
            self.record(state.model, state.step)

    def on_train_end(self, state: Any) -> None:
        if not self.iterations or self.iterations[-1] != state.step:
            self.record(state.model, state.step)
        self.norms = torch.tensor(self._rows, dtype=torch.float64)

    def record(self, model: torch.nn.Module, step: int) -> None:
        """Append the spectral norm of each linear layer of ``model``."""
        row = []
        for i, layer in enumerate(m for m in model.modules() if isinstance(m, torch.nn.Linear)):
            warm = self._vectors.get(i)
            sigma, self._vectors[i] = power_iteration(layer.weight, warm, self.first_iter if warm is None else self.n_iter,
                                                      generator=self._generator)
            row.append(sigma)
        self._rows.append(row)
        self.iterations.append(int(step))


def _required(info: dict, key: str) -> Any:
    if key not in info:
        raise ValueError(f"the train split's info has no {key!r}; pass {key}= to the tracker")
    return info[key]
