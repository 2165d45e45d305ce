"""The empirical tangent kernel of any torch model: per-example Jacobians by ``torch.func``.

Tangent features of a network ``f_w : R^d -> R^C`` with parameters
``w in R^P`` are ``Phi(x) = df_w(x)/dw in R^{C x P}``; the tangent-kernel
Gram over examples ``x_1..x_n`` and ``x'_1..x'_m`` is

    K[(i, c), (j, c')] = <df_c(x_i)/dw, df_{c'}(x'_j)/dw>.

Ordering (stable API): row ``i * C + c`` is example ``i``, output ``c``
(example-major, outputs fastest), i.e. ``Phi(x).reshape(n * C, P)``; the
label vector in the same order is ``Y.reshape(n * C)`` for ``Y`` (n, C).

Modes of :meth:`TangentKernel.gram`: ``"full"`` (n C, m C), ``"trace"``
(n, m) = ``sum_c K[(i, c), (j, c)]``, ``"diagonal"`` (n, m, C) =
``K[(i, c), (j, c)]``. Per-layer Grams (parameters grouped by module) sum to
the full one. ``implementation="jacobian"`` materialises per-example
Jacobians with ``vmap(jacrev)`` in chunks of ``chunk_size`` examples;
``implementation="ntk-vp"`` never forms the Jacobian of more than
``chunk_size`` output rows: each Gram column is a vector-Jacobian product
followed by a Jacobian-vector product (memory O(chunk_size * P)).

References:
    A. Baratin, T. George, C. Laurent, R. D. Hjelm, G. Lajoie, P. Vincent,
    S. Lacoste-Julien, "Implicit Regularization via Neural Feature
    Alignment", AISTATS 2021, arXiv:2008.00938.
    A. Jacot, F. Gabriel, C. Hongler, "Neural Tangent Kernel", NeurIPS 2018,
    arXiv:1806.07572.

Examples:
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    >>> tk = TangentKernel(net)
    >>> x = torch.randn(5, 3)
    >>> tuple(tk.gram(x).shape), tuple(tk.gram(x, mode="trace").shape), tuple(tk.gram(x, mode="diagonal").shape)
    ((10, 10), (5, 5), (5, 5, 2))
    >>> bool(torch.isclose(tk.trace(x), torch.diagonal(tk.gram(x)).sum().double()))
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, jacrev, jvp, vjp, vmap

MODES = ("full", "trace", "diagonal")
IMPLEMENTATIONS = ("jacobian", "ntk-vp")


def _check_no_train_batchnorm(model: nn.Module) -> None:
    for name, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.training:
            raise ValueError(
                f"TangentKernel: module {name or type(module).__name__!r} is a BatchNorm layer in train mode, so "
                "the tangent features of an example would depend on the rest of its batch; call model.eval() "
                "(running statistics) or use a network without BatchNorm"
            )


def layer_of(name: str) -> str:
    """The layer (module path) a parameter name belongs to: ``"blocks.0.linear.weight" -> "blocks.0.linear"``."""
    return name.rsplit(".", 1)[0] if "." in name else name


class TangentKernel:
    """Empirical tangent kernel (NTK) of ``model`` over a selection of its parameters.

    Args:
        model: any ``nn.Module`` mapping a batch (n, ...) to outputs (n, C)
            (or (n,), treated as C = 1). BatchNorm in train mode is an error.
        params: which parameters are differentiated: None (every parameter
            with ``requires_grad``), a sequence of parameter names, or of
            layer names (module paths, all of that module's parameters).
        chunk_size: examples per ``vmap`` chunk (Jacobian path) or Gram
            columns per chunk (``ntk-vp``); bounds the peak memory.
        implementation: ``"jacobian"`` or ``"ntk-vp"`` (see the module docstring).

    Attributes:
        names: the selected parameter names, in the order of the P axis.
        layers: layer name -> the selected parameter names of that layer.
        num_params: P.

    Grams are in the model's dtype; :meth:`trace` reduces in float64.
    The model's current parameter values are read at every call (the
    kernel follows training), detached from any graph.
    """

    def __init__(self, model: nn.Module, params: Sequence[str] | None = None, *, chunk_size: int = 32,
                 implementation: str = "jacobian") -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"TangentKernel: model must be a torch.nn.Module, got {type(model).__name__}")
        if not (isinstance(chunk_size, int) and chunk_size >= 1):
            raise ValueError(f"TangentKernel: chunk_size must be a positive int, got {chunk_size!r}")
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(f"TangentKernel: implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
        self.model = model
        self.chunk_size = chunk_size
        self.implementation = implementation
        named = dict(model.named_parameters())
        if params is None:
            names = [n for n, p in named.items() if p.requires_grad]
        else:
            if isinstance(params, str):
                params = [params]
            names = []
            for key in params:
                if key in named:
                    names.append(key)
                    continue
                matched = [n for n in named if layer_of(n) == key]
                if not matched:
                    raise ValueError(
                        f"TangentKernel: params entry {key!r} is neither a parameter nor a layer of the model; "
                        f"parameters are {sorted(named)}"
                    )
                names.extend(matched)
            names = list(dict.fromkeys(names))
        if not names:
            raise ValueError("TangentKernel: no parameter selected (does the model have trainable parameters?)")
        self.names: list[str] = names
        self.layers: dict[str, list[str]] = {}
        for n in names:
            self.layers.setdefault(layer_of(n), []).append(n)
        self.num_params = sum(named[n].numel() for n in names)
        canonical = {id(p): n for n, p in named.items()}
        self._aliases: dict[str, str] = {}
        seen: set[tuple[int, str]] = set()
        for alias, p in model.named_parameters(remove_duplicate=False):
            path, _, attr = alias.rpartition(".")
            key = (id(model.get_submodule(path)), attr)
            if key not in seen:
                seen.add(key)
                self._aliases[alias] = canonical[id(p)]

    # -- functional pieces ----------------------------------------------------------------------
    def _params(self) -> dict[str, Tensor]:
        named = dict(self.model.named_parameters())
        return {n: named[n].detach() for n in self.names}

    def _outputs(self, params: Mapping[str, Tensor], x: Tensor) -> Tensor:
        # One entry per (module object, attribute): a module registered under two paths (model/cnn's
        # ``blocks``) is swapped once, while a Parameter shared by two modules (tied weights) is swapped
        # in both. functional_call's own tie handling swaps a doubly registered module twice and then
        # restores a detached tensor into it, so it is off.
        full = {alias: params[name] for alias, name in self._aliases.items() if name in params}
        out = functional_call(self.model, full, (x,), tie_weights=False)
        if out.dim() == 1:
            out = out.unsqueeze(1)
        if out.dim() != 2:
            raise ValueError(f"TangentKernel: the model must return (n, C) outputs, got shape {tuple(out.shape)}")
        return out

    def _check_inputs(self, x: Tensor, label: str = "x") -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"TangentKernel: {label} must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() < 1 or x.shape[0] < 1:
            raise ValueError(f"TangentKernel: {label} must be a batch (n, ...) with n >= 1, got shape {tuple(x.shape)}")
        if x.is_floating_point() and not bool(torch.isfinite(x).all()):
            raise ValueError(f"TangentKernel: {label} contains NaN or inf")
        _check_no_train_batchnorm(self.model)
        return x

    def jacobian(self, x: Tensor, *, by_layer: bool = False) -> Tensor | dict[str, Tensor]:
        """Tangent features ``Phi(x)`` (n, C, P), P in the order of :attr:`names`.

        ``by_layer=True`` returns layer name -> (n, C, P_layer) instead.
        Computed by ``vmap(jacrev)`` over examples, ``chunk_size`` at a time.
        """
        x = self._check_inputs(x)
        params = self._params()

        def single(p, xi):
            return self._outputs(p, xi.unsqueeze(0)).squeeze(0)

        per_example = vmap(jacrev(single), in_dims=(None, 0), chunk_size=self.chunk_size)
        jac = per_example(params, x)  # name -> (n, C, *shape)
        n = x.shape[0]
        flat = {k: v.reshape(n, v.shape[1], -1) for k, v in jac.items()}
        if by_layer:
            return {layer: torch.cat([flat[k] for k in ks], dim=2) for layer, ks in self.layers.items()}
        return torch.cat([flat[k] for k in self.names], dim=2)

    def _chunks(self, x: Tensor) -> Iterable[Tensor]:
        for start in range(0, x.shape[0], self.chunk_size):
            yield x[start:start + self.chunk_size]

    # -- kernels --------------------------------------------------------------------------------
    def gram(self, x1: Tensor, x2: Tensor | None = None, mode: str = "full") -> Tensor:
        """The tangent-kernel Gram between ``x1`` (n) and ``x2`` (m; default ``x1``).

        ``mode="full"``: (n C, m C) in the example-major order of the module
        docstring; ``"trace"``: (n, m); ``"diagonal"``: (n, m, C).
        """
        if mode not in MODES:
            raise ValueError(f"TangentKernel.gram: mode must be one of {MODES}, got {mode!r}")
        if self.implementation == "ntk-vp":
            K, C = self._gram_vp(x1, x1 if x2 is None else x2)
            return full_to(K, mode, num_outputs=C)
        J2 = self.jacobian(x1 if x2 is None else self._check_inputs(x2, "x2"))
        J1 = J2 if x2 is None else self.jacobian(x1)
        return _contract(J1, J2, mode)

    def layer_grams(self, x1: Tensor, x2: Tensor | None = None, mode: str = "full") -> dict[str, Tensor]:
        """Layer name -> the Gram of that layer's parameters alone; their sum is :meth:`gram`."""
        if mode not in MODES:
            raise ValueError(f"TangentKernel.layer_grams: mode must be one of {MODES}, got {mode!r}")
        J2 = self.jacobian(x1 if x2 is None else x2, by_layer=True)
        J1 = J2 if x2 is None else self.jacobian(x1, by_layer=True)
        return {layer: _contract(J1[layer], J2[layer], mode) for layer in J2}

    def trace(self, x: Tensor) -> Tensor:
        """``Tr K = sum_i ||Phi(x_i)||_F^2`` (float64 0-d), streamed over chunks, never forming K.

        Each ``||Phi(x_i)||_F`` is reduced in the model's dtype by ``vector_norm``
        (relative error ~ eps of that dtype), the squares summed in float64.
        """
        x = self._check_inputs(x)
        total = torch.zeros((), dtype=torch.float64, device=x.device)
        for chunk in self._chunks(x):
            J = self.jacobian(chunk)
            # per-example norms in the model's dtype (scaled, accurate reduction), squares summed in float64
            norms = torch.linalg.vector_norm(J.reshape(J.shape[0], -1), dim=1)
            total = total + norms.double().pow(2).sum()
        return total

    def _gram_vp(self, x1: Tensor, x2: Tensor) -> tuple[Tensor, int]:
        x1, x2 = self._check_inputs(x1, "x1"), self._check_inputs(x2, "x2")
        params = self._params()
        out2, vjp_fn = vjp(lambda p: self._outputs(p, x2), params)
        m, C = out2.shape

        def column(cotangent: Tensor) -> Tensor:
            (tangent,) = vjp_fn(cotangent)
            _, out = jvp(lambda p: self._outputs(p, x1), (params,), (tangent,))
            return out  # (n, C): K[(., .), (j, c')] for the basis cotangent e_(j, c')

        basis = torch.eye(m * C, dtype=out2.dtype, device=out2.device).reshape(m * C, m, C)
        cols = vmap(column, chunk_size=self.chunk_size)(basis)  # (m C, n, C)
        return cols.reshape(m * C, -1).T.contiguous(), C  # (n C, m C)

    def __repr__(self) -> str:
        return (f"TangentKernel({type(self.model).__name__}, P={self.num_params}, layers={len(self.layers)}, "
                f"chunk_size={self.chunk_size}, implementation={self.implementation!r})")


def _contract(J1: Tensor, J2: Tensor, mode: str) -> Tensor:
    n, C, _ = J1.shape
    m = J2.shape[0]
    if mode == "full":
        return J1.reshape(n * C, -1) @ J2.reshape(m * C, -1).T
    if mode == "trace":
        return J1.reshape(n, -1) @ J2.reshape(m, -1).T
    return torch.einsum("ncp,mcp->nmc", J1, J2)


def full_to(K: Tensor, mode: str, *, num_outputs: int) -> Tensor:
    """Reduce a full Gram (n C, m C) to ``mode`` ("trace": (n, m); "diagonal": (n, m, C))."""
    C = int(num_outputs)
    n, m = K.shape[0] // C, K.shape[1] // C
    blocks = K.reshape(n, C, m, C)
    diag = torch.diagonal(blocks, dim1=1, dim2=3)  # (n, m, C)
    if mode == "diagonal":
        return diag
    if mode == "trace":
        return diag.sum(-1)
    if mode == "full":
        return K
    raise ValueError(f"full_to: mode must be one of {MODES}, got {mode!r}")


__all__ = ["IMPLEMENTATIONS", "MODES", "TangentKernel", "full_to", "layer_of"]
