"""Read side of the executive reports: each card of a published run built once per language and
filter and stored (RunChart), so a page reads stored rows; live cards (the complaint KPIs) built on
every request instead. The cards themselves are analytics.reports."""

import json
import logging
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import translation

from . import gzipped
from .models import AnalysisRun, RunChart
from .reports import CHARTS, Scope
from .reports.value import profit_volume_points

logger = logging.getLogger(__name__)
POINTS = "profit_volume_points"  # the stored points of the profit-vs-volume chart (language-neutral)
POINTS_START = '{"points":'  # how the points' answer starts: the stored points follow it (views.ProfitVolumePointsView)

# Raise when what a card stores changes shape: cards stored by the previous code are then rebuilt.
CHARTS_VERSION = 12

__all__ = [
    "CHARTS_VERSION",
    "POINTS",
    "POINTS_START",
    "Scope",
    "chart_key",
    "profit_volume_points_gzipped",
    "profit_volume_points_text",
    "report_charts",
]


def chart_key(name: str, *, scope: Scope, language: str | None) -> str:
    """RunChart.name: the chart, its language (none for language-neutral data), its filter and the
    version of the code that built it."""
    parts = [f"v{CHARTS_VERSION}", name]
    if language:
        parts.append(language)
    if scope.key:
        parts.append(scope.key)
    return ".".join(parts)


def _store(run: AnalysisRun, key: str, figure: dict, compressed: bytes | None = None) -> None:
    """Keeps a built chart; a second request that built it at the same moment loses quietly."""
    try:
        with transaction.atomic():
            RunChart.objects.create(run=run, name=key, figure=figure, gzipped=compressed)
    except IntegrityError:  # stored meanwhile by another request, or the run was pruned: the figure still shows
        pass


def report_charts(*, run: AnalysisRun, names: list[str], scope: Scope) -> dict[str, dict]:
    """The named cards of the run as dicts (figure, reading, columns, rows, table, extra, empty).

    One query when all are stored; a missing one is built (company figures read once) and stored,
    so it costs only its first reader; a live one is built every time. Filters apply to the cards
    that take them; the others are company-wide whatever the filter.
    """
    language = translation.get_language() or "en"
    scopes = {name: scope if CHARTS[name].filtered else Scope() for name in names}
    keys = {name: chart_key(name, scope=scopes[name], language=language) for name in names if not CHARTS[name].live}
    stored = dict(RunChart.objects.filter(run=run, name__in=keys.values()).values_list("name", "figure"))
    company = None
    charts = {}
    for name in names:
        if keys.get(name) in stored:
            charts[name] = stored[keys[name]]
            continue
        if company is None and not CHARTS[name].live:
            company = AnalysisRun.objects.filter(pk=run.pk).values_list("company", flat=True).first() or {}
        started = time.perf_counter()
        charts[name] = CHARTS[name].build(run, company or {}, scopes[name])
        if name in keys:
            logger.info("report chart %s of run %s built in %.3f s", keys[name], run.pk, time.perf_counter() - started)
            _store(run, keys[name], charts[name])
    return charts


def _points_start(text: str) -> bytes:
    return gzipped.opened((POINTS_START + text).encode())


def _build_points(run: AnalysisRun, key: str, scope: Scope) -> tuple[str, bytes]:
    """Builds the points, stores them with their answer's start compressed, returns both."""
    points = profit_volume_points(run, scope)
    text = json.dumps(points, separators=(",", ":"))
    compressed = _points_start(text)
    _store(run, key, points, compressed)
    return text, compressed


def profit_volume_points_text(*, run: AnalysisRun, scope: Scope) -> str:
    """The stored points as JSON text, sent as they are (no parsing 100,000 points per request)."""
    key = chart_key(POINTS, scope=scope, language=None)
    text = (
        RunChart.objects.filter(run=run, name=key)
        .annotate(text=Cast("figure", output_field=TextField()))
        .values_list("text", flat=True)
        .first()
    )
    if text is None:
        text, _compressed = _build_points(run, key, scope)
    return text


def profit_volume_points_gzipped(*, run: AnalysisRun, scope: Scope) -> bytes:
    """The start of the points' answer (POINTS_START and the stored points) as compressed when they
    were stored (analytics.gzipped.opened; one query, no compression per request). Points stored
    without it are compressed once now and it is kept with them."""
    key = chart_key(POINTS, scope=scope, language=None)
    row = RunChart.objects.filter(run=run, name=key).values_list("pk", "gzipped").first()
    if row is None:
        return _build_points(run, key, scope)[1]
    if row[1] is not None:
        return bytes(row[1])
    compressed = _points_start(profit_volume_points_text(run=run, scope=scope))
    RunChart.objects.filter(pk=row[0], gzipped__isnull=True).update(gzipped=compressed)
    return compressed


def report_charts_warm(*, run: AnalysisRun) -> int:
    """Builds and stores every stored report card of the run in every language, so no reader pays
    for the first build. Meant to run once after publication (a task on the run's id); returns how
    many charts it had to build."""
    before = RunChart.objects.filter(run=run).count()
    stored = [name for name, card in CHARTS.items() if not card.live]
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            report_charts(run=run, names=stored, scope=Scope())
    profit_volume_points_text(run=run, scope=Scope())
    return RunChart.objects.filter(run=run).count() - before
