import json

from django.core.management.base import BaseCommand, CommandError

from analytics.services.core import shown_money
from analytics.services.runs import published_run

# The keys DESIGN section 7 promises, in this order, then the rest of the company figures.
NUMBER_KEYS = ("top1_share_pct", "top5_share_pct", "hhi", "top20_revenue_share_pct", "top20_profit_share_pct")


class Command(BaseCommand):
    help = "Prints the company-level figures of the last published analysis run."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="one JSON object (money as strings)")

    def handle(self, *args, **options):
        run = published_run(with_company=True)
        if run is None:
            raise CommandError("No analysis run has been published yet: run `python manage.py recompute` first.")
        company = run.company
        report = {
            "run": run.pk,
            "as_of": run.as_of.isoformat(),
            "customers_with_orders": company["customers_with_orders"],
            "revenue": shown_money(company["revenue"]),
            "profit": shown_money(company["profit"]),
            "median_profit": shown_money(company["median_profit"]),
            **{key: _number(company[key]) for key in NUMBER_KEYS},
            "whale_peak_pct": _number(company["whale"]["peak_pct"]),
            "concentration_alert": company["concentration_alert"],
            "tiers": company["tiers"],
        }
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False))
        else:
            for key, value in report.items():
                self.stdout.write(f"{key}: {value}")


def _number(value):
    return None if value is None else float(value)
