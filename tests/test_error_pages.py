"""Our own 403, 404 and 500 pages, with DEBUG off, in English and Chinese: each says what to do
next; the 403 of a customer someone else owns names the owner. And the favicon."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.defaults import server_error

from tests import pages

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_debug(settings):
    settings.DEBUG = False


@pytest.fixture
def data():
    return pages.build_dataset()


ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


# 403 ------------------------------------------------------------------------------------------------


def test_a_sales_rep_editing_anothers_customer_is_told_whose_it_is_and_what_to_do(client, data):
    client.force_login(data.sales)
    url = reverse("crm:customer_update", args=[data.other_customer.pk])
    page = client.get(url)
    assert page.status_code == 403
    text = page.content.decode()
    assert "This customer belongs to lina. Ask lina to make the change" in text
    assert "ask an administrator to make you the customer&#x27;s owner" in text
    assert "Your role" not in text  # the role is right; the customer is someone else's
    assert f'href="{reverse("home")}"' in text
    text = client.get(url, **ZH).content.decode()
    assert "此客户由 lina 负责。请联系 lina 修改" in text and "前往您的首页" in text


def test_logging_an_interaction_on_anothers_customer_names_the_owner(client, data):
    client.force_login(data.sales)
    response = client.post(reverse("crm:interaction_create", args=[data.other_customer.pk]), {"summary": "x"})
    assert response.status_code == 403 and "This customer belongs to lina." in response.content.decode()


def test_a_customer_without_owner_sends_the_rep_to_an_administrator(client, data):
    data.other_customer.owner = None
    data.other_customer.save()
    client.force_login(data.sales)
    text = client.get(reverse("crm:customer_update", args=[data.other_customer.pk])).content.decode()
    assert "This customer has no owner yet, so only an administrator can change it." in text


def test_a_wrong_role_is_named_with_what_to_do(client, data):
    client.force_login(data.service)
    response = client.get(reverse("analytics:reports"))
    assert response.status_code == 403
    text = response.content.decode()
    assert "Your role (Service) does not give access to this page." in text
    assert "ask an administrator to change your role" in text
    text = client.get(reverse("analytics:reports"), **ZH).content.decode()
    assert "您的角色（客服）无权访问此页面。" in text


def test_a_user_without_a_role_is_told_to_ask_for_one(client, data):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="newcomer"))
    text = client.get(reverse("complaints:queue")).content.decode()
    assert "Your account has no role yet" in text


# 404 ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("en", ["Not found", "There is nothing at this address.", "Go to your start page", "Search customers"]),
        ("zh-hans", ["页面不存在", "此地址没有内容。", "前往您的首页", "搜索客户"]),
    ],
)
def test_the_404_page_says_what_to_do_in_both_languages(client, data, language, texts):
    client.force_login(data.service)
    for url in ("/no-such-page/", reverse("crm:customer_detail", args=[999999])):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 404
        page = response.content.decode()
        assert all(text in page for text in texts), page
        assert f'<html lang="{language}">' in page
        assert "Using the URLconf" not in page and "Page not found at" not in page  # not Django's debug page


def test_the_404_page_for_someone_not_logged_in_offers_the_login(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert f'href="{reverse("login")}"' in response.content.decode()


# 500 ------------------------------------------------------------------------------------------------


def test_the_500_page_renders_without_request_context_or_database(django_assert_num_queries):
    request = RequestFactory().get("/")  # no user, no session: nothing a context processor could use
    with django_assert_num_queries(0):
        response = server_error(request)
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page and "Try again in a minute" in page
    assert "服务器出错了" in page and "请一分钟后再试" in page
    assert 'href="/"' in page


def test_an_error_in_a_view_shows_our_500_page(data, monkeypatch):
    def broken(user):
        raise RuntimeError("boom")

    monkeypatch.setattr("config.views.home_url_name", broken)
    client = Client(raise_request_exception=False)
    client.force_login(data.executive)
    response = client.get(reverse("home"), **ZH)
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page and "服务器出错了" in page
    assert "boom" not in page and "Traceback" not in page


# favicon -------------------------------------------------------------------------------------------


def test_the_favicon_is_linked_and_answered(client, data):
    response = client.get("/favicon.ico")  # not logged in: browsers ask on the login page too
    assert response.status_code == 301 and response["Location"] == "/static/favicon.svg"
    assert client.get(reverse("login")).content.decode().count('<link rel="icon" href="/static/favicon.svg"') == 1
    icon = client.get(response["Location"])
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content) if icon.streaming else icon.content
