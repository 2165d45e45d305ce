"""RelevancyMemory: screening with hand-made attention weights, batch independence, gradients, errors."""

from __future__ import annotations

import pytest
import torch

from etude_relevancy_screening import FullMemory, RelevancyMemory

D = torch.float64


def _run(mem: RelevancyMemory, buffer_weights: list[list[float]], states=None):
    """Feed steps whose attention puts ``buffer_weights[t][j]`` on buffer slot j (oldest first, only filled slots)."""
    B, d = mem.batch, mem.dim
    states = states if states is not None else [torch.full((B, d), float(t), dtype=D) for t in range(len(buffer_weights))]
    for t, w in enumerate(buffer_weights):
        _, mask = mem.slots()
        full = torch.zeros(B, mem.num_slots, dtype=D)
        filled = [j for j in range(mem.buffer_size) if bool(mask[0, j])]
        for j, value in zip(filled, w, strict=False):
            full[:, j] = value
        mem.update(states[t], full)
    return mem


def test_known_scores_give_known_retained_set():
    """ν = 2, ρ = 2: scores accumulate over two buffered steps; the two best evicted states are kept."""
    mem = RelevancyMemory(batch=1, dim=3, buffer_size=2, relevant_size=2, dtype=D)
    # each step's weights over the (oldest, newest) buffered states
    steps = [[], [0.9], [0.5, 0.5], [0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.0, 0.0]]
    _run(mem, steps)
    # score of h_i = weight at step i+1 (as newest) + weight at step i+2 (as oldest)
    # h0: 0.9 + 0.5 = 1.4 ; h1: 0.5 + 0.1 = 0.6 ; h2: 0.9 + 0.8 = 1.7 ; h3: 0.2 + 0.3 = 0.5 ; h4: 0.7 + 0.0 = 0.7
    # evictions: h0 (empty slot 0), h1 (empty slot 1), h2 replaces h1 (1.7 > 0.6), h3 rejected (0.5 < 1.4),
    # h4 rejected (0.7 < 1.4)
    info = mem.inspect()
    assert info["relevant_steps"].tolist() == [[0, 2]]
    torch.testing.assert_close(info["relevant_scores"], torch.tensor([[1.4, 1.7]], dtype=D))
    assert info["buffer_steps"].tolist() == [5, 6]
    keys, mask = mem.slots()
    assert mask.tolist() == [[True, True, True, True]]
    torch.testing.assert_close(keys[0, 2:, 0], torch.tensor([0.0, 2.0], dtype=D))  # the stored states themselves


def test_replacement_only_when_strictly_larger_and_ties_to_lowest_slot():
    mem = RelevancyMemory(batch=1, dim=1, buffer_size=1, relevant_size=2, dtype=D)
    # ν = 1: a state's score is the weight it gets at the next step
    _run(mem, [[], [0.5], [0.5], [0.5], [0.7], [0.0]])
    # h0 -> slot 0 (0.5), h1 -> slot 1 (0.5), h2 (0.5) equal to the lowest: not taken; h3 (0.7) replaces the
    # lowest-scored slot, a tie between slots 0 and 1 broken to the lowest index 0
    assert mem.inspect()["relevant_steps"].tolist() == [[3, 1]]


def test_scores_frozen_after_leaving_the_buffer():
    mem = RelevancyMemory(batch=1, dim=1, buffer_size=1, relevant_size=1, dtype=D)
    _run(mem, [[], [0.25]])
    mem.update(torch.zeros(1, 1, dtype=D), torch.tensor([[0.0, 0.0]], dtype=D))  # h0 leaves with 0.25
    before = mem.inspect()["relevant_scores"].clone()
    for _ in range(3):  # attention on the relevant slot never adds to its score
        mem.update(torch.zeros(1, 1, dtype=D), torch.tensor([[0.0, 1.0]], dtype=D))
    torch.testing.assert_close(mem.inspect()["relevant_scores"], before)
    assert mem.inspect()["relevant_steps"].tolist() == [[0]]


def test_examples_are_independent():
    """Example 0's memory is the same whatever example 1 sees and how it is weighted."""
    g = torch.Generator().manual_seed(0)
    T, d = 12, 4
    states = torch.randn(T, 2, d, generator=g, dtype=D)
    weights = torch.rand(T, 2, 3 + 2, generator=g, dtype=D)
    other_states, other_weights = states.clone(), weights.clone()
    other_states[:, 1] = torch.randn(T, d, generator=g, dtype=D)
    other_weights[:, 1] = torch.rand(T, 5, generator=g, dtype=D)

    def final(sts, ws):
        mem = RelevancyMemory(batch=2, dim=d, buffer_size=3, relevant_size=2, dtype=D)
        for t in range(T):
            mem.update(sts[t], ws[t] * mem.slots()[1])
        return mem

    a, b = final(states, weights), final(other_states, other_weights)
    assert torch.equal(a.slots()[0][0], b.slots()[0][0])
    assert torch.equal(a.inspect()["relevant_steps"][0], b.inspect()["relevant_steps"][0])
    assert not torch.equal(a.inspect()["relevant_scores"][1], b.inspect()["relevant_scores"][1])


def test_examples_keep_different_relevant_sets():
    mem = RelevancyMemory(batch=2, dim=1, buffer_size=1, relevant_size=1, dtype=D)
    for t, w in enumerate([[0.0, 0.0], [0.9, 0.1], [0.1, 0.9], [0.0, 0.0]]):
        weights = torch.zeros(2, 2, dtype=D)
        weights[:, 0] = torch.tensor(w, dtype=D)
        mem.update(torch.full((2, 1), float(t), dtype=D), weights)
    # example 0: h0 (0.9) kept, h1 (0.1) rejected; example 1: h0 (0.1) then h1 (0.9) replaces it
    assert mem.inspect()["relevant_steps"].tolist() == [[0], [1]]


def test_gradient_reaches_retained_and_not_evicted_states():
    """Through the attention path of a later step, retained states get gradient, an evicted one exactly none."""
    from etude_relevancy_screening import AdditiveAttention

    torch.manual_seed(0)
    attn = AdditiveAttention(embed_dim=4).to(D)
    leaves = [torch.randn(1, 4, dtype=D, requires_grad=True) for _ in range(6)]
    mem = RelevancyMemory(batch=1, dim=4, buffer_size=2, relevant_size=1, dtype=D)
    w = [[], [0.9], [0.5, 0.5], [0.1, 0.9], [0.4, 0.6], [0.5, 0.5]]
    _run(mem, w, states=leaves)
    # h0 kept (1.4); h1 (0.6), h2 (1.3), h3 (1.1) rejected; buffer = h4, h5
    assert mem.inspect()["relevant_steps"].tolist() == [[0]]
    keys, mask = mem.slots()
    out, _ = attn(torch.randn(1, 1, 4, dtype=D), keys, mask=mask.unsqueeze(1))
    grads = torch.autograd.grad(out.sum(), leaves, allow_unused=True)
    for i in (0, 4, 5):
        assert grads[i] is not None and grads[i].abs().sum() > 0, i
    for i in (1, 2, 3):
        assert grads[i] is None or torch.equal(grads[i], torch.zeros_like(grads[i])), i


def test_empty_slots_get_exactly_zero_weight():
    from etude_relevancy_screening import AdditiveAttention

    mem = RelevancyMemory(batch=2, dim=4, buffer_size=3, relevant_size=4)
    mem.update(torch.randn(2, 4), torch.zeros(2, 7))
    keys, mask = mem.slots()
    _, w = AdditiveAttention(embed_dim=4)(torch.randn(2, 1, 4), keys, mask=mask.unsqueeze(1), need_weights=True)
    assert torch.equal(w[:, 0][~mask], torch.zeros(int((~mask).sum())))
    torch.testing.assert_close(w.sum(-1), torch.ones(2, 1))


def test_zero_relevant_size_is_a_sliding_window():
    mem = RelevancyMemory(batch=1, dim=1, buffer_size=2, relevant_size=0)
    for t in range(5):
        mem.update(torch.full((1, 1), float(t)), torch.zeros(1, 2))
    keys, mask = mem.slots()
    assert keys.shape == (1, 2, 1) and keys[0, :, 0].tolist() == [3.0, 4.0] and mask.all()


def test_full_memory_grows():
    mem = FullMemory(batch=2, dim=3)
    assert mem.slots()[0].shape == (2, 0, 3)
    for _ in range(4):
        mem.update(torch.randn(2, 3))
    keys, mask = mem.slots()
    assert keys.shape == (2, 4, 3) and mask.all()


def test_bad_input_errors():
    with pytest.raises(ValueError, match="buffer_size"):
        RelevancyMemory(batch=1, dim=2, buffer_size=0)
    with pytest.raises(ValueError, match="relevant_size"):
        RelevancyMemory(batch=1, dim=2, relevant_size=-1)
    mem = RelevancyMemory(batch=2, dim=3, buffer_size=2, relevant_size=1)
    with pytest.raises(ValueError, match=r"h must be \(batch, dim\)"):
        mem.update(torch.randn(3, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="weights must be"):
        mem.update(torch.randn(2, 3), torch.zeros(2, 5))
