"""`make run` as a new user gets it (issue 17, acceptance 1): no Redis, the web server and a Celery
worker on a broker that is a folder (CELERY_BROKER_URL=filesystem://), a SQLite file between them.
"Recompute now" and "Confirm and import" answer at once, the progress bar moves while the worker
works, and the page shows the result when it is done.

The site runs as separate processes, as the Procfile starts them, on the demo book (seed_demo at
6,000 customers: long enough a run for the bar to be seen moving)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.e2e

ROOT = Path(settings.BASE_DIR)
PASSWORD = "Embedded-demo-1"
# seed_demo writes its logins next to manage.py; here they go to the test's folder instead.
SEED = (
    "import django; django.setup()\n"
    "from pathlib import Path\n"
    "from django.conf import settings\n"
    "from django.core.management import call_command\n"
    "settings.BASE_DIR = Path({folder!r})\n"
    "call_command('seed_demo', customers=6000, password={password!r})\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("embedded")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL", "DATABASE_URL")}
    env |= {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://localhost/",
        "BROKER_FOLDER": str(folder / "broker"),
        "DJANGO_MEDIA_ROOT": str(folder / "media"),
    }
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True, timeout=600)
    seed = SEED.format(folder=str(folder), password=PASSWORD)
    subprocess.run([python, "-c", seed], cwd=ROOT, env=env, check=True, timeout=900, capture_output=True)
    port = free_port()
    logs = open(folder / "processes.log", "w")  # closed below, after both processes
    processes = [
        subprocess.Popen(
            [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=logs,
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [str(Path(python).with_name("celery")), "-A", "config", "worker", "--pool", "solo", "--without-mingle"],
            cwd=ROOT,
            env=env,
            stdout=logs,
            stderr=subprocess.STDOUT,
        ),
    ]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=2)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    yield url, folder
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)
    logs.close()


def wait_until(browser, condition, seconds=120):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, seconds, poll_frequency=0.05).until(condition)


def sign_in(browser, url, username="executive"):
    from selenium.webdriver.common.by import By

    browser.get(url + "/accounts/login/")
    browser.find_element(By.NAME, "username").send_keys(username)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.NAME, "password").submit()
    wait_until(browser, lambda d: "/accounts/login/" not in d.current_url)


def server_answered_in_ms(browser) -> float:
    """From the click to the last byte of the page it led to: the POST, its redirect and the page."""
    return browser.execute_script("return performance.getEntriesByType('navigation')[0].responseEnd")


def watch_progress(browser) -> list[str]:
    """The progress labels the page showed, in order, until the bar went (the page reloads when done)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By

    seen = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            label = browser.find_element(By.CSS_SELECTOR, ".job-progress .run-progress-label").text
        except NoSuchElementException:
            return seen
        except StaleElementReferenceException:
            continue
        if not seen or seen[-1] != label:
            seen.append(label)
        time.sleep(0.05)
    raise AssertionError(f"the job did not end within 3 minutes; the bar showed {seen}")


def test_recompute_answers_at_once_and_the_bar_moves_until_the_new_run_shows(site, browser):
    from selenium.webdriver.common.by import By

    url, _folder = site
    sign_in(browser, url)
    browser.get(url + "/analytics/runs/")
    latest = "return document.querySelector('table tbody tr td').textContent + ' ' + document.querySelector('table tbody tr').cells[2].textContent"
    before = browser.execute_script(latest)  # the newest run's number and status

    browser.find_element(By.CSS_SELECTOR, "#run-status button[type=submit]").click()
    wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".job-progress"))
    assert server_answered_in_ms(browser) < 1000
    assert browser.find_element(By.CSS_SELECTOR, "#run-status button[type=submit]").get_attribute("disabled")

    seen = watch_progress(browser)
    assert len(seen) >= 2, seen  # the bar moved: at least two states between the click and the end
    after = wait_until(browser, lambda d: d.find_element(By.ID, "run-status"))
    assert "The figures shown everywhere are for the 12 months to" in after.text
    number, status = browser.execute_script(latest).split(" ", 1)
    assert (int(number), status) == (int(before.split(" ")[0]) + 1, "Published")
    assert not browser.find_element(By.CSS_SELECTOR, "#run-status button[type=submit]").get_attribute("disabled")


def test_an_import_answers_at_once_and_the_bar_moves_until_the_report_shows(site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, folder = site
    lines = ["number,customer,ordered_on,revenue,cost"]
    lines += [
        f"EMB-{n},C{n % 6000 + 1:06d},2026-01-{n % 28 + 1:02d},{n % 900 + 100}.25,{n % 500}.10" for n in range(100_000)
    ]
    path = folder / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sign_in(browser, url)
    browser.get(url + "/imports/")
    Select(browser.find_element(By.NAME, "kind")).select_by_value("orders")
    browser.find_element(By.NAME, "file").send_keys(str(path))
    browser.find_element(By.CSS_SELECTOR, "#upload-form button[type=submit]").click()
    preview = wait_until(browser, lambda d: d.find_element(By.ID, "import-preview"))
    assert "100,000 rows are fine: 100,000 new, 0 updated, 0 unchanged." in preview.text, preview.text

    browser.find_element(By.ID, "confirm-import").click()
    wait_until(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".job-progress"))
    assert server_answered_in_ms(browser) < 1000

    seen = watch_progress(browser)
    assert len(seen) >= 2, seen
    report = wait_until(browser, lambda d: d.find_element(By.ID, "import-report"))
    assert "100,000 rows imported: 100,000 new, 0 updated, 0 unchanged." in report.text
