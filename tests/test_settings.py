"""Deployment settings and static assets."""

import os
import subprocess
import sys
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
