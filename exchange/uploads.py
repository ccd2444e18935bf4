"""Upload size, refused before the body is read.

Django reads a multipart body the first time anything touches request.POST or request.FILES
(on every POST the CSRF check does), streaming files to disk however large they are. The
handler below is first in FILE_UPLOAD_HANDLERS: a body whose Content-Length is over the import
limit is not read at all, on any URL (the request then has no fields and no files). The import
page checks the same length itself before anything else, to answer with its own message.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

FORM_ROOM = 64 * 1024  # the form's other fields and the multipart headers around the file


def upload_limit() -> int:
    """The largest request body that may hold an import file."""
    return settings.IMPORT_MAX_BYTES + FORM_ROOM


def declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class SizeLimitUploadHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > upload_limit():
            return QueryDict(encoding=encoding), MultiValueDict()  # parsed as empty: nothing is read
        return None

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None
