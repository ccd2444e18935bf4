from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Complaint, ComplaintNote, ComplaintTransition, Problem, SlaTarget
from .services import complaint_update


class NoteInline(admin.TabularInline):
    model = ComplaintNote
    extra = 0
    readonly_fields = ("author", "visibility", "body", "created_at")
    can_delete = False


class TransitionInline(admin.TabularInline):
    model = ComplaintTransition
    extra = 0
    readonly_fields = ("from_state", "to_state", "by", "at", "note")
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # moves happen through the workflow, never by hand


@admin.register(Complaint)
class ComplaintAdmin(SimpleHistoryAdmin):
    """Descriptive fields only: the state and SLA fields are the workflow's (not editable here)."""

    list_display = ("number", "customer", "received_at", "severity", "state", "assignee", "resolution_breached")
    list_filter = ("state", "severity", "category", "resolution_breached")
    search_fields = ("number", "customer__code", "customer__name")
    raw_id_fields = ("order", "problem")
    list_select_related = ("customer", "assignee")
    readonly_fields = (
        "number",
        "customer",
        "received_at",
        "created_by",
        "state",
        "first_response_at",
        "first_response_due_at",
        "resolution_due_at",
        "resolved_at",
        "closed_at",
        "reopen_count",
        "first_response_breached",
        "resolution_breached",
    )
    inlines = [NoteInline, TransitionInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # logged through the service page, which sets the SLA clock

    def save_model(self, request, obj, form, change):
        # Through the service like every write: the row locked, only the fields changed here written.
        complaint_update(
            complaint=obj, data={name: form.cleaned_data[name] for name in form.changed_data}, by=request.user
        )


@admin.register(Problem)
class ProblemAdmin(SimpleHistoryAdmin):
    list_display = ("title", "category", "created_at")
    search_fields = ("title",)


@admin.register(SlaTarget)
class SlaTargetAdmin(SimpleHistoryAdmin):
    list_display = ("severity", "first_response_hours", "resolution_hours")
