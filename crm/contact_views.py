"""Adding, editing, retiring and restoring a customer's contacts.

The same rule as editing the customer (crm.roles.can_edit_customer): a sales rep on the customers
they own, an administrator on any; executives and service reps read contacts on the customer page
and get 403 here. A retired contact is kept, with its history, and can be restored.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import FormView, TemplateView, View

from . import services
from .forms import ContactForm
from .models import Contact, Customer
from .roles import RoleRequiredMixin, can_edit_customer
from .views import not_yours


def contacts_url(customer: Customer) -> str:
    return customer.get_absolute_url() + "#contacts"


class CustomerContactMixin(RoleRequiredMixin):
    """Only those who may edit customers get past the role check (403 for the rest); then only on a
    customer they may edit (403 naming its owner); the contact, when the URL names one, is the
    customer's own (404 otherwise)."""

    permission_required = "crm.change_customer"

    def dispatch(self, request, *args, **kwargs):
        if not self.has_permission():
            return self.handle_no_permission()
        self.customer = get_object_or_404(Customer.objects.select_related("owner"), pk=kwargs["pk"])
        if not can_edit_customer(request.user, self.customer):
            raise not_yours(self.customer)
        if "contact_pk" in kwargs:
            self.contact = get_object_or_404(Contact, pk=kwargs["contact_pk"], customer=self.customer)
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["customer"] = self.customer
        context["contact"] = getattr(self, "contact", None)
        return context


class ContactCreateView(CustomerContactMixin, FormView):
    template_name = "crm/contact_form.html"
    form_class = ContactForm

    def form_valid(self, form):
        contact = services.contact_create(customer=self.customer, data=form.cleaned_data, by=self.request.user)
        messages.success(self.request, _("Contact %(name)s added.") % {"name": contact.name})
        return redirect(contacts_url(self.customer))


class ContactUpdateView(CustomerContactMixin, FormView):
    template_name = "crm/contact_form.html"
    form_class = ContactForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "instance": self.contact}

    def form_valid(self, form):
        if services.contact_update(contact=self.contact, data=form.changed_values(), by=self.request.user):
            messages.success(self.request, _("Contact %(name)s saved.") % {"name": self.contact.name})
        else:
            messages.info(self.request, _("Nothing changed in contact %(name)s.") % {"name": self.contact.name})
        return redirect(contacts_url(self.customer))


class ContactRetireView(CustomerContactMixin, TemplateView):
    """GET asks (what retiring means, and that it can be undone); POST retires."""

    template_name = "crm/contact_confirm_retire.html"

    def post(self, request, *args, **kwargs):
        if services.contact_retire(contact=self.contact, by=request.user):
            messages.success(
                request,
                _(
                    "Contact %(name)s retired. It stays on the customer page under Retired contacts, where it can be restored."
                )
                % {"name": self.contact.name},
            )
        else:
            messages.info(request, _("Contact %(name)s was already retired.") % {"name": self.contact.name})
        return redirect(contacts_url(self.customer))


class ContactRestoreView(CustomerContactMixin, View):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if services.contact_restore(contact=self.contact, by=request.user):
            messages.success(request, _("Contact %(name)s restored.") % {"name": self.contact.name})
        else:
            messages.info(request, _("Contact %(name)s was not retired.") % {"name": self.contact.name})
        return redirect(contacts_url(self.customer))
