"""Public capture routes (no login), named ``capture:<name>``; mounted at the site root."""

from django.urls import path

from leadbase.capture import confirm_pages, public

app_name = "capture"
urlpatterns = [
    path("p/<slug:slug>", public.landing_page, name="page"),
    path("f/<slug:slug>", public.submit, name="submit"),
    path("f/<slug:slug>.json", public.form_json, name="form_json"),
    path("f/<slug:slug>/embed.js", public.embed_js, name="embed"),
    path("c/<str:token>", confirm_pages.confirm, name="confirm"),
    path("c/<str:token>/new", confirm_pages.new_link, name="new_link"),
]
