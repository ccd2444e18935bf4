"""Charts in headless Chromium, as the executive sees them: a customer named like a link shows as
that text (issue 15.7), hover figures are the stored money to the cent far above float32's range
(issue 14.6), and no report page trips the Content-Security-Policy (issue 15, acceptance 4)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from analytics.models import AnalysisRun, CostModel, CustomerResult
from analytics.reports import SECTIONS
from analytics.services.runs import run_compute, run_request
from core.charts import chart_money, chart_text
from tests.factories import CustomerFactory, OrderFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HOSTILE = '<a href="https://evil.example/phish">'
D = Decimal

# Every Content-Security-Policy violation of a page, collected from before its first script runs.
# (An inline script of our own could not do it: the policy would block it. Violations that a library
# catches, as plotly.js's WebGL layer does when eval is refused, never reach the console.)
COLLECT_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', function (event) {
  window.__cspViolations.push(event.violatedDirective + ' ' + event.blockedURI + ' at ' + event.sourceFile + ':' + event.lineNumber);
});
"""


@pytest.fixture
def published(sales_user):
    """A customer named like a link (the largest, revenue 27,130,141.25), figures far above 16,777,216
    (where float32 stops counting single units), odd cents, a loss-maker, all with orders."""
    CostModel.objects.create()  # cost model 0, no service cost: profit = revenue - cost
    book = [
        ("H1", HOSTILE, "27130141.25", "10352924.12"),  # profit 16,777,217.13
        ("B1", "华东精密机械", "16777217.01", "3.03"),
        ("B2", "Odd cents", "21474836.49", "1.01"),
        ("L1", "Loss maker", "1234567.89", "2469135.78"),
    ] + [
        (f"S{n}", f"客户 {n}", f"{10000 + 7919 * n}.{n:02d}", f"{6000 + 3001 * n}.{(n * 7) % 100:02d}")
        for n in range(8)
    ]
    for code, name, revenue, cost in book:
        customer = CustomerFactory(code=code, name=name, owner=sales_user)
        OrderFactory(
            customer=customer,
            ordered_on=datetime.date(2026, 3, 1),
            revenue=D(revenue),
            cost=D(cost),
            service_cost=D("0.00"),
        )
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=datetime.date(2026, 6, 30), enqueue=False)
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    return run


def wait(browser, script, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(lambda d: d.execute_script(script))


PROFIT_VOLUME_DRAWN = "var e = document.getElementById('profit-volume'); return e && e.dataset.drawn;"
FIGURES_DRAWN = "return Array.from(document.querySelectorAll('[data-report-figure], [data-plotly-figure]')).every(e => e.querySelector('.main-svg'))"

# customer id -> [label, revenue text, profit text] of every drawn point, as the hover shows them: the
# hovertemplate writes each point's customdata with its number formats when the point is hovered, by
# plotly.js's own formatter with the page's separators (what the hover label below shows), done here
# for every point
HOVER_FIGURES = """
var chart = document.getElementById('profit-volume'), found = {}, locale = chart._fullLayout._d3locale;
chart._fullData.forEach(function (trace, t) {
  var ids = chart.customerIds[t];
  if (!ids) { return; }
  var formats = /%\\{customdata\\[0\\]:([^}]+)\\}.*%\\{customdata\\[1\\]:([^}]+)\\}/.exec(trace.hovertemplate);
  var revenue = locale.numberFormat(formats[1]), profit = locale.numberFormat(formats[2]);
  for (var i = 0; i < ids.length; i++) {
    found[ids[i]] = [trace.text[i], revenue(trace.customdata[i][0]), profit(trace.customdata[i][1])];
  }
});
return found;
"""

# Where customer `id`'s point is, relative to the chart's centre (pixels), from Plotly's own axes.
POINT_OFFSET = """
var chart = document.getElementById('profit-volume'), id = arguments[0];
chart.scrollIntoView({block: 'center'});
for (var t = 0; t < chart.customerIds.length; t++) {
  var ids = chart.customerIds[t];
  if (!ids) { continue; }
  var i = Array.prototype.indexOf.call(ids, id);
  if (i < 0) { continue; }
  var trace = chart._fullData[t], xa = chart._fullLayout.xaxis, ya = chart._fullLayout.yaxis, box = chart.getBoundingClientRect();
  return [Math.round(xa._offset + xa.l2p(trace.x[i]) - box.width / 2), Math.round(ya._offset + ya.l2p(trace.y[i]) - box.height / 2)];
}
return null;
"""

LINKS_TO_EVIL = """
return Array.from(document.querySelectorAll('a')).filter(function (a) {
  var href = a.getAttribute('href') || a.getAttributeNS('http://www.w3.org/1999/xlink', 'href') || '';
  return href.indexOf('evil.example') >= 0;
}).length;
"""


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_profit_vs_volume_hover_shows_every_figure_to_the_cent(
    browser, log_in, live_server, executive_user, published, language
):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    log_in(executive_user, language)
    browser.get(live_server.url + reverse("analytics:reports"))
    assert wait(browser, PROFIT_VOLUME_DRAWN) == "true"

    # then: every point's hover figures are the stored figures, to the cent, grouped as the pages group them
    drawn = browser.execute_script(HOVER_FIGURES)
    results = CustomerResult.objects.filter(run=published).exclude(tier="P").select_related("customer")
    with translation.override(language):
        expected = {
            str(r.customer_id): [
                chart_text(f"{r.customer.code} {r.customer.name}"),
                chart_money(r.revenue),
                chart_money(r.profit),
            ]
            for r in results
        }
    assert drawn == expected and len(drawn) == 12
    hostile = next(r for r in results if r.customer.code == "H1")
    assert drawn[str(hostile.customer_id)][1:] == ["27,130,141.25", "16,777,217.13"]

    # and: hovering the largest customer's point shows them, and its name as text, not a link
    offset = browser.execute_script(POINT_OFFSET, hostile.customer_id)
    chart = browser.find_element(By.ID, "profit-volume")
    ActionChains(browser).move_to_element_with_offset(chart, *offset).pause(0.5).perform()
    hover = wait(browser, "var h = document.querySelector('#profit-volume .hoverlayer'); return h && h.textContent", 10)
    assert "27,130,141.25" in hover and "16,777,217.13" in hover
    assert f"H1 {HOSTILE}" in hover
    assert browser.execute_script(LINKS_TO_EVIL) == 0


def test_concentration_chart_shows_a_link_like_name_as_plain_text(
    browser, log_in, live_server, executive_user, published
):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    log_in(executive_user)
    browser.get(live_server.url + reverse("analytics:reports"))
    wait(browser, FIGURES_DRAWN)

    # then: the largest customer's bar is labelled with the name exactly as typed, and nothing links to it
    ticks = browser.execute_script(
        "return Array.from(document.querySelectorAll('#card-concentration .ytick text')).map(t => t.textContent)"
    )
    assert f"H1 {HOSTILE}" in ticks and len(ticks) == 10
    assert browser.execute_script(LINKS_TO_EVIL) == 0
    assert not browser.find_elements(By.CSS_SELECTOR, "#card-concentration svg a")

    # and: its hover label says the same, as text
    bar = browser.find_elements(By.CSS_SELECTOR, "#card-concentration .point path")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", bar)
    ActionChains(browser).move_to_element(bar).pause(0.4).perform()
    hover = wait(
        browser, "var h = document.querySelector('#card-concentration .hoverlayer'); return h && h.textContent", 10
    )
    assert f"H1 {HOSTILE}" in hover
    assert browser.execute_script(LINKS_TO_EVIL) == 0


def test_report_pages_draw_without_a_csp_violation(browser, log_in, live_server, executive_user, sales_user, published):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": COLLECT_VIOLATIONS})
    log_in(executive_user, "zh-hans")
    pages = [reverse("analytics:report_section", args=[slug]) for slug in SECTIONS]
    pages += [
        reverse("analytics:portfolio") + f"?owner={sales_user.pk}",
        reverse("analytics:runs"),
        reverse(
            "crm:customer_detail",
            args=[CustomerResult.objects.filter(run=published).order_by("-revenue")[0].customer_id],
        ),
    ]
    for page in pages:
        browser.get(live_server.url + page)
        assert wait(browser, FIGURES_DRAWN)
        if "profit-volume" in browser.page_source:
            assert wait(browser, PROFIT_VOLUME_DRAWN) == "true"  # WebGL drawn: the page's policy allows what it needs
            assert browser.execute_script("return document.querySelectorAll('#profit-volume canvas').length") >= 1
        assert browser.execute_script("return window.__cspViolations") == [], page
    console = [
        entry["message"] for entry in browser.get_log("browser") if "Content Security Policy" in entry["message"]
    ]
    assert console == []

    # the collector does see a violation: an inline script, as an injected one would be, is refused
    browser.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.__ran = 1'; document.body.appendChild(s);"
    )
    assert wait(browser, "return window.__cspViolations.length", 5) == 1
    assert browser.execute_script("return window.__ran") is None
