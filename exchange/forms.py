import os

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from .models import ImportJob
from .readers import CSV_SUFFIXES, XLSX_SUFFIXES


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("What the file holds"), choices=ImportJob.Kind.choices)
    file = forms.FileField(label=_("File (CSV or XLSX)"))

    @staticmethod
    def too_big_message(size: int) -> str:
        return _("The file is %(size)s; the limit is %(limit)s.") % {
            "size": filesizeformat(size),
            "limit": filesizeformat(settings.IMPORT_MAX_BYTES),
        }

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = os.path.splitext(upload.name)[1].lower()
        if suffix not in (CSV_SUFFIXES | XLSX_SUFFIXES) - {""}:
            raise forms.ValidationError(_("“%(name)s” is not a CSV or XLSX file."), params={"name": upload.name})
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(self.too_big_message(upload.size))
        if upload.size == 0:
            raise forms.ValidationError(_("The file is empty."))
        return upload
