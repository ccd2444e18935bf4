"""`{% load display %}`: the filters of core.display, for templates.

{{ customer_value.profit|money }}              27,130,141.25 (half-up, grouped in every language)
{{ value|number }}  {{ pct|number:1 }}         12,345   12.5
{{ month|month }}                              Dec 2024 / 2024年12月 (a date or "YYYY-MM")
{{ reason|label:"analytics.Protection" }}      a stored code by its translated label
{{ code|label:"crm.Customer.status" }}         (a Choices class, or a model field's choices)
"""

from django import template

from core import display

register = template.Library()

register.filter("money", display.money, is_safe=False)
register.filter("month", display.month, is_safe=False)
register.filter("label", display.label, is_safe=False)


@register.filter("number", is_safe=False)
def number(value, places=0):
    return display.number(value, int(places))
