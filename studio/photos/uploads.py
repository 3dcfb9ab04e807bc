"""Limits on multipart uploads, applied while the request body streams in.

`UploadLimitHandler` is first in `FILE_UPLOAD_HANDLERS`, so it sees every chunk before Django's
memory or temporary-file handlers store it:

- a file that grows past `PHOTOS_MAX_FILE_BYTES` is dropped at that point (its partial copy is
  closed and deleted, the rest of it is read and discarded);
- when the declared body is larger than `PHOTOS_MAX_REQUEST_BYTES`, no file of it is stored.

Either way the file's name and the reason are recorded on the request, so the page can say what
happened to it. (`DATA_UPLOAD_MAX_NUMBER_FILES` caps the number of files; a proxy in front should
cap the body size too, e.g. nginx `client_max_body_size`.)
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

FILE_TOO_LARGE = "file_too_large"
REQUEST_TOO_LARGE = "request_too_large"


@dataclass(frozen=True)
class DroppedUpload:
    name: str
    reason: str  # FILE_TOO_LARGE or REQUEST_TOO_LARGE


def dropped_uploads(request: HttpRequest) -> list[DroppedUpload]:
    """Files of this request that the upload limits did not store (read after request.FILES)."""
    request.FILES  # noqa: B018 - parses the body, which fills the list
    return list(getattr(request, "_dropped_uploads", []))


class UploadLimitHandler(FileUploadHandler):
    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.request_too_large = content_length > settings.PHOTOS_MAX_REQUEST_BYTES
        self.request._dropped_uploads = []

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        # Dropping happens here, never in new_file(): Django then closes the partial copy the
        # next handler has begun for this file (in new_file it would close the previous file).
        self.received += len(raw_data)
        if self.request_too_large:
            self._drop(REQUEST_TOO_LARGE)
        if self.received > settings.PHOTOS_MAX_FILE_BYTES:
            self._drop(FILE_TOO_LARGE)
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler stores the file

    def _drop(self, reason: str):
        self.request._dropped_uploads.append(DroppedUpload(name=self.file_name, reason=reason))
        raise SkipFile()
