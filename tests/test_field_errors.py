"""A field's error is where its widget says it is (WCAG 1.3.1 / axe `aria-valid-attr-value`).

Django 5.2 gives a field with errors `aria-describedby="<id>_error"`; a template that writes the
errors without that id leaves the attribute pointing at nothing, which axe reports as a serious
violation on every page showing a refused form (seen on the bulk reassignment page). Every template
writes a field's errors through includes/field_errors.html, which carries the id.
"""

import re
from pathlib import Path

from django import forms
from django.template.loader import render_to_string

ROOT = Path(__file__).resolve().parent.parent
# A loop over one field's errors written by hand, instead of the include.
HAND_WRITTEN = re.compile(r"{%\s*for\s+\w+\s+in\s+[\w.]+\.errors\s*%}")


class Sample(forms.Form):
    name = forms.CharField(help_text="As on the contract.")
    email = forms.EmailField()


def test_every_template_writes_field_errors_through_the_include():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        if path.name != "field_errors.html"
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if HAND_WRITTEN.search(line) and "non_field_errors" not in line
    ]
    assert offenders == []


def test_each_described_by_id_is_on_the_page():
    form = Sample(data={"name": "", "email": "not an address"})
    assert not form.is_valid()
    html = render_to_string("includes/form_fields.html", {"form": form})
    described = {name for ids in re.findall(r'aria-describedby="([^"]+)"', html) for name in ids.split()}
    assert described == {"id_name_helptext", "id_name_error", "id_email_error"}
    for element_id in described:
        assert f'id="{element_id}"' in html
    assert '<span class="error" id="id_email_error">Enter a valid email address.</span>' in html


class Kinds(forms.Form):
    kinds = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B")], widget=forms.CheckboxSelectMultiple)
    when = forms.DateField()


def test_a_group_of_boxes_is_a_fieldset_and_every_label_points_at_a_control():
    html = render_to_string("includes/form_fields.html", {"form": Kinds()})
    assert '<fieldset class="field is-required">\n  <legend>Kinds' in html
    targets = re.findall(r'<label for="([^"]*)"', html)
    assert targets == ["id_kinds_0", "id_kinds_1", "id_when"]
    for target in targets:
        assert f'id="{target}"' in html
