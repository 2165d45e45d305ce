"""Sparse mechanism shift: a distribution change made by redrawing a few mechanisms.

The SMS hypothesis (Schölkopf et al. 2021, Sec. 4) says that shifts of the
joint distribution come from changes in few mechanisms ``p(x_i | pa_i)``.
:func:`sparse_mechanism_shift` makes such a shift: it picks ``k`` nodes at
random and redraws each one's mechanism from its family (same parents), so
in the causal factorisation exactly ``k`` factors change.

References:
    B. Schölkopf, F. Locatello, S. Bauer, N. R. Ke, N. Kalchbrenner, A. Goyal,
    Y. Bengio. "Toward Causal Representation Learning". Proceedings of the
    IEEE, 2021. arXiv:2102.11107.

Example:
    >>> import torch
    >>> from etude_scm import create_linear_gaussian_scm
    >>> scm = create_linear_gaussian_scm("chain4", generator=torch.Generator().manual_seed(0))
    >>> shifted, nodes = sparse_mechanism_shift(scm, 1, torch.Generator().manual_seed(1))
    >>> len(nodes), shifted.mechanisms[nodes[0]] is not scm.mechanisms[nodes[0]]
    (1, True)
"""

from __future__ import annotations

import torch

__all__ = ["sparse_mechanism_shift"]


def sparse_mechanism_shift(scm, k: int, generator: torch.Generator | None = None, nodes=None):
    """Redraw ``k`` random mechanisms (or the given ``nodes``) in their family: returns ``(new_scm, nodes)``.

    Nodes are chosen uniformly without replacement among the non-intervened
    ones (``torch.randperm`` from ``generator``), returned in index order;
    each new mechanism is ``mechanism.redraw(generator)``. Every other
    mechanism is shared with ``scm``.
    """
    candidates = [v for v in scm.nodes if v not in scm.interventions]
    if nodes is None:
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= len(candidates):
            raise ValueError(f"'k' must be an integer in [0, {len(candidates)}] (the non-intervened nodes), got {k!r}")
        order = torch.randperm(len(candidates), generator=generator)[:k].tolist()
        nodes = [candidates[i] for i in sorted(order)]
    else:
        nodes = list(nodes)
        for v in nodes:
            if v not in candidates:
                raise ValueError(f"cannot shift {v!r}: not a non-intervened node of {list(candidates)}")
    new = scm
    for v in nodes:
        new = new.replace_mechanism(v, scm.mechanisms[v].redraw(generator))
    return new, tuple(nodes)
