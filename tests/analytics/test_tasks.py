"""Run tasks: a computed run's report charts are built right after publication, in every language."""

import datetime
from decimal import Decimal

import pytest
from django.conf import settings

from analytics.models import AnalysisRun, RunChart
from analytics.reports import CHARTS
from analytics.selectors import POINTS, Scope, chart_key
from analytics.services.runs import run_request
from analytics.tasks import compute_run, warm_report_charts
from tests.factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
AS_OF = datetime.date(2026, 6, 30)


@pytest.fixture
def queued_run():
    for i in range(3):
        OrderFactory(
            customer=CustomerFactory(code=f"W{i}"),
            ordered_on=datetime.date(2026, 3, 1),
            revenue=Decimal(1000 * (i + 1)),
            cost=Decimal(600),
            service_cost=Decimal("10.00"),
        )
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=AS_OF, enqueue=False)
    return run


def test_computing_a_run_stores_every_report_chart_in_every_language(queued_run):
    # when: the task computes the run (in-process here, as without a broker)
    assert compute_run(queued_run.pk) == "computed"
    # then: every chart is stored for each language, and the profit-vs-volume points once
    stored = set(RunChart.objects.filter(run=queued_run).values_list("name", flat=True))
    expected = {
        chart_key(name, scope=Scope(), language=code)
        for name, card in CHARTS.items()
        if not card.live
        for code, _label in settings.LANGUAGES
    }
    expected.add(chart_key(POINTS, scope=Scope(), language=None))
    assert stored == expected


def test_warming_again_builds_nothing_and_an_unpublished_run_is_left_alone(queued_run):
    assert warm_report_charts(queued_run.pk) == 0  # queued, not published: nothing to build
    assert not RunChart.objects.filter(run=queued_run).exists()
    compute_run(queued_run.pk)
    assert warm_report_charts(queued_run.pk) == 0  # all stored by the first warm-up
    assert compute_run(queued_run.pk) == "nothing to do"  # a redelivered message finds the run done
