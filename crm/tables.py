"""The customer and order tables, and the two things that make the list pages fast: rows written
without a BoundRow per cell (LeanRowsMixin) and pages chosen by their keys first (IdsFirstPaginator).

What django-tables2 does not offer publicly is read in one place each: `tables2_column_parts`
(how django-tables2 renders a column's cells) and `queryset_ordering` (the terms a queryset is
sorted by); the rest uses django-tables2's and Django's documented API.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist, FieldError
from django.core.paginator import EmptyPage, Paginator
from django.db import models
from django.db.models import QuerySet
from django.template import Context, Template
from django.template.defaultfilters import date as date_filter
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.timezone import template_localtime
from django.utils.translation import gettext_lazy as _
from django_tables2.columns.linkcolumn import BaseLinkColumn
from django_tables2.rows import BoundRow, BoundRows
from django_tables2.utils import signature

from core.display import money

from .models import Customer, Order

LEAN_TEMPLATE = "django_tables2/lean.html"
CELL_ARGUMENTS = ("value", "record", "column", "bound_column", "bound_row", "table")


@dataclass(frozen=True)
class ColumnParts:
    """How django-tables2 renders one column's cells (see tables2_column_parts)."""

    render: Callable  # the column's render, or the table's render_FOO
    wanted: tuple[str, ...] | None  # the cell arguments `render` takes (CELL_ARGUMENTS); None: all (**kwargs)
    link: Callable | None  # (content, **cell arguments) -> the content in its link (linkify), None without
    plain_link: bool  # linkify=True on the column's own value: its get_absolute_url, else the record's
    template: Template | None  # a TemplateColumn's code, compiled
    template_context: Callable | None  # (**cell arguments) -> that template's context
    only_tables2_writes: bool  # a link column (its own text and URL rules): only django-tables2 writes it
    set_current_cell: Callable  # (record, value): what django-tables2's row loop sets before a cell's attributes


def tables2_column_parts(bound_column) -> ColumnParts:
    """What django-tables2 works out again for every cell of `bound_column`, read once.

    Why this reads django-tables2's internals: django-tables2 3.0 writes a cell only through a
    BoundRow, which inspects the render method's signature, builds the column's attributes and
    resolves its link for every cell; on the customer list that was most of the page (50 rows x
    13 columns, ~140 ms on the reference machine). It has no public API for "this column's render
    function and link", so they are read here, and only here: BoundColumn.render and .link, the
    link's settings, utils.signature, TemplateColumn's compiled code and context, and the
    current_value/current_record its row loop sets. tests/crm/test_customer_list_rendering.py,
    test_order_table_rendering.py and the complaint queue's tests hold the lean cells to
    django-tables2's own, cell by cell in English and Chinese, so an upgrade that changes any of
    this fails there, not on a page.
    """
    column = bound_column.column
    template = template_context = None
    if isinstance(column, tables.TemplateColumn) and column.template_code:
        template, template_context = Template(column.template_code), column.get_context_data
    render = bound_column.render
    wanted, catch_all = signature(render)
    link = bound_column.link or None
    plain_link = bool(link) and (
        not link.attrs
        and link.url is None
        and link.accessor is None
        and link.reverse_args.get("viewname") is None
        and str(bound_column.accessor) == bound_column.name
    )

    def set_current_cell(record, value):
        bound_column.current_value, bound_column.current_record = value, record

    return ColumnParts(
        render=render,
        wanted=None if catch_all else tuple(wanted),
        link=link,
        plain_link=plain_link,
        template=template,
        template_context=template_context,
        only_tables2_writes=isinstance(column, BaseLinkColumn),
        set_current_cell=set_current_cell,
    )


class LeanRowsMixin:
    """Writes the page's rows straight from the records, without a BoundRow and BoundCell per cell.

    django-tables2 still owns the columns, headers, ordering, pagination and exports; only the
    body of the table is written here (the `django_tables2/lean.html` template). The cells are the
    ones django-tables2 renders (tests compare both, cell by cell), but what it works out again for
    every cell (the render method's signature, the column's attributes, the template engine around
    each value) is worked out once per column (tables2_column_parts): 50 rows x 13 columns took
    ~140 ms, now a few. A column this cannot write (attributes computed per record, a dotted
    accessor, a link or many-to-many column) falls back to django-tables2's own cell, through its
    documented BoundRow.get_cell. Set `template_name = LEAN_TEMPLATE` in the table's Meta.
    """

    def lean_rows(self) -> list[SafeString]:
        """The `<tr>` of each record on the current page (all records when not paginated)."""
        records = self.paginated_rows.data
        writers = [self._lean_cell_writer(column) for column in self.columns]
        static_row_attrs = not self.row_attrs
        rows = []
        for index, record in enumerate(records):
            row = _LeanRow(self, record)
            cells = "".join([write(row) for write in writers])
            if static_row_attrs:
                attrs = 'class="odd"' if index % 2 else 'class="even"'
            else:
                attrs = row.bound_row().attrs.as_html()  # the same BoundRow its cells may use
            rows.append(mark_safe(f"<tr {attrs}>{cells}</tr>"))
        return rows

    def _lean_cell_writer(self, bound_column) -> Callable[["_LeanRow"], str]:
        column = bound_column.column
        parts = tables2_column_parts(bound_column)
        td_attrs = dict(self.attrs)
        td_attrs.update(column.attrs)
        td_attrs = td_attrs.get("td", td_attrs.get("cell", {}))
        if any(callable(value) for value in td_attrs.values()):
            return self._fallback_cell_writer(bound_column, parts)
        value_of = self._value_getter(bound_column)
        if value_of is None or parts.only_tables2_writes or isinstance(column, tables.ManyToManyColumn):
            return self._fallback_cell_writer(bound_column, parts)
        open_td = f"<td {bound_column.attrs['td'].as_html()}>"
        render = self._renderer(bound_column, parts)
        link = self._linker(bound_column, parts)
        empty_values = column.empty_values
        default = _as_cell(bound_column.default, column.localize)
        localize_as = column.localize

        def write(row: _LeanRow) -> str:
            value = value_of(row.record)
            if value in empty_values:
                return f"{open_td}{default}</td>"
            content = render(row, value)
            if link:
                content = link(row, value, content)
            return f"{open_td}{_as_cell(content, localize_as)}</td>"

        return write

    def _linker(self, bound_column, parts: ColumnParts) -> Callable | None:
        """(row, value, content) -> the content in its link, as the column's `linkify` makes it."""
        if parts.link is None:
            return None
        if not parts.plain_link:
            return lambda row, value, content: parts.link(content, **row.arguments(bound_column, value))
        name = bound_column.name

        def linked(row, value, content):  # linkify=True: the value's get_absolute_url, else the record's
            target = getattr(row.record, name, None)
            url = target.get_absolute_url() if hasattr(target, "get_absolute_url") else row.record_url()
            return format_html('<a href="{}">{}</a>', url, content)

        return linked

    def _fallback_cell_writer(self, bound_column, parts: ColumnParts) -> Callable[["_LeanRow"], str]:
        """django-tables2's own cell (BoundRow.get_cell) and attributes, as `{% render_table %}` writes them."""
        name, localize_as = bound_column.name, bound_column.column.localize

        def write_through_bound_row(row: _LeanRow) -> str:
            cell = row.bound_row().get_cell(name)
            parts.set_current_cell(row.record, cell)  # the attributes may be computed from them
            return f"<td {bound_column.attrs['td'].as_html()}>{_as_cell(cell, localize_as)}</td>"

        return write_through_bound_row

    def _value_getter(self, bound_column) -> Callable | None:
        """record -> the cell's value as BoundRow finds it (a choice field's label), or None if not simple."""
        accessor = str(bound_column.accessor)
        model = getattr(self.data, "model", None)
        if model is None or "__" in accessor or "." in accessor:
            return None
        try:
            field = model._meta.get_field(accessor)
        except FieldDoesNotExist:
            field = None
        if getattr(field, "choices", None) and hasattr(model, f"get_{accessor}_display"):
            # get_FOO_display() rebuilds the choices dict and translates the label for every cell:
            # the same labels, translated once per render (unknown values as get_FOO_display shows them).
            labels = {value: str(label) for value, label in field.flatchoices}
            display = f"get_{accessor}_display"

            def choice_label(record):
                value = getattr(record, field.attname)
                try:
                    return labels[value]
                except (KeyError, TypeError):
                    return getattr(record, display)()

            return choice_label

        def value_of(record):
            value = getattr(record, accessor, None)
            if callable(value) and not isinstance(value, models.Manager):
                value = None if getattr(value, "alters_data", False) else value()
            return value

        return value_of

    def _renderer(self, bound_column, parts: ColumnParts) -> Callable[["_LeanRow", object], object]:
        """(row, value) -> the cell's content: the column's render (or the table's render_FOO), as
        BoundRow calls it, with the arguments it asks for found once per column instead of per cell."""
        date_format = _date_template_format(bound_column.column)
        if date_format is not None:
            # DateColumn / DateTimeColumn: their template `{{ value|date:FORMAT|default:default }}`,
            # as it writes the cell (local time, the language's format, escaped), without a template per cell.
            default = bound_column.default

            def render_date(row, value):
                text = date_filter(template_localtime(value), date_format)
                return conditional_escape(text) if text else _as_cell(default, None)

            return render_date
        if parts.template is not None:
            template, template_context = parts.template, parts.template_context
            context = getattr(self, "context", None) or Context()
            request = getattr(self, "request", None)

            def render_template(row, value):
                with context.update(template_context(**row.arguments(bound_column, value))):
                    context["request"] = request
                    return template.render(context)

            return render_template
        function, wanted = parts.render, parts.wanted
        if wanted is None:
            return lambda row, value: function(**row.arguments(bound_column, value))
        if any(name not in CELL_ARGUMENTS for name in wanted):
            return lambda row, value: None  # as call_with_appropriate does
        if wanted == ("value",):
            return lambda row, value: function(value=value)

        def render(row, value):
            return function(**{k: v for k, v in row.arguments(bound_column, value).items() if k in wanted})

        return render


_DATE_TEMPLATE = re.compile(r'^\{\{ value\|date:"(?P<format>[^"]*)"\|default:default \}\}$')


def _date_template_format(column) -> str | None:
    """The format of a DateColumn's or DateTimeColumn's own template, or None for any other column."""
    if not isinstance(column, (tables.DateColumn, tables.DateTimeColumn)) or column.template_name:
        return None
    matched = _DATE_TEMPLATE.match(column.template_code or "")
    return matched["format"] if matched else None


class _LeanRow:
    """One record while its cells are written; its BoundRow is made only if a cell needs one."""

    __slots__ = ("table", "record", "_bound_row", "_url")

    def __init__(self, table, record):
        self.table, self.record, self._bound_row, self._url = table, record, None, None

    def record_url(self) -> str:
        """The record's get_absolute_url(), reversed once for all the row's links to it."""
        if self._url is None:
            self._url = self.record.get_absolute_url()
        return self._url

    def bound_row(self) -> BoundRow:
        if self._bound_row is None:
            self._bound_row = BoundRow(self.record, self.table)
        return self._bound_row

    def arguments(self, bound_column, value) -> dict:
        """The optional cell arguments BoundRow offers a render method."""
        return {
            "value": value,
            "record": self.record,
            "column": bound_column.column,
            "bound_column": bound_column,
            "bound_row": self.bound_row(),
            "table": self.table,
        }


def _as_cell(value, localize_as) -> str:
    """What `{{ cell }}` (or `|localize`, `|unlocalize`) writes in django-tables2's template."""
    if isinstance(value, str):  # text and already-safe HTML: nothing to localise
        return conditional_escape(value)
    if localize_as is None:
        value = localize(template_localtime(value))
    elif localize_as:
        value = localize(value, use_l10n=True)
    else:
        value = localize(value, use_l10n=False)
    return conditional_escape(value if isinstance(value, str) else str(value))


class IdsFirstPaginator(Paginator):
    """Pages a queryset by choosing the page's primary keys first, then joining only those rows.

    One query, `... WHERE id IN (SELECT id ... ORDER BY ... LIMIT 50 OFFSET n) ORDER BY ...`: the
    inner select walks the sort's index (or sorts the matching keys) without the joins that only
    serve the display; `OFFSET 24950` on the full query made PostgreSQL join every skipped row, and
    a search matching 5,000 customers joined all of them before sorting. The primary key breaks
    ties in the sort, so rows with the same name never move between pages.

    `count_queryset`, if given, counts the rows (the same filters without the display's joins).
    `known_count`, if given, is the count, found beforehand (an estimate when `estimated`: the page
    then says "about"); nothing is counted.
    `rows_queryset`, if given, is the listed rows before any filter (their joins and annotations):
    the outer select takes the page's rows from it, so it does not filter them again (a search's
    crm_short_grams would otherwise run once more per row). Without it, the rows are taken from
    the filtered queryset itself.
    """

    def __init__(
        self,
        object_list,
        per_page,
        orphans=0,
        allow_empty_first_page=True,
        count_queryset=None,
        rows_queryset=None,
        known_count=None,
        estimated=False,
    ):
        super().__init__(object_list, per_page, orphans, allow_empty_first_page)
        self.count_queryset = count_queryset
        self.rows_queryset = rows_queryset
        self.estimated = estimated and known_count is not None
        if known_count is not None:
            self._count = known_count

    @property
    def count(self):
        if "_count" not in self.__dict__:
            self._count = self.count_queryset.count() if self.count_queryset is not None else super().count
        return self._count

    def validate_number(self, number):
        """Past an estimated count's last page there may still be rows (the estimate is low): such a
        page is read, and shows what it holds, rather than refused."""
        if not self.estimated:
            return super().validate_number(number)
        try:
            return super().validate_number(number)
        except EmptyPage:
            if int(number) < 1:
                raise
            return int(number)

    def _keys_source(self, queryset: QuerySet, ordering: list) -> QuerySet:
        """The counted rows in the page's order when they can be sorted so: the same rows without the
        display's joins. PostgreSQL drops an unused LEFT JOIN to a plain table but not to a partitioned
        one (the run's results): page 500 by code joined 25,000 results, 70 ms instead of 15."""
        counted = self.count_queryset
        if counted is None or counted.model is not queryset.model:
            return queryset
        try:
            return counted.order_by(*ordering)
        except FieldError:  # sorted on a figure the counted rows do not carry
            return queryset

    def page(self, number):
        queryset = _queryset_of(self.object_list)
        if queryset is None:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count and not self.estimated:
            top = self.count
        ordering = _ties_broken(queryset)
        queryset = queryset.order_by(*ordering)
        page_keys = self._keys_source(queryset, ordering).values_list("pk", flat=True)[bottom:top]
        rows = self.rows_queryset if self.rows_queryset is not None else queryset
        # Each record once, should a filter join a to-many relation.
        records = rows.filter(pk__in=page_keys).order_by(*ordering)
        records = list({record.pk: record for record in records}.values())  # one query
        return self._get_page(BoundRows(data=records, table=self.object_list.table), number, self)


def queryset_ordering(queryset: QuerySet) -> list:
    """The terms `queryset` is sorted by: its order_by(), else its model's Meta.ordering.

    Why this reads Django's private Query.order_by: Django has no public API for a queryset's
    ordering (QuerySet.ordered only says whether there is one), and the paginator must sort the
    page's keys and rows the same way the table sorted the queryset, with the primary key added
    to break ties; django-tables2 sets that ordering through order_by() deep in its own code.
    Tested in tests/crm/test_customer_list_rendering.py.
    """
    return list(queryset.query.order_by) or list(queryset.model._meta.ordering)


def _ties_broken(queryset: QuerySet) -> list:
    """The queryset's ordering, ending with the primary key unless a unique field already decides."""
    model = queryset.model
    ordering = queryset_ordering(queryset)
    for term in ordering:
        if not isinstance(term, str):
            continue
        name = term.lstrip("-")
        if name == "pk":
            return ordering
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if field.unique and not field.null:
            return ordering
    return ordering + ["pk"]


def _queryset_of(rows) -> QuerySet | None:
    data = getattr(getattr(rows, "data", None), "data", None)
    return data if isinstance(data, QuerySet) else None


class FlagColumn(tables.Column):
    """A yes/no field shown only when it is set: a mark, named for screen readers and on hover
    (the column's title). Nothing when unset: a cross on every correct order read as an error."""

    def __init__(self, *args, mark: str = "✔", css_class: str = "flag", **kwargs):
        self.mark, self.css_class = mark, css_class
        super().__init__(*args, **kwargs)

    def render(self, value, bound_column):
        if not value:
            return ""
        name = capfirst(bound_column.verbose_name)
        return format_html(
            '<span class="{}" title="{}">{}<span class="visually-hidden">{}</span></span>',
            self.css_class,
            name,
            self.mark,
            name,
        )


class MoneyColumn(tables.Column):
    """Money as every page shows it (core.display.money), right-aligned."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("attrs", {"td": {"class": "num"}, "th": {"class": "num"}})
        super().__init__(*args, **kwargs)

    def render(self, value):
        return money(value)


class CustomerTable(LeanRowsMixin, tables.Table):
    code = tables.Column(linkify=True)
    name = tables.Column(linkify=True)
    industry = tables.Column(order_by=("industry__name",))
    region = tables.Column(order_by=("region__name",))
    owner = tables.Column(order_by=("owner__username",))
    strategic = FlagColumn(mark="★", css_class="flag strategic")

    class Meta:
        model = Customer
        fields = (
            "code",
            "name",
            "kind",
            "industry",
            "region",
            "owner",
            "status",
            "since",
            "growth_potential",
            "strategic",
        )
        attrs = {"class": "table table-customers"}
        empty_text = _("No customer matches these filters. Clear a filter or search for another code or name.")
        order_by = ("name",)
        template_name = LEAN_TEMPLATE


class OrderTable(LeanRowsMixin, tables.Table):
    """Lean rows: its three date columns are template columns, which django-tables2 would compile
    again for every cell (the customer orders page: half its CPU)."""

    entry_error = FlagColumn(mark="✘", css_class="flag bad")

    class Meta:
        model = Order
        fields = ("number", "ordered_on", "status", "quantity", "promised_on", "delivered_on", "entry_error")
        attrs = {"class": "table"}
        empty_text = _("No orders yet.")
        template_name = LEAN_TEMPLATE


class OrderMoneyTable(OrderTable):
    revenue = MoneyColumn()
    cost = MoneyColumn()
    service_cost = MoneyColumn()

    class Meta(OrderTable.Meta):
        fields = OrderTable.Meta.fields[:3] + ("revenue", "cost", "service_cost") + OrderTable.Meta.fields[3:]
