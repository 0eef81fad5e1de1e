"""The site's URLs plus `api/bench/bare`: a plain Django view answering JSON, without a query."""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.http import require_safe

from jubileum import urls


@require_safe
def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [path("api/bench/bare", bare, name="bench_bare"), *urls.urlpatterns]
handler404 = urls.handler404
handler500 = urls.handler500
