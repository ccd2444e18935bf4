"""The zh-hans catalogue is complete: every string the code marks exists, translated, not fuzzy."""

import io
from pathlib import Path

import polib
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from django.conf import settings
from django.urls import reverse
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
PO_FILE = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CODE_DIRS = ["config", "core", "crm", "notifications", "complaints", "tasks", "analytics", "exchange", "demo"]
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


def _messages(fileobj):
    for _lineno, message, _comments, context in extract("python", fileobj, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            yield (context, msgid)


def marked_strings() -> set[tuple[str | None, str]]:
    """What makemessages would extract, in pure Python (no GNU gettext needed)."""
    found = set()
    for folder in CODE_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            found |= set(_messages(io.BytesIO(path.read_bytes())))
    for path in (ROOT / "templates").rglob("*.html"):
        code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
        found |= set(_messages(io.BytesIO(code.encode("utf-8"))))
    return found


@pytest.fixture(scope="module")
def catalogue():
    return polib.pofile(str(PO_FILE))


def test_no_message_is_untranslated_or_fuzzy(catalogue):
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    plural_gaps = [e.msgid for e in catalogue if e.msgid_plural and not all(e.msgstr_plural.values())]
    assert (untranslated, fuzzy, plural_gaps) == ([], [], [])


def test_every_marked_string_is_in_the_catalogue(catalogue):
    known = {(entry.msgctxt, entry.msgid) for entry in catalogue if not entry.obsolete}
    missing = sorted(str(item) for item in marked_strings() - known)
    assert missing == [], "run `make messages-extract` and translate"


def test_extraction_finds_strings_from_code_and_templates():
    strings = {msgid for _context, msgid in marked_strings()}
    assert {"Customers", "Export CSV", "Can see revenue, profit and margin figures"} <= strings


def test_translation_functions_keep_names_the_extractors_know():
    """`gettext_lazy as lazy` hides every string it marks from makemessages (and from this test's
    extraction): the strings would stay English in zh-hans with no test failing."""
    import re

    renamed = re.compile(r"import[^\n]*\b(?:n?p?gettext(?:_lazy|_noop)?)\s+as\s+(?!_\b)\w+")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in CODE_DIRS
        for path in (ROOT / folder).rglob("*.py")
        if renamed.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


@pytest.mark.django_db
def test_chinese_interface_renders_and_persists(client):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("login")})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME]["max-age"] == settings.LANGUAGE_COOKIE_AGE
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in page
    assert "登录" in page


def test_placeholders_match_and_the_catalogue_compiles(catalogue, tmp_path):
    import re

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    placeholder = re.compile(r"%\((\w+)\)[sd]|%[sd]")
    mismatched = [
        entry.msgid
        for entry in catalogue
        for text in ([entry.msgstr] if not entry.msgid_plural else entry.msgstr_plural.values())
        if sorted(placeholder.findall(entry.msgid)) != sorted(placeholder.findall(text))
    ]
    assert mismatched == []
    with PO_FILE.open("rb") as handle:
        parsed = read_po(handle)
    errors = [(message.id, error) for message, error in parsed.check()] if hasattr(parsed, "check") else []
    assert errors == []
    with (tmp_path / "django.mo").open("wb") as handle:
        write_mo(handle, parsed)
