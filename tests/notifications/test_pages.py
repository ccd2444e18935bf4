"""The notification list (with the unread count in the top bar) and the notification settings:
every role reads its own, in English and Chinese."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from complaints.models import State
from complaints.workflow import complaint_transition
from crm.roles import Role
from notifications import kinds
from notifications.models import Notification, NotificationPreference
from notifications.services import notify
from notifications.surveys import survey_send, survey_url
from tests.factories import ContactFactory, make_complaint

pytestmark = pytest.mark.django_db

ROLES = {"sales": Role.SALES, "service": Role.SERVICE, "executive": Role.EXECUTIVE, "admin": None}


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(params=sorted(ROLES))
def someone(request, make_user):
    role = ROLES[request.param]
    extra = {"is_superuser": True, "is_staff": True} if role is None else {}
    return make_user(role, username=f"{request.param}-user", **extra)


def tell(user, number="CP0000007"):
    return notify(
        recipients=[user],
        kind=kinds.COMPLAINT_ASSIGNED,
        args={"number": number, "customer": "华东精密机械"},
        link="/complaints/7/",
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_role_reads_its_own_notifications(client, someone, make_user, language):
    stranger = make_user(Role.SERVICE, username="stranger")
    tell(someone)
    tell(stranger, number="CP0000099")
    client.force_login(someone)
    client.cookies["django_language"] = language
    page = client.get(reverse("notifications:list")).content.decode()
    if language == "en":
        assert "Complaint CP0000007 (华东精密机械) is assigned to you" in page
        assert '<span class="badge">1<span class="visually-hidden"> unread</span></span>' in page
    else:
        assert "投诉 CP0000007（华东精密机械）已分配给您" in page and "全部标为已读" in page
        assert '<span class="badge">1<span class="visually-hidden"> 未读</span></span>' in page
    assert 'href="/complaints/7/"' in page
    assert "CP0000099" not in page  # someone else's


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_role_sets_its_preferences(client, someone, language):
    client.force_login(someone)
    client.cookies["django_language"] = language
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert ("Also send me an e-mail when" if language == "en" else "以下情况同时给我发邮件") in page
    response = client.post(
        reverse("notifications:preferences"), {"language": "zh-hans", "email_kinds": [kinds.RUN_FAILED]}
    )
    assert response.status_code == 302
    preference = NotificationPreference.objects.get(user=someone)
    assert preference.language == "zh-hans"
    assert kinds.RUN_FAILED not in preference.email_off and kinds.COMPLAINT_ASSIGNED in preference.email_off


def test_anonymous_goes_to_login(client):
    for name in ("notifications:list", "notifications:preferences"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_mark_one_then_all_read_and_the_badge_follows(client, service_user, make_user):
    first, second = tell(service_user, "CP0000001")[0], tell(service_user, "CP0000002")[0]
    other = tell(make_user(Role.SERVICE, username="other"), "CP0000003")[0]
    client.force_login(service_user)
    assert '<span class="badge">2<' in client.get(reverse("crm:customer_list")).content.decode()
    client.post(reverse("notifications:mark_read"), {"id": [first.pk, other.pk]})  # not someone else's
    other.refresh_from_db()
    assert other.read_at is None
    assert list(Notification.objects.filter(read_at__isnull=True, recipient=service_user)) == [second]
    assert '<span class="badge">1<' in client.get(reverse("crm:customer_list")).content.decode()
    client.post(reverse("notifications:mark_read"))
    page = client.get(reverse("crm:customer_list")).content.decode()
    assert 'class="badge">' not in page.split("</header>")[0]
    assert "Notifications" in page.split("</header>")[0]
    # A new notification shows at once (the cached count is dropped when one is written).
    tell(service_user, "CP0000004")
    assert '<span class="badge">1<' in client.get(reverse("crm:customer_list")).content.decode()


def test_the_count_costs_no_query_once_cached(client, service_user, django_assert_max_num_queries):
    tell(service_user)
    client.force_login(service_user)
    client.get(reverse("notifications:preferences"))
    with django_assert_max_num_queries(20) as counted:
        client.get(reverse("notifications:preferences"))
    assert not any('"notifications_notification"' in query["sql"] for query in counted.captured_queries)


def test_list_queries_do_not_grow_with_notifications(client, service_user, django_assert_max_num_queries):
    tell(service_user)
    client.force_login(service_user)
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("notifications:list"))
    for n in range(30):
        tell(service_user, f"CP{n:07d}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("notifications:list"))


def test_settings_and_survey_pages_take_few_queries(client, service_user, django_assert_max_num_queries):
    client.force_login(service_user)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("notifications:preferences")).status_code == 200
    complaint = make_complaint(by=service_user)
    ContactFactory(customer=complaint.customer, email="c@example.com")
    complaint = complaint_transition(complaint=complaint, to=State.REJECTED, by=service_user, note="Not ours")
    url = survey_url(survey_send(complaint=complaint))
    client.logout()
    with django_assert_max_num_queries(3):  # the invitation with its complaint and customer; nothing per row
        assert client.get(url).status_code == 200


def test_kinds_registered_by_apps_above_are_offered_and_kept(client, service_user):
    """tasks registers "task due" from its ready(): the settings page offers it like the others, and
    turning it off is stored (the form reads the kinds when it is built, not when it is imported)."""
    client.force_login(service_user)
    page = client.get(reverse("notifications:preferences")).content.decode()
    assert 'value="task_due"' in page and "A follow-up of mine is due" in page
    client.post(reverse("notifications:preferences"), {"language": "", "email_kinds": [kinds.RUN_FAILED]})
    assert "task_due" in NotificationPreference.objects.get(user=service_user).email_off
