"""studio/settings.py: importing it writes nothing, and production installs no development tool."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
READ = "import json, studio.settings as s; print(json.dumps({'apps': s.INSTALLED_APPS, 'key': s.SECRET_KEY}))"


def run(args: list[str], var_dir: Path, **env: str) -> subprocess.CompletedProcess:
    """A fresh process on the embedded defaults (SQLite and the filesystem broker under var_dir)."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG", "DATABASE_URL", "REDIS_URL")
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        # Empty values rather than none, so that a developer's .env cannot fill them in.
        env=clean | {"VAR_DIR": str(var_dir), "SECRET_KEY": "", "REDIS_URL": ""} | env,
        capture_output=True,
        text=True,
        check=True,
    )


def read_settings(var_dir: Path, **env: str) -> dict:
    return json.loads(run(["-c", READ], var_dir, **env).stdout)


def test_importing_the_settings_writes_nothing(tmp_path):
    var_dir = tmp_path / "var"

    read_settings(var_dir, DEBUG="1")

    assert not var_dir.exists()


def test_starting_the_studio_makes_the_local_folders_it_needs(tmp_path):
    var_dir = tmp_path / "var"

    run(["manage.py", "check"], var_dir, DEBUG="1")

    for folder in ("broker/queue", "broker/processed", "broker/control", "staticfiles"):
        assert (var_dir / folder).is_dir(), folder
    assert not (var_dir / "secret_key").exists()  # `make run` writes it


def test_with_debug_every_process_reads_the_key_make_run_wrote(tmp_path):
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    (var_dir / "secret_key").write_text("a-key-written-once-by-make-run\n")

    web, worker = read_settings(var_dir, DEBUG="1"), read_settings(var_dir, DEBUG="1")

    assert web["key"] == worker["key"] == "a-key-written-once-by-make-run"


def test_only_development_installs_the_sandbox_and_the_cover_painter(tmp_path):
    production = read_settings(tmp_path, DEBUG="0", SECRET_KEY="production-secret-key-" + "x" * 40)
    development = read_settings(tmp_path, DEBUG="1")

    assert not {"astria_sandbox", "tools.covers"} & set(production["apps"])
    assert {"astria_sandbox", "tools.covers"} <= set(development["apps"])
