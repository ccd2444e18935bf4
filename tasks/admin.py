from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Task


@admin.register(Task)
class TaskAdmin(SimpleHistoryAdmin):
    list_display = ("customer", "assignee", "due_on", "state", "snoozed_until", "source")
    list_filter = ("state", "source")
    search_fields = ("customer__code", "customer__name", "note")
    raw_id_fields = ("customer", "complaint", "interaction", "assignee", "created_by", "completed_by")
    date_hierarchy = "due_on"
