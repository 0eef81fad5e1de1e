from django.urls import path

from registrations import views

app_name = "registrations"

urlpatterns = [
    path(
        "programma/<slug:programme_slug>/activiteit/<slug:slug>/aanmelden/",
        views.signup,
        name="signup",
    ),
    path(
        "programma/<slug:programme_slug>/activiteit/<slug:slug>/aangemeld/",
        views.signed_up,
        name="signed_up",
    ),
    path("aanmelding/<str:token>/", views.manage, name="manage"),
    path("aanmelding/<str:token>/plaats-claimen/", views.claim, name="claim"),
    path("aanmelding/<str:token>/aantal-personen/", views.change_party_size, name="change_size"),
    path("aanmelding/<str:token>/annuleren/", views.cancel, name="cancel"),
    path("aanmelding/<str:token>/e-mail-opnieuw/", views.resend, name="resend"),
    path("aanmelding/<str:token>/gegevens-verwijderen/", views.delete_data, name="delete_data"),
    path("aanmelding/<str:token>/agenda.ics", views.ics, name="ics"),
    path("aanmelding/<str:token>/betalen/", views.pay, name="pay"),
    path("aanmelding/<str:token>/betaling-afbreken/", views.cancel_payment, name="cancel_payment"),
    path("betalen/demo/<str:session_id>/", views.demo_payment, name="demo_payment"),
    path("betaling/<uuid:public_id>/terug/", views.payment_return, name="payment_return"),
]
