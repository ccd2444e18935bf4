"""How a cell names an existing value of a lookup column (industry, region, owner, choices).

A cell matches a value by its code or by its label in either language, ignoring case, spacing
and full-width forms: "retail", " RETAIL ", "零售" and "零售 Retail" all name the industry
"零售 Retail". Industries and regions are named in both languages in one name (the Chinese
label, then the English one), so each part of such a name is a label of its own.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# Han ideographs (with extensions), CJK punctuation and full-width forms.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")


def match_key(text: str) -> str:
    """The form two spellings of one value share: NFKC (full-width letters become plain), case
    folded, every space removed."""
    return "".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def name_labels(name: str) -> set[str]:
    """The name itself and, for a bilingual name such as "华东 East China", its Chinese and
    English labels ("华东", "East China")."""
    labels = {name}
    chinese = " ".join(CJK.findall(name)).strip()
    other = " ".join(CJK.sub(" ", name).split())
    if chinese and other:
        labels |= {chinese, other}
    return labels


@dataclass
class Match:
    """What a cell named: `id` when exactly one value, `candidates` when several, neither when none."""

    id: object = None
    candidates: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.id is not None

    @property
    def ambiguous(self) -> bool:
        return len(self.candidates) > 1


class Lookup:
    """The existing values of one lookup column, findable by any of their spellings.

    `values` are (id, name, extra labels). A whole name wins over a label (so "Retail" names an
    industry called exactly "Retail" before the label of "零售 Retail"); a label that belongs to
    several values is ambiguous.
    """

    def __init__(self, values: Iterable[tuple[object, str, Iterable[str]]]):
        self.names: dict[str, set] = {}
        self.labels: dict[str, set] = {}
        self.display: dict[object, str] = {}
        for value_id, name, labels in values:
            self.display[value_id] = name
            self.names.setdefault(match_key(name), set()).add(value_id)
            for label in labels:
                self.labels.setdefault(match_key(label), set()).add(value_id)

    @classmethod
    def of_names(cls, rows: Iterable[tuple[object, str]]) -> "Lookup":
        """Values known by one (possibly bilingual) name each: industries, regions."""
        return cls((value_id, name, name_labels(name)) for value_id, name in rows)

    def find(self, text: str) -> Match:
        key = match_key(text)
        for table in (self.names, self.labels):
            ids = table.get(key)
            if ids and len(ids) == 1:
                return Match(id=next(iter(ids)))
            if ids:
                return Match(candidates=sorted(self.display[i] for i in ids))
        return Match()
