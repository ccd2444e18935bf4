import datetime
import os
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from analytics.models import AnalysisRun
from analytics.services.runs import run_compute, run_request
from crm.models import Customer
from demo.seed import DEMO_USERNAMES, DemoSeeder, new_password, password_problems


class Command(BaseCommand):
    help = "Loads a deterministic, realistic demo data set and the demo users (sales, service, executive, admin)."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=2000, help="how many customers (default 2000)")
        parser.add_argument("--seed", type=int, default=42, help="random seed: same seed, same data (default 42)")
        parser.add_argument(
            "--password",
            help="password of the demo staff, checked by the password validators "
            "(default: generated); admin always gets a generated one of its own; all are printed",
        )
        parser.add_argument(
            "--end", type=datetime.date.fromisoformat, help="last day of the history, YYYY-MM-DD (default: today)"
        )
        parser.add_argument("--if-empty", action="store_true", help="do nothing when customers already exist")

    def handle(self, *args, customers, seed, password, end, if_empty, **options):
        if customers < 1:
            raise CommandError("--customers must be at least 1.")
        if password is not None and (problems := password_problems(password, usernames=DEMO_USERNAMES)):
            raise CommandError(
                "--password is refused by the password validators: "
                + " ".join(problems)
                + " Choose a longer, less common one, or leave --password out to have one generated."
            )
        if Customer.objects.exists():
            if if_empty:
                self.stdout.write("The database already has customers; demo data not loaded.")
                logins = settings.BASE_DIR / ".demo-logins"
                if logins.exists():
                    self.stdout.write(logins.read_text(encoding="utf-8"))
                return
            raise CommandError("The database already has customers. Use an empty database (or --if-empty to skip).")
        password = password or new_password()
        admin_password = new_password(other_than=password)
        started = time.perf_counter()
        end = end or timezone.localdate()
        seeder = DemoSeeder(customers=customers, seed=seed, end=end, log=self.stdout.write)
        logins = seeder.run(password, admin_password)
        self.refresh_planner_statistics()
        self.first_analysis_run(as_of=end)
        lines = [f"Demo data loaded in {time.perf_counter() - started:.1f} s. Log in at http://127.0.0.1:8000 as:"]
        lines += [f"  {username:<10} {user_password}   ({role})" for username, role, user_password in logins]
        text = "\n".join(lines) + "\n"
        path = settings.BASE_DIR / ".demo-logins"
        with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)  # the mode above applies only to a new file
            handle.write(text)
        self.stdout.write(text)

    def refresh_planner_statistics(self):
        """After a bulk load PostgreSQL plans with its old guess of the table sizes until the tables
        are analyzed (autovacuum may be off, or not get there for minutes): a list page would then
        join 100,000 rows with nested loops."""
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def first_analysis_run(self, *, as_of: datetime.date):
        """So the demo opens with profit, tiers and actions already published, as of the data's last day."""
        run, created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=as_of, enqueue=False)
        if created:
            run_compute(run_id=run.pk)
            self.stdout.write(f"First analysis run #{run.pk} published (as of {run.as_of}).")
