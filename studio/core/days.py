from datetime import date, datetime, time, timedelta

from django.utils import timezone


def day_range(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants bounding the days start to end inclusive, in the current time zone: filter with
    `field__gte=since, field__lt=until`, which an index on the field serves (`field__date` does not)."""
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )
