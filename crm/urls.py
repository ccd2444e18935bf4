from django.urls import path

from . import views

app_name = "crm"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("export.<str:fmt>", views.CustomerExportView.as_view(), name="customer_export"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="customer_update"),
    path("<int:pk>/interactions/", views.InteractionCreateView.as_view(), name="interaction_create"),
    path("<int:pk>/orders/", views.CustomerOrderListView.as_view(), name="customer_orders"),
]
