from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "leadbase.outbox"
    label = "outbox"
    verbose_name = "Tasks waiting for the queue"
