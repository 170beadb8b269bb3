"""Webhook settings pages, mounted at ``settings/webhooks/`` and named ``hooks:<name>``."""

from django.urls import path

from leadbase.hooks import views

app_name = "hooks"
urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("new", views.endpoint_new, name="new"),
    path("<int:pk>/", views.endpoint_detail, name="detail"),
    path("<int:pk>/edit", views.endpoint_edit, name="edit"),
    path("<int:pk>/secret", views.endpoint_secret, name="secret"),
    path("<int:pk>/rotate", views.endpoint_rotate, name="rotate"),
    path("<int:pk>/test", views.endpoint_test, name="test"),
    path("<int:pk>/disable", views.endpoint_disable, name="disable"),
    path("<int:pk>/enable", views.endpoint_enable, name="enable"),
    path("<int:pk>/delete", views.endpoint_delete, name="delete"),
    path("<int:pk>/deliveries/<int:delivery_pk>/", views.delivery_detail, name="delivery"),
    path(
        "<int:pk>/deliveries/<int:delivery_pk>/redeliver",
        views.delivery_redeliver,
        name="redeliver",
    ),
]
