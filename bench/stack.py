"""The studio run for real, for the benchmarks and the chaos drills.

A `Stack` owns a scratch folder (media, logs, static files), a database of its own (a fresh
PostgreSQL database next to the one DATABASE_URL names, or an SQLite file when it is unset), and
the processes it starts: the Astria sandbox, gunicorn with the studio's gunicorn.conf.py, Celery
workers (prefork) and beat, and for the chaos drills a private redis-server. Each process runs in
a session of its own, so it can be stopped or killed with its children, and its CPU time read.
Everything is removed on `close()`, even after a failure.

    with Stack("bench") as stack:
        stack.setup_django()            # this process now talks to the stack's database
        stack.start_sandbox(training_delay=0, prompt_delay=0)
        stack.start_web()
        stack.start_worker()
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def port_range() -> range:
    """Ports the stack may listen on: BENCH_PORTS ("18700-18799" unless set)."""
    low, high = os.environ.get("BENCH_PORTS", "18700-18799").split("-")
    return range(int(low), int(high) + 1)


_taken: set[int] = set()


def free_port() -> int:
    for port in port_range():
        if port in _taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise RuntimeError(f"no free port in {os.environ.get('BENCH_PORTS', '18700-18799')}")


def wait_until(condition: Callable[[], object], *, timeout: float, interval: float = 0.1, what: str = "") -> object:
    """Poll condition() until it returns something truthy, and return that; TimeoutError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = condition()
        except Exception:  # a server still starting, a connection refused
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what or condition.__name__}")
        time.sleep(interval)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path
    log_from: int = 0  # where this run's output starts: a restarted process appends to its log

    def output(self) -> str:
        """What this run of the process has written to its log so far."""
        with self.log.open("rb") as handle:
            handle.seek(self.log_from)
            return handle.read().decode(errors="replace")

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def group_pids(self) -> list[int]:
        """Every live process of this process's session (a worker and its pool children)."""
        pids = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[3]) == self.pid:  # the process group
                    pids.append(int(entry.name))
        return pids

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the live processes of the group."""
        return sum(self.cpu_by_pid().values())

    def cpu_by_pid(self) -> dict[int, float]:
        """CPU time (user + system) used so far by each live process of the group."""
        times = {}
        for pid in self.group_pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            times[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
        return times

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL the process and its children, as a crash or the OOM killer would."""
        self.signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 15) -> None:
        if self.alive():
            self.signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=timeout)
        self.signal(signal.SIGKILL)  # whatever is left of the group
        self.popen.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Database:
    """A database for one run: DATABASE_URL's server with a database of its own, or SQLite."""

    def __init__(self, label: str, folder: Path) -> None:
        self.server_url = os.environ.get("DATABASE_URL", "")
        if self.server_url:
            parts = urlsplit(self.server_url)
            self.name = f"{parts.path.lstrip('/') or 'studio'}_{label}"
            self.url = urlunsplit((parts.scheme, parts.netloc, "/" + self.name, parts.query, ""))
            self.vendor = "PostgreSQL"
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self._execute(f'CREATE DATABASE "{self.name}"')
        else:
            self.name = str(folder / "studio.sqlite3")
            self.url = f"sqlite:///{self.name}"
            self.vendor = "SQLite"

    @property
    def description(self) -> str:
        return f"{self.vendor} ({self.name})"

    def _execute(self, sql: str) -> None:
        import psycopg

        parts = urlsplit(self.server_url)
        admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql)

    def drop(self) -> None:
        if self.vendor == "PostgreSQL":
            self._execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


class Stack:
    def __init__(self, label: str, *, redis_url: str | None = None, env: dict[str, str] | None = None) -> None:
        self.label = label
        self.folder = Path(tempfile.mkdtemp(prefix=f"studio-{label}-"))
        (self.folder / "logs").mkdir()
        self.processes: dict[str, Process] = {}
        try:
            self.database = Database(label, self.folder)
        except BaseException:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self.web_port, self.sandbox_port = free_port(), free_port()
        self.redis_url = redis_url if redis_url is not None else os.environ.get("REDIS_URL", "")
        self.queue = f"studio-{label}-{os.getpid()}"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("ASTRIA_", "DJANGO_", "RECONCILE_", "CELERY_", "ALLOW_"))
            and key not in ("REDIS_URL", "DATABASE_URL", "PUBLIC_URL", "VAR_DIR", "MEDIA_ROOT", "DEBUG", "BIND")
        } | {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PUBLIC_URL": self.web_url,
            "VAR_DIR": str(self.folder / "var"),
            "DATABASE_URL": self.database.url,
            "ASTRIA_SANDBOX_PORT": str(self.sandbox_port),
            "BENCH_QUEUE": self.queue,
            "LOG_FORMAT": "plain",
            # Production settings (DEBUG off) on the development stand-ins, named as production requires.
            "ALLOW_ASTRIA_SANDBOX": "1",
            "EMAIL_URL": "consolemail://",
            "ALLOW_CONSOLE_EMAIL": "1",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
        } | (env or {})
        if self.redis_url:
            self.env["REDIS_URL"] = self.redis_url

    # --- lifetime ----------------------------------------------------------------------------------
    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop every process, drop the database and remove the folder; each step runs even when
        an earlier one failed, and the first failure is raised at the end."""
        with contextlib.ExitStack() as cleanup:
            if os.environ.get("BENCH_KEEP"):
                print(f"  kept {self.folder} (BENCH_KEEP is set)", file=sys.stderr)
            else:
                cleanup.callback(shutil.rmtree, self.folder, ignore_errors=True)
            cleanup.callback(self.database.drop)
            cleanup.callback(self._purge_queues)
            if "django" in sys.modules and self.env.get("DATABASE_URL") == os.environ.get("DATABASE_URL"):
                from django.db import connections

                cleanup.callback(connections.close_all)
            for process in self.processes.values():  # callbacks run last in, first out: newest first
                cleanup.callback(process.stop, timeout=10)

    def _purge_queues(self) -> None:
        if not self.redis_url or "redis" in self.processes:
            return  # the filesystem broker's queues go with the folder; a private Redis with its process
        import redis

        try:
            client = redis.Redis.from_url(self.redis_url, socket_connect_timeout=2)
            for key in client.scan_iter(f"{self.queue}*"):
                client.delete(key)
        except redis.RedisError:
            pass

    @property
    def broker(self) -> str:
        return f"Redis ({self.redis_url})" if self.redis_url else "filesystem broker"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    @property
    def queues(self) -> str:
        return f"{self.queue},{self.queue}-images"

    # --- this process --------------------------------------------------------------------------------
    def setup_django(self) -> None:
        """Point this process at the stack (settings, database, broker) and build its database.

        This process logs warnings only (its processes log everything to their files)."""
        os.environ.update(self.env | {"LOG_LEVEL": "ERROR"})
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0, interactive=False)
        call_command("sync_themes", verbosity=0, stdout=io.StringIO())
        call_command("collectstatic", verbosity=0, interactive=False)

    # --- processes ---------------------------------------------------------------------------------
    def start(
        self, name: str, argv: list[str], *, ready: Callable[[Process], object], timeout: float = 60,
        env: dict[str, str] | None = None,
    ) -> Process:
        if name in self.processes and self.processes[name].alive():
            raise RuntimeError(f"{name} is already running")
        log = self.folder / "logs" / f"{name}.log"
        log_from = log.stat().st_size if log.exists() else 0
        with log.open("ab") as out:
            popen = subprocess.Popen(  # noqa: S603 - our own programs
                argv, cwd=ROOT, env=self.env | (env or {}), stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        process = Process(name, popen, log, log_from)
        self.processes[name] = process
        deadline = time.monotonic() + timeout
        while True:
            if not process.alive():
                raise RuntimeError(f"{name} exited with {popen.returncode}:\n{process.tail()}")
            try:
                if ready(process):
                    return process
            except Exception:  # noqa: S110 - not answering yet
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} did not start within {timeout:.0f} s:\n{process.tail()}")
            time.sleep(0.1)

    def start_sandbox(self, *, training_delay: float = 0, prompt_delay: float = 0, **switches) -> Process:
        argv = [sys.executable, "-m", "astria_sandbox", "--port", str(self.sandbox_port), "--memory",
                "--training-delay", str(training_delay), "--prompt-delay", str(prompt_delay)]
        process = self.start("sandbox", argv, ready=lambda p: _get(self.sandbox_url + "/_sandbox/stats"))
        if switches:
            self.sandbox_faults(**switches)
        return process

    def sandbox_faults(self, **switches) -> dict:
        response = requests.post(self.sandbox_url + "/_sandbox/faults", json=switches, timeout=5)
        response.raise_for_status()
        return response.json()

    def sandbox_stats(self) -> dict:
        response = requests.get(self.sandbox_url + "/_sandbox/stats", timeout=5)
        response.raise_for_status()
        return response.json()

    def start_web(
        self, *options: str, name: str = "web", port: int | None = None, env: dict[str, str] | None = None
    ) -> Process:
        """gunicorn as the Procfile runs it (gunicorn.conf.py), with options added on its command line;
        another one beside it takes a name, a port and an environment of its own."""
        port = port or self.web_port
        argv = [str(BIN / "gunicorn"), "studio.wsgi", "--config", "gunicorn.conf.py", *options]
        return self.start(
            name, argv, env={"PORT": str(port), **(env or {})},
            ready=lambda p: _get(f"http://127.0.0.1:{port}/healthz", ok=(200, 503)),
        )

    def start_worker(
        self, name: str = "worker", *, concurrency: int = 2, env: dict[str, str] | None = None
    ) -> Process:
        argv = [str(BIN / "celery"), "-A", "studio", "worker", "--pool=prefork", f"--concurrency={concurrency}",
                f"--queues={self.queues}", f"--hostname={name}-{self.queue}@%h", "--loglevel=INFO",
                "--without-mingle", "--without-gossip"]
        return self.start(name, argv, env=env, ready=lambda p: " ready." in p.output())

    def start_beat(self, env: dict[str, str] | None = None) -> Process:
        argv = [str(BIN / "celery"), "-A", "studio", "beat", "--loglevel=INFO",
                f"--schedule={self.folder / 'celerybeat-schedule'}"]
        return self.start("beat", argv, env=env, ready=lambda p: "beat: Starting" in p.output())

    def start_redis(self, port: int) -> Process:
        """A private redis-server without persistence: killing it loses every message it held."""
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--maxmemory-policy", "noeviction"]
        return self.start("redis", argv, ready=lambda p: _redis_ping(port), timeout=20)


def _get(url: str, ok: tuple[int, ...] = (200,)) -> bool:
    return requests.get(url, timeout=2).status_code in ok


def _redis_ping(port: int) -> bool:
    import redis

    return bool(redis.Redis(port=port, socket_connect_timeout=1).ping())
