from django.apps import AppConfig


class HooksConfig(AppConfig):
    name = "leadbase.hooks"
    label = "hooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from leadbase.hooks import receivers  # noqa: F401  (connects the lead signals)
