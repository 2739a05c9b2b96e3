from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPDefaultConfig


class CaseworkConfig(AppConfig):
    default = True
    name = "casework"
    verbose_name = _("Casework")

    def ready(self):
        # The receipt page tells the reporter the case's deadlines through tipline's registry.
        from . import public_status

        public_status.register()

        # An edit of the checklist changes what every case misses (admin, list_editable, shell).
        from django.db.models.signals import post_delete, post_save

        from . import casefile
        from .models import DocumentType

        post_save.connect(casefile.refresh_all, sender=DocumentType, dispatch_uid="checklist")
        post_delete.connect(casefile.refresh_all, sender=DocumentType, dispatch_uid="checklist-")


class StaffAdminConfig(admin_apps.AdminConfig):
    """The admin, installed with a site that requires a verified second factor."""

    default = False  # installed by its dotted path, not as casework's own config
    default_site = "casework.admin_site.StaffAdminSite"


class TOTPConfig(TOTPDefaultConfig):
    """django-otp's authenticator devices, under a name the admin shows in Chinese (the app
    label, and so the migrations, stay django-otp's own)."""

    default = False
    verbose_name = _("Two-step verification")
