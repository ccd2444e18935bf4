"""The executive report in headless Chromium (Debian's chromium and chromedriver, through selenium):
the profit-vs-volume chart draws a point per customer, a click opens that customer, the console
stays clean, in English and in Chinese."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import AnalysisRun, CustomerResult
from analytics.services.runs import run_compute, run_request
from tests.factories import CustomerFactory, OrderFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def published(db):
    """24 customers with orders at distinct revenue and profit (some losing money), and a prospect."""
    for n in range(24):
        customer = CustomerFactory(code=f"E{n:03d}", name=f"客户 {n} Browser")
        revenue = Decimal(10000 + 7000 * n)
        OrderFactory(
            customer=customer,
            ordered_on=datetime.date(2026, 3, 1) + datetime.timedelta(days=n),
            revenue=revenue,
            cost=revenue * Decimal("0.6") + Decimal(900 * (n % 5)) * (n % 3),
            service_cost=Decimal("0.00"),
        )
    CustomerFactory(code="E999", name="Prospect")
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=datetime.date(2026, 6, 30), enqueue=False)
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED
    return run


def wait_for_chart(browser):
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 60, poll_frequency=0.1).until(
        lambda d: d.execute_script("var e = document.getElementById('profit-volume'); return e && e.dataset.drawn;")
    )
    return browser.execute_script("return document.getElementById('profit-volume').dataset.drawn")


DRAWN_POINTS = """
var chart = document.getElementById('profit-volume');
var ids = [];
chart.customerIds.forEach(function (list) { if (list) { list.forEach(function (id) { ids.push(id); }); } });
var drawn = 0;
chart._fullData.forEach(function (trace) { if (trace.meta && trace.meta.role === 'points') { drawn += trace._length; } });
return {ids: ids, drawn: drawn, canvases: chart.querySelectorAll('canvas').length,
        types: chart._fullData.map(function (t) { return t.type; })};
"""

# Where customer `id`'s point is on the page, from Plotly's own axes (pixels inside the chart).
POINT_POSITION = """
var chart = document.getElementById('profit-volume'), id = arguments[0];
chart.scrollIntoView({block: 'center'});
for (var t = 0; t < chart.customerIds.length; t++) {
  var list = chart.customerIds[t];
  if (!list) { continue; }
  for (var i = 0; i < list.length; i++) {
    if (list[i] === id) {
      var trace = chart._fullData[t], xa = chart._fullLayout.xaxis, ya = chart._fullLayout.yaxis;
      var box = chart.getBoundingClientRect();
      return {x: xa._offset + xa.l2p(trace.x[i]), y: ya._offset + ya.l2p(trace.y[i]), width: box.width, height: box.height};
    }
  }
}
return null;
"""


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_profit_vs_volume_draws_every_customer_and_a_click_opens_it(
    browser, log_in, live_server, executive_user, published, language
):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    log_in(executive_user, language)
    browser.get(live_server.url + reverse("analytics:reports"))
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == language
    assert wait_for_chart(browser) == "true"

    # then: the WebGL canvas is there and every customer with orders is one point, the prospect none
    drawn = browser.execute_script(DRAWN_POINTS)
    expected = set(CustomerResult.objects.filter(run=published).exclude(tier="P").values_list("customer_id", flat=True))
    assert len(expected) == 24
    assert drawn["canvases"] >= 1 and "scattergl" in drawn["types"]
    assert drawn["drawn"] == 24 and len(drawn["ids"]) == 24 and set(drawn["ids"]) == expected

    if language == "zh-hans":  # plotly.js's own words come from our zh-CN locale
        titles = browser.execute_script(
            "return Array.from(document.querySelectorAll('#profit-volume .modebar-btn')).map(b => b.getAttribute('data-title'))"
        )
        assert "下载为 PNG 图片" in titles and "重置坐标轴" in titles

    # when: the largest customer's point is clicked
    target = CustomerResult.objects.filter(run=published).order_by("-revenue").values_list("customer_id", flat=True)[0]
    where = browser.execute_script(POINT_POSITION, target)
    assert where is not None
    chart = browser.find_element(By.ID, "profit-volume")
    offset = (round(where["x"] - where["width"] / 2), round(where["y"] - where["height"] / 2))
    ActionChains(browser).move_to_element_with_offset(chart, *offset).pause(0.4).perform()
    WebDriverWait(browser, 10).until(lambda d: "客户" in d.find_element(By.ID, "point-details").text)
    ActionChains(browser).move_to_element_with_offset(chart, *offset).pause(0.2).click().perform()

    # then: that customer's page opens
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith(f"/customers/{target}/"))
    assert "E023" in browser.page_source

    # and: no JavaScript error in the console on either page
    errors = [
        entry
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
    ]
    assert errors == []


def test_every_report_section_draws_without_console_errors(browser, log_in, live_server, executive_user, published):
    from selenium.webdriver.support.ui import WebDriverWait

    log_in(executive_user)
    for section in ("value", "tiers", "trends", "service"):
        browser.get(live_server.url + reverse("analytics:report_section", args=[section]))
        WebDriverWait(browser, 30).until(
            lambda d: d.execute_script(
                "return Array.from(document.querySelectorAll('[data-report-figure]')).every(e => e.querySelector('.main-svg'))"
            )
        )
        if section == "value":
            assert wait_for_chart(browser) == "true"
    errors_before = browser.get_log("browser")

    # the concentration bars stand for customers: clicking the first (the largest) opens it
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + reverse("analytics:reports"))
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#card-concentration .point path"))
    bar = browser.find_elements(By.CSS_SELECTOR, "#card-concentration .point path")[0]
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", bar)
    ActionChains(browser).move_to_element(bar).pause(0.3).click().perform()
    largest = CustomerResult.objects.filter(run=published).order_by("-revenue").values_list("customer_id", flat=True)[0]
    WebDriverWait(browser, 15).until(lambda d: d.current_url.endswith(f"/customers/{largest}/"))
    errors = [
        entry
        for entry in errors_before + browser.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]
    ]
    assert errors == []
