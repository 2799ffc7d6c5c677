"""Evaluate an inference job against a ground-truth set: figures, threshold plot, lanes."""

from relay_desktop.ui.evaluate.panel import EvaluatePanel

__all__ = ["EvaluatePanel"]
