from django.urls import path

from budget import digest_views, report_views, views

app_name = "budget"

expense = "uitgaven/<int:expense_id>"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("aanmaken/", views.create, name="create"),
    path("instellingen/", views.budget_settings, name="settings"),
    path("categorieen/", views.add_category, name="add_category"),
    path("categorieen/<int:category_id>/wijzigen/", views.edit_category, name="edit_category"),
    path(
        "categorieen/<int:category_id>/verwijderen/",
        views.remove_category,
        name="remove_category",
    ),
    path("uitgaven/", views.expenses, name="expenses"),
    path(f"{expense}/", views.expense, name="expense"),
    path(f"{expense}/wijzigen/", views.edit_expense, name="edit_expense"),
    path(f"{expense}/status/", views.advance, name="advance"),
    path(f"{expense}/goedkeuren/", views.approve, name="approve"),
    path(f"{expense}/bijlagen/", views.upload, name="upload"),
    path("bijlagen/<int:attachment_id>/", views.download, name="download"),
    path("goedkeuren/", views.approvals, name="approvals"),
    path("inkomsten/", views.income, name="income"),
    path("inkomsten/<int:income_id>/wijzigen/", views.edit_income, name="edit_income"),
    path("export/grootboek.csv", views.export_csv, name="export_csv"),
    path("export/grootboek.xlsx", views.export_xlsx, name="export_xlsx"),
]

# The programme report for the council, beside the organiser's overview at
# /beheer/<programme>/verantwoording/ (jubileum/urls.py mounts it in the "organiser" namespace).
report_urlpatterns = [
    path("<slug:programme_slug>/verantwoording/", report_views.programme_report, name="report"),
    path(
        "<slug:programme_slug>/verantwoording/verantwoording.xlsx",
        report_views.programme_report_xlsx,
        name="report_xlsx",
    ),
    path(
        "<slug:programme_slug>/verantwoording/verantwoording.csv",
        report_views.programme_report_csv,
        name="report_csv",
    ),
]

# The organiser's settings for the e-mail about what waits (/beheer/meldingen/): in front of the
# programme pages in the "organiser" namespace, or "meldingen" would be read as a programme.
digest_urlpatterns = [
    path("meldingen/", digest_views.notifications, name="notifications"),
]
