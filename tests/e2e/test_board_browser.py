"""Issue 19, acceptance 2, in headless Chromium, in English and in Chinese: move a complaint card on
the board (its Move control, and a drag), and see the workflow's guard refuse a move without its facts
with the card left where it was; on a phone the board scrolls inside its own box, never the page."""

import pytest
from django.urls import reverse

from complaints.models import Complaint, ComplaintTransition, State
from complaints.workflow import complaint_transition
from tests.factories import make_complaint

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

LANGUAGES = ("en", "zh-hans")
MOVED = {"en": "Complaint {number} is now “Acknowledged”.", "zh-hans": "投诉 {number} 现在为“已确认”。"}
NO_PLAN = {
    "en": "Write the action plan the customer was told before moving on.",
    "zh-hans": "请先填写已告知客户的处理方案。",
}
NOT_MOVED = {
    "en": "Complaint {number} was not moved: give what the move needs.",
    "zh-hans": "投诉 {number} 未移动：请填写此步所需的信息。",
}


def wait_until(browser, condition, seconds=30):
    """Polls `condition` while the live server writes (a read can meet SQLite's table lock: "not yet")."""
    from django.db import OperationalError
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, poll_frequency=0.2, ignored_exceptions=(OperationalError,)).until(condition)


def card_in(browser, state, complaint):
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CSS_SELECTOR, f'.board-column[data-state="{state}"] #card-{complaint.pk}')


def count_of(browser, state):
    from selenium.webdriver.common.by import By

    return browser.find_element(By.CSS_SELECTOR, f'.board-column[data-state="{state}"] [data-count]').text


def open_board(browser, live_server, query="scope=mine"):
    browser.get(f"{live_server.url}{reverse('complaints:board')}?{query}")
    wait_until(browser, lambda d: d.execute_script("return document.readyState") == "complete")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_move_control_moves_a_card_to_its_new_column(browser, log_in, live_server, service_user, language):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    complaint = make_complaint(assignee=service_user)
    log_in(service_user, language)
    open_board(browser, live_server)
    assert card_in(browser, "new", complaint) and (count_of(browser, "new"), count_of(browser, "acknowledged")) == (
        "1",
        "0",
    )
    select = Select(browser.find_element(By.ID, f"move-{complaint.pk}"))
    assert [o.get_attribute("value") for o in select.options] == ["acknowledged", "rejected", "duplicate"]
    select.select_by_value("acknowledged")
    browser.find_element(By.CSS_SELECTOR, f"#card-{complaint.pk} form[data-board-move] button").click()

    wait_until(browser, lambda d: card_in(d, "acknowledged", complaint))
    assert not card_in(browser, "new", complaint)
    assert (count_of(browser, "new"), count_of(browser, "acknowledged")) == ("0", "1")
    assert browser.find_element(By.CSS_SELECTOR, '.board-column[data-state="new"] .board-empty').is_displayed()
    assert not browser.find_element(
        By.CSS_SELECTOR, '.board-column[data-state="acknowledged"] .board-empty'
    ).is_displayed()
    status = browser.find_element(By.CSS_SELECTOR, "[data-board-status]").text
    assert status == MOVED[language].format(number=complaint.number)
    moved = Complaint.objects.get(pk=complaint.pk)
    assert moved.state == State.ACKNOWLEDGED
    assert ComplaintTransition.objects.get(complaint=complaint).to_state == State.ACKNOWLEDGED
    # the moved card offers the moves from its new state
    options = browser.find_elements(By.CSS_SELECTOR, f"#move-{complaint.pk} option")
    assert [o.get_attribute("value") for o in options] == ["investigating", "rejected", "duplicate"]
    # and a reload shows it where it now is
    open_board(browser, live_server)
    assert card_in(browser, "acknowledged", complaint)


DRAG = """
var card = arguments[0], target = arguments[1], data = new DataTransfer();
function fire(element, type) {
  var event = new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: data});
  return element.dispatchEvent(event);  // false: a listener cancelled it (a drop target takes it)
}
fire(card, 'dragstart');
var classes = {};
document.querySelectorAll('.board-column').forEach(function (c) { classes[c.dataset.state] = c.className; });
var refused = document.querySelector('.board-column[data-state="resolved"]');
var refusedTakesIt = !fire(refused, 'dragover');
var takesIt = !fire(target, 'dragover');
fire(target, 'drop');
fire(card, 'dragend');
return {classes: classes, refusedTakesIt: refusedTakesIt, takesIt: takesIt};
"""


@pytest.mark.parametrize("language", LANGUAGES)
def test_dragging_a_card_moves_it_and_only_allowed_columns_take_it(
    browser, log_in, live_server, service_user, language
):
    from selenium.webdriver.common.by import By

    complaint = make_complaint(assignee=service_user)
    log_in(service_user, language)
    open_board(browser, live_server)
    card = browser.find_element(By.ID, f"card-{complaint.pk}")
    assert card.get_attribute("draggable") == "true"
    target = browser.find_element(By.CSS_SELECTOR, '.board-column[data-state="acknowledged"]')
    seen = browser.execute_script(DRAG, card, target)
    assert "drop-ok" in seen["classes"]["acknowledged"] and "drop-no" in seen["classes"]["resolved"]
    assert "drop-ok" in seen["classes"]["rejected"] and "drop-no" in seen["classes"]["investigating"]
    assert (seen["refusedTakesIt"], seen["takesIt"]) == (False, True)
    wait_until(browser, lambda d: card_in(d, "acknowledged", complaint))
    assert Complaint.objects.get(pk=complaint.pk).state == State.ACKNOWLEDGED
    assert "drop-ok" not in target.get_attribute("class")  # the drag is over


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_guard_refuses_a_move_without_its_facts_and_the_card_stays(
    browser, log_in, live_server, service_user, language
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    complaint = make_complaint(assignee=service_user)
    for to in (State.ACKNOWLEDGED, State.INVESTIGATING):
        complaint = complaint_transition(complaint=complaint, to=to, by=service_user)
    log_in(service_user, language)
    open_board(browser, live_server)
    Select(browser.find_element(By.ID, f"move-{complaint.pk}")).select_by_value("action_communicated")
    browser.find_element(By.CSS_SELECTOR, f"#card-{complaint.pk} form[data-board-move] button").click()

    # the move needs an action plan: its form opens on the board, and nothing has moved yet
    panel = wait_until(browser, lambda d: d.find_elements(By.ID, "move-panel"))[0]
    assert panel.find_element(By.ID, "id_move_action_plan").get_attribute("value") == ""
    assert panel.find_element(By.ID, "id_move_customer_notified_at").get_attribute("value")
    assert card_in(browser, "investigating", complaint)
    panel.find_element(By.CSS_SELECTOR, "button[type=submit]").click()  # without the action plan

    wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#move-panel .has-error"))
    panel = browser.find_element(By.ID, "move-panel")
    errors = [e.text for e in panel.find_elements(By.CSS_SELECTOR, ".field .error")]
    assert errors == [NO_PLAN[language]]
    assert panel.find_element(By.CSS_SELECTOR, "p.error[role=alert]").text == NOT_MOVED[language].format(
        number=complaint.number
    )
    assert card_in(browser, "investigating", complaint) and not card_in(browser, "action_communicated", complaint)
    assert Complaint.objects.get(pk=complaint.pk).state == State.INVESTIGATING
    assert not ComplaintTransition.objects.filter(complaint=complaint, to_state=State.ACTION_COMMUNICATED).exists()

    # with the plan written, the same form moves it
    browser.find_element(By.ID, "id_move_action_plan").send_keys("更换货物 / Replace the goods")
    browser.find_element(By.CSS_SELECTOR, "#move-panel button[type=submit]").click()
    wait_until(browser, lambda d: card_in(d, "action_communicated", complaint))
    assert Complaint.objects.get(pk=complaint.pk).state == State.ACTION_COMMUNICATED


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_a_phone_the_board_scrolls_in_its_own_box(browser, log_in, live_server, service_user, language):
    from selenium.webdriver.common.by import By

    make_complaint(assignee=service_user, description="货物到达时已损坏，外包装破裂，客户要求更换" * 3)
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    log_in(service_user, language)
    open_board(browser, live_server)
    widths = browser.execute_script(
        "var box = document.querySelector('.board-scroll');"
        "return {page: document.documentElement.scrollWidth, inner: window.innerWidth,"
        " box: box.scrollWidth, boxClient: box.clientWidth};"
    )
    assert widths["inner"] == 390 and widths["page"] <= 390  # the page does not overflow
    assert widths["box"] > widths["boxClient"]  # nine columns: the board scrolls inside its box
    board = browser.find_element(By.CSS_SELECTOR, ".board-scroll")
    browser.execute_script("arguments[0].scrollLeft = 2000;", board)
    assert browser.execute_script("return arguments[0].scrollLeft;", board) > 0
    assert browser.execute_script("return window.scrollX;") == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_without_javascript_the_move_control_still_moves_and_opens_the_facts(
    browser, log_in, live_server, service_user, language
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    complaint = make_complaint(assignee=service_user)
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    log_in(service_user, language)
    open_board(browser, live_server)
    card = browser.find_element(By.ID, f"card-{complaint.pk}")
    assert card.get_attribute("draggable") == "false" and "movable" not in card.get_attribute("class")  # no script
    Select(browser.find_element(By.ID, f"move-{complaint.pk}")).select_by_value("acknowledged")
    browser.find_element(By.CSS_SELECTOR, f"#card-{complaint.pk} form[data-board-move] button").click()
    wait_until(browser, lambda d: card_in(d, "acknowledged", complaint))  # the page came back with it moved
    message = browser.find_element(By.CSS_SELECTOR, ".messages li.success").text
    assert message == MOVED[language].format(number=complaint.number)
    assert Complaint.objects.get(pk=complaint.pk).state == State.ACKNOWLEDGED
    # a move with facts of its own opens its form, and moves nothing yet
    Select(browser.find_element(By.ID, f"move-{complaint.pk}")).select_by_value("rejected")
    browser.find_element(By.CSS_SELECTOR, f"#card-{complaint.pk} form[data-board-move] button").click()
    wait_until(browser, lambda d: d.find_elements(By.ID, "id_move_note"))
    assert card_in(browser, "acknowledged", complaint)
    assert Complaint.objects.get(pk=complaint.pk).state == State.ACKNOWLEDGED
