"""Every page each role can reach (tests/pages.py), in headless Chromium, on a phone (390 px, mobile
emulation) and a desktop (1440 px), in English and in Chinese:

- the page is never wider than the screen (tables scroll inside their own box);
- the console stays clean (no script error, no refused script or style, no missing asset);
- a Chinese page shows no English, except brand and file-format names, codes, numbers, the
  currency, tier letters, user names and the data set's own values;
- no page shows a raw code (`product_quality`, `awaiting_customer`, a lone `loyal`) where its label belongs;
- axe-core finds no critical or serious accessibility violation;
- the top bar's menu folds behind a Menu button on a phone, works from the keyboard, and is there
  without JavaScript too.

One browser, one data set and one live server for the whole module (tests/e2e/conftest.py); each
(role, language, width) is swept once and the checks below read the same sweep. With E2E_DUMP=path
every page's findings are also appended to that file, one JSON line a page.
"""

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.pages import ADMIN, HTML, OK, ROLES, pages_for

# django_db: pytest-django makes the test database; the data set itself is committed once for the
# module by the `site` fixture, before the first test's transaction.
pytestmark = [pytest.mark.e2e, pytest.mark.django_db]

LANGUAGES = ("en", "zh-hans")
WIDTHS = (390, 1440)
VIEWPORTS = {
    390: {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True},
    1440: {"width": 1440, "height": 900, "deviceScaleFactor": 1, "mobile": False},
}
COMBINATIONS = [(role, language, width) for role in ROLES for language in LANGUAGES for width in WIDTHS]
# axe-core takes about a second a page: every page of every role goes through it twice, in English
# on a desktop and in Chinese on a phone, so both languages and both widths are covered.
AXE_VIEWS = {("en", 1440), ("zh-hans", 390)}


def combination_id(combination):
    return "-".join(str(part) for part in combination)


# What a Chinese page may show in Latin letters besides the data set's own values.
ALLOWED_LATIN = {
    "CNY",
    "CSV",
    "XLSX",
    "PNG",
    "SVG",
    "Excel",
    "Plotly",
    "Django",  # currency, file formats, product names
    "SLA",
    "KPI",
    "ARPU",
    "HHI",
    "ABC",
    "ID",
    "IP",  # standard abbreviations, used as such in Chinese
    "A",
    "B",
    "C",
    "D",
    "P",  # tier letters
}
# Codes and numbers written with letters: a quarter (2026-Q4), an encoding (UTF-8, GB18030), what a
# file holds (YYYY-MM-DD, yes/no), a chart's axis figure with its SI prefix (400k, 2.5M: symbols, not words).
CODE_PATTERNS = re.compile(
    r"\b\d{4}-Q[1-4]\b|\bUTF-8\b|\bGB18030\b|\bGBK\b|\bYYYY-MM-DD\b|\byes/no\b"
    r"|(?<![\w.])[-−]?\d+(?:\.\d+)?[kMGT](?![\w])"
)

# Scripts that wait for these before the page counts as drawn (charts draw after the load event).
SETTLED = """
var figures = document.querySelectorAll('[data-report-figure], [data-plotly-figure]');
for (var i = 0; i < figures.length; i++) { if (!figures[i].querySelector('.main-svg')) { return false; } }
var points = document.getElementById('profit-volume');
return document.readyState === 'complete' && (!points || !!points.dataset.drawn);
"""

# The outermost elements that stick out to the right of the screen outside any box that clips them
# (an absolutely placed element escapes the scrolling boxes below its containing block).
OVERFLOWING = """
var width = arguments[0], out = [];
function clipped(element) {
  var position = getComputedStyle(element).position;
  if (position === 'fixed') { return false; }
  var needBlock = position === 'absolute';
  for (var p = element.parentElement; p && p !== document.body; p = p.parentElement) {
    var style = getComputedStyle(p), block = style.position !== 'static' || style.transform !== 'none';
    if ((!needBlock || block) && ['auto', 'scroll', 'hidden', 'clip'].indexOf(style.overflowX) >= 0) { return true; }
    if (needBlock && block) {
      if (style.position === 'fixed') { return false; }
      needBlock = style.position === 'absolute';
    }
  }
  return false;
}
function name(element) {
  var classes = typeof element.className === 'string' ? element.className.trim().split(/\\s+/).filter(Boolean) : [];
  return element.tagName.toLowerCase() + (element.id ? '#' + element.id : '') + (classes.length ? '.' + classes.join('.') : '');
}
document.querySelectorAll('body *').forEach(function (element) {
  var box = element.getBoundingClientRect();
  if (!(box.width > 0 && box.right + window.scrollX > width + 1) || clipped(element)) { return; }
  var parent = element.parentElement;
  if (parent && parent !== document.body && parent.getBoundingClientRect().right + window.scrollX > width + 1 &&
      !clipped(parent)) { return; }  // its parent sticks out already: name the outermost only
  out.push(name(element) + ' in ' + name(parent) + ' (right edge at ' + Math.round(box.right + window.scrollX) + ' px)');
});
return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth, culprits: out.slice(0, 8)};
"""

# Every text a person (or a screen reader) is given: visible text nodes (an option's text counts
# when its list does), and the words in placeholder, aria-label, title and alt. `own` is the whole
# text of the element around the text, to tell a lone code from a word inside a sentence.
TEXTS = """
var pageLang = (document.documentElement.lang || '').toLowerCase(), out = [];
function shown(element) {
  if (element.closest('option, optgroup')) { element = element.closest('select') || element; }
  if (!element.getClientRects().length) { return false; }
  var style = getComputedStyle(element);
  return style.visibility !== 'hidden' && style.visibility !== 'collapse';
}
function langOf(element) {
  var holder = element.closest('[lang]');
  return holder ? holder.getAttribute('lang').toLowerCase() : pageLang;
}
function where(element) {
  var parts = [];
  for (var e = element; e && e !== document.body && parts.length < 3; e = e.parentElement) {
    parts.unshift(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
                  (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\\s+/)[0] : ''));
  }
  return parts.join(' > ');
}
var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (var node = walker.nextNode(); node; node = walker.nextNode()) {
  var text = node.nodeValue.trim(), element = node.parentElement;
  if (!text || !element || element.closest('script, style, noscript, template')) { continue; }
  if (element.closest('code, kbd, samp')) { continue; }  // marked as code: a column name, a key, a format
  if (!shown(element)) { continue; }
  out.push({text: text, own: (element.textContent || '').trim().slice(0, 300), lang: langOf(element), where: where(element)});
}
var labelled = '[placeholder], [aria-label], [title], img[alt], input[type=submit][value], input[type=button][value]';
document.querySelectorAll(labelled).forEach(function (element) {
  if (element.closest('script, style, noscript, template') || !shown(element)) { return; }
  ['placeholder', 'aria-label', 'title', 'alt', 'value'].forEach(function (name) {
    var value = element.getAttribute(name);
    if (value && value.trim() && (name !== 'value' || element.tagName === 'INPUT')) {
      out.push({text: value.trim(), own: value.trim(), lang: langOf(element), where: where(element) + ' [' + name + ']'});
    }
  });
});
return out;
"""

AXE_SCRIPT = Path(__import__("axe_selenium_python").__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# axe-core 3.1.1, as axe-selenium-python 2.1.6 ships it, with its default rules, less the two that
# later versions dropped as no WCAG requirement (deprecated in 3.3, removed in 4.0): checkboxgroup
# and radiogroup (the admin's list pages have one checkbox per row, all named _selected_action).
AXE_RUN = """
var done = arguments[arguments.length - 1];
var options = {resultTypes: ['violations'], rules: {checkboxgroup: {enabled: false}, radiogroup: {enabled: false}}};
axe.run(document, options).then(function (results) {
  done(results.violations.map(function (v) {
    return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(function (n) {
      return n.target.join(' ') + (n.failureSummary ? ': ' + n.failureSummary.replace(/\\s+/g, ' ').slice(0, 240) : '');
    }), count: v.nodes.length};
  }));
}, function (error) { done([{id: 'axe-error', impact: 'critical', help: String(error), nodes: [], count: 0}]); });
"""


@dataclass
class Visit:
    url: str
    overflow: list = field(default_factory=list)
    console: list = field(default_factory=list)
    english: list = field(default_factory=list)
    codes: list = field(default_factory=list)
    axe: list = field(default_factory=list)


def raw_codes():
    """Every stored code of the app's choices whose label differs from it: `product_quality`, `loyal`..."""
    from django.db.models import Choices
    from django.utils import translation

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    codes = set()
    with translation.override("en"):
        for choices in subclasses(Choices):
            if choices.__module__.split(".")[0] not in {"crm", "complaints", "analytics", "exchange", "core"}:
                continue
            for value, label in choices.choices:
                if isinstance(value, str) and len(value) > 1 and value != str(label):
                    codes.add(value)
    return codes


def data_values():
    """The data set's own words (names, regions, industries, titles, e-mail addresses, numbers):
    what a user typed shows as typed, in any language. Fields with choices are codes, not data."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import models

    values = set(Group.objects.values_list("name", flat=True))  # the admin lists the role groups by name
    wanted = [model for app in ("crm", "complaints", "exchange") for model in apps.get_app_config(app).get_models()]
    for model in wanted + [get_user_model()]:
        if model.__name__.startswith("Historical"):
            continue
        fields = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField)) and not f.choices and f.name != "password"
        ]
        for row in model.objects.values_list(*fields):
            values.update(str(value) for value in row if value)
    return sorted(values, key=len, reverse=True)


def page_codes():
    """Codes a page names as such: the import pages list the files' column names, to be typed as they are."""
    from exchange.columns import KINDS

    return {"/imports/": {word for spec in KINDS.values() for name in spec.names for word in name.split("_")}}


class Sweep:
    """Visits every page of a role, in a language, at a width, once; the tests read the results."""

    def __init__(self, browser, site, sign_in):
        self.browser, self.site, self.sign_in = browser, site, sign_in
        self.done = {}
        self.codes = raw_codes()
        compound = sorted((re.escape(code) for code in self.codes if "_" in code), key=len, reverse=True)
        self.code_words = re.compile(r"(?<![\w-])(" + "|".join(compound) + r")(?![\w-])")  # product_quality anywhere
        self.values = data_values()
        self.page_codes = page_codes()
        self.axe_source = AXE_SCRIPT.read_text(encoding="utf-8")

    def pages(self, role):
        user = self.site.users()[role]
        return [
            page
            for page in pages_for(user, self.site, include_admin=True)
            if page.status == OK and page.kind in (HTML, ADMIN)
        ]

    def __call__(self, role, language, width):
        key = (role, language, width)
        if key not in self.done:
            self.done[key] = self.sweep(role, language, width)
        return self.done[key]

    def sweep(self, role, language, width):
        browser = self.browser
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[width])
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
        self.sign_in(role, language)
        browser.get_log("browser")  # what came before is not this sweep's
        axe = (language, width) in AXE_VIEWS
        visits = [self.visit(page.url, language, width, axe=axe) for page in self.pages(role)]
        if os.environ.get("E2E_DUMP"):  # every finding of every page, for a developer to read
            with open(os.environ["E2E_DUMP"], "a", encoding="utf-8") as dump:
                for visit in visits:
                    dump.write(
                        json.dumps({"combo": [role, language, width], **visit.__dict__}, ensure_ascii=False) + "\n"
                    )
        return visits

    def visit(self, url, language, width, *, axe):
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        browser, visit = self.browser, Visit(url)
        browser.get(self.site.url + url)
        try:
            WebDriverWait(browser, 30, poll_frequency=0.1).until(lambda d: d.execute_script(SETTLED))
        except TimeoutException:
            visit.console.append("the page's charts did not draw within 30 s")
        if language == "zh-hans" and browser.find_element("tag name", "html").get_attribute("lang") != "zh-hans":
            visit.english.append(f"<html lang> is {browser.find_element('tag name', 'html').get_attribute('lang')!r}")

        layout = browser.execute_script(OVERFLOWING, width)
        if layout["scrollWidth"] > width or layout["innerWidth"] != width:
            visit.overflow.append(
                f"{layout['scrollWidth']} px wide on a {width} px screen; sticking out: {layout['culprits']}"
            )

        visit.console += [entry["message"][:300] for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]

        for item in browser.execute_script(TEXTS):
            self.check_text(item, language, visit, url)

        if not axe:
            return visit
        browser.execute_script(self.axe_source)
        browser.set_script_timeout(60)
        for violation in browser.execute_async_script(AXE_RUN):
            if violation["impact"] in ("critical", "serious"):
                visit.axe.append(
                    f"{violation['id']} ({violation['impact']}, {violation['count']}x): {violation['help']}: {violation['nodes']}"
                )
        return visit

    def check_text(self, item, language, visit, url=""):
        text, where = item["text"], item["where"]
        for match in self.code_words.finditer(text):
            visit.codes.append(f"{match.group(1)!r} in {text[:80]!r} at {where}")
        own = [part for part in re.split(r"[\s,/·、，]+", item["own"]) if part]
        if own and all(part in self.codes for part in own):
            visit.codes.append(f"{item['own'][:80]!r} at {where}")
        if language == "zh-hans" and item["lang"].startswith("zh"):
            rest = CODE_PATTERNS.sub(" ", text)
            for value in self.values:
                if value in rest:
                    rest = rest.replace(value, " ")
            allowed = ALLOWED_LATIN | next(
                (codes for prefix, codes in self.page_codes.items() if url.startswith(prefix)), set()
            )
            if url.startswith("/admin/") and where.endswith("img [alt]") and text in ("True", "False", "None"):
                return  # the admin's yes/no icons: Django writes the Python value as their alt text, untranslatable
            words = [word for word in re.findall(r"[A-Za-z][A-Za-z'’]*", rest) if word not in allowed]
            if words:
                visit.english.append(f"{' '.join(words)!r} in {text[:100]!r} at {where}")


@pytest.fixture(scope="module")
def sweep(module_browser, site, sign_in):
    return Sweep(module_browser, site, sign_in)


def report(visits, attribute):
    """Each problem once, with the pages that have it."""
    pages = {}
    for visit in visits:
        for problem in getattr(visit, attribute):
            pages.setdefault(re.sub(r"modebar-[0-9a-f]+", "modebar", problem), []).append(visit.url)
    lines = [
        f"{problem}  [{len(urls)} page(s): {', '.join(urls[:3])}{' ...' if len(urls) > 3 else ''}]"
        for problem, urls in pages.items()
    ]
    return "\n".join(lines[:80]) + (f"\n... and {len(lines) - 80} more" if len(lines) > 80 else "")


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_no_page_is_wider_than_the_screen(sweep, combination):
    visits = sweep(*combination)
    assert visits, "the role reaches no page"
    assert not any(visit.overflow for visit in visits), report(visits, "overflow")


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_the_console_stays_clean(sweep, combination):
    visits = sweep(*combination)
    assert not any(visit.console for visit in visits), report(visits, "console")


@pytest.mark.parametrize("combination", [c for c in COMBINATIONS if c[1] == "zh-hans"], ids=combination_id)
def test_chinese_pages_show_no_english(sweep, combination):
    visits = sweep(*combination)
    assert not any(visit.english for visit in visits), report(visits, "english")


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_no_page_shows_a_raw_code(sweep, combination):
    visits = sweep(*combination)
    assert not any(visit.codes for visit in visits), report(visits, "codes")


@pytest.mark.parametrize("combination", [c for c in COMBINATIONS if c[1:] in AXE_VIEWS], ids=combination_id)
def test_axe_finds_no_critical_or_serious_violation(sweep, combination):
    visits = sweep(*combination)
    assert not any(visit.axe for visit in visits), report(visits, "axe")


# Each menu item's text: on how many lines it lies (the distinct tops of its glyph boxes) and where.
LINES = """
return Array.from(document.querySelectorAll('.mainnav a')).map(function (link) {
  var range = document.createRange();
  range.selectNodeContents(link);
  var tops = {};
  Array.from(range.getClientRects()).forEach(function (box) { if (box.width > 0) { tops[Math.round(box.top)] = true; } });
  var box = link.getBoundingClientRect();
  return {text: link.textContent.trim(), lines: Object.keys(tops).length, top: box.top, right: box.right};
});
"""


def menu_links(browser):
    links = browser.execute_script(LINES)
    assert links, "the menu has no link"
    for link in links:  # one line each: 销售客户组合 never stacks as 销/售/客/户/组/合
        assert link["lines"] == 1, link
    return links


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_a_phone_the_menu_folds_behind_a_button_that_works_from_the_keyboard(
    module_browser, site, sign_in, language
):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser = module_browser
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[390])
    sign_in("admin", language)  # the admin has the longest menu
    browser.get(site.url + "/customers/")
    button = browser.find_element(By.CSS_SELECTOR, ".topbar .menu-toggle")
    menu = browser.find_element(By.ID, button.get_attribute("aria-controls"))

    # folded: only the brand and the button show
    assert button.is_displayed() and button.tag_name == "button", (browser.current_url, browser.title)
    assert button.get_attribute("aria-expanded") == "false" and not menu.is_displayed()
    assert button.text == ("菜单" if language == "zh-hans" else "Menu")

    # Enter opens it; Tab goes on into its first link; every item is on one line, inside the screen
    browser.execute_script("arguments[0].focus()", button)
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    assert button.get_attribute("aria-expanded") == "true" and menu.is_displayed()
    for link in menu_links(browser):
        assert link["right"] <= 390, link
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.switch_to.active_element == menu.find_elements(By.CSS_SELECTOR, ".mainnav a")[0]
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 390

    # Escape folds it and gives the focus back to the button; Space opens it again
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()
    assert button.get_attribute("aria-expanded") == "false" and not menu.is_displayed()
    assert browser.switch_to.active_element == button
    ActionChains(browser).send_keys(Keys.SPACE).perform()
    assert button.get_attribute("aria-expanded") == "true" and menu.is_displayed()


@pytest.mark.parametrize("language", LANGUAGES)
def test_without_javascript_the_menu_and_the_language_button_are_there(module_browser, site, sign_in, language):
    from selenium.webdriver.common.by import By

    browser = module_browser
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[390])
    sign_in("admin", language)
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.get(site.url + "/customers/")
        assert not browser.find_element(By.CSS_SELECTOR, ".topbar .menu-toggle").is_displayed()
        assert browser.find_element(By.ID, "site-menu").is_displayed()
        assert browser.find_element(By.CSS_SELECTOR, ".langswitch button[type=submit]").is_displayed()
        menu_links(browser)
        assert browser.execute_script("return document.documentElement.scrollWidth") <= 390
    finally:
        browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})


@pytest.mark.parametrize("language", LANGUAGES)
def test_on_a_desktop_the_menu_is_one_row_without_a_button(module_browser, site, sign_in, language):
    from selenium.webdriver.common.by import By

    browser = module_browser
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[1440])
    sign_in("admin", language)
    browser.get(site.url + "/customers/")
    assert not browser.find_element(By.CSS_SELECTOR, ".topbar .menu-toggle").is_displayed()
    assert not browser.find_element(
        By.CSS_SELECTOR, ".langswitch button[type=submit]"
    ).is_displayed()  # the list switches by itself
    links = menu_links(browser)
    assert len({round(link["top"]) for link in links}) == 1, links


def test_choosing_a_language_switches_at_once(module_browser, site, sign_in):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser = module_browser
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", VIEWPORTS[1440])
    sign_in("sales", "en")
    browser.get(site.url + "/customers/?q=华东")
    browser.get_log("browser")
    Select(browser.find_element(By.ID, "language")).select_by_value("zh-hans")  # no inline handler: nav.js submits
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hans")
    assert browser.current_url.endswith("/customers/?q=%E5%8D%8E%E4%B8%9C")  # back on the same page
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
