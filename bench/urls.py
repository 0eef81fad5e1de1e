"""The site's URLs plus what only the benchmarks ask for:

- `api/bench/bare`: a plain Django view answering JSON, without a query;
- `bench/camera/` (and its script): a page that only opens the camera into a <video>, the
  yardstick of the scanner benchmark (bench/scanner_field.py), served by the same workers under
  the site's own headers (its Content-Security-Policy allows only scripts from the site).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.urls import path
from django.views.decorators.http import require_safe

from jubileum import urls
from jubileum.middleware import SCANNER_PERMISSIONS_POLICY


@require_safe
def bare(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


CAMERA_PAGE = """<!doctype html>
<html lang="nl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Camera</title><link rel="icon" href="data:,"></head>
<body><video id="camera" muted playsinline aria-hidden="true"></video>
<script src="camera.js"></script></body>
</html>
"""

# The same request for a camera as the scanner makes (static/js/scanner.js, startCamera).
CAMERA_SCRIPT = """(async () => {
  const video = document.getElementById("camera");
  video.srcObject = await navigator.mediaDevices.getUserMedia({
    video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } },
    audio: false,
  });
  await video.play().catch(() => {});
})();
"""


@require_safe
def camera(request: HttpRequest) -> HttpResponse:
    return HttpResponse(CAMERA_PAGE)


def camera_allowed(get_response: Callable[[HttpRequest], HttpResponseBase]):
    """Middleware (outermost, bench/settings.py): the camera page may use the camera, as the
    scanner may (the site's own middleware allows it to the scanner's pages only)."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        if request.path == "/bench/camera/":
            response.headers["Permissions-Policy"] = SCANNER_PERMISSIONS_POLICY
        return response

    return middleware


@require_safe
def camera_script(request: HttpRequest) -> HttpResponse:
    return HttpResponse(CAMERA_SCRIPT, content_type="text/javascript")


urlpatterns = [
    path("api/bench/bare", bare, name="bench_bare"),
    path("bench/camera/", camera, name="bench_camera"),
    path("bench/camera/camera.js", camera_script, name="bench_camera_script"),
    *urls.urlpatterns,
]
handler404 = urls.handler404
handler500 = urls.handler500
