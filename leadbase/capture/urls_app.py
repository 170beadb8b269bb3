"""The signed-in form builder, named ``forms:<name>``; mounted at ``/capture/``."""

from django.urls import path

from leadbase.capture import views_forms

app_name = "forms"
urlpatterns = [
    path("forms/", views_forms.form_list, name="list"),
    path("forms/new", views_forms.form_new, name="new"),
    path("forms/<int:pk>/", views_forms.form_edit, name="edit"),
    path("forms/<int:pk>/page", views_forms.page_edit, name="page"),
    path("forms/<int:pk>/page/preview", views_forms.page_preview, name="page_preview"),
    path("forms/<int:pk>/submissions", views_forms.submissions, name="submissions"),
    path("forms/<int:pk>/remove", views_forms.form_remove, name="remove"),
    path("forms/<int:pk>/restore", views_forms.form_restore, name="restore"),
]
