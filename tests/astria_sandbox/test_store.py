"""The sandbox's state file."""

import sqlite3

from astria_sandbox.engine import Sandbox
from astria_sandbox.schema import SCHEMA
from tests.astria_sandbox.api import Api


def test_state_survives_a_restart_with_a_state_file(tmp_path):
    state = tmp_path / "sandbox.sqlite3"
    with Sandbox(port=0, state_path=state, training_delay=0) as sandbox:
        first = Api(sandbox.url).tune("kept")

    with Sandbox(port=0, state_path=state, training_delay=0) as sandbox:
        api = Api(sandbox.url)
        kept = api("GET", f"/tunes/{first['id']}").json()
        second = api.tune("new")

    assert kept["title"] == "kept" and kept["trained_at"] is not None
    assert second["id"] > first["id"]


def test_a_state_file_from_before_the_likeness_fault_gets_its_column(tmp_path):
    state = tmp_path / "sandbox.sqlite3"
    with sqlite3.connect(state) as db:
        db.executescript(SCHEMA.replace(", likeness_fault TEXT", ""))

    with Sandbox(port=0, state_path=state, training_delay=0) as sandbox:
        api = Api(sandbox.url)
        prompt = api.prompt(api.tune("old file")["id"])

    assert prompt["id"] and "likeness_fault" in SCHEMA
