"""Issue 14, item 22: ``ctx.pick()`` needs ``full=`` only when the scale is full."""

from __future__ import annotations

import pytest

from etude.claims import JudgeContext, SeedContext


@pytest.mark.parametrize(
    "make",
    [
        lambda scale: SeedContext(claim_id="toy/claim", scale=scale, seed=0),
        lambda scale: JudgeContext(claim_id="toy/claim", scale=scale, seeds=[0]),
    ],
    ids=["seed-context", "judge-context"],
)
def test_pick_without_full_works_below_full_scale_and_errors_clearly_at_full(make):
    for scale, expected in (("smoke", 1), ("quick", 2)):
        assert make(scale).pick(smoke=1, quick=2) == expected
    with pytest.raises(ValueError, match=r"toy/claim.*full"):
        make("full").pick(smoke=1, quick=2)
