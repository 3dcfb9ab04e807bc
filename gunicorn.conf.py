"""Gunicorn for the web process: threads, logs through the studio's redacting JSON logging.

Read from the environment, or the project's `.env` as the studio reads it.
"""

import os
from pathlib import Path

import environ

from studio.core.config import logging_config

env = environ.Env()
if (Path(__file__).parent / ".env").is_file():
    env.read_env(Path(__file__).parent / ".env")

# Without a proxy gunicorn is the front door. Behind one on this machine only the proxy needs to
# reach it, so it listens on loopback; BIND (host:port or unix:/path, comma-separated) says
# otherwise, e.g. for a proxy on another host.
_host = "127.0.0.1" if env.bool("BEHIND_PROXY", default=False) else "0.0.0.0"  # noqa: S104
bind = env.list("BIND", default=[f"{_host}:{env('PORT', default='8000')}"])
worker_class = "gthread"
workers = env.int("WEB_CONCURRENCY", default=2)
threads = env.int("WEB_THREADS", default=4)
timeout = 60
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200
# The peers whose X-Forwarded-Proto sets wsgi.url_scheme: the studio's TRUSTED_PROXIES by default.
forwarded_allow_ips = env("FORWARDED_ALLOW_IPS", default=env("TRUSTED_PROXIES", default="127.0.0.1,::1"))
control_socket_disable = True  # nothing here uses gunicornc: no socket left in $HOME/.gunicorn
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
logconfig_dict = logging_config(
    level="INFO", format="json", loggers=["gunicorn.error", "gunicorn.access"], root=False
)

def on_starting(server) -> None:
    """Files the workers write (photos, results, exports, a SQLite database) are the owner's only.
    gunicorn's own `umask` setting applies to its sockets, not to the workers."""
    os.umask(0o077)
