"""`manage.py astria_check`: plain words on the setup, non-zero exit on problems."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from studio.astria.checks import _local_reason
from tests.helpers import free_port


def _run() -> tuple[str, CommandError | None]:
    out = StringIO()
    try:
        call_command("astria_check", stdout=out, no_color=True)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


@pytest.mark.django_db(transaction=True)
def test_sandbox_with_the_studio_running_locally_is_all_set(astria_sandbox, settings, live_server):
    settings.PUBLIC_URL = live_server.url

    output, error = _run()

    assert error is None
    assert f"Astria: the local sandbox at {astria_sandbox.url} (ASTRIA_API_KEY is not set)." in output
    assert "ok       The sandbox answers and accepts the studio's key" in output
    assert "Branch 'fast'" in output and f"token '{settings.ASTRIA_TOKEN}'" in output
    assert f"can call back {live_server.url} ({live_server.url}/healthz answered 200)" in output
    assert "the real Astria could never call it back" in output
    assert "All set, with 1 warning." in output


def test_sandbox_with_nothing_at_public_url_warns_that_the_reconciler_will_poll(astria_sandbox, settings):
    settings.PUBLIC_URL = f"http://127.0.0.1:{free_port()}"

    output, error = _run()

    assert error is None
    assert "callbacks cannot reach the studio right now; the reconciler will poll Astria" in output
    assert "All set, with 2 warnings." in output


def test_a_sandbox_that_is_not_running_is_a_problem(settings):
    settings.ASTRIA_USES_SANDBOX = True
    settings.ASTRIA_API_URL = f"http://127.0.0.1:{free_port()}"

    output, error = _run()

    assert error is not None and "1 problem found" in str(error)
    assert "problem  The sandbox does not answer" in output
    assert "python -m astria_sandbox" in output


def test_real_astria_with_a_local_http_public_url_fails(astria_sandbox, settings, canned_server):
    settings.ASTRIA_USES_SANDBOX = False
    settings.ASTRIA_API_KEY = "sd_real_looking_key"  # the sandbox accepts any sd_ key
    settings.PUBLIC_URL = canned_server.url

    output, error = _run()

    assert f"Astria: the real Astria at {astria_sandbox.url} (ASTRIA_API_KEY is set)." in output
    assert "ok       The key works" in output
    assert "is not https" in output
    assert "is not reachable from the internet: 127.0.0.1 is a loopback or private address" in output
    assert error is not None and "2 problems found" in str(error)
    assert "sd_real_looking_key" not in output


def test_a_refused_key_is_a_problem(astria_sandbox, settings):
    settings.ASTRIA_USES_SANDBOX = False
    settings.ASTRIA_API_KEY = "wrong-key"

    output, error = _run()

    assert "problem  Astria refused ASTRIA_API_KEY (401)" in output
    assert error is not None
    assert "wrong-key" not in output


def test_a_redirecting_public_url_is_reported(astria_sandbox, settings, canned_server):
    settings.ASTRIA_USES_SANDBOX = False
    settings.ASTRIA_API_KEY = "sd_key"
    settings.PUBLIC_URL = canned_server.url
    canned_server.answer(301, "", Location="https://studio.example.com/healthz")

    output, error = _run()

    assert "redirects (301 to https://studio.example.com/healthz)" in output
    assert error is not None


def test_an_unknown_branch_and_a_missing_base_tune_are_problems(astria_sandbox, settings):
    settings.ASTRIA_BRANCH = "sd99"
    output, error = _run()
    assert "ASTRIA_BRANCH 'sd99' is not one of" in output and error is not None

    settings.ASTRIA_BRANCH = "sdxl1"
    settings.ASTRIA_BASE_TUNE_ID = 42
    output, error = _run()
    assert "Base tune 42 (ASTRIA_BASE_TUNE_ID) does not exist for this key." in output and error is not None


def test_the_lora_branch_is_explained_and_its_base_tune_looked_up(astria_sandbox, settings):
    settings.ASTRIA_BRANCH = "flux1"
    settings.ASTRIA_BASE_TUNE_ID = settings.ASTRIA_BASE_TUNE_IDS["flux1"]
    settings.ASTRIA_TOKEN = "ohwx"

    output, _ = _run()

    assert "prompts run on the base tune with <lora:TUNE_ID:1>" in output
    assert "Base tune 1504944 (Flux1.dev, branch flux1) is available." in output


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("localhost", True),
        ("studio.local", True),
        ("web", True),
        ("127.0.0.1", True),
        ("10.1.2.3", True),
        ("192.168.0.10", True),
        ("::1", True),
        ("8.8.8.8", False),
        ("2001:4860:4860::8888", False),
    ],
)
def test_local_addresses_are_recognised(host, local):
    assert (_local_reason(host) is not None) == local


def test_the_edit_models_tune_is_looked_up_and_a_missing_one_is_a_problem(astria_sandbox, settings):
    output, _ = _run()
    assert f"ok       Edit tune {settings.ASTRIA_EDIT_TUNE_ID} (" in output and ") is available." in output

    settings.ASTRIA_EDIT_TUNE_ID = 999_999_999
    output, error = _run()
    assert "problem  Edit tune 999999999 (ASTRIA_EDIT_TUNE_ID) does not exist for this key." in output
    assert "ASTRIA_EDIT_TUNE_ID=0 switches them off" in output
    assert error is not None

    settings.ASTRIA_EDIT_TUNE_ID = 0
    output, _ = _run()
    assert "Touch-ups are switched off (ASTRIA_EDIT_TUNE_ID=0)." in output
