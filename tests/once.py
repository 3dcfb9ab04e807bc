"""pytest plugin: work the tests repeat with identical inputs, done once per test process.

Faces. The tests feed the face engine the same pictures again and again: the sample photos of every
draft, the sandbox's renders (painted once per process, see `RenderedOnce`), each scored for
likeness each time a test delivers an avatar. The engine's answer is a function of the pixels
and `max_faces` only, so the first analysis of a picture is kept, keyed by its pixels, and later
ones get it back instead of running dlib again. Every test still goes through the same code with
the same result; only the repeated detection is skipped.

The engine's own tests (tests/faces) always run dlib: `engine_runs_every_time` turns the memo off.

The catalogue files. Hundreds of tests load the real theme catalogue (`catalogue_sync`, as
`manage.py sync_themes` does), and parsing its TOML files is most of that. A file is parsed once
per process while it is unchanged on disk (same path, size and modification time); the entries
are still validated and synced to the database on every call, and a test's own files (malformed
catalogues) are parsed as they are.

Registered in tests/conftest.py (`pytest_plugins`).
"""

import hashlib
import threading

import pytest

from studio import faces
from studio.faces import engine
from studio.themes import catalogue

_analyse = engine.analyse
_kept: dict[tuple, engine.Analysis] = {}
_lock = threading.Lock()
_on = True
LIMIT = 256  # pictures kept; the oldest go first


def analyse(img, *, max_faces: int = 4):
    if not _on:
        return _analyse(img, max_faces=max_faces)
    pixels = (img if img.mode == "RGB" else img.convert("RGB")).tobytes()
    key = (img.mode, img.size, max_faces, hashlib.blake2b(pixels, digest_size=16).digest())
    found = _kept.get(key)
    if found is None:
        found = _analyse(img, max_faces=max_faces)
        with _lock:
            if len(_kept) >= LIMIT:
                del _kept[next(iter(_kept))]
            _kept[key] = found
    return found


_load = catalogue._load
_parsed: dict[tuple, list] = {}


def load(path, table: str) -> list:
    """The catalogue's entries as parsed from the file: read-only, so one copy serves every call."""
    status = path.stat()
    key = (str(path), table, status.st_size, status.st_mtime_ns)
    if key not in _parsed:
        _parsed[key] = _load(path, table)
    return _parsed[key]


@pytest.fixture(autouse=True, scope="session")
def _done_once():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "analyse", analyse)  # faces.score calls it from inside the engine
        patch.setattr(faces, "analyse", analyse)
        patch.setattr(catalogue, "_load", load)
        yield


@pytest.fixture
def engine_runs_every_time():
    global _on
    _on = False
    yield
    _on = True
