from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "leadbase.api"
    label = "api"
    verbose_name = "API"

    def ready(self) -> None:
        from leadbase.api import receivers  # noqa: F401  (connects the erasure signal)
