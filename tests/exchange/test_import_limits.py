"""Bad input ends as a refused job with a message, fast, and writes nothing (issue 15): a huge
field, a zip bomb, NUL bytes, too many columns or rows; an unexpected error fails the job
instead of leaving it active; an upload over the limit is refused before its body is read;
uploaded files are deleted after the retention."""

import datetime
import io
import time
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook

from crm.models import Customer, Order
from exchange import services, tasks
from exchange.models import ImportJob
from exchange.services import import_file
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

ORDERS = "number,customer,ordered_on,revenue,cost"
REFUSED_WITHIN = 30  # seconds, the acceptance's bound; each of these takes well under one


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return Path(settings.MEDIA_ROOT)


def workbook_bytes(*rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bomb(path: Path, unpacked_mib: int) -> Path:
    """A small, valid XLSX whose sheet XML is padded with `unpacked_mib` MiB of whitespace between
    elements (legal XML, and as compressible as data gets: about a thousand to one)."""
    real = zipfile.ZipFile(io.BytesIO(workbook_bytes(ORDERS.split(","), ["SO-1", "K1", "2026-01-05", 1, 1])))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bomb:
        for part in real.infolist():
            data = real.read(part)
            if part.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(part, data)
                continue
            head, tail = data.split(b"<sheetData>")
            with bomb.open(part.filename, "w") as sheet:
                sheet.write(head + b"<sheetData>")
                padding = b" " * (1 << 20)
                for _ in range(unpacked_mib):
                    sheet.write(padding)
                sheet.write(tail)
    return path


def refused(path, kind="orders", **kwargs) -> str:
    """Imports the file, and returns the message of the refusal after checking nothing was written."""
    orders, customers = Order.objects.count(), Customer.objects.count()
    started = time.monotonic()
    report = import_file(kind=kind, path=str(path), **kwargs)
    assert time.monotonic() - started < REFUSED_WITHIN
    assert report.file_error is not None and not report.ok, report.lines()
    assert (Order.objects.count(), Customer.objects.count()) == (orders, customers)
    return report.file_error.message()


# each limit ---------------------------------------------------------------------------------------


def test_a_field_over_the_limit(tmp_path):
    """Python's csv module stops at 128 KiB with its own error; a 200 KB value is refused with ours."""
    CustomerFactory(code="K1")
    path = tmp_path / "huge.csv"
    path.write_text(f'{ORDERS}\nSO-1,K1,2026-01-05,1,1\nSO-2,K1,2026-01-05,"{"x" * 200_000}",1\n')
    assert refused(path) == "Line 3 holds a value longer than 32768 characters: is a quotation mark left open?"


def test_a_quotation_mark_left_open_names_the_line_it_opened_on(tmp_path):
    CustomerFactory(code="K1")
    path = tmp_path / "open_quote.csv"
    rows = "".join(f"SO-{n},K1,2026-01-05,1,1\n" for n in range(3, 10_000))
    path.write_text(f'{ORDERS}\nSO-1,K1,2026-01-05,1,1\nSO-2,K1,"2026-01-05,1,1\n{rows}')
    assert refused(path) == "Line 3 holds a value longer than 32768 characters: is a quotation mark left open?"


def test_a_value_at_the_limit_is_fine(csv_file, settings):
    settings.IMPORT_MAX_FIELD_CHARS = 50
    report = import_file(kind="customers", path=csv_file("code,name", f"K1,{'名' * 50}"))
    assert report.ok and Customer.objects.get().name == "名" * 50
    assert refused(csv_file("code,name", f"K2,{'名' * 51}", name="b.csv"), kind="customers") == (
        "Line 2 holds a value longer than 50 characters: is a quotation mark left open?"
    )


def test_a_zip_bomb_is_refused_from_the_zip_directory_without_opening_it(tmp_path, monkeypatch):
    bomb = zip_bomb(tmp_path / "bomb.xlsx", unpacked_mib=64)
    assert bomb.stat().st_size < 200_000  # 64 MiB of sheet in a file this small

    def must_not_open(*args, **kwargs):
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr("openpyxl.load_workbook", must_not_open)
    message = refused(bomb)
    assert message.startswith("The workbook unpacks to ") and message.endswith(
        " times its size, more than a real workbook does (at most 100 times); it was not opened."
    )


def test_a_workbook_unpacking_past_the_limit(tmp_path, settings):
    settings.IMPORT_MAX_XLSX_UNPACKED_BYTES = 1 << 20
    bomb = zip_bomb(tmp_path / "big.xlsx", unpacked_mib=2)
    assert refused(bomb).endswith("; the limit is 1048576 bytes.")
    assert refused(bomb).startswith("The workbook unpacks to 2")


def test_a_real_workbook_is_packed_far_less_tightly_than_the_ratio_allows(tmp_path):
    """A sheet of many similar rows, as exports are: about ten to one, well under the limit of 100."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(ORDERS.split(","))
    for n in range(8_000):
        sheet.append([f"SO-{n:07d}", "K1", datetime.date(2026, 1, 1) + datetime.timedelta(days=n % 300), 10.5, 3])
    path = tmp_path / "orders.xlsx"
    workbook.save(path)
    sheet = zipfile.ZipFile(path).getinfo("xl/worksheets/sheet1.xml")
    assert sheet.file_size > (1 << 20) and sheet.file_size / sheet.compress_size < 20


def test_nul_bytes_past_the_start_of_the_file(tmp_path):
    CustomerFactory(code="K1")
    rows = "".join(f"SO-{n},K1,2026-01-05,1,1\n" for n in range(500))  # past the first 8 KiB
    path = tmp_path / "nul.csv"
    path.write_bytes(f"{ORDERS}\n{rows}".encode() + b"SO-X,K1,2026-01-05,1\x00,1\n")
    assert refused(path) == (
        "The file holds a NUL byte (line 502), so it is not plain text: save it again as CSV or XLSX."
    )


def test_nul_bytes_at_the_start_are_not_a_csv(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"number,customer\x00\n")
    assert refused(path) == "“nul.csv” is not a CSV or XLSX file."


def test_a_bom_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\xef\xbb\xbfcode,name\nK1," + "甲".encode("gb18030") + b"\n")
    assert refused(path, kind="customers") == "The file is not text in UTF-8 or GB18030/GBK."


def test_too_many_columns_in_the_header_or_a_row(csv_file, xlsx_file, settings):
    settings.IMPORT_MAX_COLUMNS = 10
    CustomerFactory(code="K1")
    wide = ",".join(f"c{n}" for n in range(12))
    assert refused(csv_file(wide, "1", name="a.csv")) == "Line 1 has more than 10 columns."
    path = csv_file(ORDERS, "SO-1,K1,2026-01-05,1,1" + "," * 20, "SO-2,K1,2026-01-05,1,1" + ",x" * 8, name="b.csv")
    assert refused(path) == "Line 3 has more than 10 columns."  # empty cells past the limit are no columns
    path = xlsx_file(ORDERS.split(","), ["SO-1", "K1", "2026-01-05", 1, 1, *([None] * 6), "x"])
    assert refused(path) == "Line 2 has more than 10 columns."


def test_too_many_rows(csv_file, xlsx_file, settings):
    settings.IMPORT_MAX_ROWS = 3
    CustomerFactory(code="K1")
    rows = [f"SO-{n},K1,2026-01-05,1,1" for n in range(4)]
    assert refused(csv_file(ORDERS, *rows)) == "The file has more than 3 rows: split it into smaller files."
    assert refused(xlsx_file(ORDERS.split(","), *[row.split(",") for row in rows])) == (
        "The file has more than 3 rows: split it into smaller files."
    )
    report = import_file(kind="orders", path=csv_file(ORDERS, rows[0], "", rows[1], "", rows[2], name="blank.csv"))
    assert report.ok  # blank lines are no rows


def test_a_long_xlsx_cell(xlsx_file, settings):
    settings.IMPORT_MAX_FIELD_CHARS = 100
    path = xlsx_file(["code", "name"], ["K1", "名" * 101])
    assert refused(path, kind="customers") == (
        "Line 2 holds a value longer than 100 characters: is a quotation mark left open?"
    )


# as jobs of the import page ----------------------------------------------------------------------


def a_job(name: str, content: bytes, kind="orders") -> ImportJob:
    job = ImportJob(kind=kind, original_name=name, size=len(content))
    job.file.save(name, ContentFile(content), save=False)
    job.save()
    return job


def bad_inputs(tmp_path) -> dict[str, bytes]:
    bomb = zip_bomb(tmp_path / "bomb.xlsx", unpacked_mib=64).read_bytes()
    rows = "".join(f"SO-{n},K1,2026-01-05,1,1\n" for n in range(500))
    return {
        "huge_field.csv": f'{ORDERS}\nSO-1,K1,2026-01-05,"{"x" * 200_000}",1\n'.encode(),
        "bomb.xlsx": bomb,
        "nul.csv": f"{ORDERS}\n{rows}".encode() + b"SO-X,K1,\x00,1,1\n",
        "wide.csv": (",".join(f"c{n}" for n in range(150)) + "\n1\n").encode(),
    }


@pytest.mark.parametrize("name", ["huge_field.csv", "bomb.xlsx", "nul.csv", "wide.csv", "many_rows.csv"])
def test_each_bad_input_ends_as_a_refused_job_with_a_message(client, executive_user, tmp_path, settings, name):
    CustomerFactory(code="K1")
    files = bad_inputs(tmp_path)
    if name == "many_rows.csv":
        settings.IMPORT_MAX_ROWS = 100
        files[name] = (ORDERS + "\n" + "".join(f"SO-{n},K1,2026-01-05,1,1\n" for n in range(101))).encode()
    job = a_job(name, files[name])
    started = time.monotonic()

    services.import_job_check(job_id=job.pk)

    assert time.monotonic() - started < REFUSED_WITHIN
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID and not job.in_progress
    assert job.preview["file_error"]["code"] in {
        "field_too_long",
        "xlsx_too_compressed",
        "nul_bytes",
        "too_many_columns",
        "too_many_rows",
    }
    assert Order.objects.count() == 0
    client.force_login(executive_user)
    page = client.get(job.get_absolute_url()).content.decode()
    assert "data-file-error" in page and 'id="confirm-import"' not in page


def test_an_unexpected_error_in_the_check_fails_the_job(client, executive_user, monkeypatch):
    job = a_job("orders.csv", f"{ORDERS}\nSO-1,K1,2026-01-05,1,1\n".encode())

    def broken(**kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(services, "import_file", broken)
    services.import_job_check(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.error, job.in_progress) == (ImportJob.Status.FAILED, "MemoryError: out of memory", False)
    client.force_login(executive_user)
    assert "nothing of the file was written" in client.get(job.get_absolute_url()).content.decode()
    assert client.get(reverse("jobs:status", args=["import", job.pk])).json()["finished"] is True


def test_a_job_whose_check_was_redelivered_after_it_ended_stays_ended(tmp_path):
    job = a_job("nul.csv", bad_inputs(tmp_path)["nul.csv"])
    assert tasks.check_import(job.pk) == ImportJob.Status.INVALID
    assert tasks.check_import(job.pk) == "nothing to do"
    job.refresh_from_db()
    assert job.status == ImportJob.Status.INVALID


# the upload --------------------------------------------------------------------------------------

BOUNDARY = "----limit"


def multipart_start() -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\norders\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\nnumber,customer\r\n"
    ).encode()


def post_declaring(client, url: str, length: int):
    """A POST that says it carries `length` bytes but holds a few hundred: reading past them fails
    the test (the test client's payload refuses), so an answer proves the body was not read."""
    return client.generic(
        "POST",
        url,
        multipart_start(),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(length),
    )


def test_an_upload_over_the_limit_is_refused_before_its_body_is_read(client, executive_user):
    client.force_login(executive_user)

    response = post_declaring(client, reverse("exchange:imports"), 300 * 1024 * 1024)

    assert response.status_code == 413
    limit = django_settings.IMPORT_MAX_BYTES // (1024 * 1024)
    assert f"The file is 300.0\xa0MB; the limit is {limit}.0\xa0MB." in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_an_oversized_body_is_not_read_on_any_other_page_either(executive_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(executive_user)
    response = post_declaring(client, reverse("crm:customer_list"), 300 * 1024 * 1024)
    assert response.status_code in (403, 405)  # refused, and the 300 MB never read


def test_an_upload_under_the_limit_still_needs_its_csrf_token(executive_user, csv_file):
    client = Client(enforce_csrf_checks=True)
    client.force_login(executive_user)
    with open(csv_file(ORDERS, "SO-1,K1,2026-01-05,1,1"), "rb") as file:
        response = client.post(reverse("exchange:imports"), {"kind": "orders", "file": file})
    assert response.status_code == 403 and ImportJob.objects.count() == 0


# retention ---------------------------------------------------------------------------------------


def test_uploaded_files_are_deleted_after_the_retention(client, executive_user, media, settings):
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    content = f"{ORDERS}\nSO-1,K1,2026-01-05,1,1\n".encode()
    done = a_job("done.csv", content)
    waiting = a_job("waiting.csv", content)
    checking = a_job("checking.csv", content)
    recent = a_job("recent.csv", content)
    ImportJob.objects.filter(pk=done.pk).update(status=ImportJob.Status.SUCCEEDED, report={"rows": 1})
    ImportJob.objects.filter(pk=waiting.pk).update(status=ImportJob.Status.READY)
    ImportJob.objects.filter(pk=checking.pk).update(status=ImportJob.Status.CHECKING)
    old = timezone.now() - datetime.timedelta(days=31)
    ImportJob.objects.exclude(pk=recent.pk).update(created_at=old)
    paths = {job.pk: Path(job.file.path) for job in (done, waiting, checking, recent)}

    assert tasks.purge_import_files() == 2

    states = {job.pk: (job.status, job.file.name) for job in ImportJob.objects.all()}
    assert states[done.pk] == (ImportJob.Status.SUCCEEDED, "")
    assert states[waiting.pk] == (ImportJob.Status.FAILED, "")
    assert states[checking.pk][1] and states[recent.pk][1]  # under way, or young: kept
    assert [paths[pk].exists() for pk in (done.pk, waiting.pk, checking.pk, recent.pk)] == [False, False, True, True]
    assert ImportJob.objects.get(pk=done.pk).report == {"rows": 1}  # the report stays

    client.force_login(executive_user)
    page = client.get(waiting.get_absolute_url()).content.decode()
    assert "The uploaded file was deleted after 30 days, as every upload is: upload it again." in page
    assert "Deleted: uploads are kept for a limited time." in page
    assert tasks.purge_import_files() == 0


def test_the_purge_runs_daily_from_beat():
    schedule = django_settings.CELERY_BEAT_SCHEDULE["exchange-purge-import-files"]
    assert schedule["task"] == tasks.purge_import_files.name == "exchange.purge_import_files"
