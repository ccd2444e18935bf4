"""Shared by the data migrations that give each role group its permissions on an app's models."""

from django.contrib.auth.management import create_permissions


def grant_permissions(apps, app_label: str, group_permissions: dict[str, list[str]]) -> None:
    """Adds `app_label`'s permissions (by codename) to the named groups, creating groups as needed."""
    # Permissions are normally made after all migrations; make this app's now so groups can hold them.
    app = apps.get_app_config(app_label)
    app.models_module = True
    create_permissions(app, apps=apps, verbosity=0)
    app.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in group_permissions.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        missing = set(codenames) - set(permissions.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"Permissions missing for {name}: {sorted(missing)}")
        group.permissions.add(*permissions)


def revoke_permissions(apps, app_label: str, group_names) -> None:
    Permission = apps.get_model("auth", "Permission")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=group_names):
        group.permissions.remove(*Permission.objects.filter(content_type__app_label=app_label))
