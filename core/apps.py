from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Shared pieces")

    def ready(self):
        from django.apps import apps

        # django-axes names its app nothing, so the admin shows its label, "Axes", in every language.
        if apps.is_installed("axes"):
            apps.get_app_config("axes").verbose_name = _("Login attempts")
