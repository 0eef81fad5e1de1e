from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The illustrative programmes `make run` loads (`manage.py load_demo`) and the local
    organiser login; no models."""

    name = "demo"

    def ready(self) -> None:
        from simple_history.signals import (
            post_create_historical_record,
            pre_create_historical_record,
        )

        from demo import loading

        pre_create_historical_record.connect(loading.date_history, dispatch_uid="demo.history")
        post_create_historical_record.connect(loading.date_row, dispatch_uid="demo.row")
