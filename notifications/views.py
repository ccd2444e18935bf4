from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import FormView, TemplateView

from . import selectors, services
from .forms import PreferenceForm
from .kinds import STAFF_KINDS

PAGE_SIZE = 50


class NotificationListView(TemplateView):
    """Everyone signed in reads their own notifications (LoginRequiredMiddleware keeps others out)."""

    template_name = "notifications/notification_list.html"

    def get_context_data(self, **kwargs):
        page = Paginator(selectors.notification_list(user=self.request.user), PAGE_SIZE).get_page(
            self.request.GET.get("page")
        )
        return {**super().get_context_data(**kwargs), "page": page, "notifications": page.object_list}


class NotificationMarkReadView(View):
    http_method_names = ["post"]

    def post(self, request):
        ids = [int(pk) for pk in request.POST.getlist("id") if pk.isdigit()] or None
        marked = services.notifications_mark_read(user=request.user, ids=ids)
        if marked:
            messages.success(request, _("Marked as read."))
        return redirect("notifications:list")


class PreferenceView(FormView):
    template_name = "notifications/preferences.html"
    form_class = PreferenceForm

    def get_initial(self):
        preference = services.preference_of(self.request.user)
        return {
            "language": preference.language,
            "email_kinds": [kind.name for kind in STAFF_KINDS if kind.name not in preference.email_off],
        }

    def form_valid(self, form):
        services.preference_update(
            user=self.request.user, language=form.cleaned_data["language"], email_kinds=form.cleaned_data["email_kinds"]
        )
        messages.success(self.request, _("Your notification settings are saved."))
        return redirect("notifications:preferences")
