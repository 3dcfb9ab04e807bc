"""The web, worker and beat processes as the Procfile starts them: where gunicorn listens, whose
forwarded headers it believes, and files that only their owner can read."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from celery import signals
from gunicorn.app.base import Application
from gunicorn.config import Config

import studio.celery  # noqa: F401  (connects the worker and beat signals)

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("BEHIND_PROXY", "BIND", "PORT", "TRUSTED_PROXIES", "FORWARDED_ALLOW_IPS")


class _GunicornConf(Application):
    """gunicorn.conf.py read by gunicorn's own loader, without a command line."""

    def load_config(self) -> None:
        self.cfg = Config()
        self.load_config_from_module_name_or_filename(str(ROOT / "gunicorn.conf.py"))

    def load(self):
        raise NotImplementedError("configuration only")


def gunicorn_config(monkeypatch, **variables: str) -> Config:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    before = set(os.environ)
    try:
        return _GunicornConf().cfg
    finally:
        for name in set(os.environ) - before:  # whatever a local .env file added
            monkeypatch.delenv(name)


def test_gunicorn_alone_listens_everywhere_and_behind_a_proxy_only_on_loopback(monkeypatch):
    assert gunicorn_config(monkeypatch, PORT="9000").bind == ["0.0.0.0:9000"]
    assert gunicorn_config(monkeypatch, PORT="9000", BEHIND_PROXY="1").bind == ["127.0.0.1:9000"]
    assert gunicorn_config(monkeypatch, BEHIND_PROXY="1", BIND="10.0.0.5:8000").bind == ["10.0.0.5:8000"]


def test_gunicorn_believes_forwarded_headers_from_the_studios_trusted_proxies(monkeypatch):
    assert gunicorn_config(monkeypatch).forwarded_allow_ips == ["127.0.0.1", "::1"]
    assert gunicorn_config(monkeypatch, TRUSTED_PROXIES="10.0.0.0/8").forwarded_allow_ips == ["10.0.0.0/8"]
    assert gunicorn_config(
        monkeypatch, TRUSTED_PROXIES="10.0.0.0/8", FORWARDED_ALLOW_IPS="10.1.0.1"
    ).forwarded_allow_ips == ["10.1.0.1"]


def test_gunicorn_opens_no_control_socket(monkeypatch):
    assert gunicorn_config(monkeypatch).control_socket_disable


@pytest.mark.parametrize("process", ["web", "worker", "beat"])
def test_files_the_processes_create_are_readable_by_their_owner_only(monkeypatch, tmp_path, process):
    start = {
        "web": lambda: gunicorn_config(monkeypatch).on_starting(None),
        "worker": lambda: signals.celeryd_init.send(sender="worker@test"),
        "beat": lambda: signals.beat_init.send(sender=None),
    }[process]
    original = os.umask(0o022)
    try:
        start()
        (tmp_path / "result.jpg").write_bytes(b"private")
        (tmp_path / "exports").mkdir()
    finally:
        os.umask(original)

    assert stat.S_IMODE((tmp_path / "result.jpg").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "exports").stat().st_mode) == 0o700


def test_the_release_step_creates_the_sqlite_database_readable_by_its_owner_only(tmp_path):
    release = next(
        line.split(":", 1)[1].strip() for line in (ROOT / "Procfile").read_text().splitlines()
        if line.startswith("release:")
    )
    environment = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    } | {"DEBUG": "1", "VAR_DIR": str(tmp_path), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}

    subprocess.run(["sh", "-c", f"umask 022; {release}"], cwd=ROOT, env=environment, check=True, capture_output=True)

    assert stat.S_IMODE((tmp_path / "studio.sqlite3").stat().st_mode) == 0o600
