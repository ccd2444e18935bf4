"""python manage.py import_data KIND PATH [--dry-run] [--create-new-values]: all of the file or nothing, with a report."""

from django.core.management.base import BaseCommand, CommandError

from analytics.models import AnalysisRun
from analytics.services.runs import run_request
from exchange.columns import KINDS
from exchange.services import import_file


class Command(BaseCommand):
    help = (
        "Import customers, orders, invoices, surveys or complaints from a CSV (UTF-8 or GB18030/GBK) or XLSX file. "
        "An industry or region that matches no existing one (by its code or its English or Chinese label, "
        "ignoring case and spacing) is a new value: it is listed, and created only with --create-new-values; "
        "without it such a file is refused whole (exit 1)."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", help=f"one of: {', '.join(KINDS)}")
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="check the whole file and write nothing")
        parser.add_argument(
            "--create-new-values",
            action="store_true",
            help="create the new industries and regions the file names (listed by a --dry-run first)",
        )
        parser.add_argument(
            "--no-analysis", action="store_true", help="do not start an analysis run after a successful import"
        )

    def handle(self, *args, kind, path, dry_run, create_new_values, no_analysis, **options):
        def progress(percent, note):
            if options["verbosity"] >= 2:
                self.stderr.write(f"{percent:3d}% {note}")

        report = import_file(
            kind=kind, path=path, dry_run=dry_run, progress=progress, create_new_values=create_new_values
        )
        for line in report.lines():
            self.stdout.write(line)
        if not report.ok:
            if report.file_error is not None and report.file_error.code == "new_values":
                raise CommandError(
                    f"Nothing was imported: {len(report.new_values)} new value(s), listed above. Correct the file, "
                    "or run again with --create-new-values to create them.",
                    returncode=1,
                )
            if report.file_error is not None:  # said above: unreadable, empty, wrong header, unknown kind...
                raise CommandError("Nothing was imported.", returncode=1)
            raise CommandError(
                f"Nothing was imported: {report.problem_count} problem(s) in {report.rows} rows read.", returncode=1
            )
        created, updated = ("would create", "would update") if dry_run else ("created", "updated")
        summary = (
            f"{report.rows} rows of {kind} ({report.file_format}{', ' + report.encoding if report.encoding else ''}): "
            f"{created} {report.created}, {updated} {report.updated}, unchanged {report.unchanged}, "
            f"{report.seconds:.1f} s."
        )
        self.stdout.write(self.style.SUCCESS(("Dry run, nothing written: " if dry_run else "") + summary))
        if dry_run and report.new_values and not create_new_values:
            self.stdout.write(
                f"{len(report.new_values)} new value(s), listed above: created only with --create-new-values."
            )
        if report.written and not no_analysis:
            run, created = run_request(trigger=AnalysisRun.Trigger.IMPORT)
            if run.status == AnalysisRun.Status.FAILED:  # the import stands; only its run did not start
                self.stderr.write(f"Analysis run {run.pk} not started: {run.error}")
            else:
                self.stdout.write(f"Analysis run {run.pk} {'requested' if created else 'already under way'}.")
