from django.urls import path

from . import board_views, views
from .bulk_views import ComplaintReassignView

app_name = "complaints"

urlpatterns = [
    path("", views.ComplaintQueueView.as_view(), name="queue"),
    path("board/", board_views.ComplaintBoardView.as_view(), name="board"),
    path("board/<int:pk>/move/", board_views.ComplaintBoardMoveView.as_view(), name="board_move"),
    path("export.<str:fmt>", views.ComplaintExportView.as_view(), name="export"),
    path("reassign/", ComplaintReassignView.as_view(), name="complaint_reassign"),
    path("new/", views.ComplaintCreateView.as_view(), name="complaint_create"),
    path("customer-lookup/", views.CustomerLookupView.as_view(), name="customer_lookup"),
    path("<int:pk>/", views.ComplaintDetailView.as_view(), name="complaint_detail"),
    path("<int:pk>/edit/", views.ComplaintEditView.as_view(), name="complaint_edit"),
    path("<int:pk>/transition/", views.ComplaintTransitionView.as_view(), name="complaint_transition"),
    path("<int:pk>/notes/", views.ComplaintNoteView.as_view(), name="complaint_note"),
    path("<int:pk>/take/", views.ComplaintTakeView.as_view(), name="complaint_take"),
    path("problems/", views.ProblemListView.as_view(), name="problem_list"),
    path("problems/new/", views.ProblemCreateView.as_view(), name="problem_create"),
    path("problems/<int:pk>/", views.ProblemDetailView.as_view(), name="problem_detail"),
    path("problems/<int:pk>/edit/", views.ProblemEditView.as_view(), name="problem_edit"),
    path("sla/", views.SlaTargetView.as_view(), name="sla_targets"),
    path("kpis/", views.ComplaintKpiView.as_view(), name="kpis"),
]
