"""HTML reports of finished operations, rendered from their stored results.

Control plane: plain Python and Jinja2, no numpy, pandas or torch, so the backend, the
CLI and the dashboard all draw the same report from the same JSON. A report is one
self-contained file: the charting library, the styles and the data are inlined, and its
Content-Security-Policy lets it fetch nothing.
"""

from __future__ import annotations

from ktrdr.reports.render import (
    ReportDataError,
    render_backtest_report,
    render_problem_page,
    render_report,
    render_training_report,
)

__all__ = [
    "ReportDataError",
    "render_backtest_report",
    "render_problem_page",
    "render_report",
    "render_training_report",
]
