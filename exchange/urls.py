from django.urls import path

from . import views

app_name = "exchange"

urlpatterns = [
    path("", views.ImportListView.as_view(), name="imports"),
    path("<int:pk>/", views.ImportDetailView.as_view(), name="import_detail"),
    path("<int:pk>/confirm/", views.ImportConfirmView.as_view(), name="import_confirm"),
    path("templates/<slug:kind>.<slug:file_format>", views.TemplateDownloadView.as_view(), name="template"),
]
