"""Service pages: the role matrix, the log form, working a complaint through the pages, query counts."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from complaints.models import Complaint, ComplaintNote, ComplaintTransition, SlaTarget, State
from complaints.services import complaint_add_note
from complaints.workflow import complaint_transition
from tests.factories import CustomerFactory, ProblemFactory, make_complaint

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return CustomerFactory(code="C900001", name="深圳华强电子有限公司")


@pytest.fixture
def complaint(customer, service_user):
    return make_complaint(customer=customer, by=service_user, assignee=service_user, severity="high")


def urls(complaint):
    return {
        "queue": reverse("complaints:queue"),
        "detail": complaint.get_absolute_url(),
        "create": reverse("complaints:complaint_create"),
        "edit": reverse("complaints:complaint_edit", args=[complaint.pk]),
        "export": reverse("complaints:export", args=["csv"]),
        "problems": reverse("complaints:problem_list"),
        "sla": reverse("complaints:sla_targets"),
    }


class TestRoles:
    def test_anonymous_goes_to_login(self, client, complaint):
        for name, url in urls(complaint).items():
            response = client.get(url)
            assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name
        response = client.post(reverse("complaints:complaint_transition", args=[complaint.pk]), {"to": "acknowledged"})
        assert response.status_code == 302
        assert Complaint.objects.get(pk=complaint.pk).state == State.NEW

    def test_service_logs_and_works_complaints(self, client, service_user, customer):
        client.force_login(service_user)
        response = client.post(
            reverse("complaints:complaint_create"),
            {
                "customer": "深圳华强电子有限公司",
                "channel": "phone",
                "category": "delivery",
                "severity": "critical",
                "description": "货物延迟三天",
                "assignee": service_user.pk,
            },
        )
        complaint = Complaint.objects.get()
        assert response.status_code == 302 and response["Location"] == complaint.get_absolute_url()
        assert (complaint.customer, complaint.created_by, complaint.state) == (customer, service_user, State.NEW)
        assert complaint.number == f"CP{complaint.pk:07d}"
        assert complaint.resolution_due_at - complaint.received_at == datetime.timedelta(hours=24)
        response = client.post(
            reverse("complaints:complaint_transition", args=[complaint.pk]),
            {"to": "acknowledged", "expected_state": "new", "note": "收到"},
        )
        assert response.status_code == 302
        assert Complaint.objects.get(pk=complaint.pk).state == State.ACKNOWLEDGED
        client.post(
            reverse("complaints:complaint_note", args=[complaint.pk]), {"visibility": "customer", "body": "已致电客户"}
        )
        assert Complaint.objects.get(pk=complaint.pk).first_response_at is not None

    @pytest.mark.parametrize("role", ["sales_user", "executive_user"])
    def test_sales_and_executives_read_but_cannot_work(self, client, request, role, complaint):
        user = request.getfixturevalue(role)
        client.force_login(user)
        for name in ("queue", "detail", "problems", "sla", "export"):
            assert client.get(urls(complaint)[name]).status_code == 200, name
        detail = client.get(complaint.get_absolute_url())
        assert detail.context["moves"] == [] and detail.context["note_form"] is None
        assert client.get(urls(complaint)["create"]).status_code == 403
        assert client.get(urls(complaint)["edit"]).status_code == 403
        assert client.post(urls(complaint)["create"], {"customer": "C900001", "description": "x"}).status_code == 403
        for action, data in (
            ("complaint_transition", {"to": "acknowledged", "expected_state": "new"}),
            ("complaint_note", {"visibility": "internal", "body": "x"}),
            ("complaint_take", {}),
        ):
            assert client.post(reverse(f"complaints:{action}", args=[complaint.pk]), data).status_code == 403
        assert Complaint.objects.count() == 1
        assert Complaint.objects.get(pk=complaint.pk).state == State.NEW
        assert not ComplaintNote.objects.exists()

    def test_sales_see_customer_complaints_read_only(self, client, sales_user, complaint):
        client.force_login(sales_user)
        page = client.get(complaint.customer.get_absolute_url()).content.decode()
        assert complaint.number in page
        assert reverse("complaints:complaint_create") not in page

    def test_a_rep_cannot_work_a_complaint_assigned_to_someone_else(self, client, make_user, complaint):
        from crm.roles import Role

        other = make_user(Role.SERVICE, username="service2")
        client.force_login(other)
        response = client.post(
            reverse("complaints:complaint_transition", args=[complaint.pk]),
            {"to": "acknowledged", "expected_state": "new"},
        )
        assert response.status_code == 403
        assert Complaint.objects.get(pk=complaint.pk).state == State.NEW

    def test_only_executives_change_sla_targets(self, client, executive_user, service_user):
        targets = list(SlaTarget.objects.order_by("first_response_hours"))
        data = {"form-TOTAL_FORMS": len(targets), "form-INITIAL_FORMS": len(targets)}
        for i, target in enumerate(targets):
            data |= {
                f"form-{i}-id": target.pk,
                f"form-{i}-first_response_hours": target.first_response_hours,
                f"form-{i}-resolution_hours": target.resolution_hours,
            }
        data["form-0-first_response_hours"] = 1
        client.force_login(service_user)
        assert client.post(reverse("complaints:sla_targets"), data).status_code == 403
        client.force_login(executive_user)
        assert client.post(reverse("complaints:sla_targets"), data).status_code == 302
        assert SlaTarget.objects.get(pk=targets[0].pk).first_response_hours == 1
        data["form-0-resolution_hours"] = 0
        response = client.post(reverse("complaints:sla_targets"), data)
        assert response.status_code == 400
        assert SlaTarget.objects.get(pk=targets[0].pk).resolution_hours == targets[0].resolution_hours


class TestLogForm:
    @pytest.mark.parametrize("typed", ["C900001", "C900001 深圳华强电子有限公司", "深圳华强电子有限公司"])
    def test_customer_by_code_or_name(self, client, service_user, customer, typed):
        client.force_login(service_user)
        client.post(
            reverse("complaints:complaint_create"),
            {
                "customer": typed,
                "channel": "web",
                "category": "billing",
                "severity": "low",
                "description": "发票金额错误",
            },
        )
        assert Complaint.objects.get().customer == customer

    def test_unknown_and_ambiguous_customer_are_refused_with_the_reason(self, client, service_user, customer):
        CustomerFactory(name="同名公司"), CustomerFactory(name="同名公司")
        client.force_login(service_user)
        base = {"channel": "web", "category": "billing", "severity": "low", "description": "x"}
        response = client.post(reverse("complaints:complaint_create"), {**base, "customer": "不存在"})
        assert response.status_code == 200
        assert response.context["form"].errors["customer"] == ["No customer has the code or name “不存在”."]
        response = client.post(reverse("complaints:complaint_create"), {**base, "customer": "同名公司"})
        assert response.context["form"].errors["customer"] == [
            "2 customers are named “同名公司”; pick one by its code."
        ]
        assert not Complaint.objects.exists()

    def test_lookup_suggests_by_code_and_chinese_name(self, client, service_user, customer):
        CustomerFactory(code="X1", name="Other Ltd")
        client.force_login(service_user)
        found = client.get(reverse("complaints:customer_lookup"), {"q": "华强"}).json()["results"]
        assert found == [{"code": "C900001", "label": "C900001 深圳华强电子有限公司"}]
        assert (
            client.get(reverse("complaints:customer_lookup"), {"q": "c9000"}).json()["results"][0]["code"] == "C900001"
        )


class TestWorkingThroughPages:
    def test_guard_failure_is_a_message_not_a_500(self, client, service_user, complaint):
        complaint = complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=service_user)
        complaint = complaint_transition(complaint=complaint, to=State.INVESTIGATING, by=service_user)
        client.force_login(service_user)
        response = client.post(
            reverse("complaints:complaint_transition", args=[complaint.pk]),
            {"to": "action_communicated", "expected_state": "investigating", "action_plan": ""},
        )
        assert response.status_code == 400
        move = next(m for m in response.context["moves"] if m["to"] == "action_communicated")
        assert move["form"].errors == {
            "action_plan": ["Write the action plan the customer was told before moving on."],
            "customer_notified_at": ["Record when the customer was notified of the action plan."],
        }
        assert Complaint.objects.get(pk=complaint.pk).state == State.INVESTIGATING

    def test_illegal_and_stale_moves_are_messages(self, client, service_user, complaint):
        client.force_login(service_user)
        url = reverse("complaints:complaint_transition", args=[complaint.pk])
        response = client.post(url, {"to": "resolved", "expected_state": "new"})
        assert response.status_code == 400
        assert "A complaint that is “New” cannot move to “Resolved”." in response.content.decode()
        complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=service_user)
        response = client.post(url, {"to": "rejected", "expected_state": "new", "note": "spam"})
        assert response.status_code == 400
        assert "Someone else has just moved this complaint" in response.content.decode()
        assert Complaint.objects.get(pk=complaint.pk).state == State.ACKNOWLEDGED

    def test_detail_offers_only_the_allowed_moves(self, client, service_user, complaint):
        client.force_login(service_user)
        moves = [m["to"] for m in client.get(complaint.get_absolute_url()).context["moves"]]
        assert moves == ["acknowledged", "rejected", "duplicate"]

    def test_taking_an_unassigned_complaint(self, client, service_user, customer):
        complaint = make_complaint(customer=customer)
        client.force_login(service_user)
        assert client.get(complaint.get_absolute_url()).context["can_take"] is True
        client.post(reverse("complaints:complaint_take", args=[complaint.pk]))
        assert Complaint.objects.get(pk=complaint.pk).assignee == service_user

    def test_problem_page_counts_recurrences(self, client, sales_user, customer):
        problem = ProblemFactory(title="包装破损")
        day = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
        for offset in (0, 30, 200):  # the second repeats within 90 days; the third does not
            make_complaint(customer=customer, received_at=day + datetime.timedelta(days=offset), problem=problem)
        client.force_login(sales_user)
        response = client.get(problem.get_absolute_url())
        assert response.context["recurrences"] == 1
        assert [c.recurrence for c in response.context["complaints"]] == [False, True, False]


class TestQueue:
    def test_tabs(self, client, service_user, make_user, customer):
        from crm.roles import Role

        other = make_user(Role.SERVICE, username="service2")
        now = timezone.now()
        mine = make_complaint(customer=customer, assignee=service_user, severity="low")
        theirs = make_complaint(customer=customer, assignee=other, severity="low")
        nobody = make_complaint(customer=customer, severity="low")
        soon = make_complaint(
            customer=customer, assignee=other, severity="critical", received_at=now - datetime.timedelta(minutes=30)
        )
        done = make_complaint(customer=customer, assignee=service_user, severity="low")
        complaint_transition(complaint=done, to=State.REJECTED, by=service_user, note="not ours")
        client.force_login(service_user)

        def tab(name):
            response = client.get(reverse("complaints:queue"), {"tab": name})
            return {row.record.number for row in response.context["table"].paginated_rows}

        assert tab("mine") == {mine.number}
        assert tab("unassigned") == {nobody.number}
        assert tab("breaching") == {soon.number}  # first response due in 90 minutes
        assert tab("open") == {mine.number, theirs.number, nobody.number, soon.number}
        assert tab("all") == {mine.number, theirs.number, nobody.number, soon.number, done.number}
        assert client.get(reverse("complaints:queue"), {"tab": "bogus"}).status_code == 404

    def test_queue_query_count_does_not_grow(self, client, service_user, customer, django_assert_max_num_queries):
        client.force_login(service_user)
        make_complaint(customer=customer, assignee=service_user)
        with django_assert_max_num_queries(15) as few:
            client.get(reverse("complaints:queue"), {"tab": "open"})
        for _ in range(40):
            make_complaint(customer=CustomerFactory(), assignee=service_user, problem=ProblemFactory())
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(reverse("complaints:queue"), {"tab": "open"})
        assert len(response.context["table"].paginated_rows) == 25  # a full page

    def test_detail_query_count_does_not_grow(self, client, service_user, complaint, django_assert_max_num_queries):
        client.force_login(service_user)
        with django_assert_max_num_queries(30) as few:
            client.get(complaint.get_absolute_url())
        for i in range(15):
            complaint_add_note(complaint=complaint, by=service_user, body=f"note {i}", visibility="internal")
        complaint = complaint_transition(complaint=complaint, to=State.ACKNOWLEDGED, by=service_user)
        complaint = complaint_transition(complaint=complaint, to=State.INVESTIGATING, by=service_user)
        for _ in range(5):
            make_complaint(customer=complaint.customer)  # other complaints of the customer do not matter
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(complaint.get_absolute_url())
        assert len(response.context["notes"]) == 15
        assert ComplaintTransition.objects.filter(complaint=complaint).count() == 2

    def test_export_is_the_filtered_queue(self, client, service_user, customer):
        make_complaint(customer=customer, assignee=service_user, severity="high", description="=cmd|' /C calc'!A0")
        make_complaint(customer=customer, assignee=service_user, severity="low")
        client.force_login(service_user)
        response = client.get(reverse("complaints:export", args=["csv"]), {"tab": "mine", "severity": "high"})
        body = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
        assert len(body) == 2
        assert body[1].endswith(",'=cmd|' /C calc'!A0")


class TestKpiPage:
    def test_shows_the_selector_figures_to_every_complaint_role(self, client, sales_user, service_user, customer):
        make_complaint(customer=customer)
        for user in (sales_user, service_user):
            client.force_login(user)
            response = client.get(reverse("complaints:kpis"), {"days": 7})
            assert response.status_code == 200
            assert response.context["kpis"]["complaints"] == 1
            assert response.context["kpis"]["backlog_by_age"]["d0_1"] == 1

    def test_unknown_period_falls_back_to_30_days(self, client, service_user):
        client.force_login(service_user)
        assert client.get(reverse("complaints:kpis"), {"days": "abc"}).context["days"] == 30
        assert client.get(reverse("complaints:kpis"), {"days": 12}).context["days"] == 30

    def test_anonymous_and_roleless_users_are_refused(self, client, make_user):
        assert client.get(reverse("complaints:kpis")).status_code == 302
        client.force_login(make_user(None, username="nobody"))
        assert client.get(reverse("complaints:kpis")).status_code == 403


def test_admin_cannot_edit_the_state(client, admin_user_, customer):
    complaint = make_complaint(customer=customer)
    client.force_login(admin_user_)
    page = client.get(reverse("admin:complaints_complaint_change", args=[complaint.pk]))
    assert page.status_code == 200
    assert 'name="state"' not in page.content.decode()
    assert client.get(reverse("admin:complaints_complaint_add")).status_code == 403


class TestQueueRows:
    """The queue's rows are written by crm.tables.LeanRowsMixin: the cells django-tables2's own template writes."""

    @pytest.fixture
    def queue(self, service_user, customer):
        now = timezone.now()
        breached = make_complaint(
            customer=customer, assignee=service_user, severity="critical", received_at=now - datetime.timedelta(days=3)
        )
        Complaint.objects.filter(pk=breached.pk).update(first_response_breached=True)
        paused = make_complaint(customer=CustomerFactory(name="<i>Acme & Sons</i>"), severity="low")
        Complaint.objects.filter(pk=paused.pk).update(paused_since=now)
        make_complaint(customer=customer, severity="medium")  # unassigned, on time
        return [breached, paused]

    @pytest.mark.parametrize("language", ["en", "zh-hans"])
    def test_rows_equal_django_tables2s_own(self, client, service_user, queue, language):
        from django.conf import settings

        from tests.crm.test_customer_list_rendering import stock_html, tbody

        client.force_login(service_user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.get(reverse("complaints:queue"), {"tab": "open"})
        page = response.content.decode()
        stock = stock_html(response.context["table"], response.wsgi_request, language)
        assert tbody(page) == tbody(stock)
        assert page.count("<tr class=") == 3  # the three open complaints (the header row has no class)
        assert "&lt;i&gt;Acme &amp; Sons&lt;/i&gt;" in page
        assert '<span class="badge bad">' in page and '<span class="badge">' in page  # breached, paused
        assert '<span class="badge severity-critical">' in page

    def test_a_deep_page_holds_the_rows_of_the_plain_offset(self, client, service_user, customer):
        for _ in range(30):
            make_complaint(customer=customer, assignee=service_user)
        client.force_login(service_user)
        response = client.get(reverse("complaints:queue"), {"tab": "all", "page": 2})
        expected = list(Complaint.objects.order_by("-received_at", "pk").values_list("number", flat=True)[25:])
        assert [row.record.number for row in response.context["table"].paginated_rows] == expected
        assert response.context["table"].paginator.count == 30
