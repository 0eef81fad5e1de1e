"""The organiser's pages for authoring a programme and its activities; mounted with the rest of
/beheer/ in the "organiser" namespace (jubileum/urls.py)."""

from django.urls import URLPattern, path

from events.backoffice import activities

activity = "<slug:programme_slug>/activiteit/<slug:activity_slug>"

urlpatterns: list[URLPattern] = [
    # --- Activities: new, edit, copy, publish / take offline, preview ---
    path("<slug:programme_slug>/activiteiten/nieuw/", activities.new, name="new_activity"),
    path(f"{activity}/bewerken/", activities.edit, name="edit_activity"),
    path(f"{activity}/kopieren/", activities.duplicate, name="duplicate_activity"),
    path(f"{activity}/publiceren/", activities.publish, name="publish_activity"),
    path(f"{activity}/offline-halen/", activities.unpublish, name="unpublish_activity"),
    path(f"{activity}/voorbeeld/", activities.preview, name="preview_activity"),
    # --- end of activities ---
]
