"""Causal mechanisms X_i := f_i(PA_i, U_i), each with its conditional, sampler and likelihood.

Every mechanism is an ``nn.Module`` with

- ``noise(n, generator)``: the exogenous ``U_i`` for ``n`` units, drawn from
  ``generator`` (continuous: the additive noise itself; categorical: ``u ~ U(0, 1)``),
- ``sample(pa, u)``: the deterministic map ``f_i(pa, u)``,
- ``conditional(pa)``: ``p(x_i | pa_i)`` as a Pyro distribution (batch ``(n,)``),
- ``log_prob(x, pa)``: its log density, shape ``(n,)``,
- ``abduct(x, pa)``: ``u`` from an observation, additive-noise mechanisms only,
- ``redraw(generator)``: a fresh mechanism of the same family with the same parents
  (used by :func:`etude_scm.shift.sparse_mechanism_shift`).

``pa`` is a sequence of parent tensors in the graph's index order, each
``(n, *parent_shape)``; a mechanism without parents gets ``[]``.

References:
    B. Schölkopf et al. "Toward Causal Representation Learning". Proceedings
    of the IEEE, 2021. arXiv:2102.11107 (Sec. 3, Eq. for SCMs: X_i := f_i(PA_i, U_i)).

Example:
    >>> import torch
    >>> m = LinearGaussian(weights=[2.0], bias=1.0, scale=0.5)
    >>> u = m.noise(3, torch.Generator().manual_seed(0))
    >>> x = m.sample([torch.zeros(3)], u)
    >>> torch.allclose(m.abduct(x, [torch.zeros(3)]), u)
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import pyro.distributions as dist
import torch
from torch import Tensor, nn

from etude.registry.errors import EtudeError

__all__ = [
    "AdditiveNoise",
    "CategoricalMLP",
    "CategoricalTable",
    "CounterfactualError",
    "CubicSpline",
    "LinearGaussian",
    "Mechanism",
    "not_a_knot_spline",
    "uniform_noise",
]


class CounterfactualError(EtudeError, ValueError):
    """Abduction was asked of a mechanism whose noise cannot be inferred from (x, pa)."""


def _float_dtype(module: nn.Module) -> torch.dtype:
    for t in [*module.parameters(), *module.buffers()]:
        if t.is_floating_point():
            return t.dtype
    return torch.get_default_dtype()


def _device(module: nn.Module) -> torch.device:
    for t in [*module.parameters(), *module.buffers()]:
        return t.device
    return torch.device("cpu")


def _draw(kind: str, shape: tuple[int, ...], generator, dtype, device) -> Tensor:
    """Standard noise on the generator's device, then moved (keeps one stream per generator)."""
    where = generator.device if generator is not None else device
    if kind == "normal":
        out = torch.randn(shape, generator=generator, dtype=dtype, device=where)
    else:
        out = torch.rand(shape, generator=generator, dtype=dtype, device=where)
    return out.to(device)


def uniform_noise(n: int, generator: torch.Generator | None, dtype=torch.float64, device="cpu") -> Tensor:
    """``u ~ U(0, 1)`` of shape ``(n,)`` (the exogenous noise of categorical mechanisms)."""
    return _draw("uniform", (n,), generator, dtype, torch.device(device))


def _check_parents(name: str, pa: Sequence[Tensor], expected: int) -> list[Tensor]:
    pa = list(pa)
    if len(pa) != expected:
        raise ValueError(f"{name} has {expected} parent(s) but got {len(pa)} parent tensor(s); pass pa in parent order")
    return pa


class Mechanism(nn.Module):
    """Base class of ``X_i := f_i(PA_i, U_i)``; see the module docstring for the interface.

    Class attributes: ``additive`` (abduction possible), ``discrete``
    (values are int64 categories), ``event_shape`` (per-unit shape of X_i).
    """

    additive: bool = False
    discrete: bool = False

    def __init__(self, num_parents: int, event_shape: Sequence[int] = ()) -> None:
        super().__init__()
        if isinstance(num_parents, bool) or not isinstance(num_parents, int) or num_parents < 0:
            raise ValueError(f"'num_parents' must be an integer >= 0, got {num_parents!r}")
        self.num_parents = num_parents
        self.event_shape = tuple(int(s) for s in event_shape)

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        raise NotImplementedError

    def sample(self, pa: Sequence[Tensor], u: Tensor) -> Tensor:
        raise NotImplementedError

    def conditional(self, pa: Sequence[Tensor]) -> dist.TorchDistribution:
        raise NotImplementedError

    def log_prob(self, x: Tensor, pa: Sequence[Tensor]) -> Tensor:
        """``log p(x | pa)``, shape ``(n,)``."""
        return self.conditional(pa).log_prob(x)

    def abduct(self, x: Tensor, pa: Sequence[Tensor]) -> Tensor:
        raise CounterfactualError(
            f"{type(self).__name__} is not an additive-noise mechanism, so its noise cannot be abducted from "
            "(x, pa); counterfactuals by abduction are exact only for additive noise"
        )

    def redraw(self, generator: torch.Generator | None = None) -> Mechanism:
        raise NotImplementedError(f"{type(self).__name__} has no random family to redraw from")

    forward = sample


# -- additive noise -------------------------------------------------------------------------
class AdditiveNoise(Mechanism):
    """``X := f(PA) + U`` with ``U`` Gaussian of scale ``noise`` (or any reparametrisable Pyro distribution).

    ``f`` is a callable or an ``nn.Module`` taking the parent tensors as
    positional arguments and returning ``(n, *event_shape)`` (for a root, ``f``
    may be ``None``: mean 0). Gaussian noise is drawn as ``scale * randn``;
    another distribution ``D`` as ``D.icdf(u)`` with ``u ~ U(0, 1)`` from the
    generator. Abduction is ``u = x - f(pa)``. A Gaussian scale is a buffer
    and moves with ``.to()``; a distribution object must be built on the
    device and dtype it is used with.

    Example:
        >>> import torch
        >>> m = AdditiveNoise(torch.tanh, noise=0.1, num_parents=1)
        >>> m.conditional([torch.zeros(2)]).mean.tolist()
        [0.0, 0.0]
    """

    additive = True

    def __init__(
        self,
        f: Callable[..., Tensor] | nn.Module | None = None,
        noise: float | dist.TorchDistribution = 1.0,
        *,
        num_parents: int = 1,
        event_shape: Sequence[int] = (),
    ) -> None:
        super().__init__(num_parents, event_shape)
        if f is None and num_parents:
            raise ValueError(f"'f' is None but num_parents={num_parents}; pass the mechanism's function")
        self.f = f
        if isinstance(noise, (int, float)) and not isinstance(noise, bool):
            if not (noise > 0 and math.isfinite(noise)):
                raise ValueError(f"'noise' scale must be a finite number > 0, got {noise!r}")
            self.register_buffer("noise_scale", torch.tensor(float(noise), dtype=torch.get_default_dtype()))
            self.noise_dist = None
        elif isinstance(noise, torch.distributions.Distribution):
            self.noise_scale = None
            self.noise_dist = noise
        else:
            raise ValueError(f"'noise' must be a Gaussian scale (float > 0) or a torch distribution, got {noise!r}")

    def mean(self, pa: Sequence[Tensor]) -> Tensor:
        """``f(pa)`` (zeros for a root without ``f``)."""
        pa = _check_parents(type(self).__name__, pa, self.num_parents)
        if self.f is None:
            return torch.zeros(self.event_shape, dtype=_float_dtype(self), device=_device(self))
        return self.f(*pa)

    def _gaussian(self) -> bool:
        return self.noise_dist is None or (
            isinstance(self.noise_dist, torch.distributions.Normal) and bool((self.noise_dist.loc == 0).all())
        )

    def _scale(self) -> Tensor:
        return self.noise_scale if self.noise_dist is None else self.noise_dist.scale

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        dtype, device = _float_dtype(self), _device(self)
        shape = (n, *self.event_shape)
        if self._gaussian():
            return self._scale() * _draw("normal", shape, generator, dtype, device)
        u = _draw("uniform", shape, generator, dtype, device).clamp(1e-12, 1 - 1e-12)
        return self.noise_dist.icdf(u)

    def sample(self, pa: Sequence[Tensor], u: Tensor) -> Tensor:
        return self.mean(pa) + u

    def conditional(self, pa: Sequence[Tensor]) -> dist.TorchDistribution:
        loc = self.mean(pa)
        if self._gaussian():
            d = dist.Normal(loc, self._scale())
        else:
            base = self.noise_dist
            batch = torch.broadcast_shapes(loc.shape, base.batch_shape)
            d = dist.TransformedDistribution(
                base.expand(batch), [dist.transforms.AffineTransform(loc, torch.ones((), dtype=loc.dtype))]
            )
        return d.to_event(len(self.event_shape)) if self.event_shape else d

    def abduct(self, x: Tensor, pa: Sequence[Tensor]) -> Tensor:
        return x - self.mean(pa)

    def with_noise(self, noise: float | dist.TorchDistribution) -> AdditiveNoise:
        """The same ``f`` with another noise (a soft intervention on ``U``)."""
        return AdditiveNoise(self.f, noise, num_parents=self.num_parents, event_shape=self.event_shape)


class LinearGaussian(AdditiveNoise):
    """``X := w . PA + b + U``, ``U ~ N(0, scale^2)``; ``w``, ``b`` and ``log scale`` are parameters.

    Example:
        >>> LinearGaussian(weights=[1.0, -2.0], bias=0.5, scale=2.0).num_parents
        2
    """

    def __init__(self, weights: Sequence[float] | Tensor = (), bias: float = 0.0, scale: float = 1.0) -> None:
        w = torch.as_tensor(weights, dtype=torch.get_default_dtype()).reshape(-1)
        scale = float(scale)
        if not (scale > 0 and math.isfinite(scale)):
            raise ValueError(f"'scale' must be a finite number > 0, got {scale!r}")
        super().__init__(None, 1.0, num_parents=0)
        self.num_parents = int(w.numel())
        del self.noise_scale
        self.noise_scale = None
        self.weight = nn.Parameter(w.clone())
        self.bias = nn.Parameter(torch.tensor(float(bias), dtype=w.dtype))
        self.log_scale = nn.Parameter(torch.tensor(math.log(scale), dtype=w.dtype))

    @property
    def scale(self) -> Tensor:
        return self.log_scale.exp()

    def _gaussian(self) -> bool:
        return True

    def _scale(self) -> Tensor:
        return self.scale

    def mean(self, pa: Sequence[Tensor]) -> Tensor:
        pa = _check_parents("LinearGaussian", pa, self.num_parents)
        if not pa:  # the empty sum keeps ``weight`` in the graph (its gradient is empty)
            return self.bias + self.weight.sum()
        out = torch.addcmul(self.bias, pa[0], self.weight[0])  # fused multiply-adds, no (n, p) copy
        for j in range(1, len(pa)):
            out = torch.addcmul(out, pa[j], self.weight[j])
        return out

    def with_noise(self, noise: float | dist.TorchDistribution) -> AdditiveNoise:
        if isinstance(noise, (int, float)) and not isinstance(noise, bool):
            return LinearGaussian(self.weight.detach(), float(self.bias), float(noise))
        return AdditiveNoise(self.mean, noise, num_parents=self.num_parents)

    def redraw(self, generator: torch.Generator | None = None) -> LinearGaussian:
        """Weights ``±U(0.5, 2)``, noise scale ``U(0.5, 1.5)``, bias 0 (the linear-Gaussian SCM family)."""
        return LinearGaussian.random(self.num_parents, generator).to(self.weight)

    @classmethod
    def random(cls, num_parents: int, generator: torch.Generator | None = None) -> LinearGaussian:
        """Weights ``±U(0.5, 2)`` (random sign), noise scale ``U(0.5, 1.5)``, bias 0."""
        mag = 0.5 + 1.5 * torch.rand(num_parents, generator=generator, dtype=torch.float64)
        sign = torch.where(torch.rand(num_parents, generator=generator, dtype=torch.float64) < 0.5, -1.0, 1.0)
        scale = 0.5 + float(torch.rand((), generator=generator, dtype=torch.float64))
        return cls((sign * mag).to(torch.get_default_dtype()), 0.0, scale)

    def extra_repr(self) -> str:
        return f"weights={self.weight.tolist()}, bias={float(self.bias):.4g}, scale={float(self.scale):.4g}"


# -- cubic splines -----------------------------------------------------------------------------
def _spline_moments(x: Tensor, y: Tensor) -> Tensor:
    """Second derivatives M of the not-a-knot cubic spline through (x, y), by one dense solve."""
    m = x.shape[-1]
    h = x[1:] - x[:-1]
    A = torch.zeros(m, m, dtype=y.dtype, device=y.device)
    rhs = torch.zeros(m, dtype=y.dtype, device=y.device)
    slope = (y[1:] - y[:-1]) / h
    idx = torch.arange(1, m - 1, device=y.device)
    A[idx, idx - 1] = h[:-1]
    A[idx, idx] = 2 * (h[:-1] + h[1:])
    A[idx, idx + 1] = h[1:]
    rhs = torch.cat([rhs[:1], 6 * (slope[1:] - slope[:-1]), rhs[:1]])
    # not-a-knot: the third derivative is continuous at x_1 and x_{m-2}
    A[0, 0], A[0, 1], A[0, 2] = h[1], -(h[0] + h[1]), h[0]
    A[-1, -3], A[-1, -2], A[-1, -1] = h[-1], -(h[-2] + h[-1]), h[-2]
    return torch.linalg.solve(A, rhs)


def not_a_knot_spline(knots: Tensor, values: Tensor, x: Tensor) -> Tensor:
    """Evaluate the interpolating cubic spline with not-a-knot ends at ``x`` (extrapolating the end pieces).

    The same curve as ``scipy.interpolate.CubicSpline(knots, values)`` (default
    ``bc_type="not-a-knot"``) and ``splrep(knots, values, k=3, s=0)``; written
    in torch, so it is differentiable in ``knots``, ``values`` and ``x``.
    Needs at least 4 strictly increasing knots.
    """
    if knots.ndim != 1 or knots.shape != values.shape or knots.shape[0] < 4:
        raise ValueError(
            f"knots and values must be 1-D of the same length >= 4, got {tuple(knots.shape)} and {tuple(values.shape)}"
        )
    if not bool((knots[1:] > knots[:-1]).all()):
        raise ValueError("knots must be strictly increasing")
    M = _spline_moments(knots, values)
    i = torch.searchsorted(knots.detach().contiguous(), x.detach().contiguous(), right=True) - 1
    i = i.clamp(0, knots.shape[0] - 2)
    x0, x1, y0, y1, m0, m1 = knots[i], knots[i + 1], values[i], values[i + 1], M[i], M[i + 1]
    h = x1 - x0
    a, b = x1 - x, x - x0
    return m0 * a**3 / (6 * h) + m1 * b**3 / (6 * h) + (y0 / h - m0 * h / 6) * a + (y1 / h - m1 * h / 6) * b


class CubicSpline(AdditiveNoise):
    """``X := s(PA) + U``: a cubic spline ``s`` through random anchors, one parent, Gaussian noise.

    Anchors: ``x_k`` = ``linspace(-span, span, num_anchors)``, ``y_k ~ U(-span, span)``
    (range scale 1), interpolated by the not-a-knot cubic spline (as
    ``splrep(k=3, s=0)`` in the meta-transfer code of Bengio et al. 2019);
    the anchor values are a parameter, so the mechanism is differentiable.

    Example:
        >>> import torch
        >>> m = CubicSpline.random(generator=torch.Generator().manual_seed(0))
        >>> m.conditional([torch.zeros(4)]).batch_shape
        torch.Size([4])
    """

    def __init__(self, knots: Sequence[float] | Tensor, values: Sequence[float] | Tensor, noise: float = 1.0) -> None:
        super().__init__(None, noise, num_parents=0)
        self.num_parents = 1
        knots = torch.as_tensor(knots, dtype=torch.get_default_dtype())
        values = torch.as_tensor(values, dtype=knots.dtype)
        if knots.ndim != 1 or knots.shape != values.shape or knots.numel() < 4:
            raise ValueError(f"'knots' and 'values' must be 1-D of one length >= 4, got {tuple(knots.shape)}, {tuple(values.shape)}")
        self.register_buffer("knots", knots.clone())
        self.values = nn.Parameter(values.clone())

    def spline(self, x: Tensor) -> Tensor:
        return not_a_knot_spline(self.knots, self.values, x)

    def mean(self, pa: Sequence[Tensor]) -> Tensor:
        (a,) = _check_parents("CubicSpline", pa, 1)
        return self.spline(a)

    @classmethod
    def random(cls, span: float = 8.0, num_anchors: int = 10, noise: float = 1.0, generator=None) -> CubicSpline:
        if not span > 0:
            raise ValueError(f"'span' must be > 0, got {span!r}")
        if num_anchors < 4:
            raise ValueError(f"'num_anchors' must be >= 4 (a cubic not-a-knot spline), got {num_anchors!r}")
        knots = torch.linspace(-span, span, num_anchors, dtype=torch.float64)
        values = span * (2 * torch.rand(num_anchors, generator=generator, dtype=torch.float64) - 1)
        dtype = torch.get_default_dtype()
        m = cls(knots.to(dtype), values.to(dtype), noise)
        m._span = float(span)
        return m

    def redraw(self, generator: torch.Generator | None = None) -> CubicSpline:
        span = getattr(self, "_span", float(self.knots[-1]))
        return CubicSpline.random(span, self.knots.numel(), float(self._scale()), generator).to(self.knots)

    def with_noise(self, noise):
        if isinstance(noise, (int, float)) and not isinstance(noise, bool):
            return CubicSpline(self.knots, self.values.detach(), float(noise))
        return AdditiveNoise(self.mean, noise, num_parents=1)


# -- categorical -------------------------------------------------------------------------------
def _inverse_cdf(probs: Tensor, u: Tensor) -> Tensor:
    cdf = probs.cumsum(-1)
    k = torch.searchsorted(cdf.contiguous(), u.to(cdf.dtype).unsqueeze(-1).contiguous(), right=True).squeeze(-1)
    return k.clamp_(max=probs.shape[-1] - 1)


def _dirichlet_ones(shape: tuple[int, ...], generator, dtype=torch.float64) -> Tensor:
    """Rows ~ Dirichlet(1, ..., 1) as normalised Exp(1) draws (generator-driven)."""
    e = -torch.log1p(-torch.rand(shape, generator=generator, dtype=dtype))
    return e / e.sum(-1, keepdim=True)


class CategoricalTable(Mechanism):
    """``X ~ Categorical(softmax(logits[pa]))``: a conditional probability table over discrete parents.

    ``logits`` is an ``nn.Parameter`` of shape ``(K_pa1, ..., K_pak, K)``
    (default: rows ``~ Dirichlet(1)``, drawn from ``generator``). Sampling is
    the inverse CDF of ``u ~ U(0, 1)``. :meth:`fit_mle` sets the logits to the
    closed-form maximum-likelihood table, with an optional pseudo-count.

    Example:
        >>> import torch
        >>> m = CategoricalTable(3, parent_categories=(2,), generator=torch.Generator().manual_seed(0))
        >>> m.logits.shape, m.conditional([torch.tensor([0, 1])]).probs.shape
        (torch.Size([2, 3]), torch.Size([2, 3]))
    """

    discrete = True

    def __init__(
        self,
        num_categories: int,
        parent_categories: Sequence[int] = (),
        logits: Tensor | None = None,
        *,
        generator: torch.Generator | None = None,
    ) -> None:
        parent_categories = tuple(int(k) for k in parent_categories)
        super().__init__(len(parent_categories))
        if isinstance(num_categories, bool) or not isinstance(num_categories, int) or num_categories < 2:
            raise ValueError(f"'num_categories' must be an integer >= 2, got {num_categories!r}")
        if any(k < 1 for k in parent_categories):
            raise ValueError(f"'parent_categories' must be positive integers, got {parent_categories}")
        self.num_categories = num_categories
        self.parent_categories = parent_categories
        shape = (*parent_categories, num_categories)
        if logits is None:
            logits = _dirichlet_ones(shape, generator).log().to(torch.get_default_dtype())
        logits = torch.as_tensor(logits)
        if tuple(logits.shape) != shape:
            raise ValueError(f"'logits' must have shape {shape} (parent categories..., K), got {tuple(logits.shape)}")
        self.logits = nn.Parameter(logits.clone())

    @property
    def probs(self) -> Tensor:
        return self.logits.softmax(-1)

    def _rows(self, pa: Sequence[Tensor]) -> Tensor:
        pa = _check_parents("CategoricalTable", pa, self.num_parents)
        if not pa:
            return self.logits
        return self.logits[tuple(p.long() for p in pa)]

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return uniform_noise(n, generator, _float_dtype(self), _device(self))

    def _flat_index(self, pa: list[Tensor]) -> Tensor:
        flat = pa[0].long()
        for p, k in zip(pa[1:], self.parent_categories[1:]):
            flat = flat * k + p.long()
        return flat

    def sample(self, pa: Sequence[Tensor], u: Tensor) -> Tensor:
        # the CDF of the (small) table once, then one gather: no per-unit softmax
        pa = _check_parents("CategoricalTable", pa, self.num_parents)
        cdf = self.logits.softmax(-1).cumsum(-1).reshape(-1, self.num_categories)
        rows = cdf[self._flat_index(pa)] if pa else cdf.expand(u.shape[0], -1)
        return (rows[:, :-1] <= u.to(rows.dtype).unsqueeze(-1)).sum(-1)

    def conditional(self, pa: Sequence[Tensor]) -> dist.TorchDistribution:
        return dist.Categorical(logits=self._rows(pa))

    @torch.no_grad()
    def fit_mle(self, x: Tensor, pa: Sequence[Tensor], pseudo_count: float = 0.0) -> CategoricalTable:
        """Set ``logits`` to ``log((N[pa, x] + a) / (N[pa] + K a))``; unseen parent rows become uniform."""
        if pseudo_count < 0:
            raise ValueError(f"'pseudo_count' must be >= 0, got {pseudo_count!r}")
        pa = _check_parents("CategoricalTable", pa, self.num_parents)
        shape = (*self.parent_categories, self.num_categories)
        flat = torch.zeros_like(x, dtype=torch.long)
        for p, k in zip([*pa, x], shape):
            flat = flat * k + p.long()
        counts = torch.bincount(flat.reshape(-1), minlength=math.prod(shape)).reshape(shape)
        counts = counts.to(self.logits.dtype).to(self.logits.device) + pseudo_count
        total = counts.sum(-1, keepdim=True)
        probs = torch.where(total > 0, counts / total.clamp_min(1e-300), 1.0 / self.num_categories)
        self.logits.copy_(probs.log())
        return self

    def redraw(self, generator: torch.Generator | None = None) -> CategoricalTable:
        """New table rows ``~ Dirichlet(1)`` (same parents and categories)."""
        logits = _dirichlet_ones(tuple(self.logits.shape), generator).log()
        return CategoricalTable(self.num_categories, self.parent_categories, logits.to(self.logits))

    def extra_repr(self) -> str:
        return f"num_categories={self.num_categories}, parent_categories={self.parent_categories}"


class CategoricalMLP(Mechanism):
    """The chemistry environment's mechanism: one-hot parent colours -> MLP -> categorical colour.

    Parents' values (categories in ``0..K-1``) are one-hot encoded and
    concatenated (the reference masks the one-hot of every object to the
    parents; the masked-out inputs contribute nothing). One ReLU hidden layer
    (default width ``4 x num_nodes`` in the reference), a softmax output.
    Weights are initialised orthogonally with gain ``gain`` (3.5) and biases
    ``~ U(-bias_range, bias_range)`` (2.1), from ``generator``. With
    ``deterministic=True`` the value is the argmax colour; otherwise it is
    drawn by inverse CDF of ``u ~ U(0, 1)``.

    References:
        N. R. Ke et al. "Systematic Evaluation of Causal Discovery in Visual
        Model Based Reinforcement Learning". NeurIPS Datasets and Benchmarks,
        2021. arXiv:2107.00848.

    Example:
        >>> import torch
        >>> m = CategoricalMLP(5, num_parents=2, hidden=8, generator=torch.Generator().manual_seed(0))
        >>> m.sample([torch.tensor([0, 4]), torch.tensor([1, 1])], torch.tensor([0.5, 0.5])).shape
        torch.Size([2])
    """

    discrete = True

    def __init__(
        self,
        num_categories: int,
        num_parents: int,
        hidden: int = 20,
        *,
        gain: float = 3.5,
        bias_range: float = 2.1,
        deterministic: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        super().__init__(num_parents)
        if isinstance(num_categories, bool) or not isinstance(num_categories, int) or num_categories < 2:
            raise ValueError(f"'num_categories' must be an integer >= 2, got {num_categories!r}")
        if hidden < 1:
            raise ValueError(f"'hidden' must be >= 1, got {hidden!r}")
        self.num_categories, self.hidden = num_categories, hidden
        self.gain, self.bias_range, self.deterministic = float(gain), float(bias_range), bool(deterministic)
        in_features = max(num_parents * num_categories, 1)  # a root sees one constant zero input
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, num_categories))
        for layer in (self.net[0], self.net[2]):
            nn.init.orthogonal_(layer.weight, gain=self.gain, generator=generator)
            nn.init.uniform_(layer.bias, -self.bias_range, self.bias_range, generator=generator)

    def _logits(self, pa: Sequence[Tensor], n: int | None = None) -> Tensor:
        pa = _check_parents("CategoricalMLP", pa, self.num_parents)
        w = self.net[0].weight
        if pa:
            inp = torch.cat([nn.functional.one_hot(p.long(), self.num_categories).to(w) for p in pa], dim=-1)
        else:
            inp = torch.zeros((n or 1, 1), dtype=w.dtype, device=w.device)
        logits = self.net(inp)
        return logits if (pa or n is not None) else logits[0]

    def noise(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        return uniform_noise(n, generator, _float_dtype(self), _device(self))

    def sample(self, pa: Sequence[Tensor], u: Tensor) -> Tensor:
        logits = self._logits(pa, u.shape[0])
        if self.deterministic:
            return logits.argmax(-1)
        return _inverse_cdf(logits.softmax(-1), u)

    def conditional(self, pa: Sequence[Tensor]) -> dist.TorchDistribution:
        logits = self._logits(pa)
        if self.deterministic:
            onehot = nn.functional.one_hot(logits.argmax(-1), self.num_categories).bool()
            return dist.Categorical(logits=torch.zeros_like(logits).masked_fill(~onehot, float("-inf")))
        return dist.Categorical(logits=logits)

    def redraw(self, generator: torch.Generator | None = None) -> CategoricalMLP:
        w = self.net[0].weight
        return CategoricalMLP(
            self.num_categories, self.num_parents, self.hidden, gain=self.gain, bias_range=self.bias_range,
            deterministic=self.deterministic, generator=generator,
        ).to(w)

    def extra_repr(self) -> str:
        return f"num_categories={self.num_categories}, num_parents={self.num_parents}, deterministic={self.deterministic}"
