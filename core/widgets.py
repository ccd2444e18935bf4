"""Date and time inputs for every form of every app, the same in every language.

The browser shows `<input type=date>` and `datetime-local` in the user's language, but their value
is ISO whatever the language: "2019-11-16" and "2019-11-16T14:30:59". Django's widgets write the
language's first input format instead (zh-hans: "2019/11/16"), which the browser rejects: the field
showed empty and a save without a touch erased the date. These widgets always write ISO.
"""

from django import forms

ISO_DATE = "%Y-%m-%d"
# Seconds included, with step=1 so the browser accepts and sends them: a stored time with seconds
# saved untouched comes back the same (at minutes, 14:30:59 came back as 14:30 and the browser's
# default step of 60 s would even refuse it). Microseconds are never shown: a form's initial value
# drops them (Django does for widgets without `supports_microseconds`), so an untouched field is
# unchanged in `form.changed_data`, and core.records.record_update compares at the second.
ISO_DATETIME = "%Y-%m-%dT%H:%M:%S"


class DateInput(forms.DateInput):
    """`<input type=date>` with an ISO value."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format=ISO_DATE)


class DateTimeInput(forms.DateTimeInput):
    """`<input type=datetime-local step=1>` with an ISO value to the second, in the current time zone."""

    input_type = "datetime-local"
    supports_microseconds = False

    def __init__(self, attrs=None):
        super().__init__({"step": "1", **(attrs or {})}, format=ISO_DATETIME)
