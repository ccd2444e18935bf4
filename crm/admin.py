from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Contact, Customer, Industry, Interaction, Invoice, Order, Region, Survey


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("name", "title", "email", "phone", "decision_maker", "retired_at")


@admin.register(Contact)
class ContactAdmin(SimpleHistoryAdmin):
    """A contact's own page keeps its change history (who added, edited, retired it)."""

    list_display = ("name", "customer", "title", "email", "phone", "decision_maker", "retired_at")
    list_filter = ("decision_maker", ("retired_at", admin.EmptyFieldListFilter))
    search_fields = ("name", "email", "phone", "customer__code")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    show_full_result_count = False


@admin.register(Customer)
class CustomerAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "kind", "region", "industry", "owner", "status", "since")
    list_filter = ("status", "kind", "region", "industry", "strategic")
    search_fields = ("code", "name")
    list_select_related = ("region", "industry", "owner")
    raw_id_fields = ("referred_by",)
    autocomplete_fields = ("owner",)
    inlines = [ContactInline]
    show_full_result_count = False


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ("customer", "kind", "occurred_on", "by", "next_follow_up")
    list_filter = ("kind",)
    raw_id_fields = ("customer",)
    list_select_related = ("customer", "by")
    show_full_result_count = False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("number", "customer", "ordered_on", "revenue", "cost", "service_cost", "status")
    list_filter = ("status", "entry_error")
    search_fields = ("number", "customer__code")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    date_hierarchy = "ordered_on"
    show_full_result_count = False


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = ("number", "customer", "issued_on", "due_on", "amount", "paid_on")
    search_fields = ("number", "customer__code")
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    show_full_result_count = False


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("customer", "answered_on", "score")
    list_filter = ("score",)
    raw_id_fields = ("customer",)
    list_select_related = ("customer",)
    show_full_result_count = False


admin.site.register(Region)
admin.site.register(Industry)
