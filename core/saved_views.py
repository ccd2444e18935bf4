"""Saved views, column choice and page size for the list pages (issue 19), one module for every list.

A list view adds `SavedViewsMixin` (before django-tables2's SingleTableMixin) and says which list it
is (`saved_list_key`, `saved_list_url_name`), which column identifies a row (always shown) and which
parameters besides its filters belong to its state (the complaint queue's tab). The mixin then:

- shows the columns chosen in `?cols=` (comma-separated or repeated), out of the columns the user's
  table offers (`column_tables()`); a money column (`money_columns()`) only to a user who may see
  money (`may_see_money()`: the list view asks crm.roles.can_see_money; core knows no roles);
- pages by `?per_page=` when it is one of PAGE_SIZES, else the list's own page size (django-tables2
  would take any number from the request: a page of 1,000,000 rows);
- opens a saved view (`?open_view=<pk>`): a redirect to the list with the view's state, without a
  parameter, value or column the list no longer knows or the user may not see;
- gives the template `list_views` (templates/core/_list_views.html: the picker, the columns and
  page-size form, save, save over, rename, share, delete).

A saved view's query is normalised when it is saved and again when it is opened: only the list's
known parameters, valid values, in a fixed order. Saving, saving over, renaming and deleting are
POSTs to core's own views below (`/views/...`); a view shared with a role is read-only for its members.
"""

import copy

from django import forms
from django.contrib import messages
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django_tables2 import CheckBoxColumn, RequestConfig
from django_tables2.utils import Sequence

from .models import SavedView

PAGE_SIZES = (25, 50, 100, 200)
NAME_MAX_LENGTH = SavedView._meta.get_field("name").max_length
OPEN_PARAM, VIEW_PARAM, COLUMNS_PARAM, PER_PAGE_PARAM, SORT_PARAM, PAGE_PARAM = (
    "open_view",
    "view",
    "cols",
    "per_page",
    "sort",
    "page",
)

# The lists that offer saved views: list key -> its view class (filled as the classes are defined).
_LISTS: dict[str, type] = {}


def duplicate_name_error(name: str) -> ValidationError:
    return ValidationError(
        _(
            "You already have a view called “%(name)s” on this list. Choose another name, or open that "
            "view and save over it."
        ),
        code="duplicate",
        params={"name": name},
    )


# Selectors --------------------------------------------------------------------------------------


def saved_views_for(*, user, list_key: str) -> list[SavedView]:
    """The user's own views of the list and those shared with one of their roles, own first, by name
    (one query)."""
    views = (
        SavedView.objects.filter(list_key=list_key)
        .filter(Q(user=user) | Q(shared_with__in=user.groups.all()))
        .select_related("user")
    )
    return sorted(views, key=lambda view: (view.user_id != user.pk, view.name.casefold(), view.pk))


def visible_saved_view(*, user, pk, list_key: str | None = None) -> SavedView | None:
    """The view if it is the user's or shared with one of their roles, else None."""
    views = SavedView.objects.filter(Q(user=user) | Q(shared_with__in=user.groups.all())).select_related("user")
    if list_key is not None:
        views = views.filter(list_key=list_key)
    return views.filter(pk=pk).first()


def own_saved_view(*, user, pk) -> SavedView:
    """The user's own view; 404 if they cannot see it, 403 if it is only shared with them (read-only)."""
    view = visible_saved_view(user=user, pk=pk)
    if view is None:
        raise Http404(gettext("That saved view does not exist, or is not shared with you."))
    if view.user_id != user.pk:
        raise PermissionDenied(
            gettext(
                "%(owner)s shared this view with your role; only they can change or delete it. Save the "
                "list under a name of your own to keep a copy."
            )
            % {"owner": view.user.get_username()}
        )
    return view


# Services ---------------------------------------------------------------------------------------


def saved_view_create(*, user, list_key: str, name: str, query: str, columns: list[str], shared_with=None) -> SavedView:
    """Saves a list's state under a new name; a name the user already gave a view of this list
    raises ValidationError (also when another request saved it a moment before: the unique constraint)."""
    if SavedView.objects.filter(user=user, list_key=list_key, name=name).exists():
        raise duplicate_name_error(name)
    try:
        with transaction.atomic():
            return SavedView.objects.create(
                user=user, list_key=list_key, name=name, query=query, columns=columns, shared_with=shared_with
            )
    except IntegrityError:
        raise duplicate_name_error(name) from None


def saved_view_change(*, user, pk, **changes) -> bool:
    """Changes the user's own view (name, shared_with, query, columns); writes only the fields that
    differ, under a row lock. False when nothing differed. A name in use raises ValidationError."""
    allowed = {"name", "shared_with", "query", "columns"}
    if set(changes) - allowed:
        raise TypeError(f"saved_view_change takes only {sorted(allowed)}")
    try:
        with transaction.atomic():
            view = own_saved_view(user=user, pk=pk)
            view = SavedView.objects.select_for_update().get(pk=view.pk)
            changed = [field for field, value in changes.items() if getattr(view, field) != value]
            if not changed:
                return False
            name = changes.get("name", view.name)
            if (
                "name" in changed
                and SavedView.objects.filter(user=user, list_key=view.list_key, name=name).exclude(pk=pk).exists()
            ):
                raise duplicate_name_error(name)
            for field in changed:
                setattr(view, field, changes[field])
            view.save(update_fields=[*changed, "updated_at"])
            return True
    except IntegrityError:
        raise duplicate_name_error(changes["name"]) from None


def saved_view_delete(*, user, pk) -> SavedView:
    """Deletes the user's own view (404 if invisible, 403 if only shared with them); returns it."""
    view = own_saved_view(user=user, pk=pk)
    SavedView.objects.filter(pk=view.pk, user=user).delete()
    return view


# The list side ----------------------------------------------------------------------------------


def _column_label(table_class, name, column) -> str:
    if column.verbose_name:
        return capfirst(column.verbose_name)
    model = getattr(table_class._meta, "model", None)
    if model is not None:
        try:
            return capfirst(model._meta.get_field(name).verbose_name)
        except Exception:  # noqa: BLE001 - not a model field: its name is its header
            pass
    return capfirst(name.replace("_", " "))


def _table_order(table_class) -> list[str]:
    """The table's columns in the order it shows them (its Meta.sequence, or fields then the rest)."""
    meta = table_class._meta
    sequence = meta.sequence or (tuple(meta.fields) + ("...",) if meta.fields else ("...",))
    return [
        name for name in Sequence(sequence).expand(list(table_class.base_columns)) if name in table_class.base_columns
    ]


def _requested_columns(values: list[str]) -> list[str]:
    names = []
    for value in values:
        for name in value.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return names


class SavedViewsMixin:
    """Column choice, page size and saved views for a django-tables2 + django-filter list view.
    Put it before SingleTableMixin in the view's bases."""

    saved_list_key: str = ""
    saved_list_url_name: str = ""
    #: Always shown, never offered for hiding: what identifies a row.
    identifying_columns: tuple[str, ...] = ()
    #: Parameters of the list's state besides its filters, sort and page size: name -> allowed values.
    state_extra_params: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("saved_list_key"):
            _LISTS[cls.saved_list_key] = cls

    # What the list offers this user ---------------------------------------------------------

    def column_tables(self) -> list[type]:
        """The table classes whose columns may be shown; the first is the list's own table."""
        return [self.get_table_class()]

    def money_columns(self) -> frozenset[str]:
        """Columns that show money: offered only when may_see_money()."""
        return frozenset()

    def may_see_money(self) -> bool:
        return False

    def column_catalogue(self) -> dict:
        """name -> (label, column, table class) of every column the user may have shown, in order."""
        if not hasattr(self, "_column_catalogue"):
            catalogue = {}
            hidden = frozenset() if self.may_see_money() else self.money_columns()
            for table_class in self.column_tables():
                for name in _table_order(table_class):
                    column = table_class.base_columns[name]
                    if name in catalogue or name in hidden or isinstance(column, CheckBoxColumn):
                        continue
                    catalogue[name] = (_column_label(table_class, name, column), column, table_class)
            self._column_catalogue = catalogue
        return self._column_catalogue

    def column_options(self) -> list[tuple[str, str]]:
        """(name, label) of the columns the user may show or hide (not the identifying ones)."""
        return [
            (name, label)
            for name, (label, _column, _table) in self.column_catalogue().items()
            if name not in self.identifying_columns
        ]

    def default_columns(self) -> list[str]:
        own = self.get_table_class().base_columns
        return [name for name, _label in self.column_options() if name in own]

    def state_params(self) -> list[str]:
        filters = list(self.get_filterset_class().base_filters)
        return [*filters, *self.state_extra_params, SORT_PARAM, PER_PAGE_PARAM]

    # What this request asks ------------------------------------------------------------------

    def chosen_columns(self) -> list[str]:
        """The optional columns shown: those asked for in ?cols= that the user may have, else the default."""
        if not hasattr(self, "_chosen_columns"):
            offered = [name for name, _label in self.column_options()]
            asked = _requested_columns(self.request.GET.getlist(COLUMNS_PARAM))
            chosen = [name for name in offered if name in asked]
            self._chosen_columns = chosen or self.default_columns()
        return self._chosen_columns

    def page_size(self, default: int) -> int:
        value = self.request.GET.get(PER_PAGE_PARAM, "")
        return int(value) if value.isdigit() and int(value) in PAGE_SIZES else default

    def list_state(self, data: QueryDict, columns: list[str], filterset=None) -> tuple[QueryDict, list[str], bool]:
        """`data` and `columns` kept to what this list knows and this user may have: (query, columns,
        whether anything was left out). Filter values the filters refuse are left out too (checked
        by `filterset`, the request's own when given, else one made for `data`)."""
        query = QueryDict(mutable=True)
        for name in self.state_params():
            values = [value for value in data.getlist(name) if value.strip()]
            if values:
                query.setlist(name, values)
        for name, allowed in self.state_extra_params.items():
            if name in query and allowed is not None and query[name] not in allowed:
                del query[name]
        per_page = query.get(PER_PAGE_PARAM, "")
        if per_page and not (per_page.isdigit() and int(per_page) in PAGE_SIZES):
            del query[PER_PAGE_PARAM]
        if SORT_PARAM in query:
            catalogue = self.column_catalogue()
            terms = [term for term in query[SORT_PARAM].split(",") if term.lstrip("-") in catalogue]
            if terms:
                query[SORT_PARAM] = ",".join(terms)
            else:
                del query[SORT_PARAM]
        if filterset is None:
            filterset = self.get_filterset_class()(query, request=self.request)
        if not filterset.form.is_valid():
            for name in filterset.form.errors:
                query.pop(name, None)
        offered = [name for name, _label in self.column_options()]
        asked = [name for name in columns if name]
        kept_columns = [name for name in offered if name in asked]
        ignored = {PAGE_PARAM, VIEW_PARAM, COLUMNS_PARAM, OPEN_PARAM}
        dropped = len(kept_columns) != len(asked) or any(
            [value for value in data.getlist(name) if value.strip()] != query.getlist(name)
            for name in data
            if name not in ignored
        )
        return query, kept_columns, dropped

    def current_state(self) -> tuple[QueryDict, list[str]]:
        if not hasattr(self, "_current_state"):
            query, _columns, _dropped = self.list_state(self.request.GET, [], filterset=self.filterset)
            self._current_state = query, self.chosen_columns()
        return self._current_state

    def list_url(self) -> str:
        return reverse(self.saved_list_url_name)

    def state_url(self, query: QueryDict, columns: list[str], view_pk=None) -> str:
        query = query.copy()
        if columns:
            query[COLUMNS_PARAM] = ",".join(columns)
        if view_pk is not None:
            query[VIEW_PARAM] = str(view_pk)
        encoded = query.urlencode()
        return f"{self.list_url()}?{encoded}" if encoded else self.list_url()

    # The view -------------------------------------------------------------------------------

    def get(self, request, *args, **kwargs):
        if OPEN_PARAM in request.GET:
            return self.open_saved_view(request.GET[OPEN_PARAM])
        return super().get(request, *args, **kwargs)

    def open_saved_view(self, pk: str):
        if not pk:
            return HttpResponseRedirect(self.list_url())
        view = (
            visible_saved_view(user=self.request.user, pk=int(pk), list_key=self.saved_list_key)
            if pk.isdigit()
            else None
        )
        if view is None:
            messages.error(self.request, gettext("That saved view does not exist, or is not shared with you."))
            return HttpResponseRedirect(self.list_url())
        query, columns, dropped = self.list_state(QueryDict(view.query), list(view.columns))
        if dropped:
            messages.info(
                self.request,
                gettext("Some of this view's filters or columns are no longer available to you and were left out."),
            )
        return HttpResponseRedirect(self.state_url(query, columns, view.pk))

    def get_table_kwargs(self):
        kwargs = super().get_table_kwargs()
        own = self.get_table_class().base_columns
        chosen = set(self.chosen_columns())
        hidden = [name for name, _label in self.column_options() if name in own and name not in chosen]
        # a column of the table the user may not have (a money column, for a role without money) never shows
        hidden += [
            name
            for name in own
            if name not in self.column_catalogue()
            and name not in self.identifying_columns
            and not isinstance(own[name], CheckBoxColumn)
        ]
        extra = [
            (name, copy.deepcopy(column))
            for name, (_label, column, _table) in self.column_catalogue().items()
            if name not in own and name in chosen
        ]
        if hidden:
            kwargs["exclude"] = (*kwargs.get("exclude", ()), *hidden)
        if extra:
            kwargs["extra_columns"] = [*kwargs.get("extra_columns", []), *extra]
        return kwargs

    def get_table(self, **kwargs):
        """SingleTableMixin.get_table, with the page size bounded to PAGE_SIZES (django-tables2's
        RequestConfig takes any ?per_page=)."""
        table = self.get_table_class()(data=self.get_table_data(), **kwargs)
        paginate = self.get_table_pagination(table)
        RequestConfig(self.request, paginate=False).configure(table)  # the request and the sort
        if not paginate:
            return table
        options = dict(paginate) if hasattr(paginate, "items") else {}
        options["per_page"] = self.page_size(options.get("per_page") or PAGE_SIZES[0])
        self.list_page_size = options["per_page"]
        options.pop("silent", None)
        try:
            options["page"] = int(self.request.GET[table.prefixed_page_field])
        except (KeyError, ValueError):
            pass
        try:  # as RequestConfig's silent pagination: a page that is no number is the first, past the end the last
            table.paginate(**options)
        except PageNotAnInteger:
            table.page = table.paginator.page(1)
        except EmptyPage:
            table.page = table.paginator.page(table.paginator.num_pages)
        return table

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["list_views"] = self.list_views_context()
        return context

    def list_views_context(self) -> dict:
        user = self.request.user
        query, columns = self.current_state()
        views = saved_views_for(user=user, list_key=self.saved_list_key)
        current_pk = self.request.GET.get(VIEW_PARAM, "")
        current = next((view for view in views if str(view.pk) == current_pk), None)
        mine = current is not None and current.user_id == user.pk
        state = query.copy()
        state.pop(PER_PAGE_PARAM, None)
        keep = QueryDict(mutable=True)  # what the filter form and the tabs carry along
        if PER_PAGE_PARAM in query:
            keep[PER_PAGE_PARAM] = query[PER_PAGE_PARAM]
        if COLUMNS_PARAM in self.request.GET:
            keep[COLUMNS_PARAM] = ",".join(columns)
        if current is not None:
            keep[VIEW_PARAM] = str(current.pk)
        return {
            "list_key": self.saved_list_key,
            "list_url": self.list_url(),
            "views": views,
            "current": current,
            "current_is_mine": mine,
            "query": query.urlencode(),
            "columns_value": ",".join(columns),
            "state_inputs": [(name, value) for name, values in state.lists() for value in values]
            + ([(VIEW_PARAM, str(current.pk))] if current is not None else []),
            "keep_inputs": list(keep.items()),
            "keep_query": keep.urlencode(),
            "columns": [
                {"name": name, "label": label, "shown": name in columns} for name, label in self.column_options()
            ],
            "page_sizes": PAGE_SIZES,
            "per_page": getattr(self, "list_page_size", None),
            "save_form": SaveViewForm(
                initial={"list_key": self.saved_list_key, "query": query.urlencode(), "cols": ",".join(columns)}
            ),
            "rename_form": ViewSettingsForm(instance=current, prefix="settings") if mine else None,
        }


# Forms and views --------------------------------------------------------------------------------


class RoleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return gettext(obj.name)  # the roles' names are in the catalogue (crm.roles.ROLE_LABELS)


class SaveViewForm(forms.Form):
    name = forms.CharField(
        label=_("View name"),
        max_length=NAME_MAX_LENGTH,
        error_messages={"required": _("Give the view a name.")},
    )
    list_key = forms.CharField(widget=forms.HiddenInput)
    query = forms.CharField(widget=forms.HiddenInput, required=False, strip=False)
    cols = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "save-view-%s")
        super().__init__(*args, **kwargs)


class ViewSettingsForm(forms.ModelForm):
    shared_with = RoleChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        label=_("Share with role"),
        empty_label=_("Only me"),
    )

    class Meta:
        model = SavedView
        fields = ["name", "shared_with"]
        labels = {"name": _("View name")}
        error_messages = {"name": {"required": _("Give the view a name.")}}


class StateForm(forms.Form):
    query = forms.CharField(required=False, strip=False)
    cols = forms.CharField(required=False)


def _list_view_for(request, list_key: str):
    """The registered list's view, set up for this request; 404 for an unknown list, 403 when the
    user may not open the list."""
    view_class = _LISTS.get(list_key)
    if view_class is None:
        raise Http404(gettext("Unknown list."))
    view = view_class()
    view.setup(request)
    if hasattr(view, "has_permission") and not view.has_permission():
        raise PermissionDenied
    return view


def _normalised(list_view, query: str, cols: str) -> tuple[str, list[str]]:
    state, columns, _dropped = list_view.list_state(QueryDict(query), _requested_columns([cols]))
    return state.urlencode(), columns


class SavedViewCreateView(View):
    """Saves the list's state (posted by the bar) under a new name; on a mistake, the form again."""

    http_method_names = ["post"]

    def post(self, request):
        form = SaveViewForm(request.POST)
        list_view = _list_view_for(request, request.POST.get("list_key", ""))
        if form.is_valid():
            query, columns = _normalised(list_view, form.cleaned_data["query"], form.cleaned_data["cols"])
            try:
                view = saved_view_create(
                    user=request.user,
                    list_key=list_view.saved_list_key,
                    name=form.cleaned_data["name"],
                    query=query,
                    columns=columns,
                )
            except ValidationError as error:
                form.add_error("name", error)
            else:
                messages.success(request, gettext("View “%(name)s” saved.") % {"name": view.name})
                return HttpResponseRedirect(list_view.state_url(QueryDict(query), columns, view.pk))
        return render(
            request,
            "core/saved_view_form.html",
            {"form": form, "action": reverse("saved_views:create"), "back": list_view.list_url()},
        )


class SavedViewUpdateView(View):
    """Saves the list's current state over the user's own view."""

    http_method_names = ["post"]

    def post(self, request, pk):
        view = own_saved_view(user=request.user, pk=pk)
        list_view = _list_view_for(request, view.list_key)
        form = StateForm(request.POST)
        form.is_valid()
        query, columns = _normalised(list_view, form.cleaned_data["query"], form.cleaned_data["cols"])
        if saved_view_change(user=request.user, pk=pk, query=query, columns=columns):
            messages.success(request, gettext("View “%(name)s” saved.") % {"name": view.name})
        else:
            messages.info(request, gettext("Nothing changed in “%(name)s”.") % {"name": view.name})
        return HttpResponseRedirect(list_view.state_url(QueryDict(query), columns, view.pk))


class SavedViewSettingsView(View):
    """Renames the user's own view and shares it with a role (or with no one)."""

    http_method_names = ["post"]

    def post(self, request, pk):
        view = own_saved_view(user=request.user, pk=pk)
        list_view = _list_view_for(request, view.list_key)
        form = ViewSettingsForm(request.POST, instance=copy.copy(view), prefix="settings")
        if form.is_valid():
            try:
                changed = saved_view_change(
                    user=request.user,
                    pk=pk,
                    name=form.cleaned_data["name"],
                    shared_with=form.cleaned_data["shared_with"],
                )
            except ValidationError as error:
                form.add_error("name", error)
            else:
                if changed:
                    messages.success(request, gettext("View “%(name)s” saved.") % {"name": form.cleaned_data["name"]})
                else:
                    messages.info(request, gettext("Nothing changed in “%(name)s”.") % {"name": view.name})
                return HttpResponseRedirect(f"{list_view.list_url()}?{OPEN_PARAM}={view.pk}")
        return render(
            request,
            "core/saved_view_form.html",
            {"form": form, "action": reverse("saved_views:settings", args=[pk]), "back": list_view.list_url()},
        )


class SavedViewDeleteView(View):
    http_method_names = ["post"]

    def post(self, request, pk):
        view = saved_view_delete(user=request.user, pk=pk)
        messages.success(request, gettext("View “%(name)s” deleted.") % {"name": view.name})
        list_class = _LISTS.get(view.list_key)
        return HttpResponseRedirect(reverse(list_class.saved_list_url_name) if list_class else reverse("home"))
