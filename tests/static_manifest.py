"""pytest plugin: static files served as in production, through a manifest of hashed names."""

import json

import pytest
from django.contrib.staticfiles.finders import get_finders


@pytest.fixture
def manifest_static(settings, tmp_path):
    """ManifestStaticFilesStorage with a manifest of every static file the finders know, as
    `collectstatic` writes it: a name missing from it raises ValueError, as in production."""
    paths = {}
    for finder in get_finders():
        for path, _storage in finder.list([]):
            stem, dot, extension = path.rpartition(".")
            paths[path] = f"{stem}.0123456789ab{dot}{extension}" if dot else path
    root = tmp_path / "staticfiles"
    root.mkdir()
    (root / "staticfiles.json").write_text(json.dumps({"paths": paths, "version": "1.1", "hash": "0"}))
    settings.STATIC_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    return paths
