"""What a browser posts from the complaint pages, for tests that post them without a GET first."""

from django.utils import timezone

from complaints.forms import ComplaintEditForm
from core.widgets import ISO_DATETIME

EDIT_FIELDS = ComplaintEditForm.Meta.fields


def _shown(value):
    if value is None:
        return ""
    return str(getattr(value, "pk", value))


def edit_post(seen, **changes) -> dict:
    """The Edit form as posted from a page that showed the complaint `seen`, with `changes` typed
    in: each field's value, and beside it (initial-NAME) the value the page showed."""
    data = {}
    for name in EDIT_FIELDS:
        shown = getattr(seen, name)
        value = changes.get(name, shown)
        data[f"initial-{name}"] = _shown(shown)
        if name == "significant":
            if value:
                data[name] = "on"
        else:
            data[name] = _shown(value)
    return data


def as_input(moment) -> str:
    """A datetime as core.widgets.DateTimeInput posts it (local time, to the second)."""
    return timezone.localtime(moment).strftime(ISO_DATETIME)
