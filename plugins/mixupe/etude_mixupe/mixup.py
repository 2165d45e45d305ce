"""Mixup (Zhang et al., 2018) and MixupE (Zou et al., 2023) as etude augmenters.

Notation (MixupE paper, following Zhang et al., ICLR 2021): the loss is
``l = h(f(x)) - y^T f(x)`` with ``h = logsumexp`` for softmax cross-entropy,
so ``h'(f) = softmax(f)``. Mixup with ``lambda ~ Beta(alpha, alpha)``
expands as ``L_mix = L_std + R_1 + R_2 + R_3 + ...`` with the first-order
term

    R_1 = E_{lambda ~ D~}[1 - lambda] / n * sum_i (h'(f(x_i)) - y_i)^T J_x f(x_i) (x_bar - x_i),

a directional derivative of the loss along ``x_bar - x_i`` (``x_bar``: the
mean training input; ``D~ = Beta(alpha + 1, alpha)`` for alpha = beta, so
``E[1 - lambda] = alpha / (2 alpha + 1)``). MixupE adds ``eta`` times an
estimate of ``R_1`` to the mixup loss.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, non_negative, one_of, positive
from etude.kinds import AugmentedBatch, Augmenter, soft_cross_entropy, to_soft_targets


# -- pieces shared by both augmenters ------------------------------------------
def sample_lambda(alpha: float, size: int, generator: torch.Generator | None = None) -> Tensor:
    """``size`` draws of ``lambda ~ Beta(alpha, alpha)`` as a float64 CPU tensor, reproducible under ``generator``.

    torch's Beta sampler takes no generator, so a 62-bit seed drawn from
    ``generator`` (or torch's global RNG) seeds a numpy Generator.
    """
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    device = generator.device if generator is not None else "cpu"
    seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=device))
    return torch.from_numpy(np.random.default_rng(seed).beta(alpha, alpha, size=size))


def sample_permutation(batch: int, generator: torch.Generator | None = None) -> Tensor:
    """A random permutation of ``range(batch)`` (CPU int64), reproducible under ``generator``."""
    device = generator.device if generator is not None else "cpu"
    return torch.randperm(batch, generator=generator, device=device).cpu()


def mix(inputs: Tensor, soft_targets: Tensor, lam: Tensor, perm: Tensor) -> tuple[Tensor, Tensor]:
    """``(lam x + (1 - lam) x[perm], lam y + (1 - lam) y[perm])``; ``lam`` is a scalar or (B,)."""
    lam = torch.as_tensor(lam, dtype=inputs.dtype, device=inputs.device)
    perm = perm.to(inputs.device)
    lam_x = lam.reshape(-1, *([1] * (inputs.dim() - 1))) if lam.dim() else lam
    lam_y = lam.reshape(-1, 1) if lam.dim() else lam
    mixed_x = lam_x * inputs + (1 - lam_x) * inputs[perm]
    mixed_y = lam_y * soft_targets + (1 - lam_y) * soft_targets[perm]
    return mixed_x, mixed_y


def expected_one_minus_lambda(alpha: float) -> float:
    """``E_{lambda ~ Beta(alpha + 1, alpha)}[1 - lambda] = alpha / (2 alpha + 1)``: the factor of ``R_1``.

    ``Beta(alpha + 1, alpha)`` is the distribution ``D~_lambda`` of the
    mixup expansion for ``alpha = beta`` (its mean ``(alpha + 1) / (2 alpha + 1)``
    is the released code's ``lamba_mod_mean``).
    """
    return alpha / (2 * alpha + 1)


def model_blocks(model: nn.Module) -> list[nn.Module]:
    """Consecutive blocks of ``model`` for manifold mixup: its ``blocks`` (a ModuleList, as
    :class:`etude.data.MLP` has, or a method returning a list) or an ``nn.Sequential``'s children."""
    blocks = getattr(model, "blocks", None)
    if isinstance(blocks, nn.ModuleList):
        return list(blocks)
    if callable(blocks) and not isinstance(blocks, nn.Module):
        return list(blocks())
    if isinstance(model, nn.Sequential):
        return list(model)
    raise TypeError(
        f"manifold mixup (layer > 0) needs a model with blocks (a ModuleList or a method) or an nn.Sequential, "
        f"got {type(model).__name__}; use layer=0 (input mixup) for other models"
    )


# -- Mixup ----------------------------------------------------------------------
@configclass
class MixupConfig:
    alpha: float = field(default=1.0, validator=positive, doc="Beta(alpha, alpha) concentration of the mixing weight")
    mode: str = field(
        default="batch", validator=one_of("batch", "elem"),
        doc="'batch': one lambda per batch (the paper's code); 'elem': one lambda per example",
    )
    layer: int = field(
        default=0, validator=non_negative,
        doc="0: input mixup; k > 0: manifold mixup after the model's k-th block (in loss(); augment() mixes inputs)",
    )


class Mixup(Augmenter):
    """Input mixup (Zhang et al., 2018): train on convex combinations of example pairs and their labels.

    A permutation ``p`` of the batch and ``lambda ~ Beta(alpha, alpha)`` give
    ``x~ = lambda x + (1 - lambda) x[p]`` and soft targets
    ``y~ = lambda y + (1 - lambda) y[p]``; the loss is the soft-label
    cross-entropy ``CE(f(x~), y~) = lambda CE(f(x~), y) + (1 - lambda) CE(f(x~), y[p])``.
    One ``lambda`` per batch by default (``mode="elem"``: one per example).
    Inputs of any shape work; odd batch sizes (and a batch of one, which
    mixes an example with itself) are handled, so ``drop_last`` is not needed.
    With ``layer = k > 0``, :meth:`loss` performs manifold mixup (Verma et al.,
    ICML 2019): hidden states after the model's ``k``-th block are mixed
    instead of inputs (the model needs ``blocks()`` or is an ``nn.Sequential``).

    References:
        H. Zhang, M. Cisse, Y. N. Dauphin, D. Lopez-Paz, "mixup: Beyond Empirical
        Risk Minimization", ICLR 2018, arXiv:1710.09412.
        V. Verma et al., "Manifold Mixup: Better Representations by Interpolating
        Hidden States", ICML 2019, arXiv:1806.05236.

    Examples:
        >>> import torch
        >>> out = Mixup(alpha=1.0)(torch.randn(5, 3), torch.tensor([0, 1, 2, 0, 1]), num_classes=3,
        ...                        generator=torch.Generator().manual_seed(0))
        >>> out.inputs.shape, out.targets.sum(-1).tolist()
        (torch.Size([5, 3]), [1.0, 1.0, 1.0, 1.0, 1.0])
    """

    Config = MixupConfig

    def draw(self, batch: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """The mixing weight (a 0-d tensor, or (B,) for ``mode="elem"``) and the permutation."""
        lam = sample_lambda(self.config.alpha, batch if self.config.mode == "elem" else 1, generator)
        perm = sample_permutation(batch, generator)
        return (lam if self.config.mode == "elem" else lam[0]), perm

    def augment(self, inputs, targets, *, num_classes, generator=None) -> AugmentedBatch:
        dtype = inputs.dtype if inputs.is_floating_point() else torch.get_default_dtype()
        soft = to_soft_targets(targets, num_classes, dtype).to(inputs.device)
        lam, perm = self.draw(inputs.shape[0], generator)
        x, y = mix(inputs.to(dtype), soft, lam, perm)
        return AugmentedBatch(x, y, {"lam": lam, "perm": perm})

    def mixup_loss(self, model: nn.Module, inputs: Tensor, targets: Tensor, *, num_classes: int,
                   generator: torch.Generator | None = None) -> Tensor:
        """The (input or manifold) mixup cross-entropy ``L_mix`` of ``model`` on one random mix of the batch."""
        if self.config.layer == 0:
            batch = self(inputs, targets, num_classes=num_classes, generator=generator)
            return soft_cross_entropy(model(batch.inputs), batch.targets)
        from etude.kinds.augmenter import check_batch  # noqa: PLC0415

        check_batch(inputs, targets, num_classes, type(self).__name__)
        blocks = model_blocks(model)
        if self.config.layer >= len(blocks):
            raise ValueError(
                f"layer={self.config.layer} is past the model's last hidden block; "
                f"the model has {len(blocks)} blocks, so use layer in [0, {len(blocks) - 1}]"
            )
        h = inputs
        for block in blocks[: self.config.layer]:
            h = block(h)
        soft = to_soft_targets(targets, num_classes, h.dtype).to(h.device)
        lam, perm = self.draw(inputs.shape[0], generator)
        h, y = mix(h, soft, lam, perm)
        for block in blocks[self.config.layer:]:
            h = block(h)
        return soft_cross_entropy(h, y)

    def loss(self, model, inputs, targets, *, num_classes, generator=None, **kwargs: Any) -> Tensor:
        """Mixup cross-entropy on one random mix of the batch (extra keywords such as ``x_mean`` are ignored)."""
        return self.mixup_loss(model, inputs, targets, num_classes=num_classes, generator=generator)


# -- MixupE -----------------------------------------------------------------------
@configclass
class MixupEConfig:
    alpha: float = field(default=2.0, validator=positive, doc="Beta(alpha, alpha) of mixup (README: 2.0)")
    eta: float = field(default=0.001, validator=non_negative, doc="weight of the added first-order term (README: 0.001)")
    version: int = field(
        default=3, validator=one_of(1, 2, 3, 4),
        doc="1: exact term (double backprop) with threshold; 2: exact, |t|; 3: fast homogeneity form with "
            "threshold (README default); 4: fast form, no threshold, softmax detached",
    )
    threshold: float | None = field(
        default=None, doc="keep examples with t_i < threshold (versions 1 and 3); None: 1.0 for v3, -1.0 for v1"
    )
    sign: str = field(
        default="released", validator=one_of("paper", "released"),
        doc="'released' (default, the README command's objective, which produced the paper's numbers): the "
            "official code's per-version signs (+ for v1/v2, - for v3/v4); 'paper': L_mix + eta * R1_hat for every "
            "version (the expansion's sign)",
    )
    renormalise: bool = field(default=True, doc="rescale the total by the detached |L_mix| / |L_total| (released code)")
    mode: str = field(default="batch", validator=one_of("batch", "elem"), doc="one lambda per batch or per example")
    layer: int = field(default=0, validator=non_negative, doc="mixup layer: 0 input mixup, k > 0 manifold mixup")

    def __attrs_post_init__(self) -> None:
        if self.threshold is not None and not np.isfinite(self.threshold):
            raise FieldValueError("threshold", self.threshold, "a finite number or None")


class MixupE(Mixup):
    """MixupE (Zou et al., UAI 2023): mixup plus an eta-weighted estimate of its first-order directional-derivative term.

    The paper shows that the mixup loss expands as ``L_std + R_1 + R_2 + ...``
    where the order-k terms regularise k-th directional derivatives of the
    network along ``x_bar - x_i``, and proposes to *enhance* the first-order
    one: ``L_MixupE = L_mix + eta * R_1_hat`` with, on a batch of size B,

        R_1_hat = E[1 - lambda] / B * sum_{i kept} t_i,   E[1 - lambda] = alpha / (2 alpha + 1),

    - v1: ``t_i = stopgrad(softmax(f(x_i)) - y_i)^T J_x f(x_i) (x_bar - x_i)`` (double backprop), kept if t_i < tau;
    - v2: v1 with ``|t_i|`` and no threshold;
    - v3: ``t_i = (y_i - softmax(f(x_i)))^T f(x_i)``, kept if t_i < tau, nothing detached;
    - v4: v3 with softmax detached and no threshold.

    v3/v4 are v1/v2's integrand under positive homogeneity: a bias-free
    ReLU net has ``J_x f(x) x = f(x)``, so with ``x_bar = 0``,
    ``(h' - y)^T J (x_bar - x) = (y - h')^T f`` (tested to 1e-5).

    **Sign.** The official code adds ``+eta * term`` in v1/v2 but ``-eta *
    term`` in v3/v4, although both terms estimate the same ``R_1``. The
    expansion gives ``R_1`` a plus sign in the mixup loss (the first-order
    Taylor term of ``l(x_i + (1 - lambda)(r - x_i))``; Zhang et al. 2021,
    Lemma 3.1), so "enhancing" it reads ``L_mix + eta * R_1``:
    ``sign="paper"``, for every version. The paper's experiments, however,
    were run with the released v3 (its README command), which subtracts the
    term: ``L_mix - eta * R_1_hat``. That objective is the default,
    ``sign="released"``, because it is what produced the paper's numbers, and
    it is the one that beats mixup here: run beside the official
    ``training_method`` (``benchmarks/mixupe/side_by_side_official.py``,
    issue 34) on MNIST-1D, the official v3 gained +0.53 points over mixup
    (16 seeds, 95% CI [+0.08, +0.98]) while ``sign="paper"`` lost 0.35
    points (6 seeds). The two codes agree on one batch to 1e-7 in the
    gradient. (The PDF was not available offline, so the paper's own
    equation numbers of arXiv:2212.13381v5 are unchecked.)

    As in the official code, the total is renormalised by the detached
    factor ``|L_mix| / |L_total|`` (same magnitude as mixup, changed
    gradient direction); :meth:`terms` reports the raw parts. The clean pass
    runs in the model's current mode (train mode during training, as the
    official code); with BatchNorm in train mode, v1's batch-sum gradient is
    no longer per-example. ``x_bar`` is the ``x_mean`` passed to
    :meth:`loss` (the procedure passes the training-set mean), else the
    batch mean; only v1/v2 use it.

    References:
        Y. Zou, V. Verma, S. Mittal, W. H. Tang, H. Pham, J. Kannala, Y. Bengio,
        A. Solin, K. Kawaguchi, "MixupE: Understanding and Improving Mixup from
        Directional Derivative Perspective", UAI 2023, arXiv:2212.13381.
        L. Zhang, Z. Deng, K. Kawaguchi, A. Ghorbani, J. Zou, "How Does Mixup Help
        With Robustness and Generalization?", ICLR 2021, arXiv:2010.04819.

    Examples:
        >>> import torch
        >>> model = torch.nn.Linear(4, 3)
        >>> aug = MixupE(alpha=1.0, eta=0.1)
        >>> parts = aug.terms(model, torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2]), num_classes=3,
        ...                   generator=torch.Generator().manual_seed(0))
        >>> sorted(parts), bool(torch.isclose(parts["loss"].abs(), parts["mixup_loss"].abs()))
        (['kept', 'loss', 'mixup_loss', 'regulariser'], True)
    """

    Config = MixupEConfig

    @property
    def tau(self) -> float | None:
        """The threshold in use (None for versions 2 and 4)."""
        c = self.config
        if c.version in (2, 4):
            return None
        if c.threshold is not None:
            return float(c.threshold)
        return 1.0 if c.version == 3 else -1.0

    @property
    def sign_factor(self) -> float:
        """+1 (the paper's objective) or the released code's sign for this version."""
        if self.config.sign == "paper":
            return 1.0
        return 1.0 if self.config.version in (1, 2) else -1.0

    def per_example_term(self, model: nn.Module, inputs: Tensor, targets: Tensor, *, num_classes: int,
                         x_mean: Tensor | None = None) -> Tensor:
        """The integrand ``t_i`` (B,) of this version, before threshold, factor and sign (graph kept)."""
        version = self.config.version
        dtype = inputs.dtype if inputs.is_floating_point() else torch.get_default_dtype()
        y = to_soft_targets(targets, num_classes, dtype).to(inputs.device)
        if version in (3, 4):
            f = model(inputs)
            p = torch.softmax(f, dim=-1)
            if version == 4:
                p = p.detach()
            return ((y - p) * f).sum(-1)
        x = inputs.detach().to(dtype).requires_grad_(True)
        f = model(x)
        b = (torch.softmax(f, dim=-1) - y).detach()
        (grad,) = torch.autograd.grad((b * f).sum(), x, create_graph=True)
        reference = _reference(x_mean, inputs)
        delta = (reference - x).detach()
        t = (grad * delta).reshape(x.shape[0], -1).sum(-1)
        return t.abs() if version == 2 else t

    def terms(self, model: nn.Module, inputs: Tensor, targets: Tensor, *, num_classes: int,
              generator: torch.Generator | None = None, x_mean: Tensor | None = None) -> dict[str, Tensor]:
        """``mixup_loss`` (L_mix), ``regulariser`` (R_1_hat, raw), ``kept`` (examples used) and ``loss`` (the total)."""
        l_mix = self.mixup_loss(model, inputs, targets, num_classes=num_classes, generator=generator)
        t = self.per_example_term(model, inputs, targets, num_classes=num_classes, x_mean=x_mean)
        keep = torch.ones_like(t, dtype=torch.bool) if self.tau is None else (t.detach() < self.tau)
        # a boolean mask (not nonzero().squeeze()) handles 0 or 1 kept example
        r1 = expected_one_minus_lambda(self.config.alpha) * (t * keep).sum() / t.shape[0]
        total = l_mix + self.sign_factor * self.config.eta * r1
        if self.config.renormalise:
            scale = (l_mix.detach().abs() / total.detach().abs().clamp_min(torch.finfo(total.dtype).tiny))
            total = scale * total
        return {"loss": total, "mixup_loss": l_mix, "regulariser": r1, "kept": keep.sum()}

    def loss(self, model, inputs, targets, *, num_classes, generator=None, x_mean: Tensor | None = None,
             **kwargs: Any) -> Tensor:
        """The MixupE training loss (see the class docstring); ``x_mean`` is x_bar (v1/v2)."""
        return self.terms(model, inputs, targets, num_classes=num_classes, generator=generator, x_mean=x_mean)["loss"]


def _reference(x_mean: Tensor | None, inputs: Tensor) -> Tensor:
    if x_mean is None:
        return inputs.detach().mean(0, keepdim=True)
    x_mean = torch.as_tensor(x_mean, dtype=inputs.dtype, device=inputs.device)
    if x_mean.shape == inputs.shape[1:]:
        x_mean = x_mean.unsqueeze(0)
    if x_mean.shape != (1, *inputs.shape[1:]):
        raise ValueError(
            f"x_mean must have shape {tuple(inputs.shape[1:])} or (1, ...) matching one input, got {tuple(x_mean.shape)}"
        )
    return x_mean


__all__: Sequence[str] = [
    "Mixup",
    "MixupE",
    "expected_one_minus_lambda",
    "mix",
    "model_blocks",
    "sample_lambda",
    "sample_permutation",
]
