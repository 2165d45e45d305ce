"""The linearisation knob: any model rescaled as ``f~_a(x) = a (f(w; x) - f(w0; x)) + offset(x)``.

Chizat & Bach's scale ``alpha`` moves one starting function between the
feature-learning regime (``alpha = 1``) and the kernel ("lazy") regime
(``alpha -> inf``, training follows the linearisation of ``f`` around
``w0``). ``w0`` is a frozen copy of the parameters, stored as buffers
(``w0.<name>``, so checkpoints carry it) and run under ``no_grad`` by a
structural copy of the network whose parameters *are* those buffers (and
whose buffers are the trained network's, e.g. BatchNorm statistics): a
plain module call, without :func:`torch.func.functional_call`'s per-call
swapping of parameters. It never changes and no gradient reaches it. ``offset = "zero"`` starts every
``alpha`` from the zero function; ``offset = "initial"`` adds ``f(w0; x)``
(the function of a checkpoint, when training is *forked* from it), and with
``alpha = 1`` the forward is then exactly ``f(w; x)``.

The objective is ``(1 / alpha^2) L(f~_a)``: the wrapper's ``loss_scale``,
applied by the core loop (``procedure/supervised`` back-propagates
``loss_scale * loss``). With SGD (momentum included) this is exactly the
reference code's step: ``dL/df~`` back-propagated into ``f`` (not into
``f~``) with learning rate ``lr / alpha``. Coupled weight decay would decay
``w`` towards 0 rather than ``w0``, with a strength that depends on the
convention; the core loop rejects weight decay for any model whose
``loss_scale`` is not 1 until its meaning is decided.

References:
    T. George, G. Lajoie, A. Baratin, "Lazy vs hasty: linearization in deep networks impacts learning
    schedule based on example difficulty", TMLR 2022, arXiv:2209.09658.
    L. Chizat, E. Oyallon, F. Bach, "On Lazy Training in Differentiable Programming", NeurIPS 2019,
    arXiv:1812.07956.

Examples:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> lazy = AlphaScaled.wrap(net, alpha=100.0)
    >>> x = torch.randn(4, 3)
    >>> float(lazy(x).detach().abs().max()), lazy.loss_scale, lazy.relative_weight_change()
    (0.0, 0.0001, 0.0)
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, one_of, positive
from etude.kinds import Model

OFFSETS = ("zero", "initial")


def _options(value: Any) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError(f"model_options must be a mapping of config fields, got {type(value).__name__}")
    return dict(value)


def _optional_positive_int(instance: Any, attribute: Any, value: Any) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise FieldValueError(attribute.name, value, "None or an integer >= 1")


def _finite_positive(instance: Any, attribute: Any, value: Any) -> None:
    positive(instance, attribute, value)
    if not math.isfinite(value):
        raise FieldValueError(attribute.name, value, "a finite number > 0")


@configclass
class AlphaScaledConfig:
    alpha: float = field(default=1.0, converter=float, validator=_finite_positive,
                         doc="scale alpha: 1 = standard (rich) training, large = lazy; pick it relative to |f(w0)|")
    model: str = field(default="mlp", doc="registered model wrapped (ignored by AlphaScaled.wrap)")
    model_options: dict = field(factory=dict, converter=_options, doc="config of the wrapped model")
    offset: str = field(default="zero", validator=one_of(*OFFSETS),
                        doc="'zero': f~ = 0 at w0; 'initial': f~ = f(w0) at w0 (forking from a checkpoint)")
    in_features: int | None = field(default=None, validator=_optional_positive_int,
                                    doc="passed to the wrapped model when it declares it (filled in by the loop)")
    out_features: int | None = field(default=None, validator=_optional_positive_int,
                                     doc="passed to the wrapped model when it declares it (filled in by the loop)")


def _buffer_name(name: str) -> str:
    return name.replace(".", "__")


def _owner(module: nn.Module, name: str) -> tuple[nn.Module, str]:
    """The submodule holding the dotted tensor ``name`` and the attribute's last part."""
    *path, attr = name.split(".")
    for part in path:
        module = getattr(module, part)
    return module, attr


class AlphaScaled(Model):
    """Lazy-training wrapper ``f~_a(x) = alpha (f(w; x) - f(w0; x)) + offset(x)``, trained on ``L / alpha^2``.

    Build it by registry (``etude.create("model", "alpha-scaled", model="mlp",
    model_options={...}, alpha=1e3, in_features=..., out_features=...)``) or
    around an existing module with :meth:`wrap` (``w0`` = that module's
    current parameters). ``net`` is the trained module; ``w0`` its frozen
    copy (buffers ``w0.<name with __>``); ``loss_scale = 1 / alpha^2``.
    BatchNorm: the frozen pass uses the same module in the same mode (its
    running statistics are updated by the trained pass only, since ``f(w0)``
    runs under ``no_grad`` with the current buffers); prefer BN-free models.
    """

    Config = AlphaScaledConfig

    def __init__(self, config: Any = None, *, module: nn.Module | None = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        c = self.config
        if module is None:
            module = self._build(c)
        elif not isinstance(module, nn.Module):
            raise TypeError(f"AlphaScaled: module must be a torch.nn.Module, got {type(module).__name__}")
        self.net = module
        self.w0 = nn.Module()
        for name, p in module.named_parameters():
            self.w0.register_buffer(_buffer_name(name), p.detach().clone())
        if not len(list(self.w0.buffers())):
            raise ValueError("AlphaScaled: the wrapped model has no parameters to train")
        self._build_frozen()

    # -- the frozen network f(w0; .) ------------------------------------------------------------------
    def _build_frozen(self) -> None:
        """A copy of ``net``'s structure whose parameters are the ``w0`` buffers and whose buffers are ``net``'s.

        Not a registered submodule (no duplicate state, parameters or
        ``.to``); its tensors are re-linked after every ``_apply`` (``.to``,
        ``.double()``, ...) and ``load_state_dict``.
        """
        canonical = {id(p): name for name, p in self.net.named_parameters()}
        links = [(name, canonical[id(p)]) for name, p in self.net.named_parameters(remove_duplicate=False)]
        frozen = copy.deepcopy(self.net)
        for name, _ in links:
            owner, attr = _owner(frozen, name)
            owner._parameters.pop(attr, None)
        frozen.requires_grad_(False)
        self.__dict__["_frozen"] = frozen
        self.__dict__["_frozen_links"] = links
        self._relink()

    def _relink(self) -> None:
        frozen = self.__dict__.get("_frozen")
        if frozen is None:
            return
        for name, source in self.__dict__["_frozen_links"]:
            owner, attr = _owner(frozen, name)
            owner.__dict__[attr] = getattr(self.w0, _buffer_name(source))
        for name, buffer in self.net.named_buffers(remove_duplicate=False):
            owner, attr = _owner(frozen, name)
            owner._buffers[attr] = buffer

    def _apply(self, fn, recurse=True):
        out = super()._apply(fn, recurse)
        self._relink()
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        self._relink()
        return result

    @staticmethod
    def _build(c: AlphaScaledConfig) -> nn.Module:
        import attrs  # noqa: PLC0415

        import etude  # noqa: PLC0415
        from etude.config import config_class  # noqa: PLC0415

        options = dict(c.model_options)
        cls = config_class(etude.get_registry().get("model", c.model).load())
        names = {f.name for f in attrs.fields(cls)} if cls is not None else set()
        for key in ("in_features", "out_features"):
            value = getattr(c, key)
            if key in names and key not in options and value is not None:
                options[key] = value
        return etude.create("model", c.model, **options)

    @classmethod
    def wrap(cls, module: nn.Module, alpha: float, *, offset: str = "zero") -> AlphaScaled:
        """Wrap ``module`` (its current parameters become ``w0``; the module itself is trained)."""
        return cls(module=module, alpha=alpha, offset=offset, model="wrapped")

    @classmethod
    def fork(cls, module: nn.Module, alpha: float) -> AlphaScaled:
        """Continue training a copy of ``module`` (a checkpoint's network) at scale ``alpha``.

        ``w0`` is the checkpoint's parameters and ``offset = "initial"``: the
        forked function starts as the checkpoint's, for every ``alpha``.
        """
        return cls.wrap(copy.deepcopy(module), alpha, offset="initial")

    @property
    def alpha(self) -> float:
        return float(self.config.alpha)

    @property
    def loss_scale(self) -> float:
        """``1 / alpha^2``: the core loop back-propagates ``loss_scale * loss``."""
        return 1.0 / self.alpha**2

    def reference_parameters(self) -> dict[str, Tensor]:
        """``w0`` as a name -> tensor dict (names of ``net``)."""
        return {name: getattr(self.w0, _buffer_name(name)) for name, _ in self.net.named_parameters()}

    def initial_function(self, x: Tensor) -> Tensor:
        """``f(w0; x)``, without gradient (the frozen copy, in ``net``'s train / eval mode)."""
        frozen = self.__dict__["_frozen"]
        if frozen.training != self.net.training:
            frozen.train(self.net.training)
        with torch.no_grad():
            return frozen(x)

    def forward(self, x: Tensor) -> Tensor:
        if self.alpha == 1.0 and self.config.offset == "initial":
            return self.net(x)  # alpha (f - f0) + f0 with alpha = 1, exactly
        out = self.net(x)
        f0 = self.initial_function(x)
        scaled = self.alpha * (out - f0)
        return scaled + f0 if self.config.offset == "initial" else scaled

    @torch.no_grad()
    def relative_weight_change(self) -> float:
        """``||w - w0|| / ||w0||`` over every parameter (lazy training: << 1)."""
        ref = self.reference_parameters()
        num = sum(float((p.double() - ref[n].double()).square().sum()) for n, p in self.net.named_parameters())
        den = sum(float(t.double().square().sum()) for t in ref.values())
        return math.sqrt(num / den) if den > 0 else math.sqrt(num)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}, offset={self.config.offset!r}"


__all__ = ["OFFSETS", "AlphaScaled", "AlphaScaledConfig"]
