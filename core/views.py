"""The one status endpoint of background jobs: what every progress bar polls."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.views import View
from django.views.generic import TemplateView

from . import jobs, search


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


class SearchView(TemplateView):
    """/search/?q=…: the top bar's search, grouped by kind (core.search). Every signed-in user may
    search; each kind shows only to those who may read its list. Text too short to search
    (core.search.searchable) is not searched: the page says why."""

    template_name = "core/search.html"

    def get_context_data(self, **kwargs):
        text = search.search_text(self.request.GET.get("q"))
        groups = search.search_groups(text=text, user=self.request.user)
        return super().get_context_data(
            query=text,
            too_short=bool(text) and not search.searchable(text),
            min_length=search.MIN_LENGTH,
            min_length_chinese=search.MIN_LENGTH_CHINESE,
            groups=groups,
            found=any(group.hits for group in groups),
            **kwargs,
        )
