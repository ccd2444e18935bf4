"""Saving, saving over, renaming, sharing and deleting a list's saved views (core.saved_views); all POST."""

from django.urls import path

from . import saved_views

app_name = "saved_views"

urlpatterns = [
    path("save/", saved_views.SavedViewCreateView.as_view(), name="create"),
    path("<int:pk>/update/", saved_views.SavedViewUpdateView.as_view(), name="update"),
    path("<int:pk>/settings/", saved_views.SavedViewSettingsView.as_view(), name="settings"),
    path("<int:pk>/delete/", saved_views.SavedViewDeleteView.as_view(), name="delete"),
]
