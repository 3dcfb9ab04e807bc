"""Starting the sandbox: `python -m astria_sandbox` and `manage.py astria_sandbox` (DEBUG on)."""

import ast
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

from astria_sandbox import cli
from astria_sandbox.management.commands.astria_sandbox import Command
from tests.astria.factories import photo_bytes
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINTS = {
    "python -m astria_sandbox": ["-m", "astria_sandbox"],
    "manage.py astria_sandbox": ["manage.py", "astria_sandbox"],
}


@pytest.fixture(params=ENTRY_POINTS)
def sandbox_process(request, tmp_path):
    port = free_port()
    env = {**os.environ, "DEBUG": "1", "VAR_DIR": str(tmp_path), "ASTRIA_SANDBOX_PROMPT_DELAY": "0"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    flags = ["--port", str(port), "--training-delay", "0", "--fail-next", "1", "--fail-status", "429"]
    process = subprocess.Popen(
        [sys.executable, *ENTRY_POINTS[request.param], *flags],
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


def test_each_entry_point_serves_the_api_with_its_switches_and_state_file(sandbox_process):
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


def test_a_port_in_use_is_a_clear_error(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SystemExit) as exited:
            cli.main(["--port", str(port), "--memory"])
        with pytest.raises(CommandError, match=f"Cannot listen on 127.0.0.1:{port}.*another port with --port"):
            call_command(Command(), "--port", str(port), "--memory")

    assert exited.value.code == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_the_help_names_every_flag_with_its_variable(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    standalone = capsys.readouterr().out
    command = Command().create_parser("manage.py", "astria_sandbox").format_help()

    for text in (standalone, command):
        for flag in ("--port", "--state", "--memory", "--training-delay", "--fail-status", "--latency",
                     "--likeness-fault", "--likeness-fault-share", "--likeness-fault-match"):
            assert flag in text
        assert "ASTRIA_SANDBOX_TRAINING_DELAY" in text


def test_the_sandbox_imports_nothing_from_the_studio():
    code = (
        "import json, sys, astria_sandbox.cli; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('studio', 'tools', 'django.db')))))"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}

    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )

    assert json.loads(loaded.stdout) == []


def test_the_studio_never_imports_the_sandbox_or_the_tools():
    offenders = []
    for package in ("studio", "accounts"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(name.split(".")[0] in ("astria_sandbox", "tools") for name in names):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")

    assert offenders == []
