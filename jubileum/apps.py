from django.apps import AppConfig


class JubileumConfig(AppConfig):
    name = "jubileum"
    verbose_name = "Jubileum"
