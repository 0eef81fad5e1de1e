"""Settings for the benchmarks served by gunicorn: the site's own, plus a bare endpoint.

The bare endpoint (`bench/urls.py`, `/api/bench/bare`) runs through the same gunicorn workers and
the same middleware as the site, so a benchmark that divides by it measures what its own request
costs beyond Django's. Everything else (cache, prepared statements) comes from the environment,
as the site's settings read it (`common.served_on_postgres` sets it).
"""

from jubileum.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"

# Every client of a benchmark comes from 127.0.0.1, so the per-address limits meant for one
# person (RATE_LIMITS in jubileum/settings.py: ten sign-ups in ten minutes) would refuse all but
# the first few requests of a burst. They are raised out of reach, not switched off: each request
# is still counted, so what counting costs stays in the figures.
RATE_LIMITS = {
    **RATE_LIMITS,  # noqa: F405
    **{name: (1_000_000, 600) for name in ("signup", "lookup_miss", "claim", "login")},
}

# The scanner benchmark's camera-only page may use the camera (bench/urls.py).
MIDDLEWARE = ["bench.urls.camera_allowed", *MIDDLEWARE]  # noqa: F405
