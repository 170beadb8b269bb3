from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "leadbase.web"
    label = "web"
    verbose_name = "Web"
