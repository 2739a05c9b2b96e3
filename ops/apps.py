from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running the system: health checks, request logs, retention. May read every layer."""

    name = "ops"
    verbose_name = _("Operations")

    def ready(self):
        from . import tasks  # noqa: F401 — registered in every process, like the beat schedule
