from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView

from . import ratelimit, selectors, services, surveys
from .forms import PreferenceForm, SurveyForm
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


@method_decorator([login_not_required, never_cache], name="dispatch")
class SurveyView(View):
    """The public survey page: no login, rate limited per address; a tampered, expired or used link
    gets a page that says so and writes nothing. The page is in the customer's language (or the one
    the visitor picked with the language switcher) and shows
    nothing of the complaint beyond its number and subject (its category). Never cached: a browser
    must not show a stale form or refusal (410 is cacheable by default), nor keep the link's page."""

    template_name = "notifications/survey.html"

    def refuse(self, reason: str, status: int):
        if reason != "rate":
            ratelimit.count(self.request, scope="survey")
        return render(self.request, "notifications/survey_refused.html", {"reason": reason}, status=status)

    def dispatch(self, request, *args, **kwargs):
        if ratelimit.is_limited(request, scope="survey"):
            return self.refuse("rate", 429)
        if request.method == "POST":
            ratelimit.count(request, scope="survey")
        try:
            self.invitation = surveys.invitation_from_token(kwargs["token"])
        except surveys.LinkExpired:
            return self.refuse("expired", 410)
        except surveys.LinkInvalid:
            return self.refuse("invalid", 404)
        if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:  # unless the visitor chose one (the switcher)
            translation.activate(services.customer_language(self.invitation.complaint.customer))
        if self.invitation.answered_at is not None:
            return self.refuse("used", 410)
        return super().dispatch(request, *args, **kwargs)

    def page(self, form, status=200):
        complaint = self.invitation.complaint
        context = {"form": form, "number": complaint.number, "subject": complaint.get_category_display()}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, token):
        return self.page(SurveyForm())

    def post(self, request, token):
        form = SurveyForm(request.POST)
        if not form.is_valid():
            return self.page(form, status=400)
        survey = surveys.survey_answer(
            invitation=self.invitation, score=form.cleaned_data["score"], comment=form.cleaned_data["comment"]
        )
        if survey is None:
            return self.refuse("used", 410)
        return render(request, "notifications/survey_thanks.html", {"number": self.invitation.complaint.number})
