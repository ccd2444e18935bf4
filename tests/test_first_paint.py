"""Fast first paint (issue 17): plotly.js only on pages with charts, every script deferred, the page's
text and tables server-rendered with each chart box saying "Loading the chart…" until plotly.js has
drawn it; and plotly.js served compressed, under a hashed name, cached for a long time (production),
revalidated rather than downloaded again (the embedded default)."""

import datetime
import gzip
import json
import os
import subprocess
import sys
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import brotli
import plotly
import pytest
from django.conf import settings
from django.urls import reverse

from analytics.models import AnalysisRun, CostModel
from analytics.services.runs import run_compute, run_request
from tests.factories import CustomerFactory, OrderFactory

ROOT = Path(settings.BASE_DIR)
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PLACEHOLDER = {"en": "Loading the chart…", "zh-hans": "正在加载图表…"}
CHART_BOXES = ("data-report-figure", "data-plotly-figure", "data-points-url")


class Page(HTMLParser):
    """The page's <script src> tags (with their attributes) and the text inside each chart box."""

    def __init__(self):
        super().__init__()
        self.scripts, self.boxes, self.open = [], {}, []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" in attributes:
            self.scripts.append(attributes)
        if tag == "div" and any(name in attributes for name in CHART_BOXES):
            key = attributes.get("id") or next(attributes[name] for name in CHART_BOXES if name in attributes)
            self.boxes[key] = ""
            self.open.append([key, 0])
        elif tag == "div" and self.open:
            self.open[-1][1] += 1

    def handle_endtag(self, tag):
        if tag == "div" and self.open:
            if self.open[-1][1]:
                self.open[-1][1] -= 1
            else:
                self.open.pop()

    def handle_data(self, data):
        if self.open:
            self.boxes[self.open[-1][0]] += data.strip()


def parse(response) -> Page:
    assert response.status_code == 200
    page = Page()
    page.feed(response.content.decode())
    return page


@pytest.fixture
def published(sales_user):
    """Two customers of sales1 with orders and a published run: every chart of the pages has data."""
    CostModel.objects.create()
    big = CustomerFactory(code="F1", name="First Paint Trading", owner=sales_user)
    small = CustomerFactory(code="F2", name="上海首屏", owner=sales_user)
    for customer, revenue, cost in ((big, "90000.00", "60000.00"), (small, "20000.00", "24000.00")):
        OrderFactory(
            customer=customer,
            ordered_on=datetime.date(2026, 3, 1),
            revenue=Decimal(revenue),
            cost=Decimal(cost),
            service_cost=Decimal("0.00"),
        )
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=datetime.date(2026, 6, 30), enqueue=False)
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    return big


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_chart_pages_defer_their_scripts_and_say_loading_in_each_chart_box(
    client, executive_user, sales_user, published, language
):
    client.force_login(executive_user)
    pages = {
        "report value": client.get(reverse("analytics:report_section", args=["value"]), HTTP_ACCEPT_LANGUAGE=language),
        "report tiers": client.get(reverse("analytics:report_section", args=["tiers"]), HTTP_ACCEPT_LANGUAGE=language),
    }
    client.force_login(sales_user)
    pages["portfolio"] = client.get(reverse("analytics:portfolio"), HTTP_ACCEPT_LANGUAGE=language)
    pages["customer detail"] = client.get(published.get_absolute_url(), HTTP_ACCEPT_LANGUAGE=language)
    for name, response in pages.items():
        page = parse(response)
        sources = [script["src"] for script in page.scripts]
        assert any("vendor/plotly.min" in source for source in sources), name
        assert all("defer" in script for script in page.scripts), (name, page.scripts)
        # plotly.js first: the deferred scripts run in document order, and ours call window.Plotly
        plotly_at = next(i for i, source in enumerate(sources) if "vendor/plotly.min" in source)
        assert all(i < plotly_at for i, source in enumerate(sources) if "/js/" in source and "nav.js" in source)
        assert all(i > plotly_at for i, source in enumerate(sources) if "reports.js" in source or "charts.js" in source)
        assert page.boxes, f"{name}: no chart box"
        assert all(text == PLACEHOLDER[language] for text in page.boxes.values()), (name, page.boxes)
    assert "profit-volume" in parse(pages["report value"]).boxes


@pytest.mark.django_db
def test_pages_without_charts_do_not_load_plotly(client, sales_user, service_user, published):
    client.force_login(sales_user)
    responses = [client.get(reverse("crm:customer_list")), client.get(reverse("complaints:queue"))]
    client.force_login(service_user)  # sees no money: the customer page has no revenue chart
    responses.append(client.get(published.get_absolute_url()))
    for response in responses:
        page = parse(response)
        assert not page.boxes
        assert not [script for script in page.scripts if "plotly" in script["src"]]
        assert all("defer" in script for script in page.scripts), page.scripts


@pytest.mark.django_db
def test_embedded_default_revalidates_plotly_instead_of_downloading_it_again(client):
    """Without collectstatic (`make run`, the test settings) plotly.js has no hashed name, so it may not
    be cached for long: the browser asks again with its ETag and gets 304 Not Modified, no body."""
    url = settings.STATIC_URL + "vendor/plotly.min.js"
    first = client.get(url)
    assert first.status_code == 200 and first["ETag"] and "max-age" in first["Cache-Control"]
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert not b"".join(again.streaming_content if again.streaming else [again.content])


SERVE = """
import json
import django
django.setup()
from django.templatetags.static import static
from django.test import Client
client = Client()
out = {"url": static("vendor/plotly.min.js"), "responses": {}}
for name, url in (("hashed", out["url"]), ("plain", "/static/vendor/plotly.min.js")):
    for encoding in ("br", "gzip, deflate", ""):
        response = client.get(url, secure=True, HTTP_ACCEPT_ENCODING=encoding)
        body = b"".join(response.streaming_content)
        out["responses"][name + " " + (encoding or "none")] = {
            "status": response.status_code,
            "encoding": response.get("Content-Encoding", ""),
            "cache": response.get("Cache-Control", ""),
            "vary": response.get("Vary", ""),
            "body": body.hex() if name == "hashed" else len(body),
        }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def production_static(tmp_path_factory):
    """collectstatic as the Dockerfile runs it (production settings), into a folder of its own; then,
    in another process with the same settings, plotly.js asked for as a browser would, through
    whitenoise (the middleware answers before any view or database)."""
    root = tmp_path_factory.mktemp("static")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "collectstatic-only-" * 3,
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_STATIC_ROOT": str(root),
    }
    env.pop("WHITENOISE_MAX_AGE", None)
    collect = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
    subprocess.run(collect, cwd=ROOT, env=env, check=True, timeout=600)
    served = subprocess.run(
        [sys.executable, "-c", SERVE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True
    )
    return root, json.loads(served.stdout)


def test_production_serves_plotly_compressed_under_a_hashed_name_cached_for_years(production_static):
    root, served = production_static
    original = PLOTLY_JS.read_bytes()
    url = served["url"]
    name = url.rsplit("/", 1)[-1]
    assert url.startswith("/static/vendor/plotly.min.") and len(name.split(".")) == 4, url  # plotly.min.<hash>.js
    assert (root / "vendor" / name).read_bytes() == original  # the installed package's file, not a copy of ours
    responses = served["responses"]
    far_future = "max-age=315360000, public, immutable"  # ten years: a hashed name never changes content
    brotli_copy, gzip_copy, plain = (responses[f"hashed {key}"] for key in ("br", "gzip, deflate", "none"))
    assert (brotli_copy["status"], brotli_copy["encoding"], brotli_copy["cache"]) == (200, "br", far_future)
    assert (gzip_copy["status"], gzip_copy["encoding"], gzip_copy["cache"]) == (200, "gzip", far_future)
    assert (plain["status"], plain["encoding"], plain["cache"]) == (200, "", far_future)
    assert "Accept-Encoding" in brotli_copy["vary"]
    brotli_body, gzip_body = bytes.fromhex(brotli_copy["body"]), bytes.fromhex(gzip_copy["body"])
    assert brotli.decompress(brotli_body) == original and gzip.decompress(gzip_body) == original
    assert bytes.fromhex(plain["body"]) == original
    assert len(brotli_body) < len(original) / 4 and len(gzip_body) < len(original) / 3  # 4.8 MB: ~1.1 / ~1.5 MB
    # The plain name (no page asks for it) is cached only WHITENOISE_MAX_AGE: it changes with a release.
    assert responses["plain br"]["cache"] == "max-age=3600, public"
