"""The A3T classifier: any registered classifier plus a discriminator D on one of its hidden layers."""

from __future__ import annotations

from typing import Any

import attrs
import torch
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, each, field, positive
from etude.kinds import Model


def _tuple_of_ints(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


def _optional_shape(value: Any) -> tuple[int, ...] | None:
    return None if value is None else tuple(int(v) for v in value)


def _default_classifier_options() -> dict:
    return {"hidden": (256, 256)}


@configclass
class A3TClassifierConfig:
    in_features: int = field(validator=positive, doc="input features per example (filled from the task by the loop)")
    out_features: int = field(validator=positive, doc="classes C (filled from the task by the loop)")
    classifier: str = field(default="mlp", doc="registered model f = g o h (its sizes are filled in like the loop's)")
    classifier_options: dict = field(factory=_default_classifier_options,
                                     doc="config of the classifier (default {'hidden': (256, 256)})")
    layer: str = field(default="blocks.1",
                       doc="name (as in named_modules()) of the classifier's submodule whose output is the hidden code h")
    discriminator_hidden: tuple[int, ...] = field(default=(128,), converter=_tuple_of_ints, validator=each(positive),
                                                  doc="hidden widths of D (h -> 128 -> 1 by default)")
    discriminator_activation: str = field(default="relu", doc="registered neuron used in D")
    input_shape: tuple[int, ...] | None = field(default=None, converter=_optional_shape,
                                                doc="shape of one input (None: (in_features,)); used to size D")

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.classifier_options, dict):
            raise FieldValueError("classifier_options", self.classifier_options, "a mapping of the classifier's config")


class A3TClassifier(Model):
    """A classifier ``f = g o h`` with a discriminator ``D`` on the hidden code ``h(x)`` (Erraqabi et al., 2018).

    ``forward(x)`` returns the classifier's logits (B, C), so attacks,
    evaluation and the core loop use it like any classifier;
    ``features(x)`` returns ``(logits, h)`` with ``h`` (B, H) the flattened
    output of the submodule named ``layer`` (read with a forward hook), and
    ``discriminate(h)`` D's logit (B,) that ``h`` comes from an adversarial
    input. D lives in the model so that one optimiser step updates f and D
    together through a gradient-reversal layer (``augmenter/a3t``). The
    classifier is built first, so a seed gives it the same weights as the
    plain classifier (paired comparisons with ERM and adversarial training).

    References:
        A. Erraqabi, A. Baratin, Y. Bengio, S. Lacoste-Julien, "A3T: Adversarially Augmented Adversarial
        Training", arXiv:1801.04055, 2018.

    Examples:
        >>> net = A3TClassifier(in_features=64, out_features=10)
        >>> logits, h = net.features(torch.rand(3, 64))
        >>> logits.shape, h.shape, net.discriminate(h).shape
        (torch.Size([3, 10]), torch.Size([3, 256]), torch.Size([3]))
    """

    Config = A3TClassifierConfig

    def __init__(self, config: Any = None, **overrides: Any) -> None:
        super().__init__(config, **overrides)
        import etude  # noqa: PLC0415
        from etude.config import config_class  # noqa: PLC0415
        from etude.data import MLP  # noqa: PLC0415

        c = self.config
        shape = c.input_shape or (c.in_features,)
        options = dict(c.classifier_options)
        cls = config_class(etude.get_registry().get("model", c.classifier).load())
        names = {f.name for f in attrs.fields(cls)} if cls is not None else set()
        for name, value in (("in_features", c.in_features), ("out_features", c.out_features),
                            ("num_classes", c.out_features), ("input_shape", shape)):
            if name in names and name not in options:
                options[name] = value
        self.classifier = etude.create("model", c.classifier, **options)
        modules = dict(self.classifier.named_modules())
        if c.layer not in modules or c.layer == "":
            raise FieldValueError("layer", c.layer, f"one of the classifier's submodules {sorted(n for n in modules if n)}")
        self._captured: Tensor | None = None
        self._hook = modules[c.layer].register_forward_hook(self._capture)
        with torch.no_grad():
            was = self.classifier.training
            self.classifier.eval()
            self.classifier(torch.zeros(2, *shape))
            self.classifier.train(was)
        width = int(self._take().reshape(2, -1).shape[1])
        self.discriminator = MLP(width, 1, hidden=c.discriminator_hidden, activation=c.discriminator_activation)

    def _capture(self, module: nn.Module, args: Any, output: Any) -> None:
        self._captured = output[0] if isinstance(output, tuple) else output

    def _take(self) -> Tensor:
        h, self._captured = self._captured, None
        if h is None:
            raise RuntimeError(f"the classifier's layer {self.config.layer!r} was not run in its forward pass")
        return h

    def forward(self, x: Tensor) -> Tensor:
        """Logits (B, C) of the classifier."""
        out = self.classifier(x)
        self._captured = None
        return out

    def features(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(logits (B, C), h (B, H))``: the classifier's output and the flattened hidden code D reads."""
        logits = self.classifier(x)
        h = self._take()
        return logits, h.reshape(h.shape[0], -1)

    def discriminate(self, h: Tensor) -> Tensor:
        """D's logit (B,) that the hidden code ``h`` (B, H) comes from an adversarial input."""
        return self.discriminator(h).squeeze(-1)


__all__ = ["A3TClassifier", "A3TClassifierConfig"]
