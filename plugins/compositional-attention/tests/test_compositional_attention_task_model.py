"""ContextualRetrieval task and RetrievalTransformer model."""

from __future__ import annotations

import pytest
import torch

import etude
from etude.config import ConfigError
from etude.testing.conformance import ModelConformance, TaskConformance
from etude_compositional_attention import ContextualRetrieval, RetrievalTransformer
from etude_compositional_attention.experiment import retrieval_agreement, train_on_task
from etude_compositional_attention.tasks import COEFFICIENTS, combination_split, generate


class TestContextualRetrieval(TaskConformance):
    component = ("task", "contextual-retrieval")

    def make_task(self, seed):
        return self.create(seed=seed, train_size=32, test_size=16, ood_size=16)


class TestRetrievalTransformer(ModelConformance):
    component = ("model", "retrieval-transformer")

    def make_model(self):
        return self.create(in_dim=8, width=16, layers=2, residual=True)

    def make_inputs(self, dtype=torch.float32, device="cpu"):
        return (torch.randn(3, 6, 8, generator=torch.Generator().manual_seed(0)).to(device=device, dtype=dtype),)


def test_targets_match_brute_force():
    g = torch.Generator().manual_seed(0)
    d = generate(4, searches=2, retrievals=3, length=6, generator=g)
    x = d["inputs"]
    for b in range(4):
        for i in range(6):
            total = 0.0
            for s in range(2):
                ctx = int(x[b, i, 5 + 3 * s: 5 + 3 * s + 3].argmax())
                best, best_j = float("inf"), None
                for j in range(6):
                    if j != i and abs(float(x[b, j, s] - x[b, i, s])) < best:
                        best, best_j = abs(float(x[b, j, s] - x[b, i, s])), j
                assert best_j == int(d["neighbours"][b, i, s])
                total += COEFFICIENTS[s] * float(x[b, best_j, 2 + ctx])
            assert abs(total - float(d["targets"][b, i])) < 1e-5


def test_combination_split_matches_official_rule():
    train, ood = combination_split(2, 2)  # 4 combinations, 3 train / 1 held out
    assert train.tolist() == [[0, 0], [1, 0], [0, 1]] and ood.tolist() == [[1, 1]]
    train, ood = combination_split(2, 4)  # 16 combinations, 12 / 4
    assert len(train) == 12 and len(ood) == 4
    assert not {tuple(r) for r in train.tolist()} & {tuple(r) for r in ood.tolist()}


def test_ood_split_uses_only_held_out_combinations():
    task = ContextualRetrieval(retrievals=4, train_size=64, test_size=64, ood_size=64)
    held = {tuple(r) for r in task.ood_combinations.tolist()}
    for name in ("train", "test"):
        seen = {tuple(r) for r in task.split(name).info["contexts"].reshape(-1, 2).tolist()}
        assert not seen & held
    ood = {tuple(r) for r in task.split("ood").info["contexts"].reshape(-1, 2).tolist()}
    assert ood <= held and len(ood) == len(held)


def test_task_config_errors():
    with pytest.raises(ConfigError, match="length"):
        etude.create("task", "contextual-retrieval", length=1)
    with pytest.raises(ConfigError, match="retrievals"):
        etude.create("task", "contextual-retrieval", searches=1, retrievals=1)
    with pytest.raises(ValueError, match="split"):
        ContextualRetrieval().sample(2, torch.Generator(), split="valid")


def test_model_takes_any_attention_by_name():
    for name, opts in (("multihead", {"num_heads": 4}), ("compositional", {"searches": 2, "retrievals": 4, "value_dim": 8})):
        m = RetrievalTransformer(width=16, attention=name, attention_options=opts, readout="linear")
        out, w = m(torch.randn(2, 5, 8), need_weights=True)
        assert out.shape == (2, 5, 1) and len(w) == 1
    # the mask hides the diagonal
    m = RetrievalTransformer(width=16, attention="compositional")
    _, w = m(torch.randn(2, 5, 8), need_weights=True)
    assert float(w[0]["search"].detach().diagonal(dim1=-2, dim2=-1).abs().max()) == 0.0


def test_model_errors():
    with pytest.raises(ConfigError, match="num_heads"):
        RetrievalTransformer(attention="multihead", attention_options={"num_heads": 5})
    with pytest.raises(ValueError, match="embed_dim"):
        RetrievalTransformer(attention_options={"embed_dim": 8})
    with pytest.raises(ValueError, match="in_dim=8"):
        RetrievalTransformer()(torch.randn(2, 5, 7))
    with pytest.raises(ValueError, match="N=1"):
        RetrievalTransformer()(torch.randn(2, 1, 8))


def test_retrieval_agreement_perfect_and_relabelled():
    ctx = torch.randint(2, (4, 10, 2), generator=torch.Generator().manual_seed(0))
    weights = torch.nn.functional.one_hot(1 - ctx, 2).float().permute(0, 2, 1, 3)  # (B, S, N, R), labels swapped
    assert retrieval_agreement(weights, ctx) == [1.0, 1.0]


def test_training_reduces_error():
    """A few hundred steps lower the L1 error well below the untrained model's (fixed seed)."""
    kwargs = dict(task={}, model={"width": 16, "attention_options": {"searches": 2, "retrievals": 2}}, seed=0, eval_size=500)
    before = train_on_task(steps=0, **kwargs)["l1_any"]
    after = train_on_task(steps=150, lr=3e-3, **kwargs)["l1_any"]
    assert after < 0.95 * before
