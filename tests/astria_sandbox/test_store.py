"""The sandbox's state file."""

from astria_sandbox.engine import Sandbox
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
