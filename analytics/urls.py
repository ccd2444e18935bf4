from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("runs/", views.RunListView.as_view(), name="runs"),
    path("runs/start/", views.RunStartView.as_view(), name="run_start"),
    path("runs/<int:pk>/status/", views.RunStatusView.as_view(), name="run_status"),
    path("settings/", views.ModelSettingsView.as_view(), name="settings"),
]
