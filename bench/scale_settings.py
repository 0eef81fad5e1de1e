"""bench/settings.py plus a query counter for the requests bench/scale.py tags (querycount.py).

Only requests with an `X-Bench-Tag` header are counted; the other benchmarks do not use it.
"""

from bench.settings import *  # noqa: F403

MIDDLEWARE = ["bench.querycount.count_queries", *MIDDLEWARE]  # noqa: F405
