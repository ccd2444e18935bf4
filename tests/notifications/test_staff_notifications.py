"""Staff are told: complaint assigned, complaint reopened, analysis run failed, import finished or
failed; in the app and by e-mail (read from a real SMTP server) in each person's language."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from analytics.models import AnalysisRun
from analytics.services.runs import run_fail, run_request
from complaints.models import State
from complaints.services import complaint_take, complaint_update
from complaints.workflow import complaint_transition
from crm.roles import Role
from exchange.models import ImportJob
from exchange.services import import_job_fail
from notifications import kinds
from notifications.models import Notification, Outbox
from notifications.services import preference_update
from tests.factories import CustomerFactory, make_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(make_user):
    return make_user(Role.SERVICE, username="rep-wang", email="wang@staff.example")


@pytest.fixture
def chinese_rep(make_user):
    user = make_user(Role.SERVICE, username="rep-li", email="li@staff.example")
    preference_update(user=user, language="zh-hans", email_kinds=[kind.name for kind in kinds.STAFF_KINDS])
    return user


def told(user, kind):
    return list(Notification.objects.filter(recipient=user, kind=kind))


def test_assigned_by_an_admin_in_english(rep, admin_user_, smtp, django_capture_on_commit_callbacks):
    complaint = make_complaint(customer=CustomerFactory(name="华东精密机械"), by=admin_user_)
    with django_capture_on_commit_callbacks(execute=True):
        complaint_update(complaint=complaint, data={"assignee": rep}, by=admin_user_)
    [notification] = told(rep, kinds.COMPLAINT_ASSIGNED)
    assert notification.text == f"Complaint {complaint.number} (华东精密机械) is assigned to you"
    assert notification.link == complaint.get_absolute_url()
    [mail] = smtp.received
    assert mail.to == ["wang@staff.example"]
    assert mail.subject == f"Complaint {complaint.number} (华东精密机械) is assigned to you"
    assert f"http://localhost:8000{complaint.get_absolute_url()}" in mail.text
    assert f'href="http://localhost:8000{complaint.get_absolute_url()}"' in mail.html


def test_assigned_in_chinese_to_who_chose_chinese(chinese_rep, admin_user_, smtp, django_capture_on_commit_callbacks):
    complaint = make_complaint(customer=CustomerFactory(name="华东精密机械"), by=admin_user_)
    with django_capture_on_commit_callbacks(execute=True):
        complaint_update(complaint=complaint, data={"assignee": chinese_rep}, by=admin_user_)
    [mail] = smtp.received
    assert mail.to == ["li@staff.example"]
    assert mail.subject == f"投诉 {complaint.number}（华东精密机械）已分配给您"
    assert "打开查看" in mail.text and "此邮件由客户价值看板自动发送" in mail.html


def test_logged_for_another_rep_on_the_page(client, rep, admin_user_, smtp, django_capture_on_commit_callbacks):
    customer = CustomerFactory()
    client.force_login(admin_user_)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("complaints:complaint_create"),
            {"customer": customer.code, "channel": "phone", "category": "delivery", "severity": "high",
             "description": "Late", "assignee": rep.pk},
        )  # fmt: skip
    assert len(told(rep, kinds.COMPLAINT_ASSIGNED)) == 1
    assert [mail.to for mail in smtp.received] == [["wang@staff.example"]]


def test_taking_a_complaint_oneself_tells_nobody(rep, smtp, django_capture_on_commit_callbacks):
    complaint = make_complaint(by=rep)
    with django_capture_on_commit_callbacks(execute=True):
        complaint_take(complaint=complaint, by=rep)
    assert not Notification.objects.exists() and smtp.received == []


def test_email_turned_off_still_notifies_in_the_app(rep, admin_user_, smtp, django_capture_on_commit_callbacks):
    preference_update(user=rep, language="", email_kinds=[])
    complaint = make_complaint(by=admin_user_)
    with django_capture_on_commit_callbacks(execute=True):
        complaint_update(complaint=complaint, data={"assignee": rep}, by=admin_user_)
    assert len(told(rep, kinds.COMPLAINT_ASSIGNED)) == 1
    assert smtp.received == [] and not Outbox.objects.exists()


def test_reopened_tells_the_assignee_and_the_leads(
    rep, admin_user_, make_user, smtp, django_capture_on_commit_callbacks
):
    other_admin = make_user(None, username="root2", is_superuser=True, is_staff=True, email="root2@staff.example")
    complaint = make_complaint(by=rep, assignee=rep)
    complaint = complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=rep)
    complaint = complaint_transition(complaint=complaint, to=State.INVESTIGATING, by=rep)
    complaint = complaint_transition(
        complaint=complaint, to=State.ACTION_COMMUNICATED, by=rep, action_plan="Replace", customer_notified_at=complaint.received_at
    )  # fmt: skip
    complaint = complaint_transition(complaint=complaint, to=State.RESOLVED, by=rep, root_cause="Packing")
    complaint = complaint_transition(complaint=complaint, to=State.CLOSED, by=rep)
    assert not Notification.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        complaint_transition(
            complaint=complaint,
            to=State.INVESTIGATING,
            by=admin_user_,
            as_worker=True,
            note="The customer called again",
        )
    text = f"Complaint {complaint.number} was reopened: The customer called again"
    assert [n.text for n in told(rep, kinds.COMPLAINT_REOPENED)] == [text]
    assert [n.text for n in told(other_admin, kinds.COMPLAINT_REOPENED)] == [text]
    assert told(admin_user_, kinds.COMPLAINT_REOPENED) == []  # the one who reopened it
    assert sorted(mail.to[0] for mail in smtp.received) == ["root2@staff.example", "wang@staff.example"]


def test_run_failed_tells_who_asked_and_the_executives(make_user, smtp, django_capture_on_commit_callbacks):
    asker = make_user(Role.SALES, username="asker", email="asker@staff.example")
    boss = make_user(Role.EXECUTIVE, username="boss", email="boss@staff.example")
    preference_update(user=boss, language="zh-hans", email_kinds=[kinds.RUN_FAILED])
    run, _created = run_request(trigger=AnalysisRun.Trigger.MANUAL, by=asker, enqueue=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert run_fail(run=run, error="boom") is True
        assert run_fail(run=run, error="again") is False  # told once
    assert [n.text for n in told(asker, kinds.RUN_FAILED)] == [f"Analysis run {run.pk} failed"]
    assert len(told(boss, kinds.RUN_FAILED)) == 1
    subjects = {mail.to[0]: mail.subject for mail in smtp.received}
    assert subjects == {
        "asker@staff.example": f"Analysis run {run.pk} failed",
        "boss@staff.example": f"分析运行 {run.pk} 失败",
    }


def test_import_failed_tells_who_uploaded_it(executive_user, smtp, django_capture_on_commit_callbacks):
    executive_user.email = "exec@staff.example"
    executive_user.save()
    job = ImportJob.objects.create(
        kind="orders", original_name="orders.csv", file="imports/x.csv", requested_by=executive_user,
        status=ImportJob.Status.RUNNING,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        import_job_fail(job, "Boom")
    assert [n.text for n in told(executive_user, kinds.IMPORT_FAILED)] == ["The import of orders.csv failed"]
    assert [(mail.to, mail.subject) for mail in smtp.received] == [
        (["exec@staff.example"], "The import of orders.csv failed")
    ]


def test_import_finished_tells_who_uploaded_it(
    client, executive_user, smtp, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = str(tmp_path)
    executive_user.email = "exec@staff.example"
    executive_user.save()
    CustomerFactory(code="K1")
    client.force_login(executive_user)
    csv = "number,customer,ordered_on,revenue,cost\nSO-1,K1,2026-01-05,100.00,60.00\n"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("exchange:imports"),
            {"kind": "orders", "file": SimpleUploadedFile("orders.csv", csv.encode(), content_type="text/csv")},
        )
    job = ImportJob.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("exchange:import_confirm", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED
    text = "The import of orders.csv finished: 1 new, 0 changed"
    assert [n.text for n in told(executive_user, kinds.IMPORT_FINISHED)] == [text]
    assert [(mail.to, mail.subject) for mail in smtp.received] == [(["exec@staff.example"], text)]
