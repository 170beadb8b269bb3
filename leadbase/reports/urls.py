"""Report routes, namespace ``reports``, mounted at ``/reports/``."""

from django.urls import path

from leadbase.reports import views

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("sources", views.sources, name="sources"),
    path("sources.csv", views.sources_csv, name="sources_csv"),
    path("owned-vs-rented", views.owned, name="owned"),
    path("owned-vs-rented.csv", views.owned_csv, name="owned_csv"),
]
