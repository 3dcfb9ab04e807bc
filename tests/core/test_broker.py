"""The embedded filesystem broker: a worker never sees a message before it is whole."""

import contextlib
from queue import Empty

import pytest
from kombu import Connection
from kombu.exceptions import ChannelError

from studio.core import broker


@pytest.fixture
def channel(tmp_path):
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False}
    with Connection("filesystem://", transport="studio.core.broker:Transport", transport_options=options) as conn:
        yield conn.default_channel


def test_a_message_being_written_is_not_taken_by_a_worker(channel, monkeypatch):
    seen_while_writing = []
    real_dumps = broker.dumps

    def dumps(payload):
        with contextlib.suppress(Empty):  # nothing to take yet, as it should be
            seen_while_writing.append(channel._get("celery"))
        return real_dumps(payload)

    monkeypatch.setattr(broker, "dumps", dumps)
    channel._put("celery", {"body": "a task"})

    assert seen_while_writing == []
    assert channel._get("celery") == {"body": "a task"}


def test_a_message_that_cannot_be_written_is_a_channel_error(channel, tmp_path):
    channel.data_folder_out = str(tmp_path / "missing")

    with pytest.raises(ChannelError):
        channel._put("celery", {"body": "a task"})
