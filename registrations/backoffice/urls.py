from django.urls import path

from registrations.backoffice import attendees, desk, messaging_views, questions
from registrations.backoffice import views as organiser

# Mounted by jubileum/urls.py as the "organiser" namespace, together with the budget's report.

registration = "<slug:programme_slug>/aanmelding/<int:registration_id>"
activity_questions = "<slug:programme_slug>/activiteit/<slug:activity_slug>/vragen"
activity_messages = "<slug:programme_slug>/activiteit/<slug:activity_slug>/berichten"

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
        "<slug:programme_slug>/activiteit/<slug:activity_slug>/aanmelden/",
        desk.signup,
        name="desk_signup",
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
    path(
        "<slug:programme_slug>/activiteit/<slug:activity_slug>/deelnemers.csv",
        attendees.export_csv,
        name="attendees_csv",
    ),
    path(
        "<slug:programme_slug>/activiteit/<slug:activity_slug>/deelnemers.xlsx",
        attendees.export_xlsx,
        name="attendees_xlsx",
    ),
    path(
        "<slug:programme_slug>/activiteit/<slug:activity_slug>/deurlijst/",
        attendees.door_list,
        name="door_list",
    ),
    path(
        "<slug:programme_slug>/activiteit/<slug:activity_slug>/naambadges/",
        attendees.badges,
        name="badges",
    ),
    path(f"{activity_questions}/", questions.questions, name="questions"),
    path(f"{activity_questions}/<int:question_id>/", questions.question_edit, name="question_edit"),
    path(
        f"{activity_questions}/<int:question_id>/verwijderen/",
        questions.question_delete,
        name="question_delete",
    ),
    path(f"{activity_messages}/", messaging_views.messages_page, name="messages"),
    path(f"{activity_messages}/<int:message_id>/", messaging_views.message_page, name="message"),
    path(f"{activity_messages}/wijziging/", messaging_views.change_notice, name="change_notice"),
    path(f"{registration}/goedkeuren/", organiser.approve, name="approve"),
    path(f"{registration}/afwijzen/", organiser.decline, name="decline"),
    path(f"{registration}/annuleren/", organiser.cancel, name="cancel"),
    path(f"{registration}/verplaatsen/", organiser.move, name="move"),
    path(f"{registration}/terugbetalen/", organiser.refund, name="refund"),
    path(f"{registration}/kaartje/", desk.ticket, name="ticket"),
]
