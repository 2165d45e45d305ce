"""Every claim at smoke scale runs and returns a verdict with its metrics."""

from etude.claims import reproduce

CLAIMS = [
    "lazy-hasty/easy-first-when-rich",
    "lazy-hasty/label-noise-learned-last-when-rich",
    "lazy-hasty/order-flip-diagonal",
    "lazy-hasty/spurious-correlation",
]


def test_claims_at_smoke(tmp_path):
    results = reproduce(["lazy-hasty"], scale="smoke", out=tmp_path, progress=False)
    by_id = {r.id: r for r in results}
    assert sorted(by_id) == CLAIMS
    for r in results:
        assert r.error is None, f"{r.id}: {r.error}"
    spurious = by_id["lazy-hasty/spurious-correlation"]
    assert spurious.holds is None and "not run at this scale" in spurious.notes
    flip = by_id["lazy-hasty/order-flip-diagonal"]
    assert flip.holds is True
    assert flip.metrics["t_half_rich"] == [621, 530, 465, 417, 379]
    assert flip.metrics["t_half_lazy"] == [193, 217, 247, 289, 346]
    assert flip.metrics["relative_weight_change_lazy"] < 1e-2 < flip.metrics["relative_weight_change_rich"]
    easy = by_id["lazy-hasty/easy-first-when-rich"].metrics
    assert easy["relative_weight_change_lazy"][0] < 0.05 < easy["relative_weight_change_rich"][0]
    assert easy["sign_similarity_end_lazy"][0] > 0.98
    # one seed: never significant
    assert by_id["lazy-hasty/easy-first-when-rich"].holds is None


def test_spurious_correlation_unit_at_smoke_size():
    """The claim runs only at full; its per-seed unit and judge are exercised here at the smoke setting."""
    from etude.claims import JudgeContext, SeedContext

    from etude_lazy_hasty.claims import spurious_correlation_judge, spurious_correlation_run

    cid = "lazy-hasty/spurious-correlation"
    runs = [spurious_correlation_run(SeedContext(claim_id=cid, scale="smoke", seed=s)) for s in (0, 1)]
    assert set(runs[0]) == {"1", "100", "10000"}
    assert runs[0]["10000"]["relative_weight_change"] < runs[0]["1"]["relative_weight_change"] / 10
    outcome = spurious_correlation_judge(JudgeContext(claim_id=cid, scale="smoke", seeds=[0, 1]), runs)
    assert outcome.holds in (True, False, None) and len(outcome.metrics["diff_lazy_minus_rich"]) == 2
