"""The organiser's pages for authoring a programme and its activities; mounted with the rest of
/beheer/ in the "organiser" namespace (jubileum/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
