"""What the in-process benchmarks share: argument parsing and a throwaway Django set-up."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAX_ITERATIONS = 1000


def parse_args(description: str, *, iterations: int, sizes: str, what: str) -> argparse.Namespace:
    """--iterations (timed runs per row) and --sizes (comma-separated numbers of `what`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--iterations", type=int, default=iterations, help="timed runs per row (1-1000)"
    )
    parser.add_argument(
        "--sizes", default=sizes, help=f"comma-separated numbers of {what} (default {sizes})"
    )
    args = parser.parse_args()
    if not 1 <= args.iterations <= MAX_ITERATIONS:
        parser.error(f"--iterations must be between 1 and {MAX_ITERATIONS}")
    try:
        args.sizes = [int(size) for size in args.sizes.split(",")]
    except ValueError:
        parser.error(f"--sizes must be whole numbers separated by commas, e.g. {sizes}")
    if any(size < 1 for size in args.sizes):
        parser.error("--sizes must all be at least 1")
    return args


def setup_django(var_dir: str) -> None:
    """Django on a fresh SQLite database in `var_dir`; configured servers are never touched."""
    os.environ["JUBILEUM_VAR_DIR"] = var_dir
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("DJANGO_DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jubileum.settings")
    sys.path.insert(0, str(REPO))

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
