"""`{% load fields %}`: small helpers for templates/includes/form_fields.html."""

from django import template

register = template.Library()


@register.filter
def any_required(form) -> bool:
    """Whether a visible field of the form must be filled (then the form shows the legend of the mark)."""
    return any(field.field.required for field in form.visible_fields())
