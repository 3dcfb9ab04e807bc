"""The admin's history of deleted objects keeps who did what and when, but not their names."""

from collections.abc import Iterable

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models


def admin_log_anonymise(*, model: type[models.Model], object_ids: Iterable, text: str) -> int:
    """Replace the name the admin's history shows for these objects with `text`."""
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
    return (
        LogEntry.objects.filter(content_type=content_type, object_id__in=[str(pk) for pk in object_ids])
        .exclude(object_repr=text)
        .update(object_repr=text)
    )
