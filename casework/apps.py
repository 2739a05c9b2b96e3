from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    default = True
    name = "casework"
    verbose_name = _("Casework")


class StaffAdminConfig(admin_apps.AdminConfig):
    """The admin, installed with a site that requires a verified second factor."""

    default = False  # installed by its dotted path, not as casework's own config
    default_site = "casework.admin_site.StaffAdminSite"
