"""Static files named by data (theme covers) rather than by templates, checked before use.

A template's `{% static %}` of a name the manifest does not know raises ValueError in production
(ManifestStaticFilesStorage), which takes the whole page down; a name that comes from the
database must be checked when staff enter it and again when it is drawn.
"""

import logging

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage

logger = logging.getLogger(__name__)


def static_file_exists(path: str) -> bool:
    """Whether `{% static path %}` will find the file: in the manifest where names are hashed
    (production), otherwise among the collected files or where the finders look (development)."""
    if not path:
        return False
    if isinstance(staticfiles_storage, ManifestFilesMixin):
        try:
            staticfiles_storage.stored_name(path)
        except ValueError:
            return False
        return True
    return staticfiles_storage.exists(path) or finders.find(path) is not None


def static_url_or(path: str, *, default: str) -> str:
    """The URL of the static file `path`, or of `default` when there is no such file."""
    if not static_file_exists(path):
        logger.warning("static file %r does not exist; showing %r instead", path, default)
        path = default
    return staticfiles_storage.url(path)
