from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "leadbase.api"
    label = "api"
    verbose_name = "API"
