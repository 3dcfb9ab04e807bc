"""Private media: the one place that turns a stored file into a response, and the zips (an
avatar's, a team's: built, reused and expired alike) and deletions of many stored files at once.

Views check who may see a file (through a scoped selector) and then call `private_file_response`.
With local storage the file is streamed by Django; with a storage that signs URLs (django-storages
S3 with `querystring_auth`), the response is a redirect to a short-lived signed URL. Either way the
content type is ours, never the client's or a sniffer's guess, and no shared cache keeps a copy.
"""

import tempfile
import zipfile
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.http import content_disposition_header

from studio.core.models import ExportState

# How long a viewer's browser may keep a thumbnail it was shown; full-size images, photos and zips
# are never stored (no-store), so a deleted image does not live on in a browser's cache. The
# privacy page states both.
THUMBNAIL_MAX_AGE = 300

# Even if a browser were persuaded to render the bytes as a document, nothing in it could run.
MEDIA_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


def private_file_response(
    name: str,
    *,
    content_type: str,
    storage: Storage | None = None,
    download_name: str | None = None,
    max_age: int = 0,
) -> HttpResponse:
    """A response for the stored file `name`, for a viewer the caller has already authorised.

    `download_name` makes it an attachment ("Save as...") with that file name. `max_age` is how
    long the viewer's own browser may keep it (shared caches never may); 0, the default, keeps it
    nowhere.
    """
    storage = storage or default_storage
    if signs_urls(storage):
        url = signed_url(
            name, content_type=content_type, storage=storage, download_name=download_name, max_age=max_age
        )
        response = HttpResponseRedirect(url)
        # The redirect must not outlive the signature.
        response["Cache-Control"] = "private, no-store"
    else:
        response = FileResponse(
            storage.open(name, "rb"),
            content_type=content_type,
            as_attachment=download_name is not None,
            filename=download_name or "",
        )
        response["Cache-Control"] = cache_control(max_age)
        response["Content-Security-Policy"] = MEDIA_CSP
    response["X-Content-Type-Options"] = "nosniff"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


def signs_urls(storage: Storage) -> bool:
    """Whether the storage hands out signed, expiring URLs (django-storages' querystring auth).

    A storage with plain public URLs does not count: private files are never given those.
    """
    return bool(getattr(storage, "querystring_auth", False))


def cache_control(max_age: int) -> str:
    return f"private, max-age={max_age}" if max_age > 0 else "private, no-store"


def signed_url(
    name: str, *, content_type: str, storage: Storage, download_name: str | None = None, max_age: int = 0
) -> str:
    """A short-lived URL for `name` (the storage's own expiry, `querystring_expire`) whose
    response carries our content type, disposition and cache policy (never longer than the URL)."""
    seconds = getattr(storage, "querystring_expire", 300)
    parameters = {
        "ResponseContentType": content_type,
        "ResponseContentDisposition": content_disposition_header(
            as_attachment=download_name is not None, filename=download_name or ""
        ) or "inline",
        "ResponseCacheControl": cache_control(min(max_age, seconds)),
    }
    return storage.url(name, parameters=parameters)


# A zip is reused while it has this long left to live, so its link still works when the user clicks.
ZIP_REUSE_WHILE_LEFT = timedelta(hours=1)
# A build still running after this long died with its worker (the build tasks' time limit is 300 s).
ZIP_BUILD_AT_MOST = timedelta(minutes=5)


def zip_lifetime() -> timedelta:
    return timedelta(hours=settings.EXPORT_KEEP_HOURS)


def zip_to_reuse(same: QuerySet):
    """The newest of these zips (of the same images) worth handing out again: ready with time
    left to download it, or still being built; None when there is none."""
    now = timezone.now()
    return (
        same.filter(state=ExportState.READY, created_at__gt=now - zip_lifetime() + ZIP_REUSE_WHILE_LEFT)
        | same.filter(state=ExportState.BUILDING, created_at__gt=now - ZIP_BUILD_AT_MOST)
    ).order_by("-created_at").first()


def zips_purge_expired(zips: QuerySet) -> int:
    """Zips are copies, rebuilt on request: each is kept EXPORT_KEEP_HOURS, then deleted with its file."""
    return delete_with_files(zips.filter(created_at__lt=timezone.now() - zip_lifetime()))


def delete_with_files(rows: QuerySet) -> int:
    """Delete the rows, then the stored files their `file` field names; returns how many rows went."""
    names = [name for name in rows.values_list("file", flat=True) if name]
    count = rows.count()
    rows.delete()
    for name in names:
        default_storage.delete(name)
    return count


def zip_store(name: str, files: Iterable[tuple[str, File]], *, texts: dict[str, str] | None = None) -> tuple[str, int]:
    """Write a zip of the stored files (each under its name in the zip; JPEGs, so stored, not
    deflated) and of `texts` (deflated) to private storage as `name`. Returns the name it was
    stored under and its size in bytes."""
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
            for member, stored in files:
                with stored.open("rb") as handle:
                    archive.writestr(member, handle.read())
            for member, text in (texts or {}).items():
                archive.writestr(member, text, compress_type=zipfile.ZIP_DEFLATED)
        size = spool.tell()
        spool.seek(0)
        return default_storage.save(name, File(spool)), size
