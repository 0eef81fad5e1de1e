"""Site-wide views: the home page, the health and readiness checks and robots.txt."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.log import log_response
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from events.models import Programme, hex_colour
from events.views import DEFAULT_THEME_COLOUR, render_programme
from jubileum.lib.cache import RedisCache
from jubileum.lib.taskqueue import backlog
from jubileum.middleware import DATABASE_GONE, database_unavailable

logger = logging.getLogger(__name__)

ROBOTS_TXT = """\
User-agent: *
Disallow: /admin/
Disallow: /en/admin/
Disallow: /beheer/
Disallow: /en/beheer/
Disallow: /api/
Disallow: /scan/
Disallow: /en/scan/
Disallow: /aanmelding/
Disallow: /en/aanmelding/
Allow: /
"""


@dataclass(frozen=True)
class ProgrammeCard:
    programme: Programme
    is_running: bool
    # Checked again here: a colour saved around the model's validation must not reach the page.
    accent: str


def _card(programme: Programme, today: dt.date) -> ProgrammeCard:
    colour = programme.theme_colour
    return ProgrammeCard(
        programme=programme,
        is_running=programme.starts_on <= today,
        accent=colour if hex_colour.regex.match(colour) else DEFAULT_THEME_COLOUR,
    )


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """The public programmes: those running or still to come, and the earlier ones below them.

    A site with a single public programme shows that programme's page right here, exactly as on
    its own page (filters included), as it did before there were more.
    """
    today = timezone.localdate()
    public = Programme.objects.public()
    upcoming = list(public.current_or_upcoming(today))
    earlier = list(public.past(today))
    if not (upcoming or earlier):
        return render(request, "jubileum/no_programme.html")
    if len(upcoming) + len(earlier) == 1:
        return render_programme(request, (upcoming or earlier)[0])
    context = {"upcoming": [_card(p, today) for p in upcoming], "earlier": earlier}
    return render(request, "jubileum/programmes.html", context)


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For the load balancer: 200 when this process can reach the database, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("Health check: the database does not answer")
        return JsonResponse({"status": "error"}, status=503)
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """For monitoring and deploys: 200 when this process has everything it was set up with,
    else 503, saying what is missing. The database; Redis (when `REDIS_URL` is set: without it
    the site still works, each process counting its own rate limits, so this only reports); and
    the task queue, which is behind when a task has waited longer than READY_MAX_TASK_WAIT for a
    worker (none running, or too few), so e-mails go out late."""
    ready = True
    body: dict[str, object] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        queue = backlog()
    except DatabaseError:
        logger.exception("Readiness check: the database does not answer")
        ready = False
        body["database"] = "error"
        body["tasks"] = {"status": "unknown"}
    else:
        body["database"] = "ok"
        wait = queue.oldest_wait
        behind = wait is not None and wait > settings.READY_MAX_TASK_WAIT
        ready = ready and not behind
        body["tasks"] = {
            "status": "behind" if behind else "ok",
            "waiting": queue.waiting,
            "oldest_wait_seconds": None if wait is None else round(wait.total_seconds()),
            "limit_seconds": round(settings.READY_MAX_TASK_WAIT.total_seconds()),
        }
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        answers = cache.ping()
        ready = ready and answers
        body["redis"] = "ok" if answers else "down"
    else:
        body["redis"] = "not used"
    response = JsonResponse(
        {"status": "ok" if ready else "unavailable", **body}, status=200 if ready else 503
    )
    if not ready:
        # Polled every few seconds: what is missing is logged by its own check (once a minute
        # for Redis), so each poll is one info line here rather than Django's error line.
        log_response("Not ready: %s", body, response=response, request=request, level="info")
    return response


@require_safe
def robots_txt(request: HttpRequest) -> HttpResponse:
    return HttpResponse(ROBOTS_TXT, content_type="text/plain; charset=utf-8")


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _api_error(code: str, message: str, status: int) -> JsonResponse:
    return JsonResponse({"code": code, "message": message, "details": {}}, status=status)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Our 404 page; API clients asking for a path that does not exist get the JSON error."""
    if _is_api(request):
        return _api_error("not_found", _("Dit bestaat niet of is niet openbaar."), 404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponseBase:
    """Our 500 page (the API's JSON error); a database gone for a moment where no view could
    catch it, as in the session saved after the view, is the 503 of DatabaseUnavailableMiddleware.
    Django calls this while handling the exception, so sys.exception() is what was raised."""
    exception = sys.exception()
    if isinstance(exception, DATABASE_GONE):
        return database_unavailable(request, exception)
    if _is_api(request):
        return _api_error(
            "server_error", _("Er ging iets mis bij ons; probeer het later opnieuw."), 500
        )
    return defaults.server_error(request)
