import csv

from django.core.management.base import BaseCommand, CommandError

from analytics.services.runs import published_run

HEADERS = [
    "code",
    "name",
    "revenue",
    "gross_margin",
    "cost_to_serve",
    "profit",
    "orders",
    "score",
    "rank",
    "tier",
    "quadrant",
    "action",
    "protected",
]


class Command(BaseCommand):
    help = "Writes one CSV row per customer of the last published run (codes, not translated labels)."

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, path, **options):
        run = published_run()
        if run is None:
            raise CommandError("No analysis run has been published yet: run `python manage.py recompute` first.")
        rows = (
            run.results.select_related("customer")
            .order_by("customer__code")
            .values_list(
                "customer__code",
                "customer__name",
                "revenue",
                "gross_margin",
                "cost_to_serve",
                "profit",
                "orders",
                "score",
                "rank",
                "tier",
                "quadrant",
                "action",
                "protection",
            )
        )
        written = 0
        try:
            with open(path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(HEADERS)
                for (
                    code,
                    name,
                    revenue,
                    margin,
                    cost,
                    profit,
                    orders,
                    score,
                    rank,
                    tier,
                    quadrant,
                    action,
                    protection,
                ) in rows.iterator(chunk_size=5000):
                    writer.writerow(
                        [
                            code,
                            name,
                            f"{revenue:.2f}",
                            f"{margin:.2f}",
                            f"{cost:.2f}",
                            f"{profit:.2f}",
                            orders,
                            "" if score is None else f"{score:.4f}",
                            rank or "",
                            tier,
                            quadrant,
                            action,
                            protection,
                        ]
                    )
                    written += 1
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror}") from error
        self.stdout.write(f"{written:,} customers written to {path} (run #{run.pk}, as of {run.as_of}).")
