from django.urls import path

from events import calendar, views
from events.backoffice import team

app_name = "events"

urlpatterns = [
    path("programma/<slug:slug>/", views.programme, name="programme"),
    path("programma/<slug:slug>/agenda.ics", calendar.programme_ics, name="programme_ics"),
    path("programma/<slug:slug>/thema.css", views.theme_css, name="theme_css"),
    path("programma/<slug:slug>/privacy/", views.privacy, name="privacy"),
    path("programma/<slug:slug>/toegankelijkheid/", views.accessibility, name="accessibility"),
    # A team invitation's link (events.team): public, the signature is the key.
    path("team-uitnodiging/<str:token>/", team.accept_invitation, name="accept_team_invitation"),
    path(
        "programma/<slug:programme_slug>/activiteit/<slug:slug>/",
        views.activity,
        name="activity",
    ),
    path(
        "programma/<slug:programme_slug>/activiteit/<slug:slug>/agenda.ics",
        calendar.activity_ics,
        name="activity_ics",
    ),
]
