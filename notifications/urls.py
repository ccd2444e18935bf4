from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.NotificationListView.as_view(), name="list"),
    path("read/", views.NotificationMarkReadView.as_view(), name="mark_read"),
    path("settings/", views.PreferenceView.as_view(), name="preferences"),
    path("survey/<str:token>/", views.SurveyView.as_view(), name="survey"),
]
