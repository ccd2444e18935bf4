"""One background-job mechanism (core.models.Job, core.jobs): analysis runs and imports share one
status endpoint with each kind's permissions, one progress bar, one takeover of a job whose worker
died and one progress writer."""

import ast
import datetime
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from analytics.models import AnalysisRun
from analytics.services import runs
from core import jobs
from core.models import Job
from crm.models import Customer
from crm.roles import Role
from exchange import services as imports
from exchange.models import ImportJob
from tests.factories import CustomerFactory, OrderFactory

committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)
T0 = datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.UTC)


def a_run(status=AnalysisRun.Status.QUEUED, **fields) -> AnalysisRun:
    run, created = runs.run_request(trigger=AnalysisRun.Trigger.MANUAL, enqueue=False)
    assert created
    AnalysisRun.objects.filter(pk=run.pk).update(status=status, **fields)
    run.refresh_from_db()
    return run


def an_import(status=ImportJob.Status.UPLOADED, **fields) -> ImportJob:
    defaults = {"kind": "orders", "original_name": "x.csv", "file": "imports/x.csv"}
    return ImportJob.objects.create(**{**defaults, **fields}, status=status)


MAKE = {"run": a_run, "import": an_import}


def status_url(kind: str, pk: int) -> str:
    return reverse("jobs:status", kwargs={"kind": kind, "pk": pk})


@pytest.fixture
def clock(monkeypatch):
    """timezone.now() stands still at T0 until told to move."""

    class Clock:
        now = T0

        def advance(self, seconds: float) -> None:
            self.now += datetime.timedelta(seconds=seconds)

    frozen = Clock()
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


# the one record ---------------------------------------------------------------------------------


def test_runs_and_imports_are_one_kind_of_record():
    assert issubclass(AnalysisRun, Job) and issubclass(ImportJob, Job) and Job._meta.abstract
    shared = {"status", "requested_by", "progress", "progress_note", "error", "created_at", "started_at"}
    shared |= {"finished_at", "heartbeat_at"}
    for model in (AnalysisRun, ImportJob):
        assert shared <= {field.name for field in model._meta.fields}, model
    assert {(kind.name, kind.model) for kind in jobs._kinds} >= {("run", AnalysisRun), ("import", ImportJob)}
    assert jobs.kind_of(AnalysisRun()) is runs.JOB_KIND and jobs.kind_of(ImportJob()) is imports.JOB_KIND


# the one status endpoint: who may see which kind ------------------------------------------------

# role -> (run, import): a run's status for those who read runs (sales, executives, admins), an
# import's for those who import (executives, admins).
WHO_SEES = {
    "sales": (200, 403),
    "service": (403, 403),
    "executive": (200, 200),
    "admin": (200, 200),
}


@pytest.fixture
def user_of(make_user):
    def make(role: str):
        if role == "admin":
            return make_user(None, username="root-jobs", is_staff=True, is_superuser=True)
        return make_user({"sales": Role.SALES, "service": Role.SERVICE, "executive": Role.EXECUTIVE}[role])

    return make


@pytest.mark.django_db
@pytest.mark.parametrize("role", list(WHO_SEES))
def test_every_role_gets_each_kind_of_job_status_as_its_permission_says(client, user_of, role):
    run = a_run(AnalysisRun.Status.RUNNING, progress=40, progress_note="scoring")
    job = an_import(ImportJob.Status.CHECKING, progress=20, progress_note="checking")
    client.force_login(user_of(role))
    run_status, import_status = WHO_SEES[role]

    response = client.get(status_url("run", run.pk))
    assert response.status_code == run_status
    if run_status == 200:
        assert response.json() == {
            "id": run.pk,
            "kind": "run",
            "status": "running",
            "status_label": "Running",
            "progress": 40,
            "note": "scoring",
            "finished": False,
            "message": "",
        }
    response = client.get(status_url("import", job.pk))
    assert response.status_code == import_status
    if import_status == 200:
        assert response.json() == {
            "id": job.pk,
            "kind": "import",
            "status": "checking",
            "status_label": "Checking",
            "progress": 20,
            "note": "checking",
            "finished": False,
            "message": "",
        }
    # A job that does not exist: those who may not see the kind learn nothing (403 before any lookup).
    for kind, expected in (("run", run_status), ("import", import_status)):
        assert client.get(status_url(kind, 999999)).status_code == (404 if expected == 200 else 403)


@pytest.mark.django_db
def test_an_unknown_kind_is_not_found_and_anonymous_users_go_to_the_login(client, admin_user_):
    run = a_run()
    response = client.get(status_url("run", run.pk))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    client.force_login(admin_user_)
    assert client.get(status_url("mail", run.pk)).status_code == 404


@pytest.mark.django_db
def test_a_kind_may_narrow_who_sees_which_job(client, make_user, monkeypatch):
    # What the what-if and mail jobs will do: each person sees their own.
    mine, other = make_user(Role.EXECUTIVE, username="me"), make_user(Role.EXECUTIVE, username="other")
    job = an_import(requested_by=other)
    narrowed = jobs.JobKind(**{**imports.JOB_KIND.__dict__, "may_see": lambda user, job: job.requested_by == user})
    monkeypatch.setattr(jobs, "_kinds", [narrowed if kind.name == "import" else kind for kind in jobs._kinds])
    client.force_login(mine)
    assert client.get(status_url("import", job.pk)).status_code == 403
    client.force_login(other)
    assert client.get(status_url("import", job.pk)).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["run", "import"])
def test_finished_when_no_longer_under_way(client, admin_user_, kind):
    client.force_login(admin_user_)
    statuses = {
        "run": {"queued": False, "running": False, "succeeded": True, "failed": True},
        "import": {
            "uploaded": False,
            "checking": False,
            "ready": True,  # waits for a person: the page shows the check
            "invalid": True,
            "queued": False,
            "running": False,
            "succeeded": True,
            "failed": True,
        },
    }[kind]
    for status, finished in statuses.items():
        job = MAKE[kind](status)
        assert client.get(status_url(kind, job.pk)).json()["finished"] is finished, status
        job.delete()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["run", "import"])
@pytest.mark.parametrize(
    ("error", "chinese"),
    [
        (jobs.NOT_SENT, "任务队列没有响应，因此未能开始。"),
        (jobs.WORKER_STOPPED, "执行此任务的工作进程已停止（有一段时间没有任何响应），此任务已放弃。请重新开始。"),
    ],
)
def test_why_a_job_failed_is_told_in_the_readers_language(client, admin_user_, kind, error, chinese):
    job = MAKE[kind]("failed", error=error)
    client.force_login(admin_user_)
    assert client.get(status_url(kind, job.pk)).json()["message"] == str(error)
    status = client.get(status_url(kind, job.pk), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert status["message"].startswith(chinese) and status["status_label"] == "失败"


@pytest.mark.django_db
def test_a_jobs_own_error_is_left_to_its_page(client, admin_user_):
    job = an_import("failed", error="MemoryError: out of memory")
    client.force_login(admin_user_)
    assert client.get(status_url("import", job.pk)).json()["message"] == ""


# the one progress bar ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_runs_and_imports_show_the_same_progress_bar(client, executive_user):
    run = a_run(AnalysisRun.Status.RUNNING, progress=40, progress_note="scoring")
    job = an_import(ImportJob.Status.CHECKING, progress=20, progress_note="checking")
    client.force_login(executive_user)
    for page, url in (
        (reverse("analytics:runs"), status_url("run", run.pk)),
        (reverse("analytics:dashboard"), status_url("run", run.pk)),
        (job.get_absolute_url(), status_url("import", job.pk)),
    ):
        html = client.get(page).content.decode()
        assert f'class="run-progress job-progress" data-status-url="{url}"' in html, page
        assert "js/job_progress.js" in html, page
    html = client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "检查中 · 20% 检查中" in html


@pytest.mark.django_db
def test_an_import_page_says_why_its_job_was_given_up_in_the_readers_language(client, executive_user):
    job = an_import("failed", error=jobs.WORKER_STOPPED)
    client.force_login(executive_user)
    html = client.get(job.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "执行此任务的工作进程已停止" in html and jobs.WORKER_STOPPED not in html
    assert "job-progress" not in html  # finished: no bar


def test_the_progress_script_polls_the_one_endpoint_and_shows_the_result_when_done():
    script = (Path(django_settings.BASE_DIR) / "static" / "js" / "job_progress.js").read_text()
    assert "dataset.statusUrl" in script and "job.finished" in script and "window.location.reload()" in script
    assert "job.message" in script


# the one takeover ---------------------------------------------------------------------------------

# kind -> (the job kind, the status a worker takes it from, the status it takes it to)
STEPS = [
    ("run", runs.JOB_KIND, AnalysisRun.Status.QUEUED, AnalysisRun.Status.RUNNING),
    ("import", imports.JOB_KIND, ImportJob.Status.UPLOADED, ImportJob.Status.CHECKING),
    ("import", imports.JOB_KIND, ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "job_kind", "waiting", "to"), STEPS)
def test_one_takeover_claims_a_waiting_job_once_and_takes_over_one_whose_worker_died(
    clock, settings, kind, job_kind, waiting, to
):
    job = MAKE[kind](waiting)
    claimed = job_kind.claim(job.pk, waiting=waiting, to=to)
    assert (claimed.status, claimed.progress, claimed.progress_note) == (to, 0, "started")
    assert claimed.started_at == claimed.heartbeat_at == T0
    # a second worker (a redelivered message) finds it taken while its worker beats
    assert job_kind.claim(job.pk, waiting=waiting, to=to) is None
    jobs.write_progress(job_kind.model, job.pk, 60, "writing")
    clock.advance(settings.JOB_STALE_SECONDS)
    assert job_kind.claim(job.pk, waiting=waiting, to=to) is None  # not yet silent for longer than the window
    # its worker died: silent for longer than JOB_STALE_SECONDS, the next one takes it over and starts again
    clock.advance(1)
    taken = job_kind.claim(job.pk, waiting=waiting, to=to)
    assert (taken.status, taken.progress, taken.progress_note) == (to, 0, "started")
    assert taken.started_at == taken.heartbeat_at == clock.now
    assert job_kind.claim(job.pk, waiting=waiting, to=to) is None


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "job_kind", "waiting", "to"), STEPS)
def test_one_takeover_leaves_finished_jobs_alone(kind, job_kind, waiting, to):
    for status in ("succeeded", "failed"):
        job = MAKE[kind](status)
        assert job_kind.claim(job.pk, waiting=waiting, to=to) is None
        job.refresh_from_db()
        assert job.status == status
        job.delete()
    assert job_kind.claim(999999, waiting=waiting, to=to) is None


@pytest.mark.django_db
def test_a_later_step_of_an_import_keeps_its_start(clock):
    job = an_import(ImportJob.Status.QUEUED, started_at=T0 - datetime.timedelta(hours=1))
    assert imports.JOB_KIND.claim(job.pk, waiting="queued", to="running").started_at == T0 - datetime.timedelta(hours=1)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["run", "import"])
def test_one_give_up_for_a_running_job_whose_worker_is_silent(clock, settings, kind):
    job_kind = jobs.kind_named(kind)
    job = MAKE[kind]("running", heartbeat_at=T0)
    assert job_kind.give_up_if_stale(job) is False
    clock.advance(settings.JOB_STALE_SECONDS + 1)
    assert job_kind.give_up_if_stale(job) is True
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", jobs.WORKER_STOPPED)
    assert job_kind.give_up_if_stale(job) is False  # once


@pytest.mark.django_db
def test_a_recompute_gives_up_a_run_whose_worker_is_silent_and_starts_another(clock, settings):
    dead = a_run(AnalysisRun.Status.RUNNING, heartbeat_at=T0)
    clock.advance(settings.JOB_STALE_SECONDS + 1)
    run, created = runs.run_request(trigger=AnalysisRun.Trigger.MANUAL, enqueue=False)
    dead.refresh_from_db()
    assert created and run.pk != dead.pk and (dead.status, dead.error) == ("failed", jobs.WORKER_STOPPED)


@pytest.mark.django_db
def test_a_check_redelivered_after_its_worker_died_is_taken_over_and_done(clock, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    path = tmp_path / "imports" / "orders.csv"
    path.parent.mkdir()
    path.write_text("number,customer,ordered_on,revenue,cost\nSO-1,K1,2026-01-05,100.00,60.00\n")
    CustomerFactory(code="K1")
    job = an_import(ImportJob.Status.CHECKING, heartbeat_at=T0, file="imports/orders.csv")
    assert imports.import_job_check(job_id=job.pk) is None  # its worker still beats
    clock.advance(settings.JOB_STALE_SECONDS + 1)
    done = imports.import_job_check(job_id=job.pk)
    assert (done.status, done.preview["created"]) == (ImportJob.Status.READY, 1)


# the one progress writer --------------------------------------------------------------------------


@pytest.mark.django_db
def test_runs_and_imports_write_their_progress_through_the_one_writer(monkeypatch, settings, tmp_path):
    written = []
    monkeypatch.setattr(jobs, "write_progress", lambda model, pk, *step: written.append((model, pk, *step)))
    OrderFactory(customer=CustomerFactory(code="K1"), ordered_on=datetime.date.today() - datetime.timedelta(days=3))
    run = a_run()
    runs.run_compute(run_id=run.pk)
    assert [step for step in written if step[:2] == (AnalysisRun, run.pk) and step[3] == "scoring"], written

    settings.MEDIA_ROOT = str(tmp_path)
    (tmp_path / "imports").mkdir()
    (tmp_path / "imports" / "c.csv").write_text("code,name\nK2,乙\n")
    job = an_import(ImportJob.Status.QUEUED, kind="customers", file="imports/c.csv")
    assert imports.import_job_run(job_id=job.pk).status == ImportJob.Status.SUCCEEDED
    assert (ImportJob, job.pk, 95, "finishing") in written


@committed
@pytest.mark.parametrize("kind", ["run", "import"])
def test_the_writer_writes_the_row_by_its_key_only_and_the_latest_step(kind):
    job = MAKE[kind]("running")
    writer = jobs.kind_named(kind).progress_writer(job)
    for percent in range(1, 101):
        writer(percent, "writing")
    writer.close()
    # the caller's object, which belongs to the caller's thread, is not touched; the row has the last step
    assert (job.progress, job.progress_note, job.heartbeat_at) == (0, "", None)
    row = type(job).objects.get(pk=job.pk)
    assert (row.progress, row.progress_note) == (100, "writing") and row.heartbeat_at is not None


def elsewhere(read):
    """`read()` on another thread, so on another database connection."""
    result = []

    def target():
        try:
            result.append(read())
        finally:
            connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return result[0]


@pytest.mark.postgres
@committed
@pytest.mark.parametrize("kind", ["run", "import"])
def test_the_progress_shows_while_the_jobs_own_transaction_is_open(kind):
    job = MAKE[kind]("running")
    model = type(job)
    with jobs.kind_named(kind).progress_writer(job) as writer, transaction.atomic():
        CustomerFactory(code="K-in-the-transaction")  # the job's own writes, not committed yet
        writer(30, "writing")
        deadline = time.monotonic() + 5
        while elsewhere(lambda: model.objects.values_list("progress", flat=True).get(pk=job.pk)) != 30:
            assert time.monotonic() < deadline, "the progress never showed"
            time.sleep(0.05)
        # ... while the job's own writes are still unseen: its transaction is open
        assert not elsewhere(lambda: Customer.objects.filter(code="K-in-the-transaction").exists())


# no import cycles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module",
    [
        "core/jobs.py",
        "core/models.py",
        "core/views.py",
        "core/tasks.py",
        "exchange/services.py",
        "exchange/tasks.py",
        "exchange/orders_pg.py",
        "exchange/rows.py",
        "exchange/readers.py",
        "exchange/views.py",
        "analytics/tasks.py",
    ],
)
def test_the_job_modules_import_at_the_top_only(module):
    """Imports inside functions hid the cycles exchange services -> orders_pg -> services and
    services -> tasks; each module now imports what it uses at its top."""
    tree = ast.parse((Path(django_settings.BASE_DIR) / module).read_text())
    inner = [
        f"line {node.lineno}"
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert inner == []
