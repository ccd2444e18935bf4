from django.urls import path

from . import contact_views, views
from .bulk_views import CustomerReassignView
from .timeline_views import CustomerTimelineView

app_name = "crm"

urlpatterns = [
    path("", views.CustomerListView.as_view(), name="customer_list"),
    path("export.<str:fmt>", views.CustomerExportView.as_view(), name="customer_export"),
    path("reassign/", CustomerReassignView.as_view(), name="customer_reassign"),
    path("<int:pk>/", views.CustomerDetailView.as_view(), name="customer_detail"),
    path("<int:pk>/edit/", views.CustomerUpdateView.as_view(), name="customer_update"),
    path("<int:pk>/interactions/", views.InteractionCreateView.as_view(), name="interaction_create"),
    path("<int:pk>/orders/", views.CustomerOrderListView.as_view(), name="customer_orders"),
    path("<int:pk>/timeline/", CustomerTimelineView.as_view(), name="customer_timeline"),
    path("<int:pk>/contacts/new/", contact_views.ContactCreateView.as_view(), name="contact_create"),
    path("<int:pk>/contacts/<int:contact_pk>/edit/", contact_views.ContactUpdateView.as_view(), name="contact_update"),
    path(
        "<int:pk>/contacts/<int:contact_pk>/retire/", contact_views.ContactRetireView.as_view(), name="contact_retire"
    ),
    path(
        "<int:pk>/contacts/<int:contact_pk>/restore/",
        contact_views.ContactRestoreView.as_view(),
        name="contact_restore",
    ),
]
