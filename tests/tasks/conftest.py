import datetime

import pytest

from crm.roles import Role
from tests.factories import CustomerFactory, make_complaint

TODAY = datetime.date(2026, 11, 25)  # a Wednesday: its week runs 2026-11-23 .. 2026-11-29


@pytest.fixture
def people(make_user):
    """Two sales reps, two service reps, an executive and an admin."""
    return {
        "sales": make_user(Role.SALES, username="sales1", email="sales1@staff.example"),
        "other_sales": make_user(Role.SALES, username="sales2"),
        "service": make_user(Role.SERVICE, username="service1"),
        "other_service": make_user(Role.SERVICE, username="service2"),
        "executive": make_user(Role.EXECUTIVE, username="exec1"),
        "admin": make_user(None, username="root1", is_staff=True, is_superuser=True),
    }


@pytest.fixture
def book(people):
    """`mine` owned by sales1, `theirs` by sales2; a complaint on `theirs` worked by service1."""
    mine = CustomerFactory(code="M1", name="华东精密机械", owner=people["sales"])
    theirs = CustomerFactory(code="T1", name="北京远航贸易", owner=people["other_sales"])
    complaint = make_complaint(customer=theirs, by=people["service"])
    complaint.assignee = people["service"]
    complaint.save(update_fields=["assignee"])
    return {"mine": mine, "theirs": theirs, "complaint": complaint}
