from django.db import models


class ExportState(models.TextChoices):
    """Where a zip (an avatar's or a team's) is: built by a task, then kept a while."""

    BUILDING = "building", "Preparing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class BaseModel(models.Model):
    """Creation and modification times for every table of the studio."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
