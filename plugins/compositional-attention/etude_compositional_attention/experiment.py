"""Training and evaluation on the contextual retrieval task (shared by claims, tutorial and tests)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from etude.runtime import distributed, train
from etude.runtime.seeding import make_generator

from .models import RetrievalTransformer
from .tasks import ContextualRetrieval

__all__ = ["evaluate", "retrieval_agreement", "train_on_task"]

@torch.no_grad()
def evaluate(model: RetrievalTransformer, task: ContextualRetrieval, split: str, n: int, seed: int, device: str = "cpu") -> dict[str, Any]:
    """Mean L1 error on ``n`` fresh sequences of ``split`` (evaluation RNG ``seed``), plus retrieval weights."""
    model.eval()
    data = task.sample(n, make_generator(seed), split=split)
    out, weights = model(data["inputs"].to(device), need_weights=True)
    l1 = float((out.squeeze(-1) - data["targets"].to(device)).abs().mean())
    return {"l1": l1, "weights": weights, "data": data}


def retrieval_agreement(retrieval: Tensor, contexts: Tensor) -> list[float]:
    """Per model search: how often its argmax retrieval matches a ground-truth context index.

    ``retrieval`` (B, S, N, R) choice weights, ``contexts`` (B, N, v_s)
    ground-truth retrieval indices. For each model search s the agreement
    is the best, over ground-truth searches s' and over one-to-one relabelings
    of the R retrievals onto the v_p retrieval features, of the fraction of
    tokens whose argmax retrieval maps to r_s'(i). Chance is about 1 / v_p.
    """
    choice = retrieval.argmax(-1).cpu()  # (B, S, N)
    contexts = contexts.cpu()
    R, vp = retrieval.shape[-1], int(contexts.max()) + 1
    vp = max(vp, R)
    out = []
    for s in range(choice.shape[1]):
        best = 0.0
        for gt in range(contexts.shape[-1]):
            table = torch.zeros(R, vp)
            table.index_put_((choice[:, s].reshape(-1), contexts[..., gt].reshape(-1)), torch.ones(choice[:, s].numel()), accumulate=True)
            for perm in itertools.permutations(range(vp), R):
                best = max(best, float(table[torch.arange(R), list(perm)].sum() / choice[:, s].numel()))
        out.append(best)
    return out


def train_on_task(
    *,
    task: Mapping[str, Any],
    model: Mapping[str, Any],
    seed: int,
    steps: int,
    batch: int = 128,
    lr: float = 1e-3,
    train_split: str = "any",
    eval_splits: tuple[str, ...] = ("any",),
    eval_size: int = 5000,
    device: str = "cpu",
) -> dict[str, Any]:
    """Train a :class:`RetrievalTransformer` on fresh task samples with Adam and an L1 loss.

    Data-parallel when run under torchrun or as a multi-GPU SLURM unit
    (:mod:`etude.runtime.distributed`): ``batch`` is the global batch. Model
    init uses ``seed``; the training data stream its own generator
    (``seed``); evaluation a separate one (``10_000 + seed``). Returns the L1
    error per evaluation split, parameter counts, the retrieval agreement of
    compositional attention (on the first evaluation split), seconds and the
    trained ``model``. (The claims share runs through the runner's artefact
    cache, :func:`etude_compositional_attention.claims.retrieval_run`.)
    """
    start = time.perf_counter()
    data_task = ContextualRetrieval(**{**task, "seed": seed})
    torch.manual_seed(seed)
    net = RetrievalTransformer(**{"in_dim": data_task.input_dim, **model}).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = make_generator(seed)
    # under torchrun / a multi-GPU SLURM unit: DDP, every rank on its share of the same global batch
    # (the same updates as one process on the whole batch); in one process both calls are the identity
    trained = distributed.wrap(net, device)

    def step(_: int) -> Tensor:
        d = data_task.sample(batch, gen, split=train_split)
        pred = trained(distributed.shard(d["inputs"]).to(device)).squeeze(-1)
        loss = (pred - distributed.shard(d["targets"]).to(device)).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    history = train(step, steps, log_every=max(1, steps // 20))
    result: dict[str, Any] = {
        "params": net.num_parameters(),
        "attention_params": net.attention_parameters(),
        "train_loss_last": history["loss"][-1] if history.get("loss") else float("nan"),
    }
    for i, split in enumerate(eval_splits):
        ev = evaluate(net, data_task, split, eval_size, 10_000 + seed, device)
        result[f"l1_{split}"] = ev["l1"]
        if i == 0:
            w = ev["weights"][0]
            if isinstance(w, dict) and "retrieval" in w:
                result["agreement"] = retrieval_agreement(w["retrieval"], ev["data"]["contexts"])
    result["seconds"] = time.perf_counter() - start
    result["model"] = net
    return result
