"""How much of each frequency of a trained network survives random parameter noise.

Rahaman et al. (2019; ``ICML_Robustness.ipynb``) perturb a trained network's parameters
``theta -> theta + eps`` and compare the spectrum of the perturbed function
with the unperturbed one, frequency by frequency. For the Fourier
coefficients ``F_delta(k)`` of the perturbed prediction on the grid and
``F_0(k)`` of the unperturbed one, :func:`perturbation_spectrum` returns the
*coherent retention*

    r(k) = E_eps Re(F_delta(k) conj(F_0(k))) / |F_0(k)|^2,

the fraction of the learned component that is still there, in phase. The
notebook's measure, ``E |F_delta(k)| / |F_0(k)|`` (``magnitude_ratio``), is
returned too; it misleads when the noise itself adds energy at low
frequencies (a random network is mostly low-frequency), which the coherent
ratio ignores because that energy has a random phase.

Noise models (``noise=``):

- ``"relative"`` (etude's default): each parameter tensor gets i.i.d.
  Gaussian noise of std ``delta x RMS(tensor)``, so every layer is
  perturbed in proportion to its scale.
- ``"global"`` (``ICML_Robustness.ipynb``): one isotropic Gaussian direction
  over all parameters, normalised to Euclidean norm ``delta`` (``delta`` is
  then an absolute perturbation norm; the notebook swept 0 to 5).

All draws are evaluated in one batched call: the perturbed parameters are
stacked along a leading dimension and the network is run through
``torch.func.functional_call`` under ``torch.func.vmap``. Row 0 of that
batch is the unperturbed network. Parameters, noise and inputs are cast to
``dtype`` (float64 by default) for the evaluation, so float32 round-off of
the batched kernels (about 1e-6) does not pass for a perturbation:
``delta = 0`` gives retention 1 to within 1e-12.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import torch
from torch import Tensor
from torch.func import functional_call, vmap

from .fourier import _frequency_index

NOISE_MODELS = ("relative", "global")


@attrs.frozen
class PerturbationSpectrum:
    """Result of :func:`perturbation_spectrum` (CPU float64 tensors).

    Attributes:
        frequencies: (K,) int64.
        delta: the noise scale; ``noise`` the model used.
        retention: (K,) mean coherent retention over draws; ``retention_draws`` (D, K).
        magnitude_ratio: (K,) mean ``|F_delta| / |F_0|`` (the notebook's normalised spectrum).
        reference: (K,) ``2 |F_0(k)| / N`` of the unperturbed network.
    """

    frequencies: Tensor
    delta: float
    noise: str
    retention: Tensor
    retention_draws: Tensor
    magnitude_ratio: Tensor
    reference: Tensor


def sample_perturbations(model: torch.nn.Module, delta: float, draws: int, *, noise: str = "relative",
                         generator: torch.Generator | None = None) -> dict[str, Tensor]:
    """Stacked noise ``{name: (draws, *shape)}`` for every parameter of ``model`` (drawn on the CPU, in parameter order).

    Examples:
        >>> net = torch.nn.Linear(3, 2)
        >>> eps = sample_perturbations(net, 0.1, 4, noise="global", generator=torch.Generator().manual_seed(0))
        >>> round(float(torch.cat([e.flatten(1) for e in eps.values()], 1).norm(dim=1)[0]), 6)
        0.1
    """
    if noise not in NOISE_MODELS:
        raise ValueError(f"noise must be one of {NOISE_MODELS}, got {noise!r}")
    if not (float(delta) >= 0 and torch.isfinite(torch.tensor(float(delta)))):
        raise ValueError(f"delta must be a finite number >= 0, got {delta!r}")
    if int(draws) != draws or draws < 1:
        raise ValueError(f"draws must be a positive integer, got {draws!r}")
    params = dict(model.named_parameters())
    if not params:
        raise ValueError("model has no parameters to perturb")
    out = {}
    for name, p in params.items():
        z = torch.randn((int(draws), *p.shape), generator=generator, dtype=torch.float64)
        if noise == "relative":
            z = z * float(delta) * float(p.detach().double().pow(2).mean().sqrt())
        out[name] = z
    if noise == "global":
        norm = torch.cat([z.flatten(1) for z in out.values()], dim=1).norm(dim=1).clamp_min(1e-300)
        scale = float(delta) / norm
        out = {name: z * scale.view(-1, *([1] * (z.dim() - 1))) for name, z in out.items()}
    return {name: z.to(dtype=params[name].dtype, device=params[name].device) for name, z in out.items()}


def perturbation_spectrum(model: torch.nn.Module, delta: float, draws: int = 64, *, inputs: Tensor,
                          frequencies: Sequence[int] | Tensor, noise: str = "relative",
                          generator: torch.Generator | None = None,
                          dtype: torch.dtype = torch.float64) -> PerturbationSpectrum:
    """Coherent retention per frequency of ``model``'s prediction on the grid ``inputs`` under ``draws`` noise draws.

    ``inputs`` (N, d) are the grid points in order (the train split of the
    plugin's tasks); the output's first column is the function transformed.
    The noise is drawn with ``generator`` by :func:`sample_perturbations`.

    Examples:
        >>> torch.manual_seed(0)
        <torch._C.Generator object at ...>
        >>> net = torch.nn.Sequential(torch.nn.Linear(1, 32), torch.nn.ReLU(), torch.nn.Linear(32, 1))
        >>> x = (torch.arange(64) / 64.0)[:, None]
        >>> perturbation_spectrum(net, 0.0, 4, inputs=x, frequencies=[1, 2]).retention.tolist()
        [1.0, 1.0]
    """
    if inputs.dim() != 2:
        raise ValueError(f"inputs must be the grid (N, d), got shape {tuple(inputs.shape)}")
    k = _frequency_index(frequencies, inputs.shape[0], inputs.device)
    eps = sample_perturbations(model, delta, draws, noise=noise, generator=generator)
    params = {name: p.detach().to(dtype) for name, p in model.named_parameters()}
    buffers = {name: (b.detach().to(dtype) if b.is_floating_point() else b) for name, b in model.named_buffers()}
    stacked = {name: torch.cat([p[None], p[None] + eps[name].to(dtype)]) for name, p in params.items()}
    x = inputs.to(dtype)

    def predict(theta: dict[str, Tensor]) -> Tensor:
        return functional_call(model, (theta, buffers), (x,))

    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = vmap(predict)(stacked)
    finally:
        model.train(was_training)
    f = out.reshape(out.shape[0], inputs.shape[0], -1)[..., 0].to(torch.float64)
    coeffs = torch.fft.rfft(f, dim=-1).index_select(-1, k)
    ref, pert = coeffs[0], coeffs[1:]
    power = ref.abs().pow(2)
    if not (power > 0).all():
        raise ValueError(f"the unperturbed network has no energy at frequencies {k[power == 0].tolist()}: "
                         "retention is undefined there")
    retention = (pert * ref.conj()).real / power
    ratio = pert.abs() / ref.abs()
    return PerturbationSpectrum(frequencies=k.cpu(), delta=float(delta), noise=noise,
                                retention=retention.mean(0).cpu(), retention_draws=retention.cpu(),
                                magnitude_ratio=ratio.mean(0).cpu(), reference=(2 * ref.abs() / inputs.shape[0]).cpu())
