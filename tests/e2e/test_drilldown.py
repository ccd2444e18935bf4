"""Drill-down in headless Chromium (issue 17, acceptance 2): clicking a tier bar, a quadrant cell and a
churn month each opens the customer list filtered to exactly those customers, and the count the list
shows equals the chart's value."""

import json
import re

import pytest
from django.urls import reverse

from analytics.models import CustomerResult
from tests.analytics.test_drilldown import drilldown_book

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FIGURES_DRAWN = (
    "return Array.from(document.querySelectorAll('[data-report-figure]')).every(e => e.querySelector('.main-svg'))"
)

# Where (x, y) of the chart in card `arguments[0]` is, on axes arguments[1] and arguments[2], relative to
# the chart's centre (what ActionChains' offsets are measured from). Category axes: x is the index.
OFFSET = """
var chart = document.querySelector('#card-' + arguments[0] + ' [data-report-figure]');
chart.scrollIntoView({block: 'center'});
var xa = chart._fullLayout[arguments[1]], ya = chart._fullLayout[arguments[2]], box = chart.getBoundingClientRect();
return [Math.round(xa._offset + xa.l2p(arguments[3]) - box.width / 2), Math.round(ya._offset + ya.l2p(arguments[4]) - box.height / 2)];
"""


def figure_of(browser, card: str) -> dict:
    from selenium.webdriver.common.by import By

    element = browser.find_element(By.CSS_SELECTOR, f"#card-{card} [data-report-figure]")
    return json.loads(
        browser.find_element(By.ID, element.get_attribute("data-report-figure")).get_attribute("textContent")
    )


def click_at(browser, card: str, axes: tuple[str, str], x, y) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    offset = browser.execute_script(OFFSET, card, *axes, x, y)
    chart = browser.find_element(By.CSS_SELECTOR, f"#card-{card} [data-report-figure]")
    ActionChains(browser).move_to_element_with_offset(chart, *offset).pause(0.3).click().perform()


def listed_count(browser, query: str) -> int:
    """Waits for the customer list at `query` and reads the count it shows ("12 customers")."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 15).until(lambda d: "/customers/?" in d.current_url and query in d.current_url)
    head = browser.find_element(By.CSS_SELECTOR, ".pagehead .muted").text
    found = re.fullmatch(r"([\d,]+) customers?", head.strip())
    assert found, head
    return int(found[1].replace(",", ""))


def open_section(browser, live_server, section: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(live_server.url + reverse("analytics:report_section", args=[section]))
    WebDriverWait(browser, 60, poll_frequency=0.1).until(lambda d: d.execute_script(FIGURES_DRAWN))


def test_a_tier_bar_a_quadrant_and_a_churn_month_open_exactly_their_customers(
    browser, log_in, live_server, executive_user
):
    run = drilldown_book()
    log_in(executive_user)
    results = CustomerResult.objects.filter(run=run)

    # when: the bar of the tier with the most customers is clicked (its middle)
    open_section(browser, live_server, "tiers")
    bars = figure_of(browser, "tiers")["data"][0]
    index = bars["y"].index(max(bars["y"]))
    click_at(browser, "tiers", ("xaxis", "yaxis"), index, bars["y"][index] / 2)
    # then: the list of that tier's customers, as many as the bar says
    tier = bars["customdata"][index].split("=")[1]
    assert listed_count(browser, f"tier={tier}") == bars["y"][index] == results.filter(tier=tier).count() >= 5

    # when: the quadrant cell with the most customers is clicked
    open_section(browser, live_server, "tiers")
    heatmap = figure_of(browser, "quadrants")["data"][0]
    n, row, col = max((z, r, c) for r, zs in enumerate(heatmap["z"]) for c, z in enumerate(zs))
    click_at(browser, "quadrants", ("xaxis", "yaxis"), col, row)
    # then: the list of that quadrant's customers, as many as the cell says
    quadrant = heatmap["customdata"][row][col].split("=")[1]
    assert listed_count(browser, f"quadrant={quadrant}") == n == results.filter(quadrant=quadrant).count() >= 3

    # when: the churn bar of April 2026 (two churned after ordering; a third never ordered) is clicked
    open_section(browser, live_server, "trends")
    months = figure_of(browser, "churn")["data"][0]
    index = months["x"].index("2026-04")
    click_at(browser, "churn", ("xaxis", "yaxis"), index, months["y"][index] / 2)
    # then: the two customers who churned that month, as the chart counts them
    churned = next(p["churned"] for p in run.company["churn_by_month"] if p["period"] == "2026-04")
    assert listed_count(browser, "churned=2026-04") == churned == 2
    assert set(
        browser.execute_script(
            # each row's code: its first link (an executive's list starts with the reassignment tick box)
            "return Array.from(document.querySelectorAll('table tbody tr')).map(tr => tr.querySelector('td a').textContent.trim())"
        )
    ) == {"X1", "X2"}

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE" and "favicon.ico" not in e["message"]]
    assert errors == []
