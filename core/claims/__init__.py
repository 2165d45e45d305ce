"""Claims: a paper's statements, the experiments that test them, and the runner."""

from .context import ClaimContext
from .outcome import ClaimResult, Outcome
from .report import render_report
from .runner import reproduce, run_claim, select_claims
from .schema import results_schema
from .stats import PairedComparison, mean_and_ci, paired_comparison

__all__ = [
    "ClaimContext",
    "ClaimResult",
    "Outcome",
    "PairedComparison",
    "mean_and_ci",
    "paired_comparison",
    "render_report",
    "reproduce",
    "results_schema",
    "run_claim",
    "select_claims",
]
