"""Login throttling (django-axes): the 6th wrong password in a row locks the account from that
address, on the login page and the admin's; the lockout page says what to do, in English and
Chinese; an admin unlocks; demo passwords pass the password validators."""

import datetime
import re
from unittest import mock

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from crm.models import Customer
from crm.roles import Role

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-1"  # tests/factories.py
LOGIN = reverse("login")
ADMIN_LOGIN = reverse("admin:login")
ATTACKER, OFFICE = "203.0.113.7", "198.51.100.20"


@pytest.fixture(autouse=True)
def throttling_on(settings):
    """The suite runs with axes off (Client.login passes no request); these tests switch it on."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 6
    settings.AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
    settings.LOGIN_PROXY_COUNT = 0


def attempt(client, username, password, *, url=LOGIN, address=ATTACKER, **headers):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def wrong(client, username, times, **kwargs):
    return [attempt(client, username, "not-the-password", **kwargs) for _ in range(times)]


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", [LOGIN, ADMIN_LOGIN], ids=["login page", "admin"])
def test_the_sixth_wrong_password_locks_and_then_the_right_one_is_refused(client, make_user, url):
    make_user(Role.SALES, username="sales1", is_staff=True)
    # given: five wrong passwords, each answered by the form as usual
    assert [response.status_code for response in wrong(client, "sales1", 5, url=url)] == [200] * 5
    # when: the sixth
    locked = wrong(client, "sales1", 1, url=url)[0]
    # then: the lockout page, and the right password is refused too
    assert locked.status_code == 429
    assert "registration/lockout.html" in [template.name for template in locked.templates]
    refused = attempt(client, "sales1", PASSWORD, url=url)
    assert refused.status_code == 429 and not logged_in(client)


def test_five_wrong_then_the_right_one_logs_in_and_clears_the_count(client, make_user):
    make_user(Role.SALES, username="sales1")
    wrong(client, "sales1", 5)
    assert attempt(client, "sales1", PASSWORD).status_code == 302 and logged_in(client)
    client.logout()
    # the count started again: five more wrong ones do not lock
    assert [response.status_code for response in wrong(client, "sales1", 5)] == [200] * 5


def test_a_locked_login_costs_no_password_hash(client, make_user):
    """Guessing made every page slow because each try hashes a password; once locked, none does."""
    make_user(Role.SALES, username="sales1")
    wrong(client, "sales1", 6)
    with mock.patch.object(MD5PasswordHasher, "verify", autospec=True, return_value=False) as verify:
        for _ in range(20):
            attempt(client, "sales1", "another-guess")
    assert verify.call_count == 0


def test_the_lock_holds_for_that_username_from_that_address_only(client, make_user):
    """The key is username and address: a guesser cannot lock the staff out of their accounts."""
    make_user(Role.SALES, username="sales1")
    make_user(Role.SALES, username="sales2")
    wrong(client, "sales1", 6, address=ATTACKER)
    # the same user from the office logs in
    assert attempt(client, "sales1", PASSWORD, address=OFFICE).status_code == 302
    client.logout()
    # another user from the guesser's address too
    assert attempt(client, "sales2", PASSWORD, address=ATTACKER).status_code == 302


def test_the_lock_ends_after_the_cool_off(client, make_user):
    make_user(Role.SALES, username="sales1")
    wrong(client, "sales1", 6)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - datetime.timedelta(minutes=16))
    assert attempt(client, "sales1", PASSWORD).status_code == 302 and logged_in(client)


@pytest.mark.parametrize(
    "language, title, advice",
    [
        ("en", "Login locked for a while", "Wait 15 minutes, then log in with the right password."),
        ("zh-hans", "登录已暂时锁定", "请等待 15 分钟，然后用正确的密码登录。"),
    ],
)
def test_the_lockout_page_says_what_to_do(client, make_user, language, title, advice):
    make_user(Role.SALES, username="sales1")
    locked = wrong(client, "sales1", 6, HTTP_ACCEPT_LANGUAGE=language)[-1]
    page = locked.content.decode()
    assert locked.status_code == 429
    assert title in page and advice in page
    assert "sales1" in page
    assert ("ask an administrator" if language == "en" else "请联系管理员") in page


def test_an_admin_unlocks_from_the_admin_and_the_right_password_works(client, make_user, admin_client):
    make_user(Role.SALES, username="sales1")
    wrong(client, "sales1", 6)
    # the admin sees the lock among the access attempts
    changelist = admin_client.get(reverse("admin:axes_accessattempt_changelist"))
    assert changelist.status_code == 200 and "sales1" in changelist.content.decode()
    # and deletes it
    lock = AccessAttempt.objects.get(username="sales1")
    deleted = admin_client.post(reverse("admin:axes_accessattempt_delete", args=[lock.pk]), {"post": "yes"})
    assert deleted.status_code == 302 and not AccessAttempt.objects.exists()
    assert attempt(client, "sales1", PASSWORD).status_code == 302 and logged_in(client)


def test_an_admin_unlocks_with_axes_reset_username(client, make_user, capsys):
    make_user(Role.SALES, username="sales1")
    wrong(client, "sales1", 6)
    call_command("axes_reset_username", "sales1")
    assert "1 attempts removed" in capsys.readouterr().out
    assert attempt(client, "sales1", PASSWORD).status_code == 302 and logged_in(client)


def test_behind_a_proxy_the_address_is_the_one_our_proxy_saw(client, make_user, settings):
    """With LOGIN_PROXY_COUNT=1 the right-most X-Forwarded-For entry counts: what the client writes
    to the left of it does not give a guesser a fresh count."""
    settings.LOGIN_PROXY_COUNT = 1
    make_user(Role.SALES, username="sales1")
    for spoofed in range(6):
        attempt(
            client,
            "sales1",
            "not-the-password",
            address="10.0.0.2",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{spoofed}, {ATTACKER}",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}
    assert attempt(client, "sales1", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR=ATTACKER).status_code == 429
    # the same user behind the same proxy from another address logs in
    assert attempt(client, "sales1", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR=OFFICE).status_code == 302


@pytest.mark.parametrize(
    "password, reason",
    [
        ("sales", "too short"),
        ("password123", "too common"),
        ("48213957604", "entirely numeric"),
        ("executive1", "too similar"),
    ],
)
def test_seed_demo_refuses_a_weak_password(password, reason, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    with pytest.raises(CommandError, match=rf"--password is refused by the password validators: .*{reason}"):
        call_command("seed_demo", customers=5, password=password)
    assert not Customer.objects.exists()


def test_seed_demo_gives_admin_a_password_of_its_own(settings, tmp_path, capsys):
    settings.BASE_DIR = tmp_path
    call_command("seed_demo", customers=5, seed=3, end=datetime.date(2026, 6, 30), password="a-strong-demo-pw")
    out = capsys.readouterr().out
    admin_password = re.search(r"^\s+admin\s+(\S+)\s+\(Admin\)$", out, re.M)[1]
    assert admin_password != "a-strong-demo-pw" and len(admin_password) == 12
    assert re.search(r"^\s+executive\s+a-strong-demo-pw\s+\(Executive\)$", out, re.M)
    assert admin_password in (tmp_path / ".demo-logins").read_text(encoding="utf-8")
