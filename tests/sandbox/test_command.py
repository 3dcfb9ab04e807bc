"""`manage.py astria_sandbox`: starts the server with its switches, stops cleanly."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from tests.astria.factories import photo_bytes

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sandbox_process(tmp_path):
    port = _free_port()
    env = {**os.environ, "DEBUG": "1", "VAR_DIR": str(tmp_path), "ASTRIA_SANDBOX_PROMPT_DELAY": "0"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "astria_sandbox",
            "--port",
            str(port),
            "--training-delay",
            "0",
            "--fail-next",
            "1",
            "--fail-status",
            "429",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url, timeout=1)
            break
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"the sandbox did not start: {process.communicate()[0]}")
            time.sleep(0.1)
    yield process, url, tmp_path
    if process.poll() is None:
        process.kill()
        process.wait()


def test_the_command_serves_the_api_with_its_switches_and_state_file(sandbox_process):
    process, url, var_dir = sandbox_process
    headers = {"Authorization": "Bearer sd_command_test"}
    form = {"tune[title]": "cmd", "tune[name]": "man"}
    files = [("tune[images][]", ("a.jpg", photo_bytes(1, size=(64, 64)), "image/jpeg"))]

    refused = requests.post(f"{url}/tunes", headers=headers, data=form, files=files, timeout=5)
    created = requests.post(f"{url}/tunes", headers=headers, data=form, files=files, timeout=5)
    switches = requests.get(f"{url}/_sandbox/faults", timeout=5).json()
    process.send_signal(signal.SIGTERM)
    output = process.communicate(timeout=15)[0]

    assert refused.status_code == 429  # --fail-next 1 --fail-status 429
    assert created.status_code == 201
    assert (switches["training_delay"], switches["prompt_delay"]) == (0, 0)  # flag and environment
    assert process.returncode == 0
    assert f"Astria sandbox on {url} (state: {var_dir / 'sandbox' / 'sandbox.sqlite3'})" in output
    assert (var_dir / "sandbox" / "sandbox.sqlite3").exists()


def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(
            CommandError, match=f"Cannot listen on 127.0.0.1:{port}.*another port with --port"
        ):
            call_command("astria_sandbox", "--port", str(port), "--memory")


def test_the_sandbox_imports_nothing_from_the_studio():
    code = (
        "import json, sys, studio.sandbox.server; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('studio', 'django.db')))))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    modules = json.loads(loaded.stdout)
    # `studio` and `studio.celery` come with the package itself (its __init__); nothing else.
    assert [m for m in modules if not m.startswith("studio.sandbox")] == ["studio", "studio.celery"]
