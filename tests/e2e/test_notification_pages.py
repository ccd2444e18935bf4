"""Issue 18's pages in headless Chromium, with the checks of tests/e2e/test_every_page.py (width,
console, no English on a Chinese page, no raw codes, axe) for every role, language and width: the
notification list (with notifications of every kind), the notification settings, the public survey
page, and the admin's outbox."""

import pytest

from tests.e2e.test_every_page import COMBINATIONS, Sweep, combination_id, report

pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

OURS = ("/notifications/", "/admin/notifications/")


class OurPages(Sweep):
    def pages(self, role):
        return [page for page in super().pages(role) if page.url.startswith(OURS)]


@pytest.fixture(scope="module")
def sweep(module_browser, site, sign_in, django_db_blocker):
    from notifications import kinds
    from notifications.services import notify

    complaint = site.complaints["new"]
    args = {
        "number": complaint.number,
        "customer": complaint.customer.name,
        "reason": complaint.description,
        "hours": 4,
        "due": "2026-03-03 01:00",
        "run": site.run.pk,
        "file": site.import_job.original_name,
        "created": 2,
        "updated": 1,
        "breaches": 3,
        "churned": 1,
        "satisfaction": "4.50",
    }
    with django_db_blocker.unblock():
        for user in site.users().values():
            for kind in kinds.STAFF_KINDS:
                notify(recipients=[user], kind=kind.name, args=args, link=complaint.get_absolute_url())
    return OurPages(module_browser, site, sign_in)


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_our_pages_pass_the_every_page_checks(sweep, combination):
    visits = sweep(*combination)
    urls = [visit.url for visit in visits]
    assert any(url.startswith("/notifications/survey/") for url in urls)
    assert "/notifications/" in urls and "/notifications/settings/" in urls
    problems = {name: report(visits, name) for name in ("overflow", "console", "english", "codes", "axe")}
    assert {name: text for name, text in problems.items() if text} == {}
