"""Each role lands on its own start page; the executive dashboard shows the published run's headline
figures (hand-computed here), each a link to the page behind it, in a fixed number of queries."""

import datetime
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from analytics.models import AnalysisRun
from crm.roles import Role
from tests import pages
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# tests/pages.py's data set, by hand: four customers ordered in the window (cost model 0).
REVENUE = Decimal("31525534.43")  # 27,130,141.25 + 3,615,274.83 + 48,213.77 + 731,904.58
PROFIT = Decimal("6689606.35")  # 6,019,030.15 + 554,703.93 - 5,386.45 + 121,258.72
OPEN_COMPLAINTS = 4  # new, new and breached, acknowledged, investigating
BREACHING = 1  # the one received 12 days ago


@pytest.fixture
def data():
    return pages.build_dataset()


@pytest.mark.parametrize(
    ("role", "start"),
    [
        ("service", "complaints:queue"),
        ("sales", "analytics:portfolio"),
        ("executive", "analytics:dashboard"),
        ("admin", "analytics:dashboard"),
    ],
)
def test_each_role_lands_on_its_start_page(client, data, role, start):
    client.force_login(data.users()[role])
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse(start)
    assert client.get(response["Location"]).status_code == 200


def test_a_user_without_a_role_lands_on_the_customer_list(client, db):
    client.force_login(UserFactory(username="norole"))
    assert client.get(reverse("home"))["Location"] == reverse("crm:customer_list")


def test_an_executive_who_also_sells_lands_on_the_dashboard(client, data):
    data.sales.groups.add(Group.objects.get(name=Role.EXECUTIVE.value))
    client.force_login(data.sales)
    assert client.get(reverse("home"))["Location"] == reverse("analytics:dashboard")


def test_logging_in_goes_to_the_roles_start_page(client, data):
    response = client.post(
        reverse("login"), {"username": data.service.username, "password": pages.PASSWORD}, follow=True
    )
    assert response.redirect_chain == [(reverse("home"), 302), (reverse("complaints:queue"), 302)]
    assert response.status_code == 200


def test_anonymous_home_goes_to_the_login(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def kpi(page: str, kpi_id: str) -> tuple[str, str]:
    """(href, text) of the dashboard figure with that id."""
    match = re.search(rf'<a class="kpi[^"]*" id="{kpi_id}" href="([^"]+)">(.*?)</a>', page, re.S)
    assert match, f"no figure {kpi_id}"
    return match.group(1).replace("&amp;", "&"), " ".join(re.sub(r"<[^>]+>", " ", match.group(2)).split())


def test_the_dashboard_shows_the_headline_figures_each_linking_to_its_page(client, data):
    client.force_login(data.executive)
    page = client.get(reverse("analytics:dashboard")).content.decode()
    value = reverse("analytics:report_section", args=["value"])
    trends = reverse("analytics:report_section", args=["trends"])
    queue = reverse("complaints:queue")

    assert data.run.company["revenue"] == f"{REVENUE}" and data.run.company["profit"] == f"{PROFIT}"
    assert kpi(page, "kpi-revenue") == (value, "Revenue (CNY) 31,525,534.43")
    assert kpi(page, "kpi-profit") == (value + "#whale", "Profit (CNY) 6,689,606.35")
    # the largest customer has 86.1% of revenue: over 25%, so the alert is on
    href, text = kpi(page, "kpi-concentration")
    assert href == value + "#concentration" and "Alert" in text and "86.1%" in text
    # the tier mix, each count a link to those customers
    tiers = data.run.company["tiers"]
    for tier, count in tiers.items():
        assert f'href="{reverse("crm:customer_list")}?tier={tier}">{count}</a>' in page
    assert sum(tiers.values()) == 5
    # churn: one customer left in the window
    assert kpi(page, "kpi-churned") == (
        reverse("crm:customer_list") + "?status=churned",
        "Customers lost in the 12 months 1",
    )
    assert kpi(page, "kpi-revenue-lost")[0] == trends + "#churn_reasons"
    # ARPU of the last whole month (the as_of month only when as_of is its last day)
    as_of = data.run.as_of
    whole = (
        as_of if (as_of + datetime.timedelta(days=1)).day == 1 else as_of.replace(day=1) - datetime.timedelta(days=1)
    )
    month = next(m for m in data.run.company["arpu"] if m["month"] == whole.strftime("%Y-%m"))
    assert kpi(page, "kpi-arpu") == (trends + "#arpu", f"ARPU {month['month']} (CNY) {Decimal(month['arpu']):,.2f}")
    # complaints: what the queue's tabs list
    assert kpi(page, "kpi-open-complaints") == (queue + "?tab=open", f"Open complaints {OPEN_COMPLAINTS}")
    assert kpi(page, "kpi-sla") == (queue + "?tab=breaching", f"Breaching their SLA or due soon {BREACHING}")
    client.force_login(data.service)
    assert client.get(queue + "?tab=breaching").content.decode().count(data.complaints["new_breaching"].number) >= 1


def test_the_dashboard_reads_in_chinese(client, data):
    client.force_login(data.executive)
    page = client.get(reverse("analytics:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<html lang="zh-hans">' in page
    for text in ("仪表板", "销售额", "未结投诉"):
        assert text in page
    assert pages.money_in(page, [REVENUE])  # in the Chinese money format, whichever it is


def test_the_dashboard_query_count_does_not_grow_with_the_data(client, data):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from analytics.services.runs import run_compute, run_request
    from tests.factories import CustomerFactory, OrderFactory, make_complaint

    def queries() -> int:
        client.get(reverse("analytics:dashboard"))  # the session and permissions cached, as on any later page
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("analytics:dashboard")).status_code == 200
        return len(captured)

    client.force_login(data.executive)
    before = queries()
    for n in range(30):
        customer = CustomerFactory(code=f"X{n:04d}", name=f"新客户{n}")
        OrderFactory(customer=customer, ordered_on=data.run.as_of, revenue="1000.00", cost="500.00")
        make_complaint(customer=customer, by=data.service)
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=data.run.as_of, enqueue=False)
    run_compute(run_id=run.pk)
    assert queries() == before <= 9, before  # session, user, 2 permissions, 2 runs, 2 complaint counts, groups


def test_the_dashboard_without_a_run_says_what_to_do(client, data):
    AnalysisRun.objects.all().delete()
    client.force_login(data.executive)
    page = client.get(reverse("analytics:dashboard")).content.decode()
    assert "No analysis has been published yet" in page
    assert f'href="{reverse("analytics:runs")}"' in page and "Recompute now" in page
    assert kpi(page, "kpi-open-complaints")[1] == f"Open complaints {OPEN_COMPLAINTS}"  # the complaints still show
    page = client.get(reverse("analytics:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "尚未发布分析" in page


@pytest.mark.parametrize("role", ["sales", "service"])
def test_the_dashboard_is_for_executives_and_admins(client, data, role):
    client.force_login(data.users()[role])
    assert client.get(reverse("analytics:dashboard")).status_code == 403
