"""Channel routes, namespace ``channels``: the public tracked-link redirect ``/r/<code>`` and
the signed-in pages under ``/capture/channels/``."""

from django.urls import path

from leadbase.capture import views_channels as views

app_name = "channels"
urlpatterns = [
    path("r/<str:code>", views.follow_link, name="follow"),
    path("capture/channels/", views.channel_list, name="list"),
    path("capture/channels/new", views.channel_new, name="new"),
    path("capture/channels/<int:pk>/", views.channel_detail, name="detail"),
    path("capture/channels/<int:pk>/edit", views.channel_edit, name="edit"),
    path("capture/channels/<int:pk>/remove", views.channel_remove, name="remove"),
    path("capture/channels/<int:pk>/restore", views.channel_restore, name="restore"),
    path("capture/channels/<int:pk>/followers", views.snapshot_add, name="snapshot_add"),
    path(
        "capture/channels/<int:pk>/followers/import", views.snapshot_import, name="snapshot_import"
    ),
    path(
        "capture/channels/<int:pk>/followers/<int:snapshot_pk>/delete",
        views.snapshot_delete,
        name="snapshot_delete",
    ),
    path("capture/channels/links/", views.link_list, name="links"),
    path("capture/channels/links/new", views.link_new, name="link_new"),
    path("capture/channels/links/<int:pk>/edit", views.link_edit, name="link_edit"),
    path("capture/channels/links/<int:pk>/remove", views.link_remove, name="link_remove"),
    path("capture/channels/links/<int:pk>/restore", views.link_restore, name="link_restore"),
]
