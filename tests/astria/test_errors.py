"""How Astria's answers map to our exceptions, and the 504 path that must not duplicate a tune."""

import logging
import socket
import threading

import pytest

from studio.astria.client import AstriaClient, get_client
from studio.astria.errors import (
    AstriaAuthError,
    AstriaError,
    AstriaMaybeCreated,
    AstriaNotFound,
    AstriaRejected,
    AstriaTransient,
)
from tests.astria.conftest import API_KEY
from tests.astria.factories import photo_bytes

PHOTOS = [("a.jpg", photo_bytes(1, size=(96, 96)))]


def _create(client, title="job-504"):
    return client.create_tune(title=title, name="man", images=PHOTOS)


def _create_once(client, title):
    """What a caller does: look the title up before every attempt, retry what is transient."""
    for _ in range(5):
        if (existing := client.find_tune_by_title(title)) is not None:
            return existing
        try:
            return _create(client, title)
        except AstriaTransient:
            continue
    raise AssertionError("gave up")


def test_401_is_an_auth_error_without_the_key_in_the_message(astria_sandbox):
    client = astria_sandbox.client("not_a_valid_key_0123")

    with pytest.raises(AstriaAuthError) as caught:
        client.list_tunes()

    assert caught.value.status == 401
    assert "not_a_valid_key_0123" not in str(caught.value) + caught.value.body


def test_404_is_not_found(astria_sandbox):
    with pytest.raises(AstriaNotFound) as caught:
        get_client().get_tune(12345)
    assert caught.value.status == 404


def test_422_carries_the_error_from_the_body(astria_sandbox):
    client = get_client()
    tune = _create(client)

    with pytest.raises(AstriaRejected) as caught:
        client.create_prompt(tune_id=tune.id, text="sks man", num_images=9)

    assert caught.value.status == 422
    assert "num_images must be between 1 and 8" in str(caught.value)
    assert not isinstance(caught.value, AstriaTransient)


def test_422_falls_back_to_message_then_to_the_raw_body(canned_server):
    client = canned_server.client()

    canned_server.answer(422, '{"message": "Insufficient balance"}')
    with pytest.raises(AstriaRejected, match="Insufficient balance"):
        client.get_tune(1)

    canned_server.answer(422, "Image URLs could not be fetched", content_type="text/plain")
    with pytest.raises(AstriaRejected, match="Image URLs could not be fetched"):
        client.get_tune(1)

    canned_server.answer(422, '{"name": ["can\'t be blank"]}')
    with pytest.raises(AstriaRejected, match=r"can't be blank"):
        client.get_tune(1)

    canned_server.answer(422, "")
    with pytest.raises(AstriaRejected, match="no reason given"):
        client.get_tune(1)


def test_other_4xx_are_rejections_and_403_is_an_auth_error(canned_server):
    canned_server.answer(400, '{"error": "offset too large, use before_id"}')
    with pytest.raises(AstriaRejected, match="use before_id"):
        canned_server.client().list_tunes(offset=400)

    canned_server.answer(403, "error code: 1010", content_type="text/plain")
    with pytest.raises(AstriaAuthError):
        canned_server.client().list_tunes()


def test_a_redirect_is_an_error_not_followed(canned_server):
    canned_server.answer(301, "", Location="https://elsewhere.test/tunes")

    with pytest.raises(AstriaError) as caught:
        canned_server.client().list_tunes()

    assert caught.value.status == 301
    assert len(canned_server.requests) == 1


def test_429_is_transient_with_retry_after_and_creates_nothing(astria_sandbox):
    astria_sandbox.fail_next(1, 429)
    client = get_client()

    with pytest.raises(AstriaTransient) as caught:
        _create(client)

    assert (caught.value.status, caught.value.retry_after) == (429, 1.0)
    assert not isinstance(caught.value, AstriaMaybeCreated)
    assert astria_sandbox.stats()["tunes_created"] == 0
    assert _create(client).title == "job-504"  # the next try goes through


def test_500_on_create_is_transient_and_creates_nothing(astria_sandbox):
    astria_sandbox.fail_next(1, 500)

    with pytest.raises(AstriaTransient) as caught:
        _create(get_client())

    assert caught.value.status == 500
    assert not isinstance(caught.value, AstriaMaybeCreated)
    assert astria_sandbox.stats()["tunes_created"] == 0


def test_5xx_on_reads_are_transient(astria_sandbox):
    client = get_client()
    tune = _create(client)
    for status in (500, 429, 504):
        astria_sandbox.fail_next(1, status, scope="any")
        with pytest.raises(AstriaTransient) as caught:
            client.get_tune(tune.id)
        assert caught.value.status == status
        assert not isinstance(caught.value, AstriaMaybeCreated)


def test_504_on_create_means_maybe_created_and_the_title_finds_it(astria_sandbox):
    astria_sandbox.fail_next(1, 504)
    client = get_client()

    with pytest.raises(AstriaMaybeCreated) as caught:
        _create(client, "job-7f3c")

    assert caught.value.status == 504
    found = client.find_tune_by_title("job-7f3c")
    assert found is not None and found.title == "job-7f3c"


def test_the_504_path_creates_no_duplicate_tune(astria_sandbox):
    astria_sandbox.fail_next(2, 504)
    client = get_client()

    tune = _create_once(client, "job-once")
    again = _create_once(client, "job-once")

    assert tune.id == again.id
    assert astria_sandbox.stats()["tunes_by_title"] == {"job-once": 1}


def test_a_504_on_a_prompt_create_is_maybe_created_too(astria_sandbox):
    client = get_client()
    tune = _create(client)
    astria_sandbox.fail_next(1, 504)

    with pytest.raises(AstriaMaybeCreated):
        client.create_prompt(tune_id=tune.id, text="sks man")

    assert [p.text for p in client.list_prompts(tune.id)] == ["sks man"]


def test_a_read_timeout_is_transient_and_on_a_create_maybe_created(astria_sandbox):
    client = astria_sandbox.client(timeout=(2, 0.2))
    tune = _create(client)
    astria_sandbox.set_faults(latency=0.6)

    with pytest.raises(AstriaTransient) as on_read:
        client.get_tune(tune.id)
    with pytest.raises(AstriaMaybeCreated):
        _create(client, "slow-job")

    assert not isinstance(on_read.value, AstriaMaybeCreated)
    astria_sandbox.set_faults(latency=0)
    assert client.find_tune_by_title("slow-job") is not None


def test_a_connection_error_is_transient():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the socket is closed
    client = AstriaClient(api_url=f"http://127.0.0.1:{port}", api_key="sd_x", timeout=(1, 1))

    with pytest.raises(AstriaTransient, match="Could not connect"):
        client.list_tunes()
    with pytest.raises(AstriaTransient) as on_create:
        _create(client)
    assert not isinstance(on_create.value, AstriaMaybeCreated)  # refused: nothing was sent


def test_a_connection_dropped_after_sending_a_create_is_maybe_created():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def hang_up():
        for _ in range(2):
            conn, _ = listener.accept()
            conn.recv(65536)  # the request arrived...
            conn.close()  # ...and no answer came back

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    client = AstriaClient(
        api_url=f"http://127.0.0.1:{listener.getsockname()[1]}", api_key="sd_x", timeout=(1, 5)
    )

    try:
        with pytest.raises(AstriaMaybeCreated):
            _create(client)
        with pytest.raises(AstriaTransient) as on_read:
            client.get_tune(1)
    finally:
        thread.join(timeout=5)
        listener.close()
    assert not isinstance(on_read.value, AstriaMaybeCreated)


def test_a_body_that_is_not_json_is_transient(canned_server):
    canned_server.answer(200, "<html>maintenance</html>", content_type="text/html")

    with pytest.raises(AstriaTransient, match="not JSON"):
        canned_server.client().get_tune(1)


def test_no_key_or_callback_token_reaches_logs_or_errors(
    astria_sandbox, callback_receiver, canned_server, caplog
):
    caplog.set_level(logging.DEBUG)
    token = "tok_9QmZr7uXc2LbVd4w"
    query_secret = "qs_Ap3Kd8Lm1Zx0"
    client = get_client()
    callback = f"{callback_receiver.url}/callbacks/{token}?secret={query_secret}"

    tune = client.create_tune(title="log-job", name="man", images=PHOTOS, callback=callback)
    prompt = client.create_prompt(tune_id=tune.id, text="sks man", num_images=1, callback=callback)
    callback_receiver.wait_for(2)
    done = client.get_prompt(tune.id, prompt.id)
    logging.getLogger("studio.test").info("tune %r prompt %r", tune, done)
    errors = []
    astria_sandbox.fail_next(1, 500)
    with pytest.raises(AstriaTransient) as caught:
        client.create_tune(title="log-job-2", name="man", images=PHOTOS, callback=callback)
    errors.append(caught.value)
    canned_server.answer(422, f'{{"error": "callback {callback} rejected for Bearer {API_KEY}"}}')
    with pytest.raises(AstriaRejected) as caught:
        canned_server.client().create_tune(title="x", name="man", images=PHOTOS, callback=callback)
    errors.append(caught.value)

    exposed = caplog.text + repr(tune) + repr(done) + str(tune) + "".join(str(e) + e.body for e in errors)
    for secret in (token, query_secret, astria_sandbox.api_key, API_KEY):
        assert secret not in exposed
    assert f"callback to {callback_receiver.url}: 204" in caplog.text  # the sandbox names only the host
    assert "astria POST /tunes -> 201" in caplog.text
