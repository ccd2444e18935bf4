from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from core.views import SearchView

from .health import healthz
from .views import favicon, home

urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("search/", SearchView.as_view(), name="search"),
    path("customers/", include("crm.urls")),
    path("complaints/", include("complaints.urls")),
    path("tasks/", include("tasks.urls")),
    path("analytics/", include("analytics.urls")),
    path("imports/", include("exchange.urls")),
    path("jobs/", include("core.urls")),
    path("views/", include("core.saved_view_urls")),
    path("notifications/", include("notifications.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
]
