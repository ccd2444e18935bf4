from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data set (`seed_demo`): above every other app, so it may use them all; none uses it."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
