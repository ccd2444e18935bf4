from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("<slug:kind>/<int:pk>/status.json", views.JobStatusView.as_view(), name="status"),
]
