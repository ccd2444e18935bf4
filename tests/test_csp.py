"""Content-Security-Policy (issue 15, acceptance 4): the header on every response of every page of
every role (tests/pages.py, the admin included), and no page's HTML carrying an inline script or an
on* handler, which the policy would refuse to run (the browser side: tests/e2e/test_chart_safety.py)."""

from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from tests import pages

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "zh-hans")


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


class ScriptFinder(HTMLParser):
    """Inline scripts (a <script> without src that is not JSON data), on* handlers and javascript: links."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes and attributes.get("type") != "application/json":
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...> at line {self.getpos()[0]}")
            if name in ("href", "src", "action", "formaction") and (value or "").strip().lower().startswith(
                "javascript:"
            ):
                self.found.append(f"<{tag} {name}={value!r}> at line {self.getpos()[0]}")


def scripts_in(html: str) -> list[str]:
    finder = ScriptFinder()
    finder.feed(html)
    return finder.found


def test_the_finder_finds_inline_code():
    html = (
        '<script src="/static/a.js"></script><script type="application/json">{}</script><script>alert(1)</script>'
        '<select onchange="this.form.submit()"></select><a href="javascript:void(0)">x</a>'
    )
    assert len(scripts_in(html)) == 3


def test_the_policy_is_strict_for_scripts():
    directives = settings.CONTENT_SECURITY_POLICY["DIRECTIVES"]
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"] and directives["form-action"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]


def admin_forms(data) -> list[str]:
    """The admin's add page of every registered model, and the change page of a customer and a user."""
    urls = [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_add") for m in admin.site._registry]
    urls += [
        reverse("admin:crm_customer_change", args=[data.customer.pk]),
        reverse("admin:auth_user_change", args=[data.sales.pk]),
    ]
    return urls


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_of_every_role_has_the_policy_and_no_inline_script(client, language):
    data = pages.build_dataset()
    missing, inline, unsafe, seen = [], [], [], 0
    visits = [(None, reverse("login")), (None, "/no-such-page/")]
    for user in data.users().values():
        visits += [(user, page.url) for page in pages.pages_for(user, data, include_admin=True)]
        if user.is_superuser:
            visits += [(user, url) for url in admin_forms(data)]
    current = object()
    for user, url in visits:
        if user is not current:
            client.logout()
            if user is not None:
                client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            current = user
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
        seen += 1
        label = f"{pages.role_of(user) if user else 'anonymous'} {url} ({response.status_code})"
        if "Content-Security-Policy" not in response.headers:
            missing.append(label)
            continue
        script_src = policy_of(response)["script-src"]
        if "'unsafe-inline'" in script_src or (
            "'unsafe-eval'" in script_src and not url.startswith("/analytics/reports")
        ):
            unsafe.append(f"{label}: script-src {' '.join(script_src)}")
        if response.get("Content-Type", "").startswith("text/html") and not response.streaming:
            inline += [f"{label}: {found}" for found in scripts_in(response.content.decode())]
    assert seen > 300  # 420 when written
    assert not missing, "no Content-Security-Policy:\n" + "\n".join(missing)
    assert not unsafe, "\n".join(unsafe)
    assert not inline, "inline code the policy would refuse:\n" + "\n".join(inline)


def test_only_the_page_with_the_webgl_chart_allows_eval(client, executive_user):
    """plotly.js's WebGL layer compiles code at run time (settings.CSP_WEBGL_CHARTS): the report page
    with the profit-vs-volume chart allows it, and no other page does."""
    client.force_login(executive_user)
    for url in (reverse("analytics:reports"), reverse("analytics:report_section", args=["value"])):
        assert policy_of(client.get(url))["script-src"] == ["'self'", "'unsafe-eval'"], url
    for section in ("tiers", "trends", "service"):
        assert policy_of(client.get(reverse("analytics:report_section", args=[section])))["script-src"] == ["'self'"]
    assert policy_of(client.get(reverse("analytics:portfolio")))["script-src"] == ["'self'"]
