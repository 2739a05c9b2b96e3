from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        # The kinds of event of the workflow and who hears of each.
        from . import audit_words, catalogue

        catalogue.register_all()
        audit_words.register()  # how the audit page names notices and their channels
        # Register the tasks in every process (web, worker, commands): the outbox hands events
        # over by task name, and Celery only knows a task once its module is imported.
        from . import tasks  # noqa: F401
