"""The portfolio's alerts offer a follow-up each (one, never a second from the same alert), and its
"follow-ups due this week" are the rep's follow-ups with their complete and snooze buttons."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tasks.models import Source, State
from tasks.services import task_create
from tests.analytics.test_portfolio import book, run  # noqa: F401 - fixtures: S1 is sales1's neglected, declining A account

pytestmark = pytest.mark.django_db

PORTFOLIO = reverse("analytics:portfolio")
NEGLECTED_BUTTON = "source=neglected"
DECLINING_BUTTON = "source=declining"


def test_a_sales_rep_gets_a_create_button_per_alert_row(client, sales_user, run, book):  # noqa: F811
    client.force_login(sales_user)
    response = client.get(PORTFOLIO)
    page = response.content.decode()
    assert [r.customer.code for r in response.context["neglected"]] == ["S1"]
    assert [r.customer.code for r in response.context["declining"]] == ["S1"]
    assert f"?customer={book['S1'].pk}&amp;source=neglected" in page
    assert f"?customer={book['S1'].pk}&amp;source=declining" in page


def test_the_alert_row_names_its_follow_up_once_made(client, sales_user, run, book):  # noqa: F811
    task = task_create(customer=book["S1"], assignee=sales_user, due_on=timezone.localdate(), source=Source.NEGLECTED)
    client.force_login(sales_user)
    response = client.get(PORTFOLIO)
    page = response.content.decode()
    assert NEGLECTED_BUTTON not in page and f"/tasks/?task={task.pk}" in page
    assert DECLINING_BUTTON in page  # the other alert still offers one
    [neglected] = response.context["neglected"]
    assert neglected.alert_task == task


def test_executives_read_a_portfolio_without_the_buttons(client, executive_user, sales_user, run, book):  # noqa: F811
    task_create(customer=book["S2"], assignee=sales_user, due_on=timezone.localdate() - datetime.timedelta(days=3))
    client.force_login(executive_user)
    response = client.get(PORTFOLIO, {"owner": sales_user.pk})
    page = response.content.decode()
    assert response.context["follow_ups_count"] == 1
    assert NEGLECTED_BUTTON not in page and DECLINING_BUTTON not in page
    assert 'value="complete"' not in page  # their follow-ups are theirs to work


def test_follow_ups_due_this_week_come_with_complete_and_snooze(client, sales_user, run, book):  # noqa: F811
    today = timezone.localdate()
    overdue = task_create(
        customer=book["S2"], assignee=sales_user, due_on=today - datetime.timedelta(days=30), note="overdue"
    )
    task_create(customer=book["S3"], assignee=sales_user, due_on=today + datetime.timedelta(days=40), note="far")
    client.force_login(sales_user)
    response = client.get(PORTFOLIO)
    assert [t.note for t in response.context["follow_ups"]] == ["overdue"]
    page = response.content.decode()
    assert f'name="task" value="{overdue.pk}"' in page and 'value="complete"' in page and 'value="snooze"' in page
    # the row's Snooze: until tomorrow, and back to the portfolio
    answer = client.post(
        reverse("tasks:bulk"), {"task": overdue.pk, "action": "snooze", "preset": "tomorrow", "next": PORTFOLIO}
    )
    assert answer["Location"] == PORTFOLIO
    overdue.refresh_from_db()
    assert (overdue.state, overdue.snoozed_until) == (State.SNOOZED, today + datetime.timedelta(days=1))
    assert client.get(PORTFOLIO).context["follow_ups_count"] == 0
