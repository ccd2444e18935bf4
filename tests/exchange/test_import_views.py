"""The web import: who may use it, upload → check → confirm → report, templates, languages."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from openpyxl import load_workbook

from analytics.models import AnalysisRun
from crm.models import Customer, Industry, Order, Region
from crm.roles import Role
from exchange.models import ImportJob
from exchange.services import import_file
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ORDERS_CSV = "number,customer,ordered_on,revenue,cost\nSO-1,K1,2026-01-05,100.00,60.00\nSO-2,K1,2026-02-05,20.00,5.00\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


@pytest.fixture
def upload(client, django_capture_on_commit_callbacks):
    """Posts a file to the import page; the check queued after commit runs (in-process here)."""

    def post(text: str, kind: str = "orders", name: str = "orders.csv"):
        file = SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("exchange:imports"), {"kind": kind, "file": file})

    return post


@pytest.fixture
def confirm(client, django_capture_on_commit_callbacks):
    def post(job):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("exchange:import_confirm", args=[job.pk]))

    return post


def a_job(**fields) -> ImportJob:
    defaults = {"kind": "orders", "original_name": "x.csv", "file": "imports/x.csv"}
    return ImportJob.objects.create(**{**defaults, **fields})


# permissions -----------------------------------------------------------------------------------


def urls(job):
    return [
        reverse("exchange:imports"),
        reverse("exchange:import_detail", args=[job.pk]),
        reverse("jobs:status", args=["import", job.pk]),
        reverse("exchange:template", args=["orders", "csv"]),
        reverse("exchange:template", args=["customers", "xlsx"]),
    ]


@pytest.mark.parametrize("role", [Role.SALES, Role.SERVICE, None])
def test_other_roles_get_403_everywhere(client, make_user, role, upload, confirm):
    job = a_job(status=ImportJob.Status.READY)
    client.force_login(make_user(role))
    for url in urls(job):
        assert client.get(url).status_code == 403, url
    assert confirm(job).status_code == 403
    assert upload(ORDERS_CSV).status_code == 403
    assert ImportJob.objects.get().status == ImportJob.Status.READY and ImportJob.objects.count() == 1


def test_anonymous_goes_to_login(client):
    job = a_job()
    for url in [*urls(job), reverse("exchange:import_confirm", args=[job.pk])]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login")), url


@pytest.mark.parametrize("who", ["executive_user", "admin_user_"])
def test_executives_and_admins_may_import(client, request, who):
    job = a_job(status=ImportJob.Status.READY)
    client.force_login(request.getfixturevalue(who))
    for url in urls(job):
        assert client.get(url).status_code == 200, url


def test_nav_link_only_for_those_who_may_import(client, executive_user, sales_user):
    link = f'href="{reverse("exchange:imports")}"'
    client.force_login(executive_user)
    assert link in client.get(reverse("analytics:runs")).content.decode()
    client.force_login(sales_user)
    page = client.get(reverse("analytics:runs"))
    assert page.status_code == 200 and link not in page.content.decode()


# the flow --------------------------------------------------------------------------------------


def test_upload_check_confirm_report(client, executive_user, media, upload, confirm):
    CustomerFactory(code="K1")
    client.force_login(executive_user)

    # upload: the file is kept under MEDIA_ROOT and checked (a dry run; tasks run in-process here)
    response = upload(ORDERS_CSV)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert (media / job.file.name).read_text() == ORDERS_CSV
    assert (job.status, job.requested_by, job.size) == (ImportJob.Status.READY, executive_user, len(ORDERS_CSV))
    assert (job.preview["ok"], job.preview["rows"], job.preview["created"], job.preview["updated"]) == (True, 2, 2, 0)
    assert Order.objects.count() == 0
    page = client.get(job.get_absolute_url()).content.decode()
    assert "2 rows are fine: 2 new, 0 updated, 0 unchanged." in page and 'id="confirm-import"' in page

    # confirm: the import runs, then an analysis run is requested
    response = confirm(job)
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.confirmed_by, job.report["created"], job.progress) == (
        ImportJob.Status.SUCCEEDED,
        executive_user,
        2,
        100,
    )
    assert list(Order.objects.order_by("number").values_list("number", "revenue")) == [
        ("SO-1", Decimal("100.00")),
        ("SO-2", Decimal("20.00")),
    ]
    assert job.analysis_run.trigger == AnalysisRun.Trigger.IMPORT
    assert job.analysis_run.requested_by == executive_user

    # the kept report, later
    page = client.get(job.get_absolute_url()).content.decode()
    assert "2 rows imported: 2 new, 0 updated, 0 unchanged." in page
    assert "Monthly order totals were recomputed for 2 customer-months." in page
    assert client.get(reverse("jobs:status", args=["import", job.pk])).json() == {
        "id": job.pk,
        "kind": "import",
        "status": "succeeded",
        "status_label": "Imported",
        "progress": 100,
        "note": "",
        "finished": True,
        "message": "",
    }

    # a second confirm does nothing
    confirm(job)
    assert AnalysisRun.objects.count() == 1 and Order.objects.count() == 2


def test_bad_file_is_listed_and_cannot_be_confirmed(client, executive_user, upload, confirm):
    CustomerFactory(code="K1")
    client.force_login(executive_user)
    upload("number,customer,ordered_on,revenue,cost\nSO-1,K1,2026-01-05,100.00,60.00\nSO-2,K7,2026-02-05,-1,5.00\n")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.INVALID

    page = client.get(job.get_absolute_url()).content.decode()
    assert "2 problems found; nothing was written." in page
    assert "<td>customer</td><td>K7</td><td>Unknown customer code.</td>" in page
    assert "Negative amount: amounts are zero or more." in page
    assert 'id="confirm-import"' not in page

    confirm(job)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID and Order.objects.count() == 0


def test_kept_report_reads_in_the_viewers_language(client, executive_user, upload):
    client.force_login(executive_user)
    upload("number,customer,ordered_on,revenue,cost\nSO-1,K9,2026-01-05,1,1\n")
    job = ImportJob.objects.get()
    client.cookies["django_language"] = "zh-hans"

    page = client.get(job.get_absolute_url()).content.decode()

    # kept as a code, worded when shown: the zh-hans catalogue's words (English until it is merged)
    assert job.preview["problems"][0]["reason"] == "unknown_customer"
    with translation.override("zh-hans"):
        expected = gettext("Unknown customer code.")
    assert '<html lang="zh-hans">' in page and f"<td>{expected}</td>" in page


def test_wrong_header_and_bad_upload(client, executive_user, upload):
    client.force_login(executive_user)
    upload("number,client\nA,B\n")
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.INVALID
    assert (
        "Wrong header: required columns missing: customer, ordered_on, revenue, cost."
        in client.get(job.get_absolute_url()).content.decode()
    )

    response = upload("%PDF", name="scan.pdf")
    assert response.status_code == 400
    assert "“scan.pdf” is not a CSV or XLSX file." in response.content.decode()
    assert ImportJob.objects.count() == 1


def test_upload_over_the_cap_is_refused(client, executive_user, settings, upload):
    settings.IMPORT_MAX_BYTES = 10
    client.force_login(executive_user)
    response = upload(ORDERS_CSV)
    assert response.status_code == 400 and "the limit is 10\xa0bytes" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_failure_while_importing_is_kept_and_rolls_back(client, executive_user, monkeypatch, upload, confirm):
    CustomerFactory(code="K1")
    client.force_login(executive_user)
    upload(ORDERS_CSV)
    job = ImportJob.objects.get()
    from exchange import services

    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "import_file", broken)
    confirm(job)

    job.refresh_from_db()
    assert (job.status, job.error, job.analysis_run) == (ImportJob.Status.FAILED, "RuntimeError: disk on fire", None)
    assert "nothing of the file was written" in client.get(job.get_absolute_url()).content.decode()


def test_list_page_queries_do_not_grow_with_jobs(client, executive_user, django_assert_max_num_queries):
    client.force_login(executive_user)
    for n in range(12):
        a_job(original_name=f"{n}.csv", requested_by=executive_user)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("exchange:imports"))
    assert response.content.decode().count(">11.csv<") == 1


# templates -------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_template_links_on_the_import_page_in_both_languages(client, executive_user, language):
    client.force_login(executive_user)
    client.cookies["django_language"] = language
    page = client.get(reverse("exchange:imports")).content.decode()
    for kind in ("customers", "orders", "invoices", "surveys", "complaints"):
        for file_format in ("csv", "xlsx"):
            assert f'href="{reverse("exchange:template", args=[kind, file_format])}"' in page
    assert f'<html lang="{language}">' in page


def test_templates_are_header_plus_one_row_and_import_cleanly(client, executive_user, tmp_path):
    """Each downloaded template is a valid file: customers first, then the kinds that refer to them.
    Its example industry "Retail" and region are the label of ones that exist: nothing new is made."""
    retail, east = Industry.objects.create(name="零售 Retail"), Region.objects.create(name="华东 East China")
    client.force_login(executive_user)
    for kind in ("customers", "orders", "invoices", "surveys", "complaints"):
        csv_bytes = client.get(reverse("exchange:template", args=[kind, "csv"])).content
        assert csv_bytes.startswith(b"\xef\xbb\xbf") and len(csv_bytes.decode("utf-8-sig").splitlines()) == 2
        xlsx = client.get(reverse("exchange:template", args=[kind, "xlsx"]))
        assert xlsx["Content-Disposition"] == f'attachment; filename="{kind}-template.xlsx"'
        rows = list(load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True))
        assert [list(r) for r in rows] == [list(r) for r in _csv(csv_bytes)]
        path = tmp_path / f"{kind}.csv"
        path.write_bytes(csv_bytes)
        report = import_file(kind=kind, path=str(path))
        assert report.ok and report.created == 1, (kind, report.lines())
        xlsx_path = tmp_path / f"{kind}.xlsx"
        xlsx_path.write_bytes(xlsx.content)
        report = import_file(kind=kind, path=str(xlsx_path))
        assert report.ok and (report.updated, report.unchanged) == (0, 1), (kind, report.lines())
    customer = Customer.objects.get(code="C900001")
    assert (customer.name, customer.industry, customer.region) == ("上海华东贸易有限公司", retail, east)
    assert Industry.objects.count() == 1 and Region.objects.count() == 1


def _csv(data: bytes):
    import csv

    return [[cell or None for cell in row] for row in csv.reader(io.StringIO(data.decode("utf-8-sig")))]
