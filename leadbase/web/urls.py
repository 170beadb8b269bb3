"""The web app's pages, named ``web:<name>``."""

from django.urls import path

from leadbase.web.views import auth, duplicates, home, imports, leads, workspace

app_name = "web"
urlpatterns = [
    path("", home.home, name="home"),
    path("login", auth.LoginView.as_view(), name="login"),
    path("logout", auth.LogoutView.as_view(), name="logout"),
    path("account/password", auth.PasswordChangeView.as_view(), name="password_change"),
    path("workspace", auth.switch_workspace, name="switch_workspace"),
    path("settings/workspace", workspace.workspace_settings, name="workspace_settings"),
    path("leads/", leads.lead_list, name="leads"),
    path("leads/export", leads.lead_export, name="leads_export"),
    path("leads/<int:pk>/", leads.lead_detail, name="lead"),
    path("duplicates/", duplicates.duplicate_list, name="duplicates"),
    path("duplicates/<int:pk>/merge", duplicates.duplicate_merge, name="duplicate_merge"),
    path("duplicates/<int:pk>/dismiss", duplicates.duplicate_dismiss, name="duplicate_dismiss"),
    path("imports/", imports.import_list, name="imports"),
    path("imports/new", imports.import_new, name="import_new"),
    path("imports/<int:pk>/", imports.import_detail, name="import"),
    path("imports/<int:pk>/mapping", imports.import_mapping, name="import_mapping"),
    path("imports/<int:pk>/report.csv", imports.import_report, name="import_report"),
]
