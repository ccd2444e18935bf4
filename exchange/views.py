"""Imports on the web, for executives and admins: upload, check (dry run), confirm, progress, report."""

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.generic import DetailView, TemplateView, View

from core import jobs
from crm.roles import RoleRequiredMixin

from .columns import KINDS
from .forms import ImportUploadForm
from .models import ImportJob
from .report import report_messages
from .samples import template_csv, template_xlsx
from .services import import_job_confirm, import_job_create
from .uploads import declared_length, upload_limit

PERMISSION = "exchange.import_data"
JOBS_SHOWN = 30


class ImportListView(RoleRequiredMixin, TemplateView):
    permission_required = PERMISSION
    template_name = "exchange/imports.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.setdefault("form", ImportUploadForm())
        context["jobs"] = ImportJob.objects.select_related("requested_by")[:JOBS_SHOWN]
        context["kinds"] = [(value, label, KINDS[value].names) for value, label in ImportJob.Kind.choices]
        return context

    @method_decorator(csrf_exempt)  # checked in post(), after the size: the check reads the body
    def dispatch(self, request, *args, **kwargs):
        return super().dispatch(request, *args, **kwargs)

    def post(self, request):
        # Before anything reads the body (the CSRF check would): a file over the limit is
        # refused from its Content-Length, and the rest of it never read.
        if declared_length(request) > upload_limit():
            refused = ImportUploadForm.too_big_message(declared_length(request))
            return self.render_to_response(self.get_context_data(refused=refused), status=413)
        return csrf_protect(self.upload)(request)

    def upload(self, request):
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        with transaction.atomic():
            job = import_job_create(kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"], by=request.user)
        if job.error == jobs.NOT_SENT:  # failed after the commit: the broker did not take its check
            messages.error(request, _(jobs.NOT_SENT))
        return redirect(job)


class ImportDetailView(RoleRequiredMixin, DetailView):
    permission_required = PERMISSION
    template_name = "exchange/import_detail.html"
    context_object_name = "job"
    queryset = ImportJob.objects.select_related("requested_by", "confirmed_by", "analysis_run")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.object
        context["preview"] = report_messages(job.preview) if job.preview else None
        context["report"] = report_messages(job.report) if job.report else None
        return context


class ImportConfirmView(RoleRequiredMixin, View):
    permission_required = PERMISSION

    def post(self, request, pk):
        job = get_object_or_404(ImportJob, pk=pk)
        create_new_values = request.POST.get("create_new_values") == "yes"
        if job.status == ImportJob.Status.READY and (job.preview or {}).get("new_values") and not create_new_values:
            messages.error(
                request,
                _("Confirm the new values to have them created, or upload a corrected file: nothing was imported."),
            )
        elif import_job_confirm(job=job, by=request.user, create_new_values=create_new_values):
            if job.error == jobs.NOT_SENT:  # failed after the commit: the broker did not take it
                messages.error(request, _(jobs.NOT_SENT))
            else:
                messages.success(request, _("Import started. The report appears here when it is done."))
        else:
            messages.error(request, _("This file is not waiting for confirmation."))
        return redirect(job)


class TemplateDownloadView(RoleRequiredMixin, View):
    permission_required = PERMISSION
    FORMATS = {
        "csv": (template_csv, "text/csv; charset=utf-8"),
        "xlsx": (template_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    }

    def get(self, request, kind, file_format):
        if kind not in KINDS or file_format not in self.FORMATS:
            raise Http404
        build, content_type = self.FORMATS[file_format]
        response = HttpResponse(build(kind), content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{kind}-template.{file_format}"'
        return response
