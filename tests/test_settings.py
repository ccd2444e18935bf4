"""Deployment settings and static assets."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import plotly
import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

ROOT = Path(settings.BASE_DIR)


def test_production_settings_pass_check_deploy_without_warnings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "x7Qp2-" * 10,
        "DJANGO_ALLOWED_HOSTS": "crm.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert (result.returncode, result.stderr.strip(), result.stdout.strip()) == (
        0,
        "",
        "System check identified no issues (0 silenced).",
    )


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "Set the DJANGO_SECRET_KEY environment variable" in result.stderr


def test_plotly_js_comes_from_the_installed_package():
    found = Path(finders.find("vendor/plotly.min.js"))
    assert found == Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert not list((ROOT / "static").rglob("plotly*.js")), "plotly.js must not be committed"


@pytest.mark.django_db
def test_plotly_js_is_served(client, sales_user):
    client.force_login(sales_user)
    response = client.get(settings.STATIC_URL + "vendor/plotly.min.js")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert b"plotly.js" in body[:2000]


@pytest.mark.django_db
def test_health_endpoint_answers_without_login(client):
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_make_run_hands_jobs_to_a_worker_through_a_folder(tmp_path):
    """`make run` without Redis: CELERY_BROKER_URL=filesystem:// makes tasks leave the web process as
    files (not run in the request), and a worker started as the Procfile starts it picks them up."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "CELERY_BROKER_URL": "filesystem://localhost/",
        "BROKER_FOLDER": str(tmp_path / "broker"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    send = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from config.celery import app\n"
        "print(settings.CELERY_TASK_ALWAYS_EAGER)\n"
        "app.send_task('celery.accumulate', args=[7, 8])\n"
    )
    sent = subprocess.run([sys.executable, "-c", send], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert (sent.returncode, sent.stdout.strip()) == (0, "False"), sent.stderr
    queue = tmp_path / "broker" / "queue"
    assert len(list(queue.iterdir())) == 1  # the message waits, as a file, for a worker

    celery = Path(sys.executable).with_name("celery")
    worker = subprocess.Popen(
        [str(celery), "-A", "config", "worker", "--pool", "solo", "--loglevel", "INFO", "--without-mingle"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(90, worker.kill)  # a worker that never runs it fails the test, not hangs it
    watchdog.start()
    try:
        output = ""
        for line in worker.stdout:  # ends when the worker stops; the test stops it once the task ran
            output += line
            if "celery.accumulate" in line and "succeeded" in line:
                break
    finally:
        watchdog.cancel()
        worker.terminate()
        worker.wait(timeout=30)
    assert "succeeded" in output and "(7, 8)" in output, output
    assert list(queue.iterdir()) == []
