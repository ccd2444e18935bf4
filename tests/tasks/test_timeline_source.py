"""Follow-ups on the customer's timeline (crm.timeline): made, then done, in both languages."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.timeline import timeline_page
from tasks.models import Task
from tasks.services import COMPLETE, task_create, tasks_bulk

pytestmark = pytest.mark.django_db


def local(*args):
    return timezone.make_aware(datetime.datetime(*args))


def test_a_follow_up_shows_when_made_then_when_done(client, people, book):
    first = task_create(
        customer=book["mine"],
        assignee=people["sales"],
        due_on=datetime.date(2026, 12, 3),
        note="送样品",
        by=people["sales"],
    )
    second = task_create(customer=book["mine"], assignee=None, due_on=datetime.date(2026, 12, 9), by=people["admin"])
    Task.objects.filter(pk=first.pk).update(created_at=local(2026, 11, 20, 9, 0))
    Task.objects.filter(pk=second.pk).update(created_at=local(2026, 11, 21, 9, 0))
    page = timeline_page(customer=book["mine"], user=people["sales"], kinds=["follow_up"])
    assert [(e.title, e.by, e.detail) for e in page.entries] == [
        ("Follow-up for unassigned, due 9 Dec 2026", "root1", ""),
        ("Follow-up for sales1, due 3 Dec 2026", "sales1", "送样品"),
    ]
    tasks_bulk(
        tasks=Task.objects.all(), ids=[first.pk], user=people["sales"], action=COMPLETE, now=local(2026, 11, 22, 9, 0)
    )
    page = timeline_page(customer=book["mine"], user=people["sales"], kinds=["follow_up"])
    assert [(e.title, e.at) for e in page.entries] == [
        ("Follow-up done (due 3 Dec 2026)", local(2026, 11, 22, 9, 0)),
        ("Follow-up for unassigned, due 9 Dec 2026", local(2026, 11, 21, 9, 0)),
    ]
    assert page.entries[0].url == f"/tasks/?task={first.pk}"
    client.force_login(people["service"])
    client.cookies["django_language"] = "zh-hans"
    response = client.get(reverse("crm:customer_timeline", args=[book["mine"].pk]), {"kind": "follow_up"})
    assert [e.title for e in response.context["timeline"].entries] == [
        "跟进已完成（原定 2026年12月3日 到期）",
        "跟进：未分配，2026年12月9日 到期",
    ]
