"""Entity-level evaluation: span P/R/F1 per label (strict and conlleval modes) and error reports.

Torch-free: scores spans or token tags, never runs a model.
"""

from __future__ import annotations

from nerkit.evaluation.errors_report import ErrorCase, ErrorReport, error_report
from nerkit.evaluation.metrics import LabelScore, Mode, Report, score_spans, score_tags

__all__ = [
    "ErrorCase",
    "ErrorReport",
    "LabelScore",
    "Mode",
    "Report",
    "error_report",
    "score_spans",
    "score_tags",
]
