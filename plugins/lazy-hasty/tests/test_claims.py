"""Every claim at smoke scale runs and returns a verdict with its metrics."""

from etude.claims import reproduce

CLAIMS = [
    "lazy-hasty/easy-first-when-rich",
    "lazy-hasty/label-noise-learned-last-when-rich",
    "lazy-hasty/order-flip-diagonal",
]


def test_claims_at_smoke(tmp_path):
    results = reproduce(["lazy-hasty"], scale="smoke", out=tmp_path, progress=False)
    by_id = {r.id: r for r in results}
    assert sorted(by_id) == CLAIMS
    for r in results:
        assert r.error is None, f"{r.id}: {r.error}"
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
