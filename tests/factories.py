import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from crm.models import Contact, Customer, Industry, Interaction, Invoice, Order, Region, Survey


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("pw-for-tests-1")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("name",)

    name = factory.Iterator(["华东 East China", "华北 North China", "华南 South China"])


class IndustryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Industry
        django_get_or_create = ("name",)

    name = factory.Iterator(["Retail", "Manufacturing", "Logistics"])


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    code = factory.Sequence(lambda n: f"C{n:06d}")
    name = factory.Sequence(lambda n: f"Customer {n}")
    region = factory.SubFactory(RegionFactory)
    industry = factory.SubFactory(IndustryFactory)
    status = Customer.Status.ACTIVE
    since = datetime.date(2022, 1, 1)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    customer = factory.SubFactory(CustomerFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    occurred_on = datetime.date(2026, 1, 5)
    summary = "Quarterly visit"


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"SO{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    ordered_on = datetime.date(2026, 1, 10)
    revenue = Decimal("1000.00")
    cost = Decimal("700.00")
    service_cost = Decimal("50.00")


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    number = factory.Sequence(lambda n: f"INV{n:08d}")
    customer = factory.SubFactory(CustomerFactory)
    issued_on = datetime.date(2026, 1, 10)
    due_on = datetime.date(2026, 2, 10)
    amount = Decimal("1000.00")


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    customer = factory.SubFactory(CustomerFactory)
    answered_on = datetime.date(2026, 2, 1)
    score = 4


class ProblemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "complaints.Problem"

    title = factory.Sequence(lambda n: f"Problem {n}")
    category = "delivery"


def make_complaint(*, customer=None, by=None, **data):
    """A complaint logged through the service, as the product logs them (SLA due times set)."""
    from complaints.services import complaint_create

    data.setdefault("description", "Goods arrived damaged")
    return complaint_create(customer=customer or CustomerFactory(), by=by, data=data)
