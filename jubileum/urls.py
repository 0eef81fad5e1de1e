from collections.abc import Callable
from functools import wraps

from anymail import urls as anymail_urls
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth.views import LogoutView
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, include, path
from django.views.i18n import set_language

from budget.urls import digest_urlpatterns, report_urlpatterns
from events.backoffice.urls import urlpatterns as authoring_urlpatterns
from jubileum import views
from jubileum.api import api
from jubileum.login import OrganiserLoginView
from registrations.backoffice.urls import urlpatterns as backoffice_urlpatterns
from registrations.payments.webhooks import stripe_webhook


def _only_for_the_esp_in_use(
    esp: str, view: Callable[..., HttpResponse]
) -> Callable[..., HttpResponse]:
    """Another provider's webhook is a 404: it is not configured, and anymail would fail on it
    (missing settings or packages) with a 500 that anyone could trigger."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if esp != settings.MAIL_TRACKING_ESP:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _tracking_webhooks() -> list[URLPattern]:
    """anymail's tracking webhooks (we receive no mail, so no inbound ones), each answering only
    while its provider is the one in use (settings.MAIL_TRACKING_ESP)."""
    return [
        URLPattern(
            pattern.pattern,
            _only_for_the_esp_in_use(
                pattern.name.removesuffix("_tracking_webhook"), pattern.callback
            ),
            name=pattern.name,
        )
        for pattern in anymail_urls.urlpatterns
        if pattern.name and pattern.name.endswith("_tracking_webhook")
    ]


# Every organiser page under /beheer/ answers to one namespace, "organiser", whichever app owns it;
# the budget's own pages sit below /beheer/<programme>/budget/ in "budget".
organiser_urlpatterns = (
    digest_urlpatterns + authoring_urlpatterns + backoffice_urlpatterns + report_urlpatterns
)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("taal/", set_language, name="set_language"),
    path("api/v1/", api.urls),
    path("betalingen/stripe/webhook", stripe_webhook, name="stripe_webhook"),
    # The ESP's tracking webhook (deliveries, bounces, complaints): /anymail/<esp>/tracking/.
    path("anymail/", include((_tracking_webhooks(), "anymail"))),
]

# Dutch pages live at the root, English ones under /en/.
urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("", include("events.urls")),
    path("", include("registrations.urls")),
    path("beheer/<slug:programme_slug>/budget/", include("budget.urls")),
    path("beheer/", include((organiser_urlpatterns, "organiser"))),
    path("scan/", include("registrations.checkin.urls")),
    path("inloggen/", OrganiserLoginView.as_view(), name="login"),
    path("uitloggen/", LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    prefix_default_language=False,
)

handler404 = "jubileum.views.page_not_found"
handler500 = "jubileum.views.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
