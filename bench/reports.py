"""Benchmark: the executive reports at 100,000 customers on PostgreSQL.

Usage (see bench/README.md; the bench database must hold a published analysis run):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench flock /tmp/bench.lock .venv/bin/python bench/reports.py \
        [--no-browser] [--cold-loads 7]

Measures, as the `executive` user:
1. the first request of each report section after publication (builds and stores its charts),
   and the same done ahead by `report_charts_warm` (every chart, both languages),
2. the median server time of each section page and of the profit-vs-volume JSON afterwards
   (Django's test client in-process, 30 requests after 3 warm-ups, DEBUG off),
3. the profit-vs-volume payload size (as sent, and gzip-compressed for reference),
4. with a browser (issue 17.6): headless Chromium (Debian's, through selenium) against gunicorn with
   config/gunicorn.conf.py and the production settings (collectstatic'd hashed, compressed files
   served by whitenoise), as bench/load.py serves it: --cold-loads loads of the value report each
   with the browser's cache emptied, then 3 warm; each from navigation start until every figure has
   drawn (performance marks in static/js/reports.js), its first paint and the bytes transferred.
5. with --floor N (instead of the above): the floor of a cold load, N new browsers each opening a page
   with only plotly.js and one plot (empty, then with as many WebGL points as the run plots).
Prints markdown tables, with the load average (the machine is shared).
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
# The session made here must be valid for gunicorn: the same key signs it in both.
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-load-only-not-a-secret")

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
from bench.load import OUT, wait_for  # noqa: E402

STATIC_ROOT = OUT / "static"  # collectstatic's output for the production server (git-ignored)

RUNS, WARM_UPS = 30, 3
# Where the browser's time goes (ms from navigation start): the HTML, first paint, plotly.js, the
# points, our marks; and the bytes each resource took on the wire (transferSize: headers and the
# compressed body) and once decoded.
TIMELINE = """
var nav = performance.getEntriesByType('navigation')[0];
var out = {html: Math.round(nav.responseEnd), server: Math.round(nav.responseStart - nav.requestStart)};
var bytes = {transferred: nav.transferSize, by_resource: {page: [nav.transferSize, nav.decodedBodySize]}};
performance.getEntriesByType('paint').forEach(function (p) {
  if (p.name === 'first-contentful-paint') { out.first_paint = Math.round(p.startTime); }
});
performance.getEntriesByType('resource').forEach(function (r) {
  if (r.name.indexOf('plotly.min') >= 0) { out.plotly_js_loaded = Math.round(r.responseEnd); }
  if (r.name.indexOf('profit-volume.json') >= 0) { out.points_downloaded = Math.round(r.responseEnd); }
  bytes.transferred += r.transferSize;
  bytes.by_resource[r.name.split('/').pop()] = [r.transferSize, r.decodedBodySize];
});
performance.getEntriesByType('mark').forEach(function (m) { out[m.name] = Math.round(m.startTime); });
out.bytes = bytes;
return out;
"""
DRAWN = (
    "var e = document.getElementById('profit-volume');"
    "return e && e.dataset.drawn && performance.getEntriesByName('reports:figures-drawn').length > 0;"
)
SECTIONS = ("value", "tiers", "trends", "service")
CHROMIUM_ARGS = (
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
)

# The floor (--floor): a page with nothing but plotly.js (the installed package's, as the pages load
# it) and one plot, served plain from a folder on loopback; each load a new browser, as a cold load.
FLOOR_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>floor</title>
<script src="plotly.min.js" defer></script><script src="floor.js" defer></script></head>
<body><div id="plot" style="width:1200px;height:560px"></div></body></html>"""
FLOOR_JS = """(function () {
  performance.mark("floor:start");
  var n = Number(new URLSearchParams(location.search).get("points") || 0), x = new Float64Array(n), y = new Float64Array(n);
  for (var i = 0; i < n; i++) { x[i] = Math.asinh(Math.random() * 1e4); y[i] = Math.asinh((Math.random() - 0.2) * 1e3); }
  var data = n ? [{type: "scattergl", mode: "markers", x: x, y: y, marker: {size: 6}}] : [];
  Plotly.newPlot("plot", data, {}).then(function () { performance.mark("floor:drawn"); document.body.dataset.drawn = "1"; });
})();"""
FLOOR_TIMES = """
var out = {};
performance.getEntriesByType('resource').forEach(function (r) {
  if (r.name.indexOf('plotly.min') >= 0) { out.plotly_js_loaded = Math.round(r.responseEnd); }
});
performance.getEntriesByType('mark').forEach(function (m) { out[m.name] = Math.round(m.startTime); });
return out;
"""


def median_ms(client: Client, url: str, **headers) -> tuple[float, int, int]:
    for _ in range(WARM_UPS):
        assert client.get(url, **headers).status_code == 200, url
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return statistics.median(times), len(queries), len(response.content)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_server(port: int) -> subprocess.Popen:
    """gunicorn with config/gunicorn.conf.py and the production settings over plain HTTP on loopback,
    as bench/load.py starts it: collectstatic first (hashed names, gzip and brotli copies, into
    bench/out/static), then whitenoise serves them with far-future Cache-Control."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_STATIC_ROOT": str(STATIC_ROOT),
        "GUNICORN_ACCESS_LOG": "",
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    OUT.mkdir(exist_ok=True)
    web = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "--config",
            "config/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "config.wsgi:application",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(OUT / "reports-gunicorn.log", "w"),  # noqa: SIM115 (open while gunicorn runs)
    )
    wait_for(f"http://127.0.0.1:{port}/healthz", 60)
    return web


def encodings(driver) -> dict[str, str]:
    """Content-Encoding of each response the browser received, by URL (Chromium's network log)."""
    found = {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.responseReceived":
            response = message["params"]["response"]
            headers = {key.lower(): value for key, value in response["headers"].items()}
            found[response["url"]] = headers.get("content-encoding", "identity")
    return found


def browser_first_loads(user, port: int, *, cold_loads: int) -> dict:
    """Headless Chromium against gunicorn (production settings). A cold load is a new browser with an
    empty profile (no HTTP cache, no compiled code: clearing the cache of a running browser leaves
    plotly.js compiled in its renderer's memory, which a first visit would not have) that has opened
    /healthz first (the browser's own start-up is not the page's); `cold_loads` of them, then 3 warm
    reloads in the last browser. Each: navigation start until every figure has drawn, first
    contentful paint, bytes on the wire and Content-Encoding of each response."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"  # as force_login picks it
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    base = f"http://127.0.0.1:{port}"
    server = production_server(port)

    def new_browser():
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
        for argument in CHROMIUM_ARGS:
            options.add_argument(argument)
        browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        browser.get(base + "/healthz")
        browser.add_cookie({"name": settings.SESSION_COOKIE_NAME, "value": session.session_key, "path": "/"})
        time.sleep(1)  # let the new browser's start-up settle
        return browser

    driver = None
    try:
        loads = []
        for attempt in range(cold_loads + 3):
            cold = attempt < cold_loads
            if cold:
                if driver is not None:
                    driver.quit()
                driver = new_browser()
            driver.get_log("performance")  # forget the last load's network log
            load_before = os.getloadavg()[0]
            driver.get(base + reverse("analytics:reports"))
            WebDriverWait(driver, 60, poll_frequency=0.05).until(lambda d: d.execute_script(DRAWN))
            timeline = driver.execute_script(TIMELINE)
            timeline["drawn"] = max(timeline["reports:figures-drawn"], timeline["reports:points-drawn"])
            timeline["load"] = max(load_before, os.getloadavg()[0])
            timeline["encodings"] = encodings(driver)
            timeline["cold"] = cold
            print(
                ("cold" if cold else "warm"),
                "load, ms after navigation start:",
                {k: v for k, v in timeline.items() if k not in ("encodings", "bytes")},
                flush=True,
            )
            loads.append(timeline)
        points = int(driver.execute_script("return document.getElementById('profit-volume').dataset.points"))
        return {"loads": loads, "points": points}
    finally:
        if driver is not None:
            driver.quit()
        server.terminate()
        server.wait(timeout=30)
        session.delete()


def browser_report(result: dict) -> None:
    cold = [load for load in result["loads"] if load["cold"]]
    warm = [load for load in result["loads"] if not load["cold"]]
    print(f"\nheadless Chromium against gunicorn (production settings), {result['points']:,} points:\n")
    print(
        "| load | server ms (TTFB) | HTML ms | first paint ms | plotly.js loaded ms | every chart drawn ms "
        "| KB transferred | load avg |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for index, load in enumerate(cold + warm):
        print(
            f"| {'cold' if load['cold'] else 'warm'} {index + 1 if load['cold'] else index - len(cold) + 1} "
            f"| {load['server']:,} | {load['html']:,} | {load.get('first_paint', 0):,} | {load.get('plotly_js_loaded', 0):,} "
            f"| {load['drawn']:,} | {load['bytes']['transferred'] / 1024:,.0f} | {load['load']:.1f} |"
        )
    first = cold[0]
    plotly_url = next(url for url in first["encodings"] if "plotly.min" in url)
    print(
        f"\ncold: median {statistics.median(load['drawn'] for load in cold) / 1000:.2f} s to every chart drawn "
        f"(first paint median {statistics.median(load.get('first_paint', 0) for load in cold) / 1000:.2f} s); "
        f"warm: median {statistics.median(load['drawn'] for load in warm) / 1000:.2f} s"
    )
    print(f"cold load bytes (transferred / decoded), by resource: {json.dumps(first['bytes']['by_resource'])}")
    print(f"plotly.js: {plotly_url.rsplit('/', 1)[-1]} sent with Content-Encoding {first['encodings'][plotly_url]}")


def server_times(client: Client, *, run, plotted: int) -> None:
    load_before = os.getloadavg()[0]
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
    wire = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")  # as a browser asks: the stored gzip
    assert wire["Content-Encoding"] == "gzip" and json.loads(gzip.decompress(wire.content)) == payload
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
    rows.append(("profit-vs-volume JSON, plain: median", ms, queries, f"{size / 1024:.0f} KB"))
    ms, queries, size = median_ms(client, url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    rows.append(("profit-vs-volume JSON, gzip (as a browser asks): median", ms, queries, f"{size / 1024:.0f} KB"))

    print("| request | ms | queries | response |")
    print("|---|---:|---:|---:|")
    for name, ms, queries, size in rows:
        print(f"| {name} | {ms:,.0f} | {queries} | {size} |")
    print(
        f"\nprofit-vs-volume payload: {len(body):,} bytes ({len(body) / 1e6:.2f} MB) plain, "
        f"{len(wire.content):,} bytes ({len(wire.content) / 1e6:.2f} MB) as sent with Content-Encoding gzip "
        f"(stored compressed); {payload['points']['count']:,} points"
    )
    print(f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")


def floor_loads(*, cold_loads: int, points: int) -> list[dict]:
    """The floor of a cold load: `cold_loads` new browsers, each opening the floor page (plotly.js and
    one plot: empty, or `points` random WebGL points); ms from navigation start to plotly.js loaded,
    to the page's script starting (plotly.js compiled and set up) and to the plot drawn."""
    import functools
    import http.server
    import shutil
    import tempfile
    import threading

    import plotly
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    folder = Path(tempfile.mkdtemp(prefix="floor-", dir=OUT))
    shutil.copy(Path(plotly.__file__).parent / "package_data" / "plotly.min.js", folder / "plotly.min.js")
    (folder / "index.html").write_text(FLOOR_PAGE)
    (folder / "floor.js").write_text(FLOOR_JS)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    loads = []
    try:
        for _ in range(cold_loads):
            options = webdriver.ChromeOptions()
            options.binary_location = "/usr/bin/chromium"
            for argument in CHROMIUM_ARGS:
                options.add_argument(argument)
            browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
            try:
                browser.get(base + "/empty.txt")  # the browser's own start-up is not the page's (a 404 page)
                time.sleep(1)
                load_before = os.getloadavg()[0]
                browser.get(f"{base}/index.html?points={points}")
                WebDriverWait(browser, 60, poll_frequency=0.05).until(
                    lambda d: d.execute_script("return document.body.dataset.drawn")
                )
                times = browser.execute_script(FLOOR_TIMES)
                times["load"] = max(load_before, os.getloadavg()[0])
                print(f"floor, {points:,} points:", times, flush=True)
                loads.append(times)
            finally:
                browser.quit()
    finally:
        server.shutdown()
        shutil.rmtree(folder)
    return loads


def floor_report(loads: list[dict], points: int) -> None:
    print(f"\nfloor: plotly.js and one plot ({points:,} WebGL points), cold, a new browser each:\n")
    print("| load | plotly.js loaded ms | script starts ms | drawn ms | load avg |")
    print("|---|---:|---:|---:|---:|")
    for index, load in enumerate(loads):
        print(
            f"| cold {index + 1} | {load.get('plotly_js_loaded', 0):,} | {load['floor:start']:,} "
            f"| {load['floor:drawn']:,} | {load['load']:.1f} |"
        )
    print(
        f"\nmedian: script starts {statistics.median(x['floor:start'] for x in loads):,.0f} ms, "
        f"drawn {statistics.median(x['floor:drawn'] for x in loads):,.0f} ms"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--cold-loads", type=int, default=7, help="browser loads with an empty cache (default 7)")
    parser.add_argument("--no-server-times", action="store_true", help="only the browser loads")
    parser.add_argument(
        "--floor",
        type=int,
        default=0,
        metavar="N",
        help="only the floor: N cold loads of a page with plotly.js and one empty plot, then with as many points",
    )
    args = parser.parse_args()
    if args.floor:
        OUT.mkdir(exist_ok=True)
        plotted = 0
        if connection.vendor == "postgresql" and published_run() is not None:
            plotted = CustomerResult.objects.filter(run=published_run()).exclude(tier="P").count()
        for points in sorted({0, plotted}):
            floor_report(floor_loads(cold_loads=args.floor, points=points), points)
        print(
            f"load average after: {' / '.join(f'{value:.1f}' for value in os.getloadavg())} on {os.cpu_count()} cores"
        )
        return
    assert connection.vendor == "postgresql", "run against the bench PostgreSQL database"
    run = published_run()
    assert run is not None, "publish an analysis run first (manage.py recompute)"
    user = get_user_model().objects.get(username="executive")
    client = Client()
    client.force_login(user)
    customers = CustomerResult.objects.filter(run=run).count()
    plotted = CustomerResult.objects.filter(run=run).exclude(tier="P").count()
    print(f"run #{run.pk} as of {run.as_of}: {customers:,} customers, {plotted:,} with orders (plotted)\n")

    if not args.no_server_times:
        server_times(client, run=run, plotted=plotted)
    if not args.no_browser:
        browser_report(browser_first_loads(user, free_port(), cold_loads=args.cold_loads))
        print(
            f"load average after: {' / '.join(f'{value:.1f}' for value in os.getloadavg())} on {os.cpu_count()} cores"
        )


if __name__ == "__main__":
    main()
