"""Who may do what with follow-ups: the one place these rules are written (issue 19).

- Admins: everything.
- Executives: read every follow-up and reassign any (the team view); they do not create, complete or
  snooze (they do not edit records).
- Sales reps: create follow-ups on the customers they own; work (complete, snooze, reassign) those
  assigned to them or on a customer they own.
- Service reps: create follow-ups on the complaints they work (assigned to them); work those
  assigned to them or on a complaint they work.

A follow-up a user may not work is one they cannot see either (`visible_tasks`), except for
executives, who see them all: other people's follow-ups answer 404, a forbidden action 403.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from crm.roles import Role, user_roles

from .models import Task

WORK, REASSIGN = "work", "reassign"


def _roles(user) -> set[Role]:
    """The user's roles, read once per user object (a request's): the rules ask several times a page."""
    roles = getattr(user, "_task_roles", None)
    if roles is None:
        roles = user_roles(user)
        if user.is_authenticated:
            user._task_roles = roles
    return roles


def is_manager(user) -> bool:
    """Executives and admins: they see every follow-up and reassign any."""
    return user.is_superuser or Role.EXECUTIVE in _roles(user)


def can_create_on_customers_of(user, *, owner, roles: set | None = None) -> bool:
    """May `user` create follow-ups on the customers `owner` owns (a portfolio's)? Sales reps on
    their own, admins on any. `roles`: the user's, when the caller has read them already."""
    if user.is_superuser:
        return True
    roles = _roles(user) if roles is None else roles
    return Role.SALES in roles and owner is not None and owner.pk == user.pk


def can_create_task(user, *, customer, complaint=None) -> bool:
    """Sales reps on the customers they own, service reps on the complaints they work, admins on any."""
    roles = set() if user.is_superuser else _roles(user)
    if can_create_on_customers_of(user, owner=customer.owner, roles=roles):
        return True
    return Role.SERVICE in roles and complaint is not None and complaint.assignee_id == user.pk


def _workable(user) -> Q:
    """Follow-ups `user` works, as a filter (see the module's rules)."""
    roles = _roles(user)
    mine = Q(assignee=user)
    if Role.SALES in roles:
        mine |= Q(customer__owner=user)
    if Role.SERVICE in roles:
        mine |= Q(complaint__assignee=user)
    return mine


def can_work_task(user, task: Task, action: str = WORK) -> bool:
    """May `user` complete or snooze (`WORK`) or reassign (`REASSIGN`) `task`?"""
    if user.is_superuser:
        return True
    if action == REASSIGN and Role.EXECUTIVE in _roles(user):
        return True
    roles = _roles(user)
    if task.assignee_id == user.pk and roles & {Role.SALES, Role.SERVICE}:
        return True
    if Role.SALES in roles and task.customer.owner_id == user.pk:
        return True
    return Role.SERVICE in roles and task.complaint_id is not None and task.complaint.assignee_id == user.pk


def may_work_any(user, action: str = WORK) -> bool:
    """Whether the role may take `action` on follow-ups at all (else 403)."""
    if user.is_superuser:
        return True
    roles = _roles(user)
    if action == REASSIGN and Role.EXECUTIVE in roles:
        return True
    return bool(roles & {Role.SALES, Role.SERVICE})


def visible_tasks(user) -> QuerySet[Task]:
    """The follow-ups `user` may see: every one for executives and admins, else those they work."""
    if is_manager(user):
        return Task.objects.all()
    if not _roles(user) & {Role.SALES, Role.SERVICE}:
        return Task.objects.none()
    return Task.objects.filter(_workable(user))


def assignable_users():
    """Who a follow-up may be given to: active sales and service reps."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[Role.SALES.value, Role.SERVICE.value])
        .distinct()
        .order_by("username")
    )
