"""Top-level routes.

Public (no login): /healthz, /p/<slug>, /f/<slug>, /f/<slug>/embed.js, /r/<code>, /u/<token>,
/api/v1/… (token auth). Everything else is the signed-in web app.
"""

from django.urls import include, path

from leadbase.web import views_health

urlpatterns = [
    path("healthz", views_health.healthz, name="healthz"),
    path("api/v1/", include("leadbase.api.urls")),
    path("", include("leadbase.capture.urls")),
    path("", include("leadbase.capture.urls_channels")),
    path("capture/", include("leadbase.capture.urls_app")),
    path("reports/", include("leadbase.reports.urls")),
    path("settings/webhooks/", include("leadbase.hooks.urls")),
    path("", include("leadbase.web.urls")),
]
