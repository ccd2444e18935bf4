"""Thin alias for analytics/charts.py and selectors.py while they move to core.py (issue 16): the
filtered report figures by the run's own definitions (core.concentration, core.whale_curve), from
objects with `code`, `revenue` and `profit`. Remove once no module imports it."""

import numpy as np

from .core import concentration as _concentration
from .core import to_json, top_share_count
from .core import whale_curve as _whale_curve

__all__ = ["concentration", "to_json", "top_share_count", "whale_curve"]


def _columns(population) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    revenue = np.array([int(c.revenue * 100) for c in population], dtype=np.int64)
    profit = np.array([int(c.profit * 100) for c in population], dtype=np.int64)
    code_rank = np.empty(len(population), dtype=np.int64)
    code_rank[np.argsort(np.array([c.code for c in population], dtype=str), kind="stable")] = np.arange(len(population))
    return revenue, profit, code_rank


def whale_curve(population, points: int = 400) -> dict:
    revenue, profit, code_rank = _columns(population)
    return _whale_curve(profit, code_rank, points)


def concentration(population) -> dict:
    return _concentration(*_columns(population))
