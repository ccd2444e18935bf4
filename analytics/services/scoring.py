"""Thin alias for analytics/selectors.py while it moves to core.py (issue 16). Remove once unused."""

from .core import top_share_count

__all__ = ["top_share_count"]
