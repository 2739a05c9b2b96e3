"""Upload handling with a memory bound per request.

Uploads stay in memory (an unstripped photo never touches /tmp), but only up to the limits: once
a file passes TIPLINE_ATTACHMENT_MAX_BYTES, or the request's files together pass
TIPLINE_UPLOAD_MAX_BYTES, the rest is read and thrown away and the file arrives as an empty
``RefusedUpload`` that the evidence field turns into a clear error. One request can therefore
hold at most TIPLINE_UPLOAD_MAX_BYTES of files, however large its body.
"""

import io

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile, SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler

FILE_TOO_LARGE = "file_too_large"
REQUEST_TOO_LARGE = "request_too_large"


class RefusedUpload(SimpleUploadedFile):
    """A file whose content was not kept because it passed a limit."""

    def __init__(self, name, content_type, size, reason):
        super().__init__(name, b"", content_type)
        self.size = size
        self.refused = reason


class BoundedMemoryUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.total = 0
        self.request_refused = False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.buffer = io.BytesIO()
        self.size = 0
        self.refused = REQUEST_TOO_LARGE if self.request_refused else None

    def receive_data_chunk(self, raw_data, start):
        self.size += len(raw_data)
        self.total += len(raw_data)
        if self.refused is None:
            if self.total > settings.TIPLINE_UPLOAD_MAX_BYTES:
                self.refused = REQUEST_TOO_LARGE
                self.request_refused = True
            elif self.size > settings.TIPLINE_ATTACHMENT_MAX_BYTES:
                self.refused = FILE_TOO_LARGE
            if self.refused is not None:
                self.buffer = None  # what was kept of this file goes now
        if self.refused is None:
            self.buffer.write(raw_data)
        return None  # no other handler gets the data

    def file_complete(self, file_size):
        if self.refused is not None:
            return RefusedUpload(self.file_name, self.content_type, self.size, self.refused)
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
