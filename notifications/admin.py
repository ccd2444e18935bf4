from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import services
from .models import Notification, NotificationPreference, Outbox


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    """The outgoing e-mails: a failed one shows "Failed, retrying" with its error and next attempt."""

    list_display = (
        "created_at",
        "kind",
        "to",
        "language",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("status", "kind", "language")
    search_fields = ("to", "subject", "message_id")
    date_hierarchy = "created_at"
    actions = ["resend"]
    readonly_fields = [field.name for field in Outbox._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Resend the selected e-mails that failed"), permissions=["view"])
    def resend(self, request, queryset):
        count = services.outbox_resend(rows=queryset)
        self.message_user(
            request,
            ngettext("%(count)d e-mail will be sent again.", "%(count)d e-mails will be sent again.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recipient", "kind", "message", "read_at")
    list_filter = ("kind",)
    raw_id_fields = ("recipient",)

    @admin.display(description=_("notification"))
    def message(self, notification):
        return notification.text  # in the reader's language


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "language")
    raw_id_fields = ("user",)
