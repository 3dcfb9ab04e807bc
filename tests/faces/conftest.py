import pytest


@pytest.fixture(autouse=True)
def _the_engine_itself(engine_runs_every_time):
    """The engine's tests run dlib on every picture, never a remembered answer (tests/once.py)."""
