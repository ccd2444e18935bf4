"""Executives start runs and set the models; other roles are refused; settings are versioned."""

import pytest
from django.urls import reverse

from analytics.models import AnalysisRun, CostModel, Factor, ScoringModel, TierRules

pytestmark = pytest.mark.django_db


def scoring_payload(**weights):
    return {"which": "scoring", **{factor.value: weights.get(factor.value, "") for factor in Factor}}


def test_executive_starts_a_run_that_publishes(client, executive_user, django_capture_on_commit_callbacks):
    client.force_login(executive_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("analytics:run_start"))
    assert response.status_code == 302
    run = AnalysisRun.objects.get()  # the task (eager here) ran once the request committed
    assert (run.status, run.requested_by, run.trigger) == (AnalysisRun.Status.SUCCEEDED, executive_user, "manual")
    status = client.get(reverse("jobs:status", kwargs={"kind": "run", "pk": run.pk})).json()
    assert status == {
        "id": run.pk,
        "kind": "run",
        "status": "succeeded",
        "status_label": "Published",
        "progress": 100,
        "note": "published",
        "finished": True,
        "message": "",
    }
    page = client.get(reverse("analytics:runs")).content.decode()
    assert "The figures shown everywhere are for the 12 months to" in page
    # The same run-status bar as the reports: its recompute button comes back to this page.
    assert 'id="run-status"' in page and f'name="next" value="{reverse("analytics:runs")}"' in page


def test_progress_notes_read_in_the_readers_language(client, executive_user, django_capture_on_commit_callbacks):
    client.force_login(executive_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("analytics:run_start"))
    run = AnalysisRun.objects.get()
    AnalysisRun.objects.filter(pk=run.pk).update(progress=40, progress_note="scoring")
    status = client.get(
        reverse("jobs:status", kwargs={"kind": "run", "pk": run.pk}), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json()
    assert (status["progress"], status["note"]) == (40, "评分")
    AnalysisRun.objects.filter(pk=run.pk).update(progress_note="")
    assert (
        client.get(reverse("jobs:status", kwargs={"kind": "run", "pk": run.pk})).json()["note"] == ""
    )  # not the catalogue's header


@pytest.mark.parametrize("role", ["sales_user", "service_user"])
def test_other_roles_cannot_start_runs_or_change_settings(client, request, role):
    client.force_login(request.getfixturevalue(role))
    assert client.post(reverse("analytics:run_start")).status_code == 403
    assert not AnalysisRun.objects.exists()
    assert client.post(reverse("analytics:settings"), scoring_payload(profit=1)).status_code == 403
    assert ScoringModel.objects.count() == 1


def test_service_cannot_even_see_runs(client, service_user):
    client.force_login(service_user)
    assert client.get(reverse("analytics:runs")).status_code == 403
    assert client.get(reverse("analytics:settings")).status_code == 403


def test_anonymous_goes_to_login(client):
    for name in ("analytics:runs", "analytics:settings"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_sixth_factor_is_refused_with_a_clear_message(client, executive_user):
    client.force_login(executive_user)
    six = scoring_payload(profit=30, revenue=20, payment=10, growth=10, delivery=10, tenure=20)
    response = client.post(reverse("analytics:settings"), six)
    assert response.status_code == 400
    assert response.context["forms"]["scoring"].non_field_errors() == [
        "A scoring model has at most five factors: more than five is noise. Remove one first."
    ]
    assert ScoringModel.objects.count() == 1


def test_saving_makes_new_versions_and_runs_record_theirs(client, executive_user):
    client.force_login(executive_user)
    old_scoring = ScoringModel.objects.latest()
    assert client.post(reverse("analytics:settings"), scoring_payload(profit=60, complaints=40)).status_code == 302
    assert (
        client.post(
            reverse("analytics:settings"),
            {"which": "cost", "order_handling_cost": "12.50", "complaint_handling_cost": "300"},
        ).status_code
        == 302
    )
    assert (
        client.post(reverse("analytics:settings"), {"which": "tiers", "core_pct": 10, "key_pct": 40}).status_code == 302
    )
    scoring = ScoringModel.objects.latest()
    assert scoring != old_scoring and scoring.factors == [["profit", 60], ["complaints", 40]]
    assert ScoringModel.objects.filter(pk=old_scoring.pk).exists()  # the old version is kept
    assert str(CostModel.objects.latest().order_handling_cost) == "12.50"
    client.post(reverse("analytics:run_start"))
    run = AnalysisRun.objects.get()
    assert (run.scoring_model, run.cost_model, run.tier_rules) == (
        scoring,
        CostModel.objects.latest(),
        TierRules.objects.latest(),
    )


def test_tier_rules_must_be_consistent(client, executive_user):
    client.force_login(executive_user)
    response = client.post(reverse("analytics:settings"), {"which": "tiers", "core_pct": 40, "key_pct": 30})
    assert response.status_code == 400
    assert response.context["forms"]["tiers"].errors == {"key_pct": ["A+B cannot be a smaller share than A alone."]}
