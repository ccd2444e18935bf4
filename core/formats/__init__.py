"""The project's one date, month, time and number format per language (settings.FORMAT_MODULE_PATH).

Django looks here before its own locale formats, so `{{ value }}`, `|date`, `number_format` and the
form fields all read these. Every language groups thousands in threes with a comma, shows a date
the same way everywhere (lists, detail pages, history, charts) and reads ISO dates first, which is
what `<input type=date>` and `datetime-local` send (core.widgets renders them in ISO too).
"""
