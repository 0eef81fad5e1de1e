from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The illustrative programmes `make run` loads (`manage.py load_demo`) and the local
    organiser login; no models."""

    name = "demo"
