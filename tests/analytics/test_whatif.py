"""What-if previews (issue 17, acceptance 5): a draft setting's tier changes, computed by a worker,
before anything is saved; the run that follows the save changes exactly the same customers.

The book: ten customers K0..K9 with one order each, all profitable. Ki's revenue is 1,000 x (i + 1),
so its revenue percentile is 100 i / 9; its margin is 10% + 5% x m(i), with m = MARGIN_RANK a
permutation, so its margin percentile is 100 m(i) / 9. K10 has no order (a prospect, P).

- Scored on revenue 90, margin 10 (score ~ 9 i + m(i)), customers rank by revenue: with the default
  tier rules (A: top 20% of the 10, i.e. 2; A+B: top 50%, i.e. 5) A = K9, K8; B = K7, K6, K5; C = K4..K0.
- Margin's weight raised to 90 (score ~ i + m(i)): K9 17, K7 16, K8 15, K6 11, K4 10, K5 9, K3 6, ...
  so A = K9, K7; B = K8, K6, K4; C = K5, K3..K0. Four customers change tier: K8 A->B, K7 B->A,
  K5 B->C, K4 C->B (by revenue: K8, K7, K5, K4).
"""

import datetime
import time
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics import tasks
from analytics.models import AnalysisRun, CostModel, Factor, ScoringModel, TierRules, WhatIf
from analytics.services import settings_versions, whatif
from analytics.services.runs import run_compute, run_request
from config.celery import app as celery_app
from core import jobs
from crm.roles import Role
from tests.factories import CustomerFactory, OrderFactory
from tests.test_job_failures import point_celery_at

pytestmark = pytest.mark.django_db

AS_OF = datetime.date(2026, 6, 30)
MARGIN_RANK = (0, 1, 2, 3, 6, 4, 5, 9, 7, 8)
BY_REVENUE = {"revenue": 90, "margin": 10}
MARGIN_RAISED = {"revenue": 90, "margin": 90}
EXPECTED_MOVES = {"K8": ("A", "B"), "K7": ("B", "A"), "K5": ("B", "C"), "K4": ("C", "B")}


def scoring_payload(**weights):
    return {"which": "scoring", **{factor.value: weights.get(factor.value, "") for factor in Factor}}


def compute(as_of=AS_OF) -> AnalysisRun:
    run, created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=as_of, enqueue=False)
    assert created
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED
    return run


def tiers_of(run: AnalysisRun) -> dict[str, str]:
    return dict(run.results.values_list("customer__code", "tier"))


@pytest.fixture
def book():
    """The eleven customers and a run published under revenue 90, margin 10 (module docstring)."""
    for i, m in enumerate(MARGIN_RANK):
        revenue = Decimal(1000 * (i + 1))
        OrderFactory(
            customer=CustomerFactory(code=f"K{i}", name=f"Customer {i}"),
            ordered_on=datetime.date(2026, 3, 1),
            revenue=revenue,
            cost=revenue * (Decimal("0.90") - Decimal("0.05") * m),
            service_cost=Decimal("0.00"),
        )
    CustomerFactory(code="K10", name="Prospect")
    settings_versions.save_version(which="scoring", data={"factors": [[f, w] for f, w in BY_REVENUE.items()]}, by=None)
    run = compute()
    assert tiers_of(run) == {
        **dict.fromkeys(["K9", "K8"], "A"),
        **dict.fromkeys(["K7", "K6", "K5"], "B"),
        **dict.fromkeys(["K4", "K3", "K2", "K1", "K0"], "C"),
        "K10": "P",
    }
    return run


@pytest.fixture
def broker_down():
    """Nothing listens where tasks are sent: every connection is refused (as tests/test_job_failures.py)."""
    saved = celery_app.conf.broker_url, celery_app.conf.task_always_eager
    point_celery_at("redis://127.0.0.1:1/0", eager=False)
    yield
    point_celery_at(saved[0], eager=saved[1])


@pytest.fixture
def executive(client, executive_user):
    client.force_login(executive_user)
    return client


def settings_rows() -> tuple:
    """Every version of every setting, with its values: a preview must leave them as they are."""
    return (
        list(CostModel.objects.order_by("pk").values_list("pk", "order_handling_cost", "complaint_handling_cost")),
        list(ScoringModel.objects.order_by("pk").values_list("pk", "factors")),
        list(TierRules.objects.order_by("pk").values_list("pk", "core_pct", "key_pct")),
    )


def preview(client, payload, capture) -> tuple:
    """Posts the draft to Preview (the task runs in-process once the request commits); returns the
    response and the job."""
    with capture(execute=True):
        response = client.post(reverse("analytics:whatif_start"), payload)
    return response, WhatIf.objects.order_by("-pk").first()


def moved(summary) -> dict[str, tuple[str, str]]:
    return {row["code"]: (row["before"], row["after"]) for row in summary["top"]}


def changed_pairs(migration: dict) -> dict[str, int]:
    return {pair: n for pair, n in migration.items() if pair.split(">")[0] != pair.split(">")[1]}


# the preview, and the run that follows -----------------------------------------------------------------


def test_a_weight_preview_names_the_customers_and_the_run_after_saving_moves_the_same(
    book, executive, executive_user, django_capture_on_commit_callbacks
):
    before = settings_rows()
    # when: the executive raises margin's weight from 10 to 90 and presses Preview
    response, job = preview(executive, scoring_payload(**MARGIN_RAISED), django_capture_on_commit_callbacks)
    # then: the job was computed (here in-process) and the page is the preview's
    assert response.status_code == 302 and response.url == reverse("analytics:whatif", args=[job.pk])
    assert (job.status, job.which, job.run, job.requested_by) == ("succeeded", "scoring", book, executive_user)
    assert job.draft == MARGIN_RAISED
    summary = job.summary
    assert summary["changed"] == 4 and summary["customers"] == 11 and summary["new"] == 0
    assert moved(summary) == EXPECTED_MOVES
    assert [row["code"] for row in summary["top"]] == ["K8", "K7", "K5", "K4"]  # by revenue
    assert [row["revenue"] for row in summary["top"]] == ["9000.00", "8000.00", "6000.00", "5000.00"]
    assert summary["top"][0]["name"] == "Customer 8"
    assert changed_pairs(summary["moves"]) == {"A>B": 1, "B>A": 1, "B>C": 1, "C>B": 1}
    assert summary["moves"] == {"A>A": 1, "A>B": 1, "B>A": 1, "B>B": 1, "B>C": 1, "C>B": 1, "C>C": 4, "P>P": 1}
    assert (summary["as_of"], summary["run"], summary["settings_saved_since"]) == ("2026-06-30", book.pk, False)
    # and nothing was saved
    assert settings_rows() == before
    page = executive.get(response.url).content.decode()
    assert "Customers changing tier" in page and "Customer 8" in page and "9,000.00" in page
    # the draft is still in its form, to be saved as is
    assert 'name="margin" value="90"' in page

    # when: the same change is saved, and a run follows (at the same date)
    saved = executive.post(reverse("analytics:settings"), scoring_payload(**MARGIN_RAISED))
    assert saved.status_code == 302 and ScoringModel.objects.latest().weights == MARGIN_RAISED
    after = compute()
    # then: it moves exactly the customers the preview named, as many as it counted
    old, new = tiers_of(book), tiers_of(after)
    run_moves = {code: (old[code], new[code]) for code in new if old[code] != new[code]}
    assert run_moves == EXPECTED_MOVES
    assert len(run_moves) == summary["changed"]
    assert changed_pairs(after.company["tier_migration"]) == changed_pairs(summary["moves"])
    assert after.company["tier_migration"] == summary["moves"]


def moves_of_the_run_after_saving(client, payload, published) -> dict[str, tuple[str, str]]:
    """Saves the draft as the settings page's Save does, runs an analysis at the same date, and
    returns the customers whose tier it changed: (tier before, tier after)."""
    assert client.post(reverse("analytics:settings"), payload).status_code == 302
    old, new = tiers_of(published), tiers_of(compute())
    return {code: (old[code], new[code]) for code in new if old[code] != new[code]}


def test_a_tier_rules_preview(book, executive, django_capture_on_commit_callbacks):
    # A: the top 30% of the ten (3) instead of 20% (2): K7 joins A.
    before = settings_rows()
    payload = {"which": "tiers", "core_pct": 30, "key_pct": 50}
    _response, job = preview(executive, payload, django_capture_on_commit_callbacks)
    assert job.draft == {"core_pct": 30, "key_pct": 50}
    assert (job.summary["changed"], moved(job.summary)) == (1, {"K7": ("B", "A")})
    assert settings_rows() == before
    assert moves_of_the_run_after_saving(executive, payload, book) == {"K7": ("B", "A")}


def test_a_cost_model_preview(book, executive, django_capture_on_commit_callbacks):
    # 150.00 per order takes K0 (profit 1,000 x 10% = 100.00) to a loss: D. The other nine keep their
    # order, and A = 2 and A+B = 5 of nine as of ten: nobody else moves.
    before = settings_rows()
    payload = {"which": "cost", "order_handling_cost": "150.00", "complaint_handling_cost": "0.00"}
    _response, job = preview(executive, payload, django_capture_on_commit_callbacks)
    assert job.draft == {"order_handling_cost": "150.00", "complaint_handling_cost": "0.00"}
    assert (job.summary["changed"], moved(job.summary)) == (1, {"K0": ("C", "D")})
    assert settings_rows() == before
    assert moves_of_the_run_after_saving(executive, payload, book) == {"K0": ("C", "D")}


def test_a_setting_saved_since_the_run_counts_and_is_said(book, executive, django_capture_on_commit_callbacks):
    settings_versions.save_version(which="tiers", data={"core_pct": 30, "key_pct": 50}, by=None)
    # The draft changes the weights; the tier rules saved since (A = 3) are what the next run uses.
    _response, job = preview(executive, scoring_payload(**BY_REVENUE), django_capture_on_commit_callbacks)
    assert (job.summary["changed"], moved(job.summary), job.summary["settings_saved_since"]) == (
        1,
        {"K7": ("B", "A")},
        True,
    )
    assert (
        "Settings were saved since the published run"
        in executive.get(reverse("analytics:whatif", args=[job.pk])).content.decode()
    )


def test_the_drafts_own_setting_saved_since_the_run_is_not_said(book, executive, django_capture_on_commit_callbacks):
    # A scoring model saved since the run is what the draft of the scoring model replaces.
    settings_versions.save_version(which="scoring", data={"factors": [["profit", 1]]}, by=None)
    _response, job = preview(executive, scoring_payload(**BY_REVENUE), django_capture_on_commit_callbacks)
    assert (job.summary["changed"], job.summary["settings_saved_since"]) == (0, False)


def test_no_change_previews_no_change(book, executive, django_capture_on_commit_callbacks):
    _response, job = preview(executive, scoring_payload(**BY_REVENUE), django_capture_on_commit_callbacks)
    assert (job.summary["changed"], job.summary["top"]) == (0, [])
    assert (
        "No customer would change tier." in executive.get(reverse("analytics:whatif", args=[job.pk])).content.decode()
    )


def test_customers_new_since_the_run_are_not_counted_as_changes(book, executive, django_capture_on_commit_callbacks):
    OrderFactory(customer=CustomerFactory(code="N1"), ordered_on=datetime.date(2026, 3, 1), revenue=Decimal(50))
    _response, job = preview(executive, scoring_payload(**BY_REVENUE), django_capture_on_commit_callbacks)
    assert (job.summary["changed"], job.summary["new"]) == (0, 1)
    assert sum(n for pair, n in job.summary["moves"].items() if pair.startswith("new>")) == 1


# refusals ------------------------------------------------------------------------------------------------


def test_an_invalid_draft_is_refused_by_the_same_form_and_nothing_is_queued(book, executive):
    before = settings_rows()
    six = dict.fromkeys(["profit", "revenue", "margin", "payment", "delivery", "growth"], 10)
    response = executive.post(reverse("analytics:whatif_start"), scoring_payload(**six))
    assert response.status_code == 400
    assert "A scoring model has at most five factors" in response.content.decode()
    response = executive.post(reverse("analytics:whatif_start"), {"which": "tiers", "core_pct": 60, "key_pct": 50})
    assert response.status_code == 400 and "A+B cannot be a smaller share than A alone." in response.content.decode()
    assert executive.post(reverse("analytics:whatif_start"), {"which": "nothing"}).status_code == 400
    assert not WhatIf.objects.exists() and settings_rows() == before


def test_without_a_published_run_there_is_nothing_to_compare(executive):
    response = executive.post(reverse("analytics:whatif_start"), scoring_payload(profit=1))
    assert response.status_code == 409
    assert "No run is published yet" in response.content.decode()
    assert not WhatIf.objects.exists()


# permissions: who may change the settings may preview; a preview is its author's and the admins' ---------


@pytest.mark.parametrize(
    ("role", "status"), [(Role.EXECUTIVE, 302), (None, 302), (Role.SALES, 403), (Role.SERVICE, 403)]
)
def test_who_may_preview(book, client, make_user, role, status, django_capture_on_commit_callbacks):
    user = make_user(role, username="u", is_superuser=role is None, is_staff=role is None)
    client.force_login(user)
    _response, job = preview(client, scoring_payload(**MARGIN_RAISED), django_capture_on_commit_callbacks)
    assert _response.status_code == status
    assert WhatIf.objects.count() == (1 if status == 302 else 0)


@pytest.mark.parametrize(
    ("who", "status"),
    [("author", 200), ("admin", 200), ("other executive", 403), ("sales", 403), ("service", 403)],
)
def test_who_may_see_a_preview_and_its_progress(book, client, make_user, executive_user, who, status):
    job = WhatIf.objects.create(which="scoring", draft=MARGIN_RAISED, run=book, requested_by=executive_user)
    user = {
        "author": lambda: executive_user,
        "admin": lambda: make_user(None, username="root", is_superuser=True, is_staff=True),
        "other executive": lambda: make_user(Role.EXECUTIVE, username="exec2"),
        "sales": lambda: make_user(Role.SALES, username="s"),
        "service": lambda: make_user(Role.SERVICE, username="v"),
    }[who]()
    client.force_login(user)
    assert client.get(reverse("analytics:whatif", args=[job.pk])).status_code == status
    assert client.get(reverse("jobs:status", kwargs={"kind": "whatif", "pk": job.pk})).status_code == status


def test_anonymous_users_are_sent_to_sign_in(book, client, executive_user):
    job = WhatIf.objects.create(which="scoring", draft=MARGIN_RAISED, run=book, requested_by=executive_user)
    assert client.get(reverse("analytics:whatif", args=[job.pk])).status_code == 302
    assert client.post(reverse("analytics:whatif_start"), scoring_payload(profit=1)).status_code == 302
    assert not WhatIf.objects.exclude(pk=job.pk).exists()


# the job: progress, idempotence, failures ------------------------------------------------------------------


def test_a_queued_preview_shows_the_one_progress_bar_and_the_status_endpoint(book, executive, executive_user):
    job = WhatIf.objects.create(which="scoring", draft=MARGIN_RAISED, run=book, requested_by=executive_user)
    page = executive.get(reverse("analytics:whatif", args=[job.pk])).content.decode()
    status_url = reverse("jobs:status", kwargs={"kind": "whatif", "pk": job.pk})
    assert f'data-status-url="{status_url}"' in page and "js/job_progress.js" in page
    assert executive.get(status_url).json() == {
        "id": job.pk,
        "kind": "whatif",
        "status": "queued",
        "status_label": "Queued",
        "progress": 0,
        "note": "",
        "finished": False,
        "message": "",
    }
    assert tasks.compute_whatif(job.pk) == "succeeded"
    assert executive.get(status_url).json()["finished"] is True
    assert tasks.compute_whatif(job.pk) == "nothing to do"  # a redelivered message finds it done


def test_a_failing_preview_ends_failed_and_says_so(book, executive, executive_user, monkeypatch):
    job = WhatIf.objects.create(which="scoring", draft=MARGIN_RAISED, run=book, requested_by=executive_user)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(whatif.core, "score", broken)
    assert tasks.compute_whatif(job.pk) == "failed"
    job.refresh_from_db()
    assert job.status == "failed" and job.error.startswith("RuntimeError: disk full") and job.finished_at
    assert "The preview failed." in executive.get(reverse("analytics:whatif", args=[job.pk])).content.decode()


def test_a_preview_whose_run_is_gone_fails(book, executive_user):
    job = WhatIf.objects.create(which="scoring", draft=MARGIN_RAISED, run=None, requested_by=executive_user)
    assert tasks.compute_whatif(job.pk) == "failed"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_preview_answers_at_once_and_is_failed_when_the_broker_is_down(book, executive, broker_down):
    started = time.monotonic()
    response = executive.post(reverse("analytics:whatif_start"), scoring_payload(**MARGIN_RAISED))
    assert time.monotonic() - started < 2
    job = WhatIf.objects.get()
    assert (job.status, job.error) == (WhatIf.Status.FAILED, jobs.NOT_SENT) and job.finished_at is not None
    assert response.url == reverse("analytics:whatif", args=[job.pk])
    page = executive.get(response.url).content.decode()
    assert page.count(jobs.NOT_SENT) == 1 and "job-progress" not in page
    assert not WhatIf.objects.filter(status__in=WhatIf.IN_PROGRESS).exists()


# the page ----------------------------------------------------------------------------------------------------


def test_the_preview_page_in_chinese_and_its_queries(
    book, executive, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    _response, job = preview(executive, scoring_payload(**MARGIN_RAISED), django_capture_on_commit_callbacks)
    url = reverse("analytics:whatif", args=[job.pk])
    with django_assert_max_num_queries(11):
        page = executive.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "预览" in page and "Customers changing tier" not in page
    assert page.count("formaction=") == 3  # a Preview beside each Save


def test_the_settings_page_offers_preview_beside_each_save(book, client, executive_user):
    client.force_login(executive_user)
    assert client.get(reverse("analytics:settings")).content.decode().count(reverse("analytics:whatif_start")) == 3


def test_a_preview_whose_worker_stopped_is_given_up_by_the_sweep_and_sent_again_when_waiting(
    book, executive, executive_user, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    running = WhatIf.objects.create(which="scoring", draft=MARGIN_RAISED, run=book, requested_by=executive_user)
    waiting = WhatIf.objects.create(which="scoring", draft=MARGIN_RAISED, run=book, requested_by=executive_user)
    WhatIf.objects.filter(pk=running.pk).update(status=WhatIf.Status.RUNNING, heartbeat_at=long_ago)
    WhatIf.objects.filter(pk=waiting.pk).update(created_at=long_ago)
    with django_capture_on_commit_callbacks(execute=True):  # the task sent again runs in-process here
        assert jobs.sweep() == {"failed": 1, "sent_again": 1}
    waiting.refresh_from_db()
    assert waiting.status == WhatIf.Status.SUCCEEDED and waiting.summary["changed"] == 4
    running.refresh_from_db()
    assert (running.status, running.error) == (WhatIf.Status.FAILED, jobs.WORKER_STOPPED)
    page = executive.get(reverse("analytics:whatif", args=[running.pk])).content.decode()
    assert "The worker doing this stopped" in page
