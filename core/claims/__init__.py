"""Claims: a paper's statements, the per-seed experiments that test them, their judges and the runner."""

from .context import JudgeContext, SeedContext
from .outcome import ClaimResult, Outcome
from .report import render_report
from .runner import reproduce, run_claim, select_claims
from .schema import results_schema
from .stats import PairedComparison, mean_and_ci, paired_comparison

__all__ = [
    "ClaimResult",
    "JudgeContext",
    "Outcome",
    "PairedComparison",
    "SeedContext",
    "mean_and_ci",
    "paired_comparison",
    "render_report",
    "reproduce",
    "results_schema",
    "run_claim",
    "select_claims",
]
