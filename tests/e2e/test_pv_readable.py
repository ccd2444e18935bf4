"""Profit vs volume as first drawn is readable (issue 17, acceptance 3): on a book with a whale, a
big loss-maker and many small customers, the points lie on both sides of the zero-profit line and the
largest customer's point is at least 50 px from every edge of the plot area; the tick labels are
real money; "Linear axes" is one click away."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.models import AnalysisRun, CostModel, CustomerResult
from analytics.services.runs import run_compute, run_request
from tests.factories import CustomerFactory, OrderFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
D = Decimal


@pytest.fixture
def book():
    """40 small customers (a few losing money), a whale and a big loss-maker; no service cost."""
    CostModel.objects.create()
    rows = [
        ("W1", "Whale Holdings", D("30000000.00"), D("29700000.00")),
        ("L1", "Big Loser", D("8000000.00"), D("9500000.00")),
    ]
    for n in range(40):
        revenue = D(2000 + 1500 * n)
        margin = D("-0.15") if n % 9 == 4 else D("0.05") + D(n % 5) / 20
        rows.append((f"S{n:02d}", f"客户 {n}", revenue, (revenue * (1 - margin)).quantize(D("0.01"))))
    for code, name, revenue, cost in rows:
        OrderFactory(
            customer=CustomerFactory(code=code, name=name),
            ordered_on=datetime.date(2026, 3, 1),
            revenue=revenue,
            cost=cost,
            service_cost=D("0.00"),
        )
    run, _created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=datetime.date(2026, 6, 30), enqueue=False)
    run_compute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == AnalysisRun.Status.SUCCEEDED, run.error
    return run


# Every drawn point in plot-area pixels (x from the left, y from the top), the zero-profit line's y,
# the plot area's size, the tick labels and the scale the chart is on.
LAYOUT = """
var chart = document.getElementById('profit-volume'), xa = chart._fullLayout.xaxis, ya = chart._fullLayout.yaxis;
var points = {};
chart._fullData.forEach(function (trace, t) {
  var ids = chart.customerIds[t];
  if (!ids) { return; }
  for (var i = 0; i < ids.length; i++) { points[ids[i]] = [xa.l2p(trace.x[i]), ya.l2p(trace.y[i])]; }
});
return {points: points, zero: ya.l2p(chart._fullLayout.meta.scale === 'scaled' ? 0 : 0), width: xa._length, height: ya._length,
        xticks: Array.from(chart.querySelectorAll('.xtick text')).map(function (t) { return t.textContent; }),
        yticks: Array.from(chart.querySelectorAll('.ytick text')).map(function (t) { return t.textContent; }),
        scale: chart._fullLayout.meta.scale,
        legend: Array.from(chart.querySelectorAll('.legendtext')).map(function (t) { return t.textContent; })};
"""


def test_profit_vs_volume_first_drawn_shows_both_sides_of_zero_and_the_largest_away_from_the_edges(
    browser, log_in, live_server, executive_user, book
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    log_in(executive_user)
    browser.get(live_server.url + reverse("analytics:reports"))
    WebDriverWait(browser, 60, poll_frequency=0.1).until(
        lambda d: d.execute_script("var e = document.getElementById('profit-volume'); return e && e.dataset.drawn;")
    )
    drawn = browser.execute_script(LAYOUT)
    results = {r.customer_id: r for r in CustomerResult.objects.filter(run=book).exclude(tier="P")}
    assert drawn["scale"] == "scaled" and len(drawn["points"]) == len(results) == 42

    # then: points above and below the zero-profit line (pixel y grows downwards), as many as lose money
    zero = drawn["zero"]
    above = [pk for pk, (_x, y) in drawn["points"].items() if y < zero - 2]
    below = [pk for pk, (_x, y) in drawn["points"].items() if y > zero + 2]
    losers = {pk for pk, r in results.items() if r.profit < 0}
    assert above and below and {int(pk) for pk in below} == losers and len(losers) >= 5

    # and: the largest customer by revenue is at least 50 px inside every edge of the plot area
    largest = max(results.values(), key=lambda r: r.revenue).customer_id
    x, y = drawn["points"][str(largest)]
    assert 50 <= x <= drawn["width"] - 50, (x, drawn["width"])
    assert 50 <= y <= drawn["height"] - 50, (y, drawn["height"])

    # and: the small customers are spread out, not piled in a corner: a sixth of the width at least (linear: under a twentieth)
    small = [drawn["points"][str(pk)][0] for pk, r in results.items() if r.revenue < 100000]
    assert max(small) - min(small) > drawn["width"] / 6

    # and: the ticks are real money at round figures (0 among them), the loss-makers have a legend entry
    assert "0" in drawn["yticks"] and any(t.startswith("-") for t in drawn["yticks"])
    assert any(t.replace(",", "").endswith("000000") for t in drawn["xticks"])
    assert any(t.startswith("Loses money (") for t in drawn["legend"])
    assert "Average profit" in browser.find_element(By.ID, "profit-volume").text

    # when: "Linear axes" is clicked, the same points are drawn to scale (the whale far right, the small ones piled up)
    button = next(
        b for b in browser.find_elements(By.CSS_SELECTOR, "#profit-volume .updatemenu-button") if "Linear" in b.text
    )
    button.click()
    WebDriverWait(browser, 10).until(
        lambda d: d.execute_script("return document.getElementById('profit-volume')._fullLayout.meta.scale") == "linear"
    )
    linear = browser.execute_script(LAYOUT)
    small = [linear["points"][str(pk)][0] for pk, r in results.items() if r.revenue < 100000]
    assert max(small) - min(small) < linear["width"] / 20
    assert linear["points"][str(largest)][0] > linear["width"] * 0.9
