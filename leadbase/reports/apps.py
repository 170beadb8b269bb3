from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "leadbase.reports"
    label = "reports"
    verbose_name = "Reports"
