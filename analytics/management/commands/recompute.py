import datetime

from django.core.management.base import BaseCommand, CommandError

from analytics.models import AnalysisRun
from analytics.services.core import shown_money
from analytics.services.runs import run_compute, run_request


class Command(BaseCommand):
    help = "Computes one analysis run now, in this process, publishes it and prints a summary."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=datetime.date.fromisoformat, help="YYYY-MM-DD (default: today)")

    def handle(self, *args, as_of=None, **options):
        run, created = run_request(trigger=AnalysisRun.Trigger.COMMAND, as_of=as_of, enqueue=False)
        if not created:
            raise CommandError(f"Run #{run.pk} (as of {run.as_of}) is already {run.status}; wait for it to finish.")
        try:
            run_compute(run_id=run.pk)
        except Exception as error:
            raise CommandError(f"Run #{run.pk} failed: {error}") from error
        run.refresh_from_db()
        company = run.company
        self.stdout.write(
            f"Run #{run.pk} published: as of {run.as_of}, window {run.window_start} to {run.window_end}, "
            f"{run.timings.get('total', 0):.2f} s\n"
            f"  customers with orders {company['customers_with_orders']:,} of {company['customers']:,}\n"
            f"  revenue {shown_money(company['revenue'])}  profit {shown_money(company['profit'])}  "
            f"median profit {shown_money(company['median_profit'])}\n"
            f"  tiers " + "  ".join(f"{tier} {count:,}" for tier, count in company["tiers"].items()) + "\n"
            f"  top-1 share {company['top1_share_pct']}%  HHI {company['hhi']}  "
            f"alert {'yes' if company['concentration_alert'] else 'no'}"
        )
