from django.urls import path

from registrations import organiser

app_name = "organiser"

registration = "<slug:programme_slug>/aanmelding/<int:registration_id>"

urlpatterns = [
    path("", organiser.index, name="index"),
    path("<slug:programme_slug>/", organiser.programme, name="programme"),
    path("<slug:programme_slug>/ledenlijst/", organiser.roster, name="roster"),
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
