"""The service report's surveys after complaints, by category: response rate and mean score (issue 18),
read live, against hand-counted figures."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.models import AnalysisRun
from analytics.reports.cards import Scope
from analytics.reports.service import SurveyResponseCard
from analytics.services.runs import run_compute, run_request
from notifications.models import SurveyInvitation
from tests.factories import CustomerFactory, SurveyFactory, make_complaint

pytestmark = pytest.mark.django_db

WINDOW = {"window_start": datetime.date(2025, 7, 1), "window_end": datetime.date(2026, 6, 30)}
IN_WINDOW = timezone.make_aware(datetime.datetime(2026, 3, 2, 10, 0))


def invitation(category: str, *, score: int | None = None, sent_at=IN_WINDOW) -> SurveyInvitation:
    complaint = make_complaint(customer=CustomerFactory(), category=category, severity="low", channel="phone")
    answer = None if score is None else SurveyFactory(customer=complaint.customer, score=score, complaint=complaint)
    made = SurveyInvitation.objects.create(
        complaint=complaint, sent_to="a@example.com", survey=answer, answered_at=IN_WINDOW if answer else None
    )
    SurveyInvitation.objects.filter(pk=made.pk).update(sent_at=sent_at)  # sent_at is set on creation
    return made


@pytest.fixture
def surveys():
    # delivery: 3 sent, 2 answered (5 and 2): 66.7%, mean 3.50; billing: 1 sent, none answered: 0.0%;
    # one delivery survey sent before the window does not count.
    invitation("delivery", score=5)
    invitation("delivery", score=2)
    invitation("delivery")
    invitation("billing")
    invitation("delivery", score=1, sent_at=timezone.make_aware(datetime.datetime(2025, 6, 30, 23, 0)))


def test_response_rate_and_mean_score_by_category(surveys, django_assert_num_queries):
    card = SurveyResponseCard()
    with django_assert_num_queries(1):
        rows = card.rows(AnalysisRun(**WINDOW), {}, Scope())
    columns, csv = card.csv(rows)
    assert columns == ["Category", "Surveys sent", "Answered", "Response rate %", "Mean score (1–5)"]
    assert csv == [["Delivery", 3, 2, "66.7", "3.50"], ["Billing", 1, 0, "0.0", ""]]
    assert card.reading(rows) == [
        "2 of 4 customers answered the survey after their complaint (50.0%).",
        "The least satisfied after a complaint about Delivery: 3.50 on average (1–5).",
    ]
    figure = card.figure(rows)
    assert figure["data"][0]["y"] == [66.7, 0.0] and figure["data"][0]["customdata"] == [[2, 3], [0, 1]]


def test_no_survey_sent_says_what_to_do():
    built = SurveyResponseCard().build(AnalysisRun(**WINDOW), {}, Scope())
    assert built["empty"].startswith("No satisfaction survey was sent after a complaint in the 12 months.")


def test_the_service_report_shows_it_live_in_both_languages(client, executive_user):
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=datetime.date(2026, 6, 30), enqueue=False)
    run_compute(run_id=run.pk)
    client.force_login(executive_user)
    url = reverse("analytics:report_section", args=["service"])
    assert "No satisfaction survey was sent after a complaint" in client.get(url).content.decode()
    invitation("delivery", score=4)  # after the run: a live card shows it at once
    page = client.get(url).content.decode()
    assert "1 of 1 customers answered the survey after their complaint (100.0%)." in page
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "投诉后的满意度调查（按类别）" in page
