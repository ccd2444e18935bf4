"""The executives' weekly digest: the week's SLA breaches and satisfaction, churned customers with
revenue lost, the concentration alert and the top customers' tier changes, once a week, by e-mail
in each executive's language."""

import datetime
from decimal import Decimal

import pytest

from analytics.digest import weekly_digest
from analytics.models import AnalysisRun, CustomerResult
from analytics.services.runs import run_request
from complaints.models import Severity
from complaints.services import complaint_mark_breaches
from crm.models import Customer
from crm.roles import Role
from notifications import kinds
from notifications.models import Notification
from notifications.services import preference_update
from tests.factories import CustomerFactory, SurveyFactory, make_complaint

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 9, 0, 0, tzinfo=datetime.UTC)  # Monday 08:00 in Asia/Shanghai


def published(customers_tiers: dict, company: dict, published_at) -> AnalysisRun:
    run, _created = run_request(trigger=AnalysisRun.Trigger.MANUAL, enqueue=False)
    AnalysisRun.objects.filter(pk=run.pk).update(
        status=AnalysisRun.Status.SUCCEEDED, active=False, published_at=published_at, company=company
    )
    for customer, (tier, revenue) in customers_tiers.items():
        CustomerResult.objects.create(run_id=run.pk, customer=customer, tier=tier, revenue=Decimal(revenue))
    return run


@pytest.fixture
def week(make_user):
    boss = make_user(Role.EXECUTIVE, username="boss", email="boss@staff.example")
    chinese_boss = make_user(Role.EXECUTIVE, username="laoban", email="laoban@staff.example")
    preference_update(user=chinese_boss, language="zh-hans", email_kinds=[kinds.WEEKLY_DIGEST])
    rep = make_user(Role.SERVICE, username="rep", email="rep@staff.example")
    # One complaint breached in the week, one long before.
    make_complaint(by=rep, severity=Severity.HIGH, received_at=NOW - datetime.timedelta(days=3))
    make_complaint(by=rep, severity=Severity.HIGH, received_at=NOW - datetime.timedelta(days=30))
    complaint_mark_breaches(now=NOW)
    # Two answers in the week, one before.
    big = CustomerFactory(code="K001", name="华东精密机械")
    SurveyFactory(customer=big, answered_on=datetime.date(2026, 3, 5), score=4)
    SurveyFactory(customer=big, answered_on=datetime.date(2026, 3, 8), score=5)
    SurveyFactory(customer=big, answered_on=datetime.date(2026, 2, 20), score=1)
    gone = CustomerFactory(
        code="K002", name="北方物流", status=Customer.Status.CHURNED, churned_on=datetime.date(2026, 3, 6),
        churn_reason=Customer.ChurnReason.PRICE,
    )  # fmt: skip
    CustomerFactory(
        code="K003", status=Customer.Status.CHURNED, churned_on=datetime.date(2026, 1, 6),
        churn_reason=Customer.ChurnReason.PRICE,
    )  # fmt: skip
    published({big: ("B", "900000.00"), gone: ("C", "1000.00")}, {}, NOW - datetime.timedelta(days=8))
    published(
        {big: ("A", "1000000.00"), gone: ("C", "12345.67")},
        {"concentration_alert": True, "top1_share_pct": "31.5", "hhi": "2600"},
        NOW - datetime.timedelta(days=1),
    )
    return boss, chinese_boss, rep


def test_the_digest_in_english_and_chinese_once_a_week(week, smtp, django_capture_on_commit_callbacks):
    boss, chinese_boss, rep = week
    with django_capture_on_commit_callbacks(execute=True):
        assert weekly_digest(now=NOW) == 2
        assert weekly_digest(now=NOW + datetime.timedelta(hours=1)) == 0  # once a week
    [note] = Notification.objects.filter(recipient=boss)
    assert note.text == "The week: 1 SLA breaches, 1 customers churned, satisfaction 4.50"
    assert not Notification.objects.filter(recipient=rep).exists()
    mails = {mail.to[0]: mail for mail in smtp.received}
    assert sorted(mails) == ["boss@staff.example", "laoban@staff.example"]
    english = mails["boss@staff.example"].text
    assert "The week from 3 Mar 2026 to 9 Mar 2026" in english
    assert "SLA breaches: 1" in english
    assert "Satisfaction (1–5): 4.50 (2 answers)" in english
    assert "Customers churned: 1, revenue lost: 12,345.67" in english
    assert "K002 北方物流: 12,345.67 (Price)" in english and "K003" not in english
    assert "Concentration alert: the largest customer brings 31.5% of revenue (HHI 2,600)." in english
    assert "K001 华东精密机械: B → A" in english and "K002 北方物流: C → C" not in english
    chinese = mails["laoban@staff.example"]
    assert chinese.subject == "本周：1 宗投诉超出服务时限，1 个客户流失，满意度 4.50"
    assert "超出服务时限： 1" in chinese.text and "流失客户： 1" in chinese.text and "集中度警示" in chinese.text
    assert "2026年3月3日 至 2026年3月9日 这一周" in chinese.text


def test_a_quiet_week_without_runs(make_user, smtp, django_capture_on_commit_callbacks):
    make_user(Role.EXECUTIVE, username="boss", email="boss@staff.example")
    with django_capture_on_commit_callbacks(execute=True):
        assert weekly_digest(now=NOW) == 1
    [mail] = smtp.received
    assert mail.subject == "The week: 0 SLA breaches, 0 customers churned, satisfaction —"
    assert "Concentration alert" not in mail.text and "tier changed" not in mail.text
