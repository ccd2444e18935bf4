"""The one status endpoint of background jobs: what every progress bar polls."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.views import View

from . import jobs


class JobStatusView(View):
    """/jobs/<kind>/<pk>/status.json: the job's status, progress and note in the reader's language
    (jobs.JobKind.status). Who may see it is the kind's: its permission (403 before any lookup, so
    the answer tells nothing of which jobs exist), then its per-job rule (403 too)."""

    def get(self, request, kind: str, pk: int):
        job_kind = jobs.kind_named(kind)
        if job_kind is None:
            raise Http404
        if not job_kind.visible_to(request.user):
            raise PermissionDenied
        job = get_object_or_404(job_kind.model, pk=pk)
        if not job_kind.visible_to(request.user, job):
            raise PermissionDenied
        return JsonResponse(job_kind.status(job))
