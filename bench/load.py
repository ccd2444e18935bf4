"""Load: sales, service and executive sessions on their usual pages, against gunicorn + PostgreSQL +
a Celery worker (locust, headless, loopback only).

Usage (see bench/README.md; the bench database must hold the 100,000 customers and a published run):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench REDIS_URL=redis://127.0.0.1:6379/8 \\
        .venv/bin/python bench/load.py [--users 10,30,60] [--run-time 60] [--think 1,3] [--port 8765]

What it does:
1. logs in one session per simulated user beforehand, as `Client.force_login` does, so that the
   password hash of each login (hundreds of ms of CPU by design) is not counted as page CPU;
2. starts a Celery worker and gunicorn with config/gunicorn.conf.py on 127.0.0.1 (the workers and
   threads it would choose on this machine), both with the production settings over plain HTTP
   (collectstatic first; the simulated browsers send their session cookie themselves);
3. warms up for 15 s at 5 users (not counted), then, for each user count, runs locust headless for
   --run-time seconds: sales 50%, service 30%, executive 20% of the users, each waiting --think
   seconds (uniform) between pages. A page answered with anything but 200 counts as an error;
4. reads, before and after each run, the CPU (utime + stime, from /proc) of the gunicorn master and
   its workers (workers replaced by max_requests included, through the master's cutime/cstime),
   and of the PostgreSQL backends connected to the bench database, plus the load average;
5. prints a markdown table: requests per second, p50/p95/p99, errors, CPU per request.
Only loopback traffic; each run stops by itself after --run-time.

As a locustfile (`locust -f bench/load.py`), it reads the plan the driver wrote (LOAD_PLAN).
"""

import argparse
import collections
import csv
import http.cookies
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"  # git-ignored
VENV_BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
ROLE_WEIGHTS = {"sales": 5, "service": 3, "executive": 2}


# -- the mix ---------------------------------------------------------------------------------------
def role_pages(plan: dict, rng: random.Random) -> dict[str, list[tuple[int, str, Callable[[], str]]]]:
    """Each role's usual pages: (weight, name, a function giving the next path)."""
    pick = rng.choice
    lists = plan["list_queries"]
    return {
        "sales": [
            (4, "customer list", lambda: "/customers/?" + pick(lists["sales"])),
            (3, "customer detail", lambda: f"/customers/{pick(plan['customers'])}/"),
            (1, "customer orders", lambda: f"/customers/{pick(plan['customers'])}/orders/"),
            (2, "portfolio", lambda: "/analytics/portfolio/"),
        ],
        "service": [
            (4, "complaint queue", lambda: "/complaints/?" + pick(plan["queue_queries"])),
            (3, "complaint detail", lambda: f"/complaints/{pick(plan['complaints'])}/"),
            (2, "customer list", lambda: "/customers/?" + pick(lists["service"])),
            (1, "customer detail", lambda: f"/customers/{pick(plan['customers'])}/"),
        ],
        "executive": [
            (4, "report", lambda: "/analytics/reports/" + pick(plan["report_paths"])),
            # the value report's chart fetches its points (about 1 MB at 100,000 customers)
            (1, "report: profit-volume points", lambda: "/analytics/reports/profit-volume.json"),
            (2, "customer list", lambda: "/customers/?" + pick(lists["executive"])),
            (1, "customer detail", lambda: f"/customers/{pick(plan['customers'])}/"),
            (1, "portfolio", lambda: f"/analytics/portfolio/?owner={pick(plan['sales_reps'])}"),
            (1, "complaint KPIs", lambda: "/complaints/kpis/"),
        ],
    }


# -- the locustfile (loaded by the locust processes the driver starts, which set LOAD_PLAN) ---------
if os.environ.get("LOAD_PLAN"):
    from locust import FastHttpUser, between, task

    PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text(encoding="utf-8"))

    class Session(FastHttpUser):
        """One logged-in person: a session cookie of their role, a language, pages with think time."""

        abstract = True
        role = ""
        wait_time = between(*PLAN["think"])

        def on_start(self):
            self.rng = random.Random()
            sessions = PLAN["sessions"][self.role]
            self.cookie = f"sessionid={self.rng.choice(sessions)}"
            self.language = self.rng.choice(["en", "zh-hans"])
            self.pages = role_pages(PLAN, self.rng)[self.role]

        @task
        def next_page(self):
            [(_weight, name, path)] = self.rng.choices(self.pages, weights=[page[0] for page in self.pages])
            path = path()
            headers = {"Cookie": self.cookie, "Accept-Language": self.language}
            with self.client.get(
                path, name=name, headers=headers, allow_redirects=False, catch_response=True
            ) as response:
                if response.status_code != 200:
                    response.failure(f"{response.status_code} for {path}")

    class Sales(Session):
        weight, role = ROLE_WEIGHTS["sales"], "sales"

    class Service(Session):
        weight, role = ROLE_WEIGHTS["service"], "service"

    class Executive(Session):
        weight, role = ROLE_WEIGHTS["executive"], "executive"


# -- the driver -----------------------------------------------------------------------------------
def django_setup():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    import django

    django.setup()


def make_plan(users: int, think: tuple[float, float]) -> dict:
    """Sessions logged in ahead (one per simulated user) and the ids and queries the pages use."""
    from urllib.parse import urlencode

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore

    from analytics.reports import SECTIONS
    from analytics.services.runs import published_run
    from complaints.models import Complaint
    from complaints.selectors import TABS
    from crm.models import Customer, Region

    User = get_user_model()
    rng = random.Random(15)

    def sessions(usernames: list[str]) -> list[str]:
        keys = []
        for index in range(users):
            user = User.objects.get(username=usernames[index % len(usernames)])
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.create()
            keys.append(store.session_key)
        return keys

    sales = list(
        User.objects.filter(username__regex=r"^sales\d*$").order_by("username").values_list("username", flat=True)
    )
    service = list(
        User.objects.filter(username__regex=r"^service\d*$").order_by("username").values_list("username", flat=True)
    )
    customer_ids = list(Customer.objects.values_list("pk", flat=True))
    complaint_ids = list(Complaint.objects.values_list("pk", flat=True))
    if not published_run() or not complaint_ids:
        sys.exit(
            "The bench database needs a published analysis run and complaints (bench/customer_list.py seeds both)."
        )
    regions = list(Region.objects.order_by("name").values_list("pk", flat=True))
    names = Customer.objects.filter(name__regex=r"^[\u4e00-\u9fff]{4}").values_list("name", flat=True)[:200]
    fragments = sorted({name[2:4] for name in names})
    common = (
        [{"sort": "name"}, {"sort": "-since"}, {"status": "active", "sort": "name"}]
        + [{"region": region, "sort": "name"} for region in regions]
        + [{"q": fragment} for fragment in fragments[:8]]
        + [{"q": f"C0{rng.randrange(1000, 9999)}"} for _ in range(4)]
        + [{"sort": "code", "page": rng.randrange(2, 200)} for _ in range(4)]
    )
    money = [
        {"sort": "-profit"},
        {"tier": "A", "sort": "-score"},
        {"tier": "D", "sort": "profit"},
        {"region": regions[0], "sort": "-revenue"},
    ]
    return {
        "think": list(think),
        "sessions": {"sales": sessions(sales), "service": sessions(service), "executive": sessions(["executive"])},
        "customers": rng.sample(customer_ids, 2000),
        "complaints": rng.sample(complaint_ids, min(2000, len(complaint_ids))),
        "sales_reps": list(User.objects.filter(username__in=sales).values_list("pk", flat=True)),
        "list_queries": {
            "sales": [urlencode(query) for query in common + money],
            "service": [urlencode(query) for query in common],
            "executive": [urlencode(query) for query in money + common[:3]],
        },
        "queue_queries": [f"tab={tab}" for tab in TABS] + ["tab=all&page=20", "tab=open&q=%E6%9C%89%E9%99%90"],
        "report_paths": [""] + [f"{key}/" for key in SECTIONS if key != "value"],
    }


def proc_stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # fields from the 3rd (state) on


def cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """utime + stime of one process (and of its waited-for children that have exited)."""
    fields = proc_stat(pid)
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if with_children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / CLOCK_TICKS


def children(pid: int) -> list[int]:
    found = []
    for task_dir in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task_dir / "children").read_text().split()]
    return found


def gunicorn_cpu(master: int) -> float:
    """The master, its live workers, and the workers it has already replaced (cutime/cstime)."""
    total = cpu_seconds(master, with_children=True)
    for worker in children(master):
        try:
            total += cpu_seconds(worker)
        except FileNotFoundError:  # replaced meanwhile: counted in the master's cutime next time
            pass
    return total


def postgres_backends(database: str) -> dict[int, float]:
    """CPU seconds of each PostgreSQL backend connected to the bench database, by process id."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().decode(errors="replace")
            if command.startswith("postgres: ") and f" {database} " in command:
                found[int(entry.name)] = cpu_seconds(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            pass
    return found


class PostgresCpu:
    """The bench database's backends, sampled during a run: connections come and go (gunicorn's
    threads reconnect after DATABASE_CONN_MAX_AGE), so each backend counts from when it was first
    seen (or from 0 if it started during the run) to when it was last seen."""

    def __init__(self, database: str):
        self.database = database
        self.first = postgres_backends(database)
        self.last = dict(self.first)

    def sample(self) -> None:
        for pid, seconds in postgres_backends(self.database).items():
            self.first.setdefault(pid, 0.0)
            self.last[pid] = seconds

    def seconds(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    values = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run_locust(*, users: int, seconds: int, host: str, env: dict, prefix: Path) -> subprocess.Popen:
    command = [
        str(VENV_BIN / "locust"),
        "-f",
        str(Path(__file__).resolve()),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 5)),
        "--run-time",
        f"{seconds}s",
        "--host",
        host,
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
    ]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def guess_passwords(host: str, username: str, stop: threading.Event, tally: collections.Counter, lock) -> None:
    """One guesser: wrong passwords for `username` through the login page, each sent as soon as the
    last is answered (issue 15: six of these made every page about 15 times slower)."""
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(f"{host}/accounts/login/", timeout=30) as page:
        cookies = http.cookies.SimpleCookie("; ".join(page.headers.get_all("Set-Cookie")))
    token = cookies["csrftoken"].value  # sent back by hand: production marks the cookie Secure
    tries = 0
    while not stop.is_set():
        tries += 1
        form = {"csrfmiddlewaretoken": token, "username": username, "password": f"guess-{tries}"}
        post = urllib.request.Request(
            f"{host}/accounts/login/",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Cookie": f"csrftoken={token}"},
        )
        try:
            with opener.open(post, timeout=30) as answer:
                status = answer.status
        except urllib.error.HTTPError as answer:
            status = answer.code
        with lock:
            tally[status] += 1


def measure(*, users: int, seconds: int, host: str, env: dict, master: int, database: str, guessers: int = 0) -> dict:
    prefix = OUT / f"load_{users}{f'_guessers_{guessers}' if guessers else ''}"
    load_before = os.getloadavg()
    busy_before = machine_busy()
    web_before, database_cpu = gunicorn_cpu(master), PostgresCpu(database)
    stop, tally, lock = threading.Event(), collections.Counter(), threading.Lock()
    threads = [
        threading.Thread(target=guess_passwords, args=(host, "admin", stop, tally, lock)) for _ in range(guessers)
    ]
    for thread in threads:
        thread.start()
    locust = run_locust(users=users, seconds=seconds, host=host, env=env, prefix=prefix)
    locust_cpu = 0.0
    while locust.poll() is None:
        try:
            locust_cpu = cpu_seconds(locust.pid, with_children=True)
        except FileNotFoundError:
            pass
        database_cpu.sample()
        time.sleep(1)
    stop.set()
    for thread in threads:
        thread.join()
    web_after = gunicorn_cpu(master)
    database_cpu.sample()
    busy_after = machine_busy()
    load_after = os.getloadavg()
    if locust.returncode not in (0, 1):  # 1: some requests failed (counted below)
        sys.exit(f"locust failed ({locust.returncode}):\n{locust.stderr.read()}")
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    total = rows.pop("Aggregated")
    requests = int(total["Request Count"]) + sum(tally.values())
    return {
        "users": f"{users} + {guessers} guessers" if guessers else str(users),
        "guesses": dict(tally),
        "requests": requests,
        "rps": float(total["Requests/s"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "p99": float(total["99%"]),
        "errors": int(total["Failure Count"]),
        "web_ms": (web_after - web_before) * 1000 / max(requests, 1),
        "db_ms": database_cpu.seconds() * 1000 / max(requests, 1),
        "locust_cpu": locust_cpu,
        "machine_busy": (busy_after[0] - busy_before[0]) / max(busy_after[1] - busy_before[1], 1),
        "load": (load_before[0], load_after[0]),
        "pages": {
            name: (int(row["Request Count"]), float(row["50%"]), float(row["95%"])) for name, row in rows.items()
        },
    }


def postmaster_pid() -> int | None:
    """The PostgreSQL postmaster on this machine (the parent of the backends), if it is local."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
            if command.endswith(b"/postgres") and b" -D " in (entry / "cmdline").read_bytes().replace(b"\0", b" "):
                return int(entry.name)
    return None


class DatabaseCpu:
    """CPU of this process's PostgreSQL backend, plus what the postmaster reaped meanwhile (the
    parallel workers a query started: they exit at its end). Other databases' connections that end
    meanwhile count too, so on a shared machine read the median, not a single request."""

    def __init__(self):
        from django.db import connection

        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("select pg_backend_pid()")
            self.backend = cursor.fetchone()[0]
        self.postmaster = postmaster_pid()

    def seconds(self) -> float:
        total = cpu_seconds(self.backend)
        if self.postmaster:
            fields = proc_stat(self.postmaster)
            total += (int(fields[13]) + int(fields[14])) / CLOCK_TICKS  # cutime, cstime: reaped children
        return total


def profile(plan: dict, *, repeat: int) -> None:
    """Each page of the mix, `repeat` times, in this process through Django's test client under
    cProfile: CPU per page (this process, and the PostgreSQL backend serving it), queries, and where
    the time goes. Full listings in bench/out/."""
    import cProfile
    import pstats

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    User = get_user_model()
    rng = random.Random(15)
    pages = role_pages(plan, rng)
    usernames = {"sales": "sales", "service": "service", "executive": "executive"}
    rows, weighted, weighted_all, everything = [], [], [], None
    database = DatabaseCpu()

    def timed(client: Client, url: str) -> tuple[float, float, int]:
        """(Python CPU ms, PostgreSQL CPU ms, status) of one request."""
        database_before = database.seconds()
        started = time.process_time()
        response = client.get(url)
        python_ms = (time.process_time() - started) * 1000
        return python_ms, (database.seconds() - database_before) * 1000, response.status_code

    for role, role_mix in pages.items():
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(User.objects.get(username=usernames[role]))
        role_weight = ROLE_WEIGHTS[role] / sum(ROLE_WEIGHTS.values())
        for weight, name, path in role_mix:
            for _ in range(3):  # warm-ups: templates compiled, stored charts built
                client.get(path())
            times, database_times = [], []
            for _ in range(repeat):  # timed without the profiler, which slows Python down
                url = path()
                python_ms, database_ms, status = timed(client, url)
                times.append(python_ms)
                database_times.append(database_ms)
                assert status == 200, (url, status)
            connection.queries_log.clear()  # request_started empties it: counting from a length would miss
            with CaptureQueriesContext(connection) as queries:
                client.get(path())
            query_count = len(queries)  # now: the next requests empty the log it reads
            profiler = cProfile.Profile()
            for _ in range(repeat):
                url = path()
                profiler.enable()
                client.get(url)
                profiler.disable()
            slug = f"{role}-{name}".replace(" ", "_").replace(":", "")
            with open(OUT / f"profile-{slug}.txt", "w", encoding="utf-8") as handle:
                pstats.Stats(profiler, stream=handle).sort_stats("cumulative").print_stats(60)
            if everything is None:
                everything = pstats.Stats(profiler)
            else:
                everything.add(profiler)
            # PostgreSQL's CPU comes in clock ticks (10 ms): its mean over the requests, not a median
            median, database_mean = statistics.median(times), statistics.mean(database_times)
            both = median + database_mean
            rows.append((role, name, median, max(times), database_mean, both, query_count))
            share = role_weight * weight / sum(page[0] for page in role_mix)
            weighted.append((median, share))
            weighted_all.append((both, share))
    floor = Client(HTTP_ACCEPT_LANGUAGE="en")  # what any request costs here, for comparison
    signed_in = Client(HTTP_ACCEPT_LANGUAGE="en")
    signed_in.force_login(User.objects.get(username="sales"))
    for client, name, url in (
        (floor, "health check (no session, no template)", "/healthz"),
        (floor, "login page (base template)", "/accounts/login/"),
        (signed_in, "home: redirect to the start page (session, user, roles)", "/"),
    ):
        measured = [timed(client, url) for _ in range(3 + repeat)][3:]
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        python, database_ms = [m[0] for m in measured], [m[1] for m in measured]
        rows.append(
            (
                "anyone",
                name,
                statistics.median(python),
                max(python),
                statistics.mean(database_ms),
                statistics.median(python) + statistics.mean(database_ms),
                len(queries),
            )
        )
    print(
        "\n| role | page | CPU ms (median, in-process) | max | PostgreSQL CPU ms (mean) | both | queries |"
        "\n|---|---|---:|---:|---:|---:|---:|"
    )
    for role, name, median, slowest, database_mean, both, count in rows:
        print(f"| {role} | {name} | {median:.1f} | {slowest:.1f} | {database_mean:.1f} | {both:.1f} | {count} |")

    def mix(values: list[tuple[float, float]]) -> tuple[float, float]:
        """(median, mean) over the mix, each page weighted by how often it comes."""
        cumulative, middle = 0.0, None
        for value, share in sorted(values):
            cumulative += share
            if cumulative >= 0.5:
                middle = value
                break
        return middle, sum(value * share for value, share in values)

    (python_median, python_mean), (both_median, both_mean) = mix(weighted), mix(weighted_all)
    print(
        f"\nover the mix (weighted by how often each page comes): Python median {python_median:.1f} ms, "
        f"mean {python_mean:.1f} ms; Python + PostgreSQL median {both_median:.1f} ms, mean {both_mean:.1f} ms"
    )
    with open(OUT / "profile-all.txt", "w", encoding="utf-8") as handle:
        everything.stream = handle
        everything.sort_stats("tottime").print_stats(80)
    print(f"profiles: {OUT}/profile-*.txt (profile-all.txt: every page, by own time)")


def floor(*, host: str, master: int, database: str, plan: dict, repeat: int) -> None:
    """What the stack costs before a page does any work: the cheapest requests through gunicorn, one at
    a time, with CPU per request (gunicorn, and the bench database's backends)."""
    session = f"sessionid={plan['sessions']['sales'][0]}"
    opener = urllib.request.build_opener(_NoRedirect)
    rows = []
    for name, path, cookie in (
        ("health check (no session, no template)", "/healthz", ""),
        ("login page (CSRF, base template; no session)", "/accounts/login/", ""),
        ("home: redirect to the start page (signed in: session, user, roles)", "/", session),
        ("customer orders (signed in, a small page)", f"/customers/{plan['customers'][0]}/orders/", session),
    ):
        request = urllib.request.Request(f"{host}{path}", headers={"Cookie": cookie} if cookie else {})
        for _ in range(5):  # warm-up
            try:
                opener.open(request, timeout=30).read()
            except urllib.error.HTTPError:
                pass
        web_before, database_cpu = gunicorn_cpu(master), PostgresCpu(database)
        started = time.perf_counter()
        for _ in range(repeat):
            try:
                opener.open(request, timeout=30).read()
            except urllib.error.HTTPError:  # the redirect
                pass
        wall = (time.perf_counter() - started) * 1000 / repeat
        database_cpu.sample()
        web = (gunicorn_cpu(master) - web_before) * 1000 / repeat
        rows.append((name, web, database_cpu.seconds() * 1000 / repeat, wall))
    print(
        f"\n| request ({repeat} one at a time) | gunicorn CPU ms | PostgreSQL CPU ms | wall ms |\n|---|---:|---:|---:|"
    )
    for name, web, database_ms, wall in rows:
        print(f"| {name} | {web:.1f} | {database_ms:.1f} | {wall:.1f} |")
    print(f"load average: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", default="10,30,60", help="user counts, one run each (default 10,30,60)")
    parser.add_argument("--run-time", type=int, default=60, help="seconds per run (default 60)")
    parser.add_argument("--think", default="1,3", help="seconds between a user's pages, min,max (default 1,3)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", help="WEB_CONCURRENCY for this run (default: config/gunicorn.conf.py's)")
    parser.add_argument("--threads", help="GUNICORN_THREADS for this run (default: config/gunicorn.conf.py's)")
    parser.add_argument("--profile", type=int, metavar="N", help="instead: profile each page N times in-process")
    parser.add_argument(
        "--floor",
        type=int,
        metavar="N",
        help="instead of the runs: N requests, one at a time, of the cheapest pages through gunicorn (CPU each)",
    )
    parser.add_argument(
        "--guessers",
        type=int,
        default=0,
        help="also run each user count once more with this many threads guessing admin's password",
    )
    args = parser.parse_args()
    counts = [int(value) for value in args.users.split(",")]
    think = tuple(float(value) for value in args.think.split(","))
    # The sessions made here must be valid for gunicorn: the same key signs them in both.
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-load-only-not-a-secret")
    django_setup()
    from django.db import connection

    from crm.models import Customer

    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL: set DATABASE_URL=postgres://... (it refuses to run on SQLite).")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    customers = Customer.objects.count()
    OUT.mkdir(exist_ok=True)
    plan_path = OUT / "load-plan.json"
    plan = make_plan(max(counts), think)
    if args.profile:
        return profile(plan, repeat=args.profile)
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL (e.g. redis://127.0.0.1:6379/8): the stack includes a Celery worker.")
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    database = connection.settings_dict["NAME"]
    connection.close()

    host = f"http://127.0.0.1:{args.port}"
    # gunicorn and the worker run the production settings, over plain HTTP on loopback: the
    # simulated browsers send their session cookie themselves, so its Secure flag changes nothing.
    env = {
        **os.environ,
        "LOAD_PLAN": str(plan_path),
        "GUNICORN_ACCESS_LOG": "",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
    }
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], env=env, cwd=ROOT, check=True)
    if args.workers:
        env["WEB_CONCURRENCY"] = args.workers
    if args.threads:
        env["GUNICORN_THREADS"] = args.threads
    worker = subprocess.Popen(
        [str(VENV_BIN / "celery"), "-A", "config", "worker", "--concurrency", "1", "--loglevel", "WARNING"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(OUT / "load-celery.log", "w"),
    )
    web = subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "--config",
            "config/gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{args.port}",
            "config.wsgi:application",
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=open(OUT / "load-gunicorn.log", "w"),
    )
    try:
        wait_for(f"{host}/healthz", 60)
        layout = f"{len(children(web.pid))} gunicorn workers x {env.get('GUNICORN_THREADS', '4')} threads"
        print(
            f"{customers:,} customers; {layout}; {os.cpu_count()} cores; think {think[0]:g}-{think[1]:g} s; "
            f"{args.run_time} s per run",
            flush=True,
        )
        if args.floor:
            return floor(host=host, master=web.pid, database=database, plan=plan, repeat=args.floor)
        warm = run_locust(users=5, seconds=15, host=host, env=env, prefix=OUT / "load_warmup")
        warm.wait()
        results = []
        for users in counts:
            for guessers in [0, args.guessers] if args.guessers else [0]:
                result = measure(
                    users=users,
                    seconds=args.run_time,
                    host=host,
                    env=env,
                    master=web.pid,
                    database=database,
                    guessers=guessers,
                )
                results.append(result)
                print(
                    f"  {result['users']}: {result['requests']:,} requests, {result['errors']} errors, "
                    f"{result['web_ms']:.1f} ms CPU each" + (f"; guesses {result['guesses']}" if guessers else ""),
                    flush=True,
                )
    finally:
        if args.guessers:
            from axes.utils import reset

            reset(username="admin")  # the guessers locked it from 127.0.0.1
        for process in (web, worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    print(
        "\n| users | requests | req/s | p50 ms | p95 ms | p99 ms | errors | gunicorn CPU ms/req | "
        "PostgreSQL CPU ms/req | machine busy | load avg (start → end) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in results:
        print(
            f"| {r['users']} | {r['requests']:,} | {r['rps']:.1f} | {r['p50']:.0f} | {r['p95']:.0f} | {r['p99']:.0f} | "
            f"{r['errors']} | {r['web_ms']:.1f} | {r['db_ms']:.1f} | {r['machine_busy']:.0%} | "
            f"{r['load'][0]:.2f} → {r['load'][1]:.2f} |"
        )
    plain = [r for r in results if not r["guesses"]]
    print(
        f"\nmedian gunicorn CPU per request over the runs: {statistics.median(r['web_ms'] for r in plain):.1f} ms; "
        f"locust's own CPU: {', '.join('{:.0f} s'.format(r['locust_cpu']) for r in results)}"
    )
    for r in results:
        if r["guesses"]:
            refused = r["guesses"].get(429, 0)
            print(
                f"{r['users']}: {sum(r['guesses'].values()):,} guesses, {refused:,} refused with the lockout page "
                f"(429), answers {r['guesses']}; CPU per request counts the guesses too"
            )
    pages = sorted(plain[-1]["pages"].items(), key=lambda item: -item[1][0])
    print(
        f"\nper page at {plain[-1]['users']} users (the last run without guessers):\n\n| page | requests | p50 ms | p95 ms |\n|---|---:|---:|---:|"
    )
    for name, (count, p50, p95) in pages:
        print(f"| {name} | {count:,} | {p50:.0f} | {p95:.0f} |")


if __name__ == "__main__":
    main()
