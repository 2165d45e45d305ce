"""The per-object encoder shared by CoRelNet and its baselines, applied to all N objects in one call."""

from __future__ import annotations

import math
from typing import Any

import attrs
from torch import Tensor, nn

from etude.config import FieldValueError, configclass, field, one_of, positive


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in value)


def check_input_shape(instance: Any, attribute: Any, value: tuple[int, ...]) -> None:
    """``input_shape`` is (N, *object_shape) with N >= 2 objects."""
    if len(value) < 2 or any(v < 1 for v in value) or value[0] < 2:
        raise FieldValueError(attribute.name, value, "(N, *object_shape) with N >= 2 objects, e.g. (6, 32) or (6, 32, 32)")


@configclass
class ObjectModelConfig:
    """Fields shared by the baselines that encode N objects with one per-object encoder (subclassed, not used alone)."""

    input_shape: tuple[int, ...] = field(converter=_shape, validator=check_input_shape, doc="(N, *object_shape)")
    num_classes: int = field(validator=positive, doc="outputs")
    encoder: str = field(default="mlp", doc="registered per-object encoder model")
    encoder_options: dict = field(factory=dict, doc="config of the encoder (sizes filled in)")
    z_dim: int = field(default=128, validator=positive, doc="encoding width d")
    context_norm: str = field(default="all", validator=one_of("none", "all"), doc="context norm over the objects")


def build_encoder(name: str, object_shape: tuple[int, ...], z_dim: int, options: dict) -> nn.Module:
    """A registered model (``"mlp"``, ``"cnn"``, ...) mapping one object (``object_shape``) to ``z_dim`` features.

    Fields the model's config declares among ``in_features``, ``out_features``
    and ``input_shape`` are filled from ``object_shape`` and ``z_dim`` unless
    ``options`` gives them (as ``procedure/supervised`` does for tasks); an
    object of shape (H, W) is an image, so ``spatial_dims`` is set to 2 where
    the encoder has that field (the core CNN would read (H, W) as 1-D (C, L)).

    Examples:
        >>> import torch
        >>> enc = build_encoder("mlp", (32,), 64, {"hidden": (64,)})
        >>> enc(torch.randn(5, 32)).shape
        torch.Size([5, 64])
    """
    import etude  # noqa: PLC0415
    from etude.config import config_class  # noqa: PLC0415

    cls = config_class(etude.get_registry().get("model", name).load())
    names = {f.name for f in attrs.fields(cls)} if cls is not None else set()
    options = dict(options)
    for field, value in (("in_features", math.prod(object_shape)), ("out_features", z_dim),
                         ("input_shape", tuple(object_shape))):
        if field in names and field not in options:
            options[field] = value
    if "spatial_dims" in names and len(object_shape) == 2 and "spatial_dims" not in options:
        options["spatial_dims"] = 2
    return etude.create("model", name, **options)


class ObjectEncoder(nn.Module):
    """Encode (B, N, *object_shape) to (B, N, z_dim) with one batched call of the encoder on B * N objects.

    (The reference implementation loops over the N slots.)

    Examples:
        >>> import torch
        >>> enc = ObjectEncoder("mlp", (32,), 16, {"hidden": (16,)})
        >>> enc(torch.randn(4, 6, 32)).shape
        torch.Size([4, 6, 16])
    """

    def __init__(self, name: str, object_shape: tuple[int, ...], z_dim: int, options: dict | None = None) -> None:
        super().__init__()
        self.object_shape, self.z_dim = tuple(object_shape), int(z_dim)
        self.net = build_encoder(name, self.object_shape, self.z_dim, options or {})

    def forward(self, x: Tensor) -> Tensor:
        k = len(self.object_shape)
        if x.dim() != k + 2 or tuple(x.shape[2:]) != self.object_shape:
            raise ValueError(f"expected objects (B, N, {', '.join(map(str, self.object_shape))}), got {tuple(x.shape)}; "
                             "set input_shape to (N, *object_shape) of the task")
        b, n = x.shape[:2]
        z = self.net(x.reshape(b * n, *self.object_shape))
        return z.reshape(b, n, -1)


__all__ = ["ObjectEncoder", "build_encoder", "check_input_shape"]
