"""Profit vs volume on the demo data (issue 17, acceptance 3): on the book `seed_demo` makes (the demo
story test's book: tests/demo/test_demo_story.py), after its first run, the chart as first drawn shows
points on both sides of the zero-profit line (every loss-maker below it, every other customer above)
and the biggest customer's point at least 50 px inside every edge of the plot area, below the
average-profit line: what the story says, at a glance. Pixel positions from Plotly's own axes (as
tests/e2e/test_pv_readable.py reads them on its hand-built book)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from analytics.models import CustomerResult
from tests.demo.test_demo_story import demo_book  # noqa: F401 (the fixture: seed_demo, 400 customers, its run)
from tests.e2e.test_pv_readable import LAYOUT

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

# The average-profit line's height in plot-area pixels (its trace is drawn on the chart's scale).
AVERAGE_PROFIT_Y = """
var chart = document.getElementById('profit-volume'), ya = chart._fullLayout.yaxis;
var line = chart._fullData.find(function (trace) {
  return (trace.meta || {}).role === 'guide' && String(trace.name).indexOf('Average profit') === 0;
});
return ya.l2p(line.y[0]);
"""


def test_the_demo_chart_as_first_drawn_shows_both_sides_of_zero_and_the_biggest_customer_inside(
    browser,
    log_in,
    live_server,
    demo_book,  # noqa: F811
):
    from selenium.webdriver.support.ui import WebDriverWait

    # given: the demo's executive, on the value report of the demo's first run
    log_in(get_user_model().objects.get(username="executive"))
    browser.get(live_server.url + reverse("analytics:reports"))
    WebDriverWait(browser, 60, poll_frequency=0.1).until(
        lambda d: d.execute_script("var e = document.getElementById('profit-volume'); return e && e.dataset.drawn;")
    )
    drawn = browser.execute_script(LAYOUT)
    results = {
        str(r.customer_id): r
        for r in CustomerResult.objects.filter(run=demo_book).exclude(tier="P").select_related("customer")
    }
    # then: as first drawn (the readable scale), every customer with orders is a point
    assert drawn["scale"] == "scaled"
    assert set(drawn["points"]) == set(results) and len(results) > 300

    # and: points on both sides of the zero-profit line (pixel y grows downwards): below it exactly
    # the loss-makers (the demo's least profitable 10-20%), above it the rest
    zero = drawn["zero"]
    below = {pk for pk, (_x, y) in drawn["points"].items() if y > zero}
    above = {pk for pk, (_x, y) in drawn["points"].items() if y < zero}
    losers = {pk for pk, r in results.items() if r.profit < 0}
    assert below == losers and len(losers) >= 0.1 * len(results)
    assert above == {pk for pk, r in results.items() if r.profit > 0} and len(above) > len(below)
    # and: clearly apart, not a line of points on the zero line: a tenth of each side 20 px from it or more
    far_below = [pk for pk in below if drawn["points"][pk][1] >= zero + 20]
    far_above = [pk for pk in above if drawn["points"][pk][1] <= zero - 20]
    assert len(far_below) >= len(below) / 10 and len(far_above) >= len(above) / 10

    # and: the biggest customer by revenue (ties by code) is at least 50 px inside every edge
    biggest = min(results.values(), key=lambda r: (-r.revenue, r.customer.code))
    x, y = drawn["points"][str(biggest.customer_id)]
    assert 50 <= x <= drawn["width"] - 50, (x, drawn["width"])
    assert 50 <= y <= drawn["height"] - 50, (y, drawn["height"])
    # and: the story shows: its point is below the average-profit line, though far to the right
    assert y > browser.execute_script(AVERAGE_PROFIT_Y) + 2
    assert x > max(px for pk, (px, _py) in drawn["points"].items() if pk != str(biggest.customer_id)) - 1
    # and: a big customer, one of the ten biggest, is below the zero line, also inside the edges
    top10 = sorted(results.values(), key=lambda r: (-r.revenue, r.customer.code))[:10]
    big_losers = [str(r.customer_id) for r in top10 if r.profit < 0]
    assert big_losers and all(zero + 2 < drawn["points"][pk][1] <= drawn["height"] - 50 for pk in big_losers)
