from django.urls import path

from registrations.checkin import views as scanner

app_name = "scanner"

urlpatterns = [
    path("", scanner.scanner, name="page"),
    path("sw.js", scanner.service_worker, name="service_worker"),
    path("manifest.webmanifest", scanner.manifest, name="manifest"),
]
