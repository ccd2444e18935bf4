from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("runs/", views.RunListView.as_view(), name="runs"),
    path("runs/start/", views.RunStartView.as_view(), name="run_start"),
    path("settings/", views.ModelSettingsView.as_view(), name="settings"),
    path("settings/preview/", views.WhatIfStartView.as_view(), name="whatif_start"),
    path("settings/preview/<int:pk>/", views.WhatIfView.as_view(), name="whatif"),
    path("reports/", views.ReportView.as_view(), name="reports"),
    path("reports/profit-volume.json", views.ProfitVolumePointsView.as_view(), name="report_profit_volume"),
    path("reports/customers/<int:pk>.json", views.ReportCustomerView.as_view(), name="report_customer"),
    path("reports/data/<slug:name>.csv", views.ReportCSVView.as_view(), name="report_csv"),
    path("reports/<slug:section>/", views.ReportView.as_view(), name="report_section"),
    path("portfolio/", views.PortfolioView.as_view(), name="portfolio"),
    path("compare/", views.CompareView.as_view(), name="compare"),
    path("compare/<slug:name>.csv", views.CompareCSVView.as_view(), name="compare_csv"),
    path("team/", views.TeamView.as_view(), name="team"),
    path("team/reps.csv", views.TeamCSVView.as_view(), name="team_csv"),
]
