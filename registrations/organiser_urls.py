from django.urls import path

from registrations import organiser

app_name = "organiser"

registration = "<slug:programme_slug>/aanmelding/<int:registration_id>"

urlpatterns = [
    path("", organiser.index, name="index"),
    path("<slug:programme_slug>/", organiser.programme, name="programme"),
    path("<slug:programme_slug>/ledenlijst/", organiser.roster, name="roster"),
    path("<slug:programme_slug>/scanners/", organiser.scanners, name="scanners"),
    path("<slug:programme_slug>/scanners/nieuw/", organiser.scanner_create, name="scanner_create"),
    path("<slug:programme_slug>/scanners/binnen/", organiser.scanner_counts, name="scanner_counts"),
    path(
        "<slug:programme_slug>/scanners/<int:device_id>/koppelen/",
        organiser.scanner_pairing,
        name="scanner_pairing",
    ),
    path(
        "<slug:programme_slug>/scanners/<int:device_id>/nieuwe-code/",
        organiser.scanner_renew,
        name="scanner_renew",
    ),
    path(
        "<slug:programme_slug>/scanners/<int:device_id>/intrekken/",
        organiser.scanner_revoke,
        name="scanner_revoke",
    ),
    path(
        "<slug:programme_slug>/activiteit/<slug:activity_slug>/",
        organiser.activity,
        name="activity",
    ),
    path(
        "<slug:programme_slug>/activiteit/<slug:activity_slug>/uitnodigen/",
        organiser.invite,
        name="invite",
    ),
    path(
        "<slug:programme_slug>/activiteit/<slug:activity_slug>/annuleren/",
        organiser.cancel_activity,
        name="cancel_activity",
    ),
    path(f"{registration}/goedkeuren/", organiser.approve, name="approve"),
    path(f"{registration}/afwijzen/", organiser.decline, name="decline"),
    path(f"{registration}/annuleren/", organiser.cancel, name="cancel"),
    path(f"{registration}/verplaatsen/", organiser.move, name="move"),
    path(f"{registration}/terugbetalen/", organiser.refund, name="refund"),
]
