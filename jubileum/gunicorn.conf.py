"""gunicorn settings for Jubileum:

    gunicorn --config jubileum/gunicorn.conf.py jubileum.wsgi:application

`make serve-prod` (jubileum/serve_prod.py) uses it; on a real server the same file serves behind
the load balancer. From the environment:

- `WEB_CONCURRENCY`: worker processes (default 3; about 2 x cores + 1 for this mostly-waiting-on-
  the-database app).
- `GUNICORN_BIND`: where to listen (default 127.0.0.1:8000; `--bind` on the command line wins).
- `FORWARDED_ALLOW_IPS`: proxies whose X-Forwarded-* headers gunicorn believes (gunicorn's own
  variable; default 127.0.0.1,::1). Set it to the load balancer's address.

The access log goes to standard output, one line per request:

    127.0.0.1 [26/Nov/2026:10:15:02 +0100] "GET /programma/x/ HTTP/1.1" 200 14233 12ms "curl/8.1"

client, time, request line without query string, status, bytes, duration, user agent. The query
string and the Referer are left out and the secret in a personal link is masked
(`/aanmelding/[token]/`): whoever reads the logs must not be able to cancel a registration.
gunicorn's own messages go to standard error, as do Django's (settings.LOGGING).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gunicorn.glogging import Logger

# gunicorn reads this file before it imports the site: make the project importable from here.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jubileum.lib.logs import redact_path


class RedactingLogger(Logger):
    """gunicorn's logger, with the request line rebuilt from the path alone, its secret masked."""

    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact_path(environ.get("PATH_INFO", ""))
        atoms["U"] = path
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}"
        atoms["q"] = "-"
        atoms["f"] = "-"
        return atoms


def _workers() -> int:
    raw = os.environ.get("WEB_CONCURRENCY", "").strip() or "3"
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"WEB_CONCURRENCY must be a whole number of at least 1; got {raw!r}.")
    return int(raw)


wsgi_app = "jubileum.wsgi:application"
bind = [os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")]
workers = _workers()
worker_class = "sync"
# A request that takes longer than this is stuck (the slowest, an XLSX export, takes seconds).
timeout = 30
graceful_timeout = 20
# Recycle workers now and then, so that a slow leak never grows into an outage.
max_requests = 2000
max_requests_jitter = 200

accesslog = "-"
errorlog = "-"
loglevel = "info"
logger_class = RedactingLogger
# No control socket (gunicornc): one per user in $HOME by default, which two servers on one machine
# (this and a benchmark) would fight over.
control_socket_disable = True
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
