"""Benchmark: the executive reports at 100,000 customers on PostgreSQL.

Usage (see bench/README.md; the bench database must hold a published analysis run):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench flock /tmp/bench.lock .venv/bin/python bench/reports.py [--no-browser]

Measures, as the `executive` user:
1. the first request of each report section after publication (builds and stores its charts),
   and the same done ahead by `report_charts_warm` (every chart, both languages),
2. the median server time of each section page and of the profit-vs-volume JSON afterwards
   (Django's test client in-process, 30 requests after 3 warm-ups, DEBUG off),
3. the profit-vs-volume payload size (as sent, and gzip-compressed for reference),
4. with a browser: headless Chromium (Debian's, through selenium) against a local server: time from
   navigation until the profit-vs-volume chart has drawn every point.
Prints a markdown table.
"""

import argparse
import gzip
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402

from analytics.models import CustomerResult, RunChart  # noqa: E402
from analytics.selectors import report_charts_warm  # noqa: E402
from analytics.services.runs import published_run  # noqa: E402

RUNS, WARM_UPS = 30, 3
# Where the browser's time goes (ms from navigation start): the HTML, plotly.js, the points, our marks.
TIMELINE = """
var out = {html: Math.round(performance.getEntriesByType('navigation')[0].responseEnd)};
performance.getEntriesByType('resource').forEach(function (r) {
  if (r.name.indexOf('plotly.min.js') >= 0) { out.plotly_js_loaded = Math.round(r.responseEnd); }
  if (r.name.indexOf('profit-volume.json') >= 0) { out.points_downloaded = Math.round(r.responseEnd); }
});
performance.getEntriesByType('mark').forEach(function (m) { out[m.name] = Math.round(m.startTime); });
return out;
"""
SECTIONS = ("value", "tiers", "trends", "service")


def median_ms(client: Client, url: str) -> tuple[float, int, int]:
    for _ in range(WARM_UPS):
        assert client.get(url).status_code == 200, url
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return statistics.median(times), len(queries), len(response.content)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def browser_draw_seconds(user, port: int) -> tuple[float, float, int]:
    """Serves the app with runserver (DEBUG off, static files through whitenoise's finders) and
    times headless Chromium from navigation until the chart reports every point drawn."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}  # DEBUG off, whitenoise serves the finders
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-unsafe-swiftshader",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
    ):
        options.add_argument(argument)
    driver = None
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.2)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        base = f"http://127.0.0.1:{port}"
        driver.get(base + "/healthz")
        driver.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "path": "/"})
        times, points = [], 0
        for attempt in range(4):
            if attempt == 0:  # cold: nothing cached (plotly.js and the points both downloaded)
                driver.execute_cdp_cmd("Network.clearBrowserCache", {})
            driver.get(base + reverse("analytics:reports"))
            WebDriverWait(driver, 60, poll_frequency=0.05).until(
                lambda d: d.execute_script(
                    "var e = document.getElementById('profit-volume'); return e && e.dataset.drawn;"
                )
            )
            timeline = driver.execute_script(TIMELINE)
            # the page has finished drawing when the last of its figures has: the small ones or the points
            times.append(max(timeline["reports:figures-drawn"], timeline["reports:points-drawn"]) / 1000)
            print(("cold" if attempt == 0 else "warm"), "load, ms after navigation start:", timeline)
            points = int(driver.execute_script("return document.getElementById('profit-volume').dataset.points"))
        return times[0], statistics.median(times[1:]), points
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=10)
        session.delete()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    assert connection.vendor == "postgresql", "run against the bench PostgreSQL database"
    run = published_run()
    assert run is not None, "publish an analysis run first (manage.py recompute)"
    user = get_user_model().objects.get(username="executive")
    client = Client()
    client.force_login(user)
    customers = CustomerResult.objects.filter(run=run).count()
    plotted = CustomerResult.objects.filter(run=run).exclude(tier="P").count()
    print(f"run #{run.pk} as of {run.as_of}: {customers:,} customers, {plotted:,} with orders (plotted)\n")

    RunChart.objects.filter(run=run).delete()  # measure the first build as after a fresh publication
    rows = []
    for section in SECTIONS:
        url = reverse("analytics:report_section", args=[section])
        started = time.perf_counter()
        assert client.get(url).status_code == 200
        rows.append((f"first request, {section} (builds and stores)", (time.perf_counter() - started) * 1000, "", ""))
    url = reverse("analytics:report_profit_volume")
    started = time.perf_counter()
    response = client.get(url)
    rows.append(("first request, profit-vs-volume JSON (builds)", (time.perf_counter() - started) * 1000, "", ""))
    body = response.content
    payload = json.loads(body)
    assert payload["points"]["count"] == plotted, (payload["points"]["count"], plotted)
    RunChart.objects.filter(run=run).delete()
    started = time.perf_counter()
    built = report_charts_warm(run=run)
    rows.append(
        (f"warming after publication: {built} charts, both languages", (time.perf_counter() - started) * 1000, "", "")
    )
    for section in SECTIONS:
        ms, queries, size = median_ms(client, reverse("analytics:report_section", args=[section]))
        rows.append((f"report page {section}: median", ms, queries, f"{size / 1024:.0f} KB"))
    ms, queries, size = median_ms(client, url)
    rows.append(("profit-vs-volume JSON: median", ms, queries, f"{size / 1024:.0f} KB"))

    print("| request | ms | queries | response |")
    print("|---|---:|---:|---:|")
    for name, ms, queries, size in rows:
        print(f"| {name} | {ms:,.0f} | {queries} | {size} |")
    print(
        f"\nprofit-vs-volume payload: {len(body):,} bytes ({len(body) / 1e6:.2f} MB), "
        f"gzip {len(gzip.compress(body)):,} bytes; {payload['points']['count']:,} points"
    )
    if not args.no_browser:
        cold, warm, points = browser_draw_seconds(user, free_port())
        print(
            f"headless Chromium, navigation start until every figure has drawn ({points:,} points): "
            f"cold cache {cold:.2f} s, then median of 3 {warm:.2f} s; load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores"
        )


if __name__ == "__main__":
    main()
