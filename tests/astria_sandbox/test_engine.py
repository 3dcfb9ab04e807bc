"""The sandbox's clock, switches and callbacks: what happens over time, and the faults it injects."""

from datetime import datetime, timedelta

import pytest

from astria_sandbox.engine import Sandbox
from tests.astria_sandbox.api import Api, fetch_until


def test_prompts_wait_for_the_tune_then_finish_and_call_back_once_each(
    api, astria_sandbox, callback_receiver
):
    astria_sandbox.set_delays(training=3600)
    tune = api.tune(callback=f"{callback_receiver.url}/callbacks/tune-token")
    prompts = [
        api.prompt(tune["id"], text, num_images=n, callback=f"{callback_receiver.url}/callbacks/p{n}")
        for n, text in ((2, "sks woman, noir"), (3, "sks woman, vintage"))
    ]
    astria_sandbox.advance()
    assert api("GET", f"/tunes/{tune['id']}/prompts/{prompts[0]['id']}").json()["started_training_at"] is None
    assert callback_receiver.received == []

    astria_sandbox.train_now(tune["id"])
    received = callback_receiver.wait_for(3)
    for _ in range(3):
        astria_sandbox.advance()

    assert len(callback_receiver.received) == 3  # one each, never again
    by_path = {c.path: c for c in received}
    tune_cb = by_path["/callbacks/tune-token"]
    assert tune_cb.content_type == "application/json"
    assert list(tune_cb.body) == ["tune"] and tune_cb.body["tune"]["id"] == tune["id"]
    assert tune_cb.body["tune"]["trained_at"] is not None
    for n, prompt in zip((2, 3), prompts, strict=True):
        body = by_path[f"/callbacks/p{n}"].body
        assert list(body) == ["prompt"] and body["prompt"]["id"] == prompt["id"]
        assert len(body["prompt"]["images"]) == n and body["prompt"]["trained_at"] is not None
        assert body["prompt"]["started_training_at"] >= tune_cb.body["tune"]["trained_at"]
    # The sandbox counts a callback once the receiver has answered, a moment after it arrived.
    astria_sandbox.wait_for(lambda: astria_sandbox.stats()["callbacks"]["sent"] == 3)
    assert astria_sandbox.stats()["callbacks"] == {"sent": 3, "failed": 0, "dropped": 0}


def test_callbacks_arrive_with_nobody_polling(api, callback_receiver):
    api.tune("quiet", callback=f"{callback_receiver.url}/callbacks/t")

    (callback,) = callback_receiver.wait_for(1)

    assert callback.body["tune"]["title"] == "quiet"


def test_a_failed_callback_is_not_retried(api, astria_sandbox, callback_receiver):
    callback_receiver.status = 500
    api.tune(callback=f"{callback_receiver.url}/callbacks/t")
    callback_receiver.wait_for(1)
    astria_sandbox.wait_for(lambda: astria_sandbox.stats()["callbacks"]["failed"] == 1)

    for _ in range(3):
        astria_sandbox.advance()

    assert len(callback_receiver.received) == 1
    assert [(c["outcome"], c["status"]) for c in astria_sandbox.callbacks()] == [("failed", 500)]


def test_dropped_callbacks_never_leave_but_the_work_finishes(api, astria_sandbox, callback_receiver):
    astria_sandbox.drop_callbacks()
    tune = api.tune(callback=f"{callback_receiver.url}/callbacks/t")

    trained = fetch_until(
        astria_sandbox, lambda: api("GET", f"/tunes/{tune['id']}").json(), lambda t: t["trained_at"]
    )
    astria_sandbox.wait_for(lambda: astria_sandbox.stats()["callbacks"]["dropped"] == 1)

    assert trained["trained_at"] is not None
    assert callback_receiver.received == []


def test_state_moves_on_reads_even_without_the_clock():
    with Sandbox(port=0, tick=3600, training_delay=0, prompt_delay=0) as sandbox:
        api = Api(sandbox.url)
        tune = api.tune()
        prompt = api.prompt(tune["id"], num_images=1)

        fetched = api("GET", f"/tunes/{tune['id']}/prompts/{prompt['id']}").json()

    assert len(fetched["images"]) == 1


@pytest.mark.parametrize("status", [500, 429])
def test_failing_creates_create_nothing(api, astria_sandbox, status):
    astria_sandbox.fail_next(1, status)

    response = api.create_tune("failing")

    assert response.status_code == status
    assert astria_sandbox.stats()["tunes_created"] == 0
    assert api.create_tune("failing").status_code == 201


def test_a_504_still_creates_the_tune(api, astria_sandbox):
    astria_sandbox.fail_next(1, 504)

    response = api.create_tune("slow")

    assert response.status_code == 504 and "Gateway Time-out" in response.text
    assert [t["title"] for t in api("GET", "/tunes").json()] == ["slow"]
    assert astria_sandbox.stats()["tunes_by_title"] == {"slow": 1}


def test_injected_prompt_failures_end_with_user_error(api, astria_sandbox, callback_receiver):
    tune = api.tune()
    astria_sandbox.set_faults(fail_prompts_next=1)
    failing = api.prompt(tune["id"], callback=f"{callback_receiver.url}/callbacks/p")
    fine = api.prompt(tune["id"], num_images=1)

    (callback,) = callback_receiver.wait_for(1)
    failed = api("GET", f"/prompts/{failing['id']}").json()
    done = fetch_until(astria_sandbox, lambda: api("GET", f"/prompts/{fine['id']}").json(), lambda p: p["images"])

    assert failed["user_error"] and failed["images"] == [] and failed["trained_at"] is None
    assert callback.body["prompt"]["user_error"] == failed["user_error"]
    assert done["user_error"] is None


def test_idempotent_titles_return_the_existing_tune(api, astria_sandbox):
    astria_sandbox.set_faults(idempotent_titles=True)

    first, second = api.tune("same"), api.tune("same")

    assert first["id"] == second["id"]
    assert astria_sandbox.stats()["tunes_created"] == 1


def test_training_takes_the_configured_delay(api, astria_sandbox):
    astria_sandbox.set_delays(training=3600)

    tune = api.tune()
    astria_sandbox.advance()  # the clock has run since the tune was made
    fetched = api("GET", f"/tunes/{tune['id']}").json()

    assert fetched["trained_at"] is None
    eta = datetime.fromisoformat(fetched["eta"]) - datetime.fromisoformat(fetched["created_at"])
    assert eta == timedelta(hours=1)


@pytest.mark.django_db(transaction=True)
def test_callbacks_reach_a_django_live_server(api, astria_sandbox, live_server):
    api.tune(callback=f"{live_server.url}/healthz?token=abc")

    astria_sandbox.wait_for(lambda: astria_sandbox.callbacks())

    # The POST reached Django (no connection error, no 400 for the host name); there is no webhook
    # view at /healthz, so the CSRF middleware refused it. Webhook views are csrf_exempt.
    outcomes = [(c["outcome"], c["status"], c["error"]) for c in astria_sandbox.callbacks()]
    assert outcomes == [("failed", 403, None)]
