from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("runs/", views.RunListView.as_view(), name="runs"),
    path("runs/start/", views.RunStartView.as_view(), name="run_start"),
    path("runs/<int:pk>/status/", views.RunStatusView.as_view(), name="run_status"),
    path("settings/", views.ModelSettingsView.as_view(), name="settings"),
    path("reports/", views.ReportView.as_view(), name="reports"),
    path("reports/profit-volume.json", views.ProfitVolumePointsView.as_view(), name="report_profit_volume"),
    path("reports/customers/<int:pk>.json", views.ReportCustomerView.as_view(), name="report_customer"),
    path("reports/data/<slug:name>.csv", views.ReportCSVView.as_view(), name="report_csv"),
    path("reports/<slug:section>/", views.ReportView.as_view(), name="report_section"),
    path("portfolio/", views.PortfolioView.as_view(), name="portfolio"),
]
