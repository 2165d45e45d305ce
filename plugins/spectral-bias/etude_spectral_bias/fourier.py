"""Single-sided Fourier amplitudes and the Fourier envelope of a 1-D network.

Conventions (Rahaman et al. 2019; ``ICML_SpectralBias.ipynb``): for
``f`` sampled at ``t_j = j / N``, the single-sided amplitude at integer
frequency ``1 <= k < N / 2`` is ``2 |F[k]| / N`` with ``F = rfft(f)``, so a
sinusoid ``A sin(2 pi k t + phi)`` reads exactly ``A`` at bin k and 0 at
every other bin. (At k = 0 the same formula gives twice the mean.)

The envelope: a ReLU network on [0, 1] is continuous and piecewise linear,
so its Fourier coefficients decay like k^-2 (each kink contributes
``O(k^-2)``; the Fourier analysis of Rahaman et al., v1, for d = 1). The DFT on [0, 1)
treats f as periodic, and the jump ``f(1) - f(0)`` of that periodic
extension alone contributes ``O(k^-1)`` whatever the network.
:func:`fourier_envelope` therefore subtracts the endpoint ramp
``(f(1) - f(0)) t`` first; :func:`envelope_slope` fits the log-log slope of
the per-octave maxima.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import attrs
import torch
from torch import Tensor


def spectrum(values: Tensor) -> Tensor:
    """Single-sided amplitude spectrum ``2 |rfft(values)| / N`` along the last dimension: (..., N) -> (..., N//2 + 1).

    Examples:
        >>> t = torch.arange(200, dtype=torch.float64) / 200
        >>> s = spectrum(3.0 * torch.sin(2 * torch.pi * 7 * t + 0.4))
        >>> round(float(s[7]), 6), float(s[6]) < 1e-9
        (3.0, True)
    """
    if values.dim() == 0 or values.shape[-1] < 2:
        raise ValueError(f"spectrum needs at least 2 samples along the last dimension, got shape {tuple(values.shape)}")
    if not values.is_floating_point():
        raise TypeError(f"spectrum needs a floating tensor, got {values.dtype}")
    n = values.shape[-1]
    return 2.0 * torch.fft.rfft(values, dim=-1).abs() / n


def amplitudes(values: Tensor, frequencies: Sequence[int] | Tensor) -> Tensor:
    """``2 |rfft(values)[k]| / N`` at integer ``frequencies`` (each in [1, N/2)): (..., N) -> (..., K).

    Examples:
        >>> t = torch.arange(100, dtype=torch.float64) / 100
        >>> amplitudes(torch.sin(2 * torch.pi * 5 * t) + 0.5 * torch.cos(2 * torch.pi * 9 * t), [5, 9]).round(decimals=6).tolist()
        [1.0, 0.5]
    """
    n = values.shape[-1]
    k = _frequency_index(frequencies, n, values.device)
    return spectrum(values).index_select(-1, k)


def _frequency_index(frequencies: Sequence[int] | Tensor, n: int, device: torch.device) -> Tensor:
    k = torch.as_tensor(frequencies)
    if k.dim() != 1 or k.numel() == 0:
        raise ValueError(f"frequencies must be a non-empty 1-D sequence of integers, got {frequencies!r}")
    if k.is_floating_point():
        if not torch.equal(k, k.round()):
            raise ValueError(f"frequencies must be integers on the N-grid (no leakage), got {k.tolist()}")
        k = k.long()
    bad = [int(v) for v in k if not 1 <= int(v) < n / 2]
    if bad:
        raise ValueError(f"frequencies must lie in [1, N/2) = [1, {n / 2:g}) for N = {n} samples, got {bad}")
    return k.to(device)


@attrs.frozen
class FourierEnvelope:
    """The spectrum of a 1-D function on a dense grid: ``frequencies`` 0..n/2 and ``magnitudes`` 2|F|/n (float64)."""

    frequencies: Tensor
    magnitudes: Tensor
    detrended: bool

    def slope(self, k_min: int = 8, k_max: int | None = None) -> float:
        """:func:`envelope_slope` of this spectrum over octaves ``k_min .. k_max`` (default: n/2)."""
        return envelope_slope(self.frequencies, self.magnitudes, k_min=k_min, k_max=k_max)

    def octaves(self, k_min: int = 8, k_max: int | None = None) -> tuple[Tensor, Tensor]:
        """:func:`octave_maxima` of this spectrum."""
        return octave_maxima(self.frequencies, self.magnitudes, k_min=k_min, k_max=k_max)


def fourier_envelope(model: Callable[[Tensor], Tensor] | torch.nn.Module, n_grid: int = 4096, *,
                     detrend: bool = True, dtype: torch.dtype = torch.float64,
                     device: str | torch.device | None = None) -> FourierEnvelope:
    """Spectrum of a network ``R -> R`` on the grid ``t = j / n_grid`` after removing the endpoint ramp.

    ``g(t) = f(t) - (f(1) - f(0)) t`` is continuous as a periodic function
    on [0, 1), so its DFT shows the decay set by the network's kinks rather
    than the ``k^-1`` of the boundary jump. An ``nn.Module`` is evaluated
    as a ``dtype`` copy (float64 by default: float32 round-off floors the
    spectrum near 1e-7 and flattens the tail); any other callable mapping
    (n, 1) to (n, 1) or (n,) is called as is.

    Examples:
        >>> torch.manual_seed(0)
        <torch._C.Generator object at ...>
        >>> net = torch.nn.Sequential(torch.nn.Linear(1, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
        >>> env = fourier_envelope(net, 1024)
        >>> env.magnitudes.shape, env.slope() < -1.5
        (torch.Size([513]), True)
    """
    t, out = grid_values(model, n_grid, dtype=dtype, device=device)
    return envelope_from_values(t, out, detrend=detrend)


def grid_values(model: Callable[[Tensor], Tensor] | torch.nn.Module, n_grid: int = 4096, *,
                dtype: torch.dtype = torch.float64, device: str | torch.device | None = None) -> tuple[Tensor, Tensor]:
    """``(t, f(t))`` on ``t = j / n_grid``, ``j = 0 .. n_grid`` (the last point is t = 1), float64, for :func:`envelope_from_values`."""
    if int(n_grid) != n_grid or n_grid < 16:
        raise ValueError(f"n_grid must be an integer >= 16, got {n_grid!r}")
    n_grid = int(n_grid)
    fn = model
    if isinstance(model, torch.nn.Module):
        if device is None:
            first = next(iter(model.parameters()), None)
            device = first.device if first is not None else "cpu"
        fn = copy.deepcopy(model).to(device=device, dtype=dtype).eval()
    device = torch.device(device or "cpu")
    t = torch.arange(n_grid + 1, dtype=dtype, device=device) / n_grid
    with torch.no_grad():
        out = fn(t[:, None])
    out = torch.as_tensor(out).reshape(-1).to(torch.float64)
    if out.numel() != n_grid + 1:
        raise ValueError(f"model must map (n, 1) inputs to n outputs, got {out.numel()} outputs for n = {n_grid + 1}")
    if not torch.isfinite(out).all():
        raise ValueError("model output has NaN or inf on the grid; the envelope is undefined")
    return t.to(torch.float64), out


def envelope_from_values(t: Tensor, values: Tensor, *, detrend: bool = True) -> FourierEnvelope:
    """The :class:`FourierEnvelope` of samples ``values`` at ``t = j / n``, ``j = 0 .. n`` (n + 1 points, the last at t = 1)."""
    n_grid = values.numel() - 1
    f = values[:-1]
    if detrend:
        f = f - (values[-1] - values[0]) * t[:-1]
    return FourierEnvelope(frequencies=torch.arange(n_grid // 2 + 1, device=f.device), magnitudes=spectrum(f),
                           detrended=detrend)


def octave_maxima(frequencies: Tensor, magnitudes: Tensor, *, k_min: int = 8,
                  k_max: int | None = None) -> tuple[Tensor, Tensor]:
    """Per octave ``[2^j, 2^(j+1))`` from ``k_min`` up to ``k_max`` (the last octave includes ``k_max``): lower edges and maxima.

    ``k_min`` and ``k_max`` must be powers of two with ``k_max >= 2 k_min``.
    """
    frequencies, magnitudes = frequencies.reshape(-1), magnitudes.reshape(-1)
    if frequencies.shape != magnitudes.shape:
        raise ValueError(f"frequencies {tuple(frequencies.shape)} and magnitudes {tuple(magnitudes.shape)} must match")
    k_top = int(frequencies.max())
    k_max = k_top if k_max is None else int(k_max)
    for name, value in (("k_min", k_min), ("k_max", k_max)):
        if value < 1 or value & (value - 1):
            raise ValueError(f"{name} must be a power of two >= 1, got {value}")
    if k_max < 2 * k_min or k_max > k_top:
        raise ValueError(f"need 2 k_min <= k_max <= {k_top} (the highest frequency), got k_min={k_min}, k_max={k_max}")
    edges, maxima = [], []
    low = k_min
    while low < k_max:
        high = 2 * low
        mask = (frequencies >= low) & ((frequencies < high) | ((high == k_max) & (frequencies == k_max)))
        edges.append(float(low))
        maxima.append(magnitudes[mask].max())
        low = high
    return torch.tensor(edges, dtype=torch.float64), torch.stack(maxima).to(torch.float64).cpu()


def envelope_slope(frequencies: Tensor, magnitudes: Tensor, *, k_min: int = 8, k_max: int | None = None) -> float:
    """Least-squares slope of ``log max_{k in octave} |f(k)|`` against ``log k`` over the octaves ``k_min .. k_max``.

    A spectrum decaying like ``k^-p`` has slope ``-p``: -1 for a jump, -2
    for a continuous piecewise-linear function.

    Examples:
        >>> k = torch.arange(1025)
        >>> round(envelope_slope(k, 1.0 / k.double().clamp_min(1) ** 2, k_min=8), 2)
        -2.0
    """
    edges, maxima = octave_maxima(frequencies, magnitudes, k_min=k_min, k_max=k_max)
    if not (maxima > 0).all():
        raise ValueError("the spectrum is exactly 0 over an octave; the log-log slope is undefined")
    x, y = torch.log(edges), torch.log(maxima)
    x = x - x.mean()
    return float((x * (y - y.mean())).sum() / (x * x).sum())


def envelope_level(frequencies: Tensor, magnitudes: Tensor, *, k_min: int = 8, k_max: int | None = None) -> float:
    """Mean ``log10`` of the octave maxima: the height of the envelope (how much high-frequency content)."""
    _, maxima = octave_maxima(frequencies, magnitudes, k_min=k_min, k_max=k_max)
    return float(torch.log10(maxima.clamp_min(1e-300)).mean())

