from django.apps import AppConfig


class CaptureConfig(AppConfig):
    name = "leadbase.capture"
    label = "capture"
    verbose_name = "Capture"

    def ready(self) -> None:
        from leadbase.capture import receivers  # noqa: F401  (connects the erasure signal)
