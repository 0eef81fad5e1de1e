"""The organiser's pages for authoring a programme and its activities; mounted with the rest of
/beheer/ in the "organiser" namespace (jubileum/urls.py)."""

from django.urls import URLPattern, path

from events.backoffice import activities, copy, settings, team

activity = "<slug:programme_slug>/activiteit/<slug:activity_slug>"

urlpatterns: list[URLPattern] = [
    # --- Activities: new, edit, copy, publish / take offline, preview ---
    path("<slug:programme_slug>/activiteiten/nieuw/", activities.new, name="new_activity"),
    path(f"{activity}/bewerken/", activities.edit, name="edit_activity"),
    path(f"{activity}/kopieren/", activities.duplicate, name="duplicate_activity"),
    path(f"{activity}/publiceren/", activities.publish, name="publish_activity"),
    path(f"{activity}/offline-halen/", activities.unpublish, name="unpublish_activity"),
    path(f"{activity}/voorbeeld/", activities.preview, name="preview_activity"),
    # --- Programme settings, team and copying (issue 18 parts 2 and 7) ---
    path("<slug:programme_slug>/instellingen/", settings.programme_settings, name="settings"),
    path("<slug:programme_slug>/team/", team.team_page, name="team"),
    path("<slug:programme_slug>/team/<int:user_id>/rol/", team.team_role, name="team_role"),
    path(
        "<slug:programme_slug>/team/<int:user_id>/verwijderen/",
        team.team_remove,
        name="team_remove",
    ),
    path("<slug:programme_slug>/kopieren/", copy.copy_programme_page, name="copy"),
    # --- End of programme settings, team and copying (the public page that accepts a team
    # invitation is in events/urls.py: it is not an organiser page) ---
]
