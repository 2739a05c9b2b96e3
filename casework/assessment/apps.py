from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "casework.assessment"
    label = "assessment"
    verbose_name = _("Assessment (考核)")

    def ready(self):
        # The case and report pages show the repeat history, falsification and repeat
        # suggestions through casework.panels (the staff pages import no assessment module).
        from . import repeats, versions

        repeats.register()
        # Every write to an input of the figures renews their version (report.cached).
        versions.register(self)
