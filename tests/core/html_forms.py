"""What a browser would send back for a form of a page, left as it is: its fields' values as the page
wrote them (inputs, checked boxes, selected options, text areas). A date the browser cannot read
(zh-hans "2019/11/16" in an `<input type=date>`) is sent empty, as the browser does."""

import re
from html.parser import HTMLParser

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$")


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = {"action": attrs.get("action", ""), "fields": [], "inputs": []}
            self.forms.append(self._form)
        if self._form is None:
            return
        if tag == "input":
            self._form["inputs"].append(attrs)
            kind = attrs.get("type", "text")
            name = attrs.get("name")
            if not name or kind in ("submit", "button", "file", "reset", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            value = attrs.get("value", "on" if kind in ("checkbox", "radio") else "")
            if kind == "date" and value and not ISO_DATE.match(value):
                value = ""  # the browser refuses it and shows an empty field
            if kind == "datetime-local" and value and not ISO_DATETIME.match(value):
                value = ""
            self._form["fields"].append((name, value))
        elif tag == "select":
            self._select = {"name": attrs.get("name"), "value": None, "first": None}
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")  # Django always writes an option's value
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in attrs:
                self._select["value"] = value
        elif tag == "textarea":
            self._textarea = {"name": attrs.get("name"), "text": ""}

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if self._form is None:
            return
        if tag == "select" and self._select is not None:
            value = self._select["value"] if self._select["value"] is not None else self._select["first"]
            if self._select["name"]:
                self._form["fields"].append((self._select["name"], value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            # The HTML parser keeps the newline that follows <textarea>; a browser drops it.
            text = self._textarea["text"]
            self._form["fields"].append((self._textarea["name"], text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self._form = None


def page_forms(html: str) -> list[dict]:
    """Every form of the page: {"action", "fields": [(name, value), ...], "inputs": [attrs, ...]}."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_data(html: str, *, containing: str) -> dict:
    """The fields of the page's first form that has a field named `containing`, as the browser sends them."""
    for form in page_forms(html):
        names = [name for name, _value in form["fields"]]
        if containing in names:
            data: dict = {}
            for name, value in form["fields"]:
                data.setdefault(name, []).append(value)
            return {name: values if len(values) > 1 else values[0] for name, values in data.items()}
    raise AssertionError(f"no form with a field named {containing!r}")
