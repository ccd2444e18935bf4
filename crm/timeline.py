"""One timeline per customer: what happened to them, newest first, from every app that knows.

crm is the base app, so it imports none of the apps above it. An app that holds events of a
customer (crm: orders, invoices, interactions, surveys, changes; complaints: complaints and their
state moves; analytics: tier changes) registers a `TimelineSource` per kind of event from its
AppConfig.ready() with `register_timeline_source`; the timeline page and the customer page ask
`timeline_page`, which merges the sources.

Paging is by keyset, never OFFSET: the entries are ordered newest first by (at, kind, id), and the
next page starts strictly after the last entry shown (its `cursor`). Each source answers ONE query
per page: its entries older than the cursor, newest first, at most `limit` of them; the page merges
them (heapq.merge) and keeps `per_page`. So a page costs one query per visible source, however many
entries the customer has, and a page stays the same when entries are added on top of it.

Dates (an order's day) become local midnight of that day, so a dated entry sorts below everything
timestamped later that day, on every source alike (`start_of_day`, `date_before_q`).
"""

from __future__ import annotations

import datetime
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.utils import timezone

from .roles import can_see_money


@dataclass(frozen=True, order=False)
class Cursor:
    """Where a page ends: the last entry's (at, kind, id). The next page holds what sorts after it."""

    at: datetime.datetime
    kind: str
    id: int

    SEPARATOR = "~"

    def encode(self) -> str:
        return self.SEPARATOR.join((self.at.isoformat(), self.kind, str(self.id)))

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor of `encode`; ValueError when `text` is not one."""
        # A "+" of the offset read back as a space (a link copied without its encoding) is still a "+".
        at, kind, id_ = text.replace(" ", "+").split(cls.SEPARATOR)
        moment = datetime.datetime.fromisoformat(at)
        if timezone.is_naive(moment) or not kind:
            raise ValueError(text)
        return cls(at=moment, kind=kind, id=int(id_))


@dataclass(frozen=True)
class Entry:
    """One event of a customer's timeline, as the page shows it.

    `id` is the event's id within its kind (the row's primary key), so (at, kind, id) is unique.
    `amount` is money: shown only to roles that see money (the page drops it for the others).
    """

    at: datetime.datetime
    kind: str
    id: int
    title: str
    detail: str = ""
    url: str = ""
    by: str = ""
    amount: Decimal | None = None

    @property
    def dated(self) -> bool:
        """A dated event (at local midnight, `start_of_day`): shown by its day, without a time."""
        return timezone.localtime(self.at).time() == datetime.time.min

    @property
    def key(self) -> tuple[datetime.datetime, str, int]:
        return (self.at, self.kind, self.id)

    @property
    def cursor(self) -> Cursor:
        return Cursor(at=self.at, kind=self.kind, id=self.id)


class TimelineSource:
    """One kind of event on the timeline. Subclass it, set the attributes, implement `entries`.

    - `kind`: the code of the kind (in the filter's GET parameter and each entry's `kind`).
    - `label`: what the filter calls it (lazy translated).
    - `money`: the whole kind is money (orders, invoices): hidden from roles that see no money.
    - `permission`: only for users holding it (say "complaints.view_complaint"); None: everyone
      who may see the customer.
    - `order`: where the kind appears in the filter (lower first).
    """

    kind: str
    label: str
    money: bool = False
    permission: str | None = None
    order: int = 100

    def shown_to(self, user) -> bool:
        if self.money and not can_see_money(user):
            return False
        return self.permission is None or user.has_perm(self.permission)

    def entries(self, *, customer, before: Cursor | None, limit: int, user) -> list[Entry]:
        """The customer's entries that sort after `before` (older; all when None), newest first,
        at most `limit`, in ONE query. `user` is who reads them (for what a role may see of them)."""
        raise NotImplementedError

    # Helpers for `entries`: the filter of the rows older than the cursor, on this source's kind.

    def before_q(self, before: Cursor | None, *, at: str, id: str = "pk") -> Q:
        """Rows whose (at, self.kind, id) sorts after `before`, `at` being a datetime field."""
        if before is None:
            return Q()
        same_moment = self._tie_q(before, id)
        older = Q(**{f"{at}__lt": before.at})
        return older if same_moment is None else older | (Q(**{at: before.at}) & same_moment)

    def date_before_q(self, before: Cursor | None, *, on: str, id: str = "pk") -> Q:
        """As `before_q`, for a date field `on` whose entries are at local midnight (`start_of_day`)."""
        if before is None:
            return Q()
        day = timezone.localdate(before.at)
        if start_of_day(day) != before.at:  # the cursor is later that day: the whole day is older
            return Q(**{f"{on}__lte": day})
        same_moment = self._tie_q(before, id)
        older = Q(**{f"{on}__lt": day})
        return older if same_moment is None else older | (Q(**{on: day}) & same_moment)

    def _tie_q(self, before: Cursor, id: str) -> Q | None:
        """At the cursor's very moment: which of this kind's rows sort after it (None: none)."""
        if self.kind < before.kind:
            return Q()  # all of them: descending, a lower kind comes after
        if self.kind > before.kind:
            return None
        return Q(**{f"{id}__lt": before.id})


def start_of_day(day: datetime.date) -> datetime.datetime:
    """When a dated event is on the timeline: the local midnight that begins its day."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


_sources: dict[str, TimelineSource] = {}


def register_timeline_source(source: TimelineSource) -> None:
    """Adds a kind of event to every customer's timeline (by kind: registering it again replaces it)."""
    if not getattr(source, "kind", "") or Cursor.SEPARATOR in source.kind:
        raise ImproperlyConfigured(f"A timeline source needs a kind without {Cursor.SEPARATOR!r}: {source!r}.")
    _sources[source.kind] = source


def timeline_sources(user) -> list[TimelineSource]:
    """The kinds `user` may see on a timeline, in the filter's order."""
    return sorted((source for source in _sources.values() if source.shown_to(user)), key=lambda s: (s.order, s.kind))


@dataclass(frozen=True)
class TimelinePage:
    entries: list[Entry]
    next_cursor: Cursor | None  # None: nothing older
    sources: list[TimelineSource]  # the kinds the user may see (for the filter)
    kinds: frozenset[str]  # the kinds shown


def timeline_page(
    *, customer, user, kinds: Iterable[str] | None = None, before: Cursor | None = None, per_page: int = 25
) -> TimelinePage:
    """A page of `customer`'s timeline as `user` may see it: the `kinds` asked for (all when None or
    empty) among those they may see, older than `before`, newest first. One query per kind shown."""
    sources = timeline_sources(user)
    wanted = set(kinds or ())
    shown = [source for source in sources if not wanted or source.kind in wanted]
    lists: Sequence[list[Entry]] = [
        source.entries(customer=customer, before=before, limit=per_page + 1, user=user) for source in shown
    ]
    merged = list(heapq.merge(*lists, key=lambda entry: entry.key, reverse=True))
    page, more = merged[:per_page], len(merged) > per_page
    if not can_see_money(user):
        page = [replace(entry, amount=None) if entry.amount is not None else entry for entry in page]
    return TimelinePage(
        entries=page,
        next_cursor=page[-1].cursor if more and page else None,
        sources=sources,
        kinds=frozenset(source.kind for source in shown),
    )
