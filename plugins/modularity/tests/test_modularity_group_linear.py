"""GroupLinear / GroupLSTMCell / GroupGRUCell equal G separate torch layers with copied weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from etude_modularity.group_linear import GroupGRUCell, GroupLinear, GroupLSTMCell

G, B = 5, 7


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_group_linear_equals_separate_linears_float64():
    torch.manual_seed(0)
    layers = [nn.Linear(6, 4).double() for _ in range(G)]
    group = GroupLinear.from_modules(layers)
    x = torch.randn(B, G, 6, dtype=torch.float64, generator=_gen())
    expected = torch.stack([layers[g](x[:, g]) for g in range(G)], dim=1)
    torch.testing.assert_close(group(x), expected, atol=1e-12, rtol=0)
    assert group.weight.shape == (G, 6, 4) and group.bias.shape == (G, 4)


def test_forward_shared_equals_expanded_input():
    layer = GroupLinear(G, 6, 4, dtype=torch.float64)
    x = torch.randn(B, 6, dtype=torch.float64, generator=_gen(9))
    torch.testing.assert_close(layer.forward_shared(x), layer(x.unsqueeze(1).expand(-1, G, -1)), atol=1e-12, rtol=0)
    assert torch.autograd.gradcheck(layer.forward_shared, (x.requires_grad_(),))


def test_group_linear_without_bias_and_gradcheck():
    group = GroupLinear(3, 4, 2, bias=False, dtype=torch.float64)
    assert group.bias is None
    x = torch.randn(2, 3, 4, dtype=torch.float64, requires_grad=True, generator=_gen(1))
    assert torch.autograd.gradcheck(lambda inp, w: torch.einsum("bgi,gio->bgo", inp, w), (x, group.weight))
    biased = GroupLinear(3, 4, 2, dtype=torch.float64)
    assert torch.autograd.gradcheck(biased, (x,))


def test_group_linear_init_matches_linear_bounds():
    group = GroupLinear(64, 16, 8)
    bound = 1 / 16 ** 0.5
    assert group.weight.abs().max() <= bound and group.weight.abs().max() > 0.9 * bound
    assert group.bias.abs().max() <= bound


@pytest.mark.parametrize("cls,torch_cell", [(GroupLSTMCell, nn.LSTMCell), (GroupGRUCell, nn.GRUCell)])
def test_group_cells_equal_torch_cells(cls, torch_cell):
    torch.manual_seed(1)
    cells = [torch_cell(3, 5).double() for _ in range(G)]
    group = cls.from_modules(cells)
    x = torch.randn(B, G, 3, dtype=torch.float64, generator=_gen(2))
    h = torch.randn(B, G, 5, dtype=torch.float64, generator=_gen(3))
    if cls is GroupLSTMCell:
        c = torch.randn(B, G, 5, dtype=torch.float64, generator=_gen(4))
        got_h, got_c = group(x, (h, c))
        want = [cells[g](x[:, g], (h[:, g], c[:, g])) for g in range(G)]
        torch.testing.assert_close(got_h, torch.stack([w[0] for w in want], 1), atol=1e-12, rtol=0)
        torch.testing.assert_close(got_c, torch.stack([w[1] for w in want], 1), atol=1e-12, rtol=0)
        zero_h, _ = group(x)
        torch.testing.assert_close(zero_h[:, 0], cells[0](x[:, 0])[0], atol=1e-12, rtol=0)
    else:
        got = group(x, h)
        want = torch.stack([cells[g](x[:, g], h[:, g]) for g in range(G)], 1)
        torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
        torch.testing.assert_close(group(x)[:, 2], cells[2](x[:, 2]), atol=1e-12, rtol=0)


@pytest.mark.parametrize("make", [lambda: GroupLinear(G, 3, 4), lambda: GroupGRUCell(G, 3, 4),
                                  lambda: GroupLSTMCell(G, 3, 4)])
def test_groups_are_independent(make):
    layer = make()
    x = torch.randn(B, G, 3, generator=_gen(5))
    y = x.clone()
    y[:, 2] += 10.0
    out_x, out_y = layer(x), layer(y)
    if isinstance(out_x, tuple):
        out_x, out_y = out_x[0], out_y[0]
    others = [g for g in range(G) if g != 2]
    assert torch.equal(out_x[:, others], out_y[:, others])
    assert not torch.equal(out_x[:, 2], out_y[:, 2])


def test_clear_errors():
    with pytest.raises(ValueError, match=r"groups=5"):
        GroupLinear(G, 3, 4)(torch.randn(2, 4, 3))
    with pytest.raises(ValueError, match="hidden state"):
        GroupGRUCell(G, 3, 4)(torch.randn(2, G, 3), torch.randn(2, G, 5))
    with pytest.raises(ValueError, match="groups"):
        GroupLinear(0, 3, 4)
    with pytest.raises(TypeError, match="GRUCell"):
        GroupGRUCell.from_modules([nn.LSTMCell(2, 2)])


@pytest.mark.gpu
def test_group_layers_and_modular_network_on_cuda_match_cpu():
    from etude_modularity.models import Modular
    from etude_modularity.tasks import RuleRegression

    torch.manual_seed(0)
    for layer, inputs in ((GroupLinear(G, 3, 4), (torch.randn(B, G, 3),)),
                          (GroupGRUCell(G, 3, 4), (torch.randn(B, G, 3), torch.randn(B, G, 4)))):
        want = layer(*inputs)
        got = layer.cuda()(*(t.cuda() for t in inputs))
        torch.testing.assert_close(got.cpu(), want, atol=1e-5, rtol=1e-5)
    net = Modular(rules=4, encoder_dim=8)
    x = RuleRegression(rules=4, num_train=32).split("train").inputs
    y, p = net(x, return_routing=True)
    y_cuda, p_cuda = net.cuda()(x.cuda(), return_routing=True)
    torch.testing.assert_close(y_cuda.cpu(), y, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(p_cuda.cpu(), p, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("cls", [GroupLSTMCell, GroupGRUCell])
def test_projections_of_shared_inputs_equal_expanded_and_combine_equals_forward(cls):
    cell = cls(G, 6, 4, dtype=torch.float64)
    x = torch.randn(B, 6, dtype=torch.float64, generator=_gen(11))
    h = torch.randn(B, 4, dtype=torch.float64, generator=_gen(12))
    xg, hg = x.unsqueeze(1).expand(-1, G, -1), h.unsqueeze(1).expand(-1, G, -1)
    shared, grouped = cell.projections(x, h), cell.projections(xg, hg)
    for a, b in zip(shared, grouped, strict=True):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    # combine on the pre-activations with a broadcast (B, 1, H) state equals forward on expanded states
    if cls is GroupLSTMCell:
        c = torch.randn(B, 4, dtype=torch.float64, generator=_gen(13))
        got = cell.combine(*shared, c.unsqueeze(1))
        want = cell(xg, (hg, c.unsqueeze(1).expand(-1, G, -1)))
        for a, b in zip(got, want, strict=True):
            torch.testing.assert_close(a, b, atol=1e-12, rtol=0)
    else:
        torch.testing.assert_close(cell.combine(*shared, h.unsqueeze(1)), cell(xg, hg), atol=1e-12, rtol=0)
    with pytest.raises(ValueError, match="shared input of shape"):
        cell.input_projections(torch.randn(B, 5, dtype=torch.float64))
