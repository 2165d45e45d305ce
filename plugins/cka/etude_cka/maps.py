"""Layer x layer CKA maps: forward-hook activation recording, the map, and its heatmap."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from etude.kinds import SimilarityMetric, check_representations

from ._hsic import centre, check_variance
from .linear import LinearCKA
from .minibatch import MinibatchCKA


def _resolve_layers(model: nn.Module, layers: Sequence[str | nn.Module] | None) -> list[tuple[str, nn.Module]]:
    named = dict(model.named_modules())
    if layers is None:  # every leaf module that is not a container
        out = [(n, m) for n, m in named.items() if n and not list(m.children())]
        if not out:
            raise ValueError(f"record_activations: {type(model).__name__} has no sub-modules; name the layers")
        return out
    by_id = {id(m): n for n, m in named.items()}
    out = []
    for layer in layers:
        if isinstance(layer, str):
            if layer not in named:
                close = [n for n in named if n and (layer in n or n in layer)][:5]
                raise ValueError(
                    f"record_activations: {type(model).__name__} has no sub-module named {layer!r}"
                    f"{'; close: ' + ', '.join(close) if close else ''}. Names come from model.named_modules()"
                )
            out.append((layer, named[layer]))
        elif isinstance(layer, nn.Module):
            if id(layer) not in by_id:
                raise ValueError(f"record_activations: {type(layer).__name__} is not a sub-module of the model")
            out.append((by_id[id(layer)], layer))
        else:
            raise TypeError(f"record_activations: layers must be names or nn.Modules, got {type(layer).__name__}")
    return out


@contextlib.contextmanager
def record_activations(
    model: nn.Module, layers: Sequence[str | nn.Module] | None = None, *, detach: bool = True
) -> Iterator[dict[str, Tensor]]:
    """Context manager: forward hooks that store each layer's output, flattened to (n, -1).

    ``layers`` are module names (``model.named_modules()``) or the modules
    themselves; None records every leaf module. ``detach=False`` keeps the
    graph so a loss on the activations (e.g. the CKA-map loss) trains the
    model. Hooks are removed on exit, even after an error. A later forward
    pass overwrites the stored tensors.

    Examples:
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
        >>> with record_activations(net, ["1", "2"]) as acts:
        ...     _ = net(torch.randn(5, 4))
        >>> {k: tuple(v.shape) for k, v in acts.items()}
        {'1': (5, 8), '2': (5, 2)}
    """
    resolved = _resolve_layers(model, layers)
    store: dict[str, Tensor] = {}
    handles = []

    def make_hook(name: str):
        def hook(module: nn.Module, args: Any, output: Any) -> None:
            if isinstance(output, (tuple, list)):
                output = output[0]
            if not isinstance(output, Tensor):
                raise TypeError(f"record_activations: layer {name!r} returned {type(output).__name__}, not a tensor")
            out = output.detach() if detach else output
            store[name] = out.reshape(out.shape[0], -1)

        return hook

    try:
        for name, module in resolved:
            handles.append(module.register_forward_hook(make_hook(name)))
        yield store
    finally:
        for handle in handles:
            handle.remove()


def _as_list(acts: Sequence[Tensor] | dict[str, Tensor], label: str) -> list[Tensor]:
    items = list(acts.values()) if isinstance(acts, dict) else list(acts)
    if not items:
        raise ValueError(f"cka_map: {label} is empty; pass at least one (n, ...) activation tensor")
    out = []
    for i, a in enumerate(items):
        if not isinstance(a, Tensor) or a.dim() < 2:
            shape = tuple(a.shape) if isinstance(a, Tensor) else type(a).__name__
            raise ValueError(f"cka_map: {label}[{i}] must be a tensor (n, ...), got {shape}")
        out.append(a.reshape(a.shape[0], -1))
    return out


def cka_map(
    activations: Sequence[Tensor] | dict[str, Tensor],
    other: Sequence[Tensor] | dict[str, Tensor] | None = None,
    metric: SimilarityMetric | None = None,
) -> Tensor:
    """The (L1, L2) matrix of CKA values between every pair of layers.

    ``activations`` (and ``other``; default: the same list) hold one (n, ...)
    tensor per layer for the same n examples in the same order. ``metric``
    defaults to :class:`LinearCKA`; for the CKA metrics of this plugin every
    layer's centred Gram matrix is computed once and the whole map is one
    matrix product of normalised, flattened Grams (differentiable, so it can
    be used as a training loss). Other metrics are called pair by pair.

    Examples:
        >>> import torch
        >>> acts = [torch.randn(16, 5), torch.randn(16, 7)]
        >>> M = cka_map(acts)
        >>> M.shape, bool(torch.allclose(M.diagonal(), torch.ones(2)))
        (torch.Size([2, 2]), True)
    """
    metric = metric if metric is not None else LinearCKA()
    first = _as_list(activations, "activations")
    second = first if other is None else _as_list(other, "other")
    n = first[0].shape[0]
    for label, group in (("activations", first), ("other", second)):
        for i, a in enumerate(group):
            if a.shape[0] != n:
                raise ValueError(
                    f"cka_map: {label}[{i}] has n={a.shape[0]} examples but activations[0] has n={n}; "
                    "every layer must see the same examples in the same order"
                )
    name = type(metric).__name__
    if hasattr(metric, "centred_gram"):
        def normalised(group: list[Tensor], label: str) -> Tensor:
            rows = []
            for i, a in enumerate(group):
                a, _ = check_representations(a, a, metric.min_examples, f"{name} ({label}[{i}])")
                check_variance(a, centre(a), f"{label}[{i}]", name)
                G = metric.centred_gram(a).reshape(-1)
                norm = G.norm()
                if not float(norm.detach()) > 0:
                    raise ValueError(f"{name}: {label}[{i}] has a zero centred Gram matrix; CKA is undefined")
                rows.append(G / norm)
            return torch.stack(rows)

        A = normalised(first, "activations")
        B = A if other is None else normalised(second, "other")
        return A @ B.T
    return torch.stack([torch.stack([metric(a, b) for b in second]) for a in first])


def minibatch_cka_map(
    batches: Sequence[tuple[Sequence[Tensor], Sequence[Tensor]]] | Any,
    mode: str = "average",
) -> Tensor:
    """CKA map accumulated over minibatches with one :class:`MinibatchCKA` per layer pair.

    ``batches`` yields ``(acts_a, acts_b)`` pairs of per-layer activation lists
    for the same examples. Returns an (L1, L2) float64 tensor.
    """
    accs: list[list[MinibatchCKA]] | None = None
    for acts_a, acts_b in batches:
        first, second = _as_list(acts_a, "acts_a"), _as_list(acts_b, "acts_b")
        if accs is None:
            accs = [[MinibatchCKA(mode) for _ in second] for _ in first]
        for i, a in enumerate(first):
            for j, b in enumerate(second):
                accs[i][j].update(a, b)
    if accs is None:
        raise ValueError("minibatch_cka_map: no batches were given")
    return torch.stack([torch.stack([acc.compute() for acc in row]) for row in accs])


@torch.no_grad()
def compare_networks(
    model_a: nn.Module,
    model_b: nn.Module,
    inputs: Tensor,
    layers_a: Sequence[str | nn.Module] | None = None,
    layers_b: Sequence[str | nn.Module] | None = None,
    *,
    metric: SimilarityMetric | None = None,
    batch_size: int | None = None,
) -> Tensor:
    """Layer x layer CKA map between two networks' hidden representations of the same ``inputs``.

    Forward hooks record the outputs of ``layers_a`` in ``model_a`` and
    ``layers_b`` in ``model_b``. With ``batch_size=None`` the whole input is
    one batch and ``metric`` (default :class:`LinearCKA`) is used; with a
    ``batch_size`` the map is accumulated over minibatches with the unbiased
    HSIC (:class:`MinibatchCKA`, ``"average"`` mode), for inputs too large for
    n x n Gram matrices. Returns an (L_a, L_b) tensor; plot it with
    :func:`plot_cka_map`.
    """
    if not isinstance(inputs, Tensor) or inputs.dim() < 2:
        raise ValueError(f"compare_networks: inputs must be a tensor (n, ...), got {getattr(inputs, 'shape', inputs)}")
    was_training = (model_a.training, model_b.training)
    model_a.eval()
    model_b.eval()
    try:
        with record_activations(model_a, layers_a) as acts_a, record_activations(model_b, layers_b) as acts_b:
            if batch_size is None:
                model_a(inputs)
                model_b(inputs)
                return cka_map(dict(acts_a), dict(acts_b), metric)
            if batch_size < 4:
                raise ValueError(f"compare_networks: batch_size must be >= 4 for the unbiased HSIC, got {batch_size}")

            def stream():
                for start in range(0, inputs.shape[0], batch_size):
                    chunk = inputs[start:start + batch_size]
                    if chunk.shape[0] < 4:  # a last partial batch below 4 examples is dropped
                        break
                    model_a(chunk)
                    model_b(chunk)
                    yield list(acts_a.values()), list(acts_b.values())

            return minibatch_cka_map(stream())
    finally:
        model_a.train(was_training[0])
        model_b.train(was_training[1])


def plot_cka_map(
    cka: Tensor,
    *,
    labels_a: Sequence[str] | None = None,
    labels_b: Sequence[str] | None = None,
    title: str = "CKA",
    ax: Any = None,
    vmin: float = 0.0,
    vmax: float = 1.0,
):
    """Heatmap of a CKA map (rows: network A's layers, columns: B's); returns the Figure."""
    import matplotlib.pyplot as plt  # noqa: PLC0415

    values = cka.detach().cpu().double().numpy()
    if ax is None:
        fig, ax = plt.subplots(figsize=(0.5 * values.shape[1] + 2.5, 0.5 * values.shape[0] + 2.0))
    else:
        fig = ax.figure
    image = ax.imshow(values, cmap="magma", vmin=vmin, vmax=vmax, origin="lower")
    ax.set_xticks(range(values.shape[1]), labels_b if labels_b is not None else range(values.shape[1]), rotation=45)
    ax.set_yticks(range(values.shape[0]), labels_a if labels_a is not None else range(values.shape[0]))
    ax.set_xlabel("network B layer")
    ax.set_ylabel("network A layer")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return fig


__all__ = ["cka_map", "compare_networks", "minibatch_cka_map", "plot_cka_map", "record_activations"]
