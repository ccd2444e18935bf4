"""The daily reminder: each assignee is told once per follow-up when it comes due, in the app and by
e-mail in their language (read from a real SMTP server); a snoozed one again when its day comes."""

import datetime

import pytest
from django.conf import settings

from notifications.models import Notification
from notifications.services import preference_update
from tasks.kinds import TASK_DUE
from tasks.models import State, Task
from tasks.services import task_create, tasks_remind_due
from tasks.tasks import remind_due_tasks

from .conftest import TODAY

pytestmark = pytest.mark.django_db


def day(n):
    return datetime.date(2026, 11, n)


@pytest.fixture
def due(people, book):
    """sales1 (English): one due today, one overdue, one due tomorrow, one done; sales2 has no e-mail address."""
    sales = people["sales"]
    return {
        "today": task_create(customer=book["mine"], assignee=sales, due_on=TODAY, note="Send the samples"),
        "overdue": task_create(customer=book["mine"], assignee=sales, due_on=day(20)),
        "tomorrow": task_create(customer=book["mine"], assignee=sales, due_on=day(26)),
        "done": Task.objects.create(customer=book["mine"], assignee=sales, due_on=day(21), state=State.DONE),
        "theirs": task_create(customer=book["theirs"], assignee=people["other_sales"], due_on=TODAY),
    }


def test_reminded_once_per_follow_up_in_english(people, due, smtp, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks_remind_due(today=TODAY) == 3  # today's and the overdue one for sales1, today's for sales2
    texts = sorted(n.text for n in Notification.objects.filter(recipient=people["sales"], kind=TASK_DUE))
    assert texts == ["Follow-up due 2026-11-20: 华东精密机械", "Follow-up due 2026-11-25: 华东精密机械"]
    assert Notification.objects.filter(recipient=people["other_sales"], kind=TASK_DUE).count() == 1
    mails = sorted(smtp.received, key=lambda m: m.subject)
    assert [(m.to, m.subject) for m in mails] == [
        (["sales1@staff.example"], "Follow-up due 2026-11-20: 华东精密机械"),
        (["sales1@staff.example"], "Follow-up due 2026-11-25: 华东精密机械"),
    ]  # sales2 has no address: told in the app only
    assert "Send the samples" in mails[1].text and "Complete or snooze it on My tasks:" in mails[1].text
    assert f"{settings.SITE_URL}/tasks/?task={due['today'].pk}" in mails[1].text
    assert Task.objects.get(pk=due["today"].pk).reminded_for == TODAY
    # the next sweep, the same day or the next: nobody is told twice
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks_remind_due(today=TODAY) == 0
        assert tasks_remind_due(today=day(26)) == 1  # only the one that came due on the 26th
    assert len(smtp.received) == 3


def test_reminded_in_chinese_to_who_chose_chinese(people, due, smtp, django_capture_on_commit_callbacks):
    preference_update(user=people["sales"], language="zh-hans", email_kinds=[TASK_DUE])
    with django_capture_on_commit_callbacks(execute=True):
        tasks_remind_due(today=TODAY)
    subjects = sorted(m.subject for m in smtp.received)
    assert subjects == ["跟进到期（2026-11-20）：华东精密机械", "跟进到期（2026-11-25）：华东精密机械"]
    mail = next(m for m in smtp.received if "11-25" in m.subject)
    assert "在“我的任务”中完成或推迟：" in mail.text and "此邮件由客户价值看板自动发送" in mail.html
    assert "Complete" not in mail.text


def test_a_snoozed_follow_up_is_reminded_again_when_its_day_comes(people, due, django_capture_on_commit_callbacks):
    tasks_remind_due(today=TODAY)
    Task.objects.filter(pk=due["today"].pk).update(state=State.SNOOZED, snoozed_until=day(28))
    assert tasks_remind_due(today=day(27)) == 1  # the tomorrow's one (due 26th) only
    assert tasks_remind_due(today=day(28)) == 1  # the snoozed one, back on the 28th
    assert Task.objects.get(pk=due["today"].pk).reminded_for == day(28)
    assert tasks_remind_due(today=day(29)) == 0


def test_e_mail_turned_off_tells_in_the_app_only(people, due, smtp, django_capture_on_commit_callbacks):
    preference_update(user=people["sales"], language="en", email_kinds=[])
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks_remind_due(today=TODAY) == 3
    assert smtp.received == []


def test_the_beat_task_runs_the_sweep_and_is_scheduled_daily(people, due):
    assert remind_due_tasks() == 4  # every follow-up not done is due by now (they fall due in November 2026)
    assert Task.objects.filter(reminded_for__isnull=True).values_list("state", flat=True).get() == State.DONE
    entry = settings.CELERY_BEAT_SCHEDULE["tasks-remind-due"]
    assert entry["task"] == "tasks.remind_due_tasks" and entry["schedule"].hour == {7}


def test_the_kind_is_named_not_coded_wherever_it_is_shown(admin_client, people, due):
    """The kind is registered by tasks after notifications' models were defined: the admin's lists
    and get_kind_display() still name it (the models read their choices when asked)."""
    tasks_remind_due(today=TODAY)
    notification = Notification.objects.filter(kind=TASK_DUE).first()
    assert notification.get_kind_display() == "A follow-up of mine is due"
    page = admin_client.get("/admin/notifications/notification/").content.decode()
    assert "A follow-up of mine is due" in page
