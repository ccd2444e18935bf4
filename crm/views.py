import datetime

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models.query import EmptyQuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import DetailView, TemplateView, UpdateView, View
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin

from core.saved_views import SavedViewsMixin

from . import charts, extensions, selectors, services
from .bulk import can_reassign_owners, with_select_column
from .exports import customer_export_headers, customer_export_rows, export_response, filtered_sorted
from .filters import CustomerFilter
from .forms import CustomerForm, InteractionForm
from .models import Customer
from .roles import RoleRequiredMixin, can_edit_customer, can_see_money
from .tables import CustomerTable, IdsFirstPaginator, OrderMoneyTable, OrderTable
from .timeline import timeline_page

DETAIL_ROWS = 20
TIMELINE_ROWS = 10  # the customer page shows the newest entries; the timeline page has them all


class CustomerFiguresMixin:
    """Money roles see the figures registered for the list (crm.extensions: the published run's),
    and filter and sort on them."""

    def figures(self) -> extensions.CustomerFigures | None:
        if not hasattr(self, "_figures"):
            self._figures = extensions.customer_figures(self.request.user)
        return self._figures

    def list_parts(self):
        figures = self.figures()
        if figures is not None:
            return figures.filterset_class, figures.table_class
        return CustomerFilter, CustomerTable

    def customers(self):
        figures = self.figures()
        sort = self.request.GET.get("sort", "").lstrip("-")
        return selectors.customer_list(
            figures=figures, sorted_by_figure=figures is not None and sort in figures.sortable
        )


class CustomerListView(RoleRequiredMixin, CustomerFiguresMixin, SavedViewsMixin, SingleTableMixin, FilterView):
    permission_required = "crm.view_customer"
    template_name = "crm/customer_list.html"
    # Saved views, column choice and page size (core.saved_views).
    saved_list_key = "crm.customers"
    saved_list_url_name = "crm:customer_list"
    identifying_columns = ("code",)

    def column_tables(self):
        """With the figures, their table's columns and crm's own that it leaves out (kind, industry...)."""
        return [self.get_table_class(), CustomerTable]

    def may_see_money(self):
        return can_see_money(self.request.user)

    def money_columns(self):
        """The figures' columns (crm.extensions: the published run's revenue, profit, tier...): money."""
        figures = extensions.registered_figures()
        if figures is None:
            return frozenset()
        return frozenset(figures.table_class.base_columns) - frozenset(CustomerTable.base_columns)

    def get_filterset_class(self):
        return self.list_parts()[0]

    def get_table_class(self):
        return self.list_parts()[1]

    def get_queryset(self):
        return self.customers()

    def may_reassign(self) -> bool:
        """Executives and admins tick customers and reassign them (crm.bulk_views)."""
        if not hasattr(self, "_may_reassign"):
            self._may_reassign = can_reassign_owners(self.request.user)
        return self._may_reassign

    def get_table_kwargs(self):
        kwargs = super().get_table_kwargs()
        return with_select_column(self.get_table_class(), kwargs) if self.may_reassign() else kwargs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.may_reassign():
            context["reassign_targets"] = selectors.sales_reps()
        return context

    def get_table_pagination(self, table):
        counted = self.count_queryset()
        pagination = {
            "per_page": settings.CUSTOMER_LIST_PAGE_SIZE,
            "paginator_class": IdsFirstPaginator,
            "count_queryset": counted,
            "rows_queryset": self.customers(),  # the page's rows are taken from the unfiltered list
        }
        # All customers (no filter, any sort): on PostgreSQL from ESTIMATE_FROM customers its estimate,
        # shown as "about", instead of counting them all on every page (STYLE: large tables).
        found = selectors.customer_count_estimate() if self.lists_everyone(counted) else None
        if found is not None:
            pagination["known_count"], pagination["estimated"] = found
        return pagination

    @staticmethod
    def lists_everyone(counted) -> bool:
        return counted is not None and counted.model is Customer and not counted.query.where

    def count_queryset(self):
        """The filtered customers to count, joined to the figures only to filter on them.

        Every customer has a row in the published run, so the inner join a sort by a figure makes
        removes no one: counting through it joined all 100,000 results (~50 ms). Filtered on figures
        alone (say tier A), the figures' own rows are counted without the customers: one row each.
        """
        if isinstance(self.object_list, EmptyQuerySet):  # invalid filters: nothing listed
            return None
        if not self.filterset.is_bound:
            return Customer.objects.all()
        data, figures = self.filterset.form.cleaned_data, self.figures()
        figure_filters = [name for name in (figures.filter_names if figures else ()) if data.get(name)]
        if not figure_filters:
            return self.filterset.filter_queryset(Customer.objects.all())
        if not any(data.get(name) for name in self.filterset.filters if name not in figure_filters):
            return figures.count_queryset(self.filterset)
        return self.filterset.filter_queryset(selectors.customer_list(figures=figures))


class CustomerExportView(RoleRequiredMixin, CustomerFiguresMixin, View):
    """The customer list, filtered and sorted as on screen, as CSV or XLSX."""

    permission_required = "crm.export_customer"

    def get(self, request, fmt):
        if fmt not in {"csv", "xlsx"}:
            raise Http404(_("Unknown export format."))
        filterset_class, table_class = self.list_parts()
        queryset = filtered_sorted(
            request, filterset_class=filterset_class, table_class=table_class, queryset=self.customers()
        )
        if queryset is None:
            messages.error(request, _("The filters are not valid; nothing was exported."))
            return redirect("crm:customer_list")
        money, with_figures = can_see_money(request.user), self.figures() is not None
        return export_response(
            fmt,
            customer_export_headers(money=money, with_figures=with_figures),
            customer_export_rows(queryset, money=money, with_figures=with_figures),
            name="customers",
        )


class CustomerContextMixin:
    """What the customer detail page shows, trimmed to what the user's role may see."""

    def customer_context(self, customer: Customer, interaction_form=None) -> dict:
        user = self.request.user
        money = can_see_money(user)
        orders = customer.orders.all()[:DETAIL_ROWS]
        order_table_class = OrderMoneyTable if money else OrderTable
        may_edit = can_edit_customer(user, customer)
        context = {
            "customer": customer,
            "contacts": selectors.customer_contacts(customer=customer),
            "order_table": order_table_class(orders, orderable=False),
            "order_count": customer.orders.count(),
            "referral_count": customer.referrals.count(),
            "can_edit": may_edit,
            "can_log_interaction": may_edit,
            "interaction_form": interaction_form or _blank_interaction_form(may_edit),
            # Interactions, complaints, surveys, tier and record changes...: the newest of the timeline.
            "timeline": timeline_page(customer=customer, user=user, per_page=TIMELINE_ROWS),
        }
        # The sections the apps above crm add (analytics: the customer's value; complaints: theirs).
        context.update(extensions.customer_panels_context(customer=customer, user=user))
        if money:
            context["invoices"] = customer.invoices.all()[:DETAIL_ROWS]
            monthly = selectors.customer_monthly_revenue(customer=customer)
            context["revenue_chart"] = charts.monthly_revenue_figure(monthly, currency=settings.CURRENCY)
            context["revenue_24m"] = sum((amount for _month, amount in monthly), start=0)
        return context


def _blank_interaction_form(may_edit: bool):
    return InteractionForm(initial={"occurred_on": datetime.date.today()}) if may_edit else None


class CustomerDetailView(RoleRequiredMixin, CustomerContextMixin, DetailView):
    permission_required = "crm.view_customer"
    template_name = "crm/customer_detail.html"

    def get_queryset(self):
        return Customer.objects.select_related("owner", "region", "industry", "referred_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(self.customer_context(self.object))
        return context


def not_yours(customer: Customer) -> PermissionDenied:
    """The 403 for someone who may edit customers, but not this one: whose it is and what to do."""
    if customer.owner is None:
        return PermissionDenied(
            _(
                "This customer has no owner yet, so only an administrator can change it. Ask an administrator "
                "to make the change, or to make you the customer's owner."
            )
        )
    return PermissionDenied(
        _(
            "This customer belongs to %(owner)s. Ask %(owner)s to make the change or log the interaction, "
            "or ask an administrator to make you the customer's owner."
        )
        % {"owner": customer.owner.get_username()}
    )


class CustomerUpdateView(RoleRequiredMixin, UpdateView):
    permission_required = "crm.change_customer"
    template_name = "crm/customer_form.html"
    form_class = CustomerForm

    def get_queryset(self):
        return Customer.objects.select_related("owner", "region", "industry", "referred_by")

    def get_object(self, queryset=None):
        customer = super().get_object(queryset)
        if not can_edit_customer(self.request.user, customer):
            raise not_yours(customer)
        return customer

    def form_valid(self, form):
        if services.customer_update(customer=self.object, data=form.changed_values(), by=self.request.user):
            messages.success(self.request, _("Customer %(code)s saved.") % {"code": self.object.code})
        else:
            messages.info(self.request, _("Nothing changed in %(code)s.") % {"code": self.object.code})
        return redirect(self.object)


class InteractionCreateView(RoleRequiredMixin, CustomerContextMixin, TemplateView):
    """Logs an interaction from the customer page; on a mistake the page comes back with the errors."""

    permission_required = "crm.add_interaction"
    template_name = "crm/customer_detail.html"
    http_method_names = ["post"]

    def post(self, request, pk):
        customer = get_object_or_404(Customer.objects.select_related("owner", "region", "industry"), pk=pk)
        if not can_edit_customer(request.user, customer):
            raise not_yours(customer)
        form = InteractionForm(request.POST)
        if form.is_valid():
            services.interaction_create(customer=customer, by=request.user, data=form.cleaned_data)
            messages.success(request, _("Interaction logged."))
            return redirect(customer.get_absolute_url() + "#interactions")
        context = self.customer_context(customer, interaction_form=form)
        context["object"] = customer
        return self.render_to_response(context, status=400)


class CustomerOrderListView(RoleRequiredMixin, SingleTableMixin, TemplateView):
    permission_required = "crm.view_order"
    template_name = "crm/customer_orders.html"
    table_pagination = {"per_page": 50}

    def get_table_class(self):
        return OrderMoneyTable if can_see_money(self.request.user) else OrderTable

    def get_table_data(self):
        self.customer = get_object_or_404(Customer, pk=self.kwargs["pk"])
        return self.customer.orders.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["customer"] = self.customer
        return context
