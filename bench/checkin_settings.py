"""Settings for bench/checkin.py: the site's own, plus a bare endpoint to compare with.

The bare endpoint (`checkin_urls`) runs through the same gunicorn workers and the same
middleware as the check-in API, so the comparison measures what the redeem itself costs.
`BENCH_REDIS_URL` puts the cache (and so the scanners' rate-limit counters) in Redis as in
production; without it the cache is local memory, one per worker process.
"""

import os

from jubileum.settings import *  # noqa: F403

ROOT_URLCONF = "bench.checkin_urls"

if os.environ.get("BENCH_REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["BENCH_REDIS_URL"],
        }
    }

if os.environ.get("BENCH_PREPARE_THRESHOLD"):
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = int(  # noqa: F405
        os.environ["BENCH_PREPARE_THRESHOLD"]
    )
