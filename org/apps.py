from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    """Counties, townships, units, staff and their roles: the foundation every layer uses."""

    name = "org"
    verbose_name = _("Organisation")

    def ready(self):
        from .roles import sync_groups

        # Roles hold permissions of apps above this one: sync once every app's permissions
        # exist, i.e. after the post_migrate of the last installed app that has models (apps
        # without models get no post_migrate).
        with_models = [a for a in apps.get_app_configs() if a.models_module is not None]
        post_migrate.connect(sync_groups, sender=with_models[-1])
