"""Celery's settings: the CELERY_* Django settings, copied into a plain dict when Celery first reads
them (studio/celery.py).

Celery looks each setting up under several spellings in each of its sources, a few times for every
task it sends. On Django's settings object every spelling that is not there raises and catches an
AttributeError, which made sending a task from a request (a callback, an upload) a tenth of a
millisecond slower; in a dict a miss costs next to nothing.
"""

from django.conf import settings

CELERY = {name: getattr(settings, name) for name in dir(settings) if name.startswith("CELERY_")}
