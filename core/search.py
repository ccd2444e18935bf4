"""The top bar's search: one box, results grouped by kind (customers, contacts, complaints...).

core imports none of our apps, so each app that holds something worth finding registers a
`SearchProvider` per kind from its AppConfig.ready() with `register_search_provider`; the search
page (core.views.SearchView) asks `search_groups`, which runs the providers the user may use.

A provider answers in two queries however many rows match (one when none does): how many match,
counted only up to COUNT_CAP (a count that stops there, so a broad term never counts a whole
table), then the group's GROUP_SIZE rows. Up to COUNT_CAP matches, those are the first in the
provider's order. Beyond, they are the latest rows found (highest ids), shown in that order:
walking an index in the provider's order (names) to find a term one name in twenty holds read
30,000 of 100,000 customers (75 ms on bench), and ten of "more than 1,000" tell the reader no more
in one order than in another; "see all" opens the list, which sorts them all.

What a provider shows is the kind's list scoping and the role's rights; no money (the search page
is read by every role).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet, Subquery

GROUP_SIZE = 10  # rows each group shows
COUNT_CAP = 1000  # a group counts its matches up to here; beyond, "more than 1,000"
# Shorter text is not searched. Latin letters and digits: 3, what a trigram index needs (pg_trgm finds
# no trigram in a two-character term and hands back every row: "13" read all 200,000 complaints on
# bench, 150 ms). Text with Chinese: 2, which the indexes of short grams serve (crm 0007 and 0013,
# complaints 0004); one Chinese character matches too much (有 is in two names of three).
MIN_LENGTH = 3
MIN_LENGTH_CHINESE = 2


@dataclass(frozen=True)
class Hit:
    """One result: what it is (`title`), a line about it (`detail`), where it opens (`url`)."""

    title: str
    url: str
    detail: str = ""


@dataclass(frozen=True)
class Group:
    """One kind's results: the first GROUP_SIZE `hits`, how many match (`total`, up to COUNT_CAP;
    `capped`: more than that), and the list that shows them all (`see_all_url`, "" when none)."""

    kind: str
    label: str
    hits: list[Hit]
    total: int
    capped: bool = False
    see_all_url: str = ""
    see_all_label: str = ""

    @property
    def more(self) -> bool:
        """More match than are shown."""
        return self.capped or self.total > len(self.hits)


class SearchProvider:
    """One kind of thing the search finds. Subclass it, set the attributes, implement `matches`,
    `hit` and (when a list shows the same matches) `see_all`.

    - `kind`: a short code ("customers"), the group's id on the page.
    - `label`: the group's heading (lazy translated).
    - `permission`: only users holding it search this kind (the permission of the kind's list).
    - `order`: where the group appears (lower first).
    """

    kind: str
    label: str
    permission: str
    order: int = 100

    def shown_to(self, user) -> bool:
        return user.has_perm(self.permission)

    def matches(self, *, text: str, user) -> QuerySet:
        """The rows `text` finds for `user`, ordered as the group shows them, with what `hit` reads
        selected (select_related): the page's rows are its first GROUP_SIZE."""
        raise NotImplementedError

    def hit(self, row) -> Hit:
        """How one row of `matches` shows (no money: every role reads the search page)."""
        raise NotImplementedError

    def see_all(self, *, text: str) -> tuple[str, str]:
        """(URL, link text) of the list that shows all the matches; ("", "") when no list does."""
        return "", ""

    def search(self, *, text: str, user) -> Group:
        """The group for `text`: the capped count, then the group's rows (see the module's docstring)."""
        matches = self.matches(text=text, user=user)
        total = count_up_to(matches, COUNT_CAP + 1)
        capped = total > COUNT_CAP
        if capped:  # the latest ones found, in the provider's order
            latest = matches.order_by("-pk").values("pk")[:GROUP_SIZE]
            rows = list(matches.filter(pk__in=Subquery(latest)))
        else:
            rows = list(matches[:GROUP_SIZE]) if total else []
        url, link = self.see_all(text=text) if total > len(rows) else ("", "")
        return Group(
            kind=self.kind,
            label=str(self.label),
            hits=[self.hit(row) for row in rows],
            total=min(total, COUNT_CAP),
            capped=capped,
            see_all_url=url,
            see_all_label=link,
        )


def count_up_to(queryset: QuerySet, limit: int) -> int:
    """How many rows `queryset` has, counting no further than `limit` (COUNT over a LIMIT subquery)."""
    return queryset.order_by()[:limit].count()


_providers: dict[str, SearchProvider] = {}


def register_search_provider(provider: SearchProvider) -> None:
    """Adds a kind to the search (by kind: registering it again replaces it)."""
    if not getattr(provider, "kind", ""):
        raise ImproperlyConfigured(f"{type(provider).__name__} has no kind.")
    _providers[provider.kind] = provider


def providers_for(user) -> list[SearchProvider]:
    """The kinds `user` may search, in their order."""
    return sorted((p for p in _providers.values() if p.shown_to(user)), key=lambda p: (p.order, p.kind))


def search_text(value: str | None) -> str:
    """The text to search: stripped, blanks inside collapsed, at most 100 characters."""
    return " ".join((value or "").split())[:100]


def searchable(text: str) -> bool:
    """Long enough to search: MIN_LENGTH letters or digits, MIN_LENGTH_CHINESE characters with Chinese."""
    return len(text) >= (MIN_LENGTH if text.isascii() else MIN_LENGTH_CHINESE)


def search_groups(*, text: str, user) -> list[Group]:
    """Each kind's group for `text` that `user` may search (two queries a kind, one when none
    matches); [] when `text` is too short."""
    if not searchable(text):
        return []
    return [provider.search(text=text, user=user) for provider in providers_for(user)]
