"""The form renderer (FORM_RENDERER): Django's own, with <select> written in Python.

Django renders a select through its template, and every option through two more (select_option.html
and attrs.html, included once per option): the customer list's seven filter selects cost about as
much as its table. `FastSelectRenderer` writes the same HTML, byte for byte, without a template per
option (tests/test_form_renderer.py compares both on every select of the project's forms); any
other widget, and a select whose options use another template, go through the templates as before.
"""

from django.forms.renderers import DjangoTemplates
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, SafeString, mark_safe

SELECT_TEMPLATE = "django/forms/widgets/select.html"
OPTION_TEMPLATE = "django/forms/widgets/select_option.html"


class FastSelectRenderer(DjangoTemplates):
    """DjangoTemplates, except that a plain <select> (Select, SelectMultiple, NullBooleanSelect and
    the like, options in the stock option template) is written here, exactly as its template would."""

    def render(self, template_name, context, request=None):
        if template_name == SELECT_TEMPLATE:
            widget = context.get("widget")
            if widget is not None and all(
                option["template_name"] == OPTION_TEMPLATE
                for _name, options, _index in widget["optgroups"]
                for option in options
            ):
                return select_html(widget)
        return super().render(template_name, context, request=request)


def select_html(widget: dict) -> SafeString:
    """django/forms/widgets/select.html for this widget context (its options rendered as
    select_option.html renders them)."""
    context = Context(autoescape=True)  # `{{ value }}` as a template writes it: localized, escaped
    parts = [f'<select name="{render_value_in_context(widget["name"], context)}"{_attrs(widget["attrs"], context)}>']
    for group_name, options, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{render_value_in_context(group_name, context)}">')
        for option in options:
            parts.append(
                f'\n  <option value="{_stringformat_s(option["value"])}"{_attrs(option["attrs"], context)}>'
                f"{render_value_in_context(option['label'], context)}</option>\n"  # the option template's last line end
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return mark_safe("".join(parts))


def _attrs(attrs: dict, context: Context) -> str:
    """django/forms/widgets/attrs.html."""
    written = []
    for name, value in attrs.items():
        if value is False:
            continue
        written.append(f" {render_value_in_context(name, context)}")
        if value is not True:
            written.append(f'="{_stringformat_s(value)}"')
    return "".join(written)


def _stringformat_s(value) -> str:
    """`{{ value|stringformat:'s' }}`: the value as %s, escaped unless it was safe."""
    if isinstance(value, tuple):
        value = str(value)
    try:
        text = "%s" % value  # noqa: UP031 (the filter's own formatting)
    except (ValueError, TypeError):
        return ""
    return text if isinstance(value, SafeData) else conditional_escape(text)
