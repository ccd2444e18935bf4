from django.urls import path

from . import views

app_name = "tasks"

urlpatterns = [
    path("", views.MyTasksView.as_view(), name="my_tasks"),
    path("new/", views.TaskCreateView.as_view(), name="task_create"),
    path("bulk/", views.TaskBulkView.as_view(), name="bulk"),
]
