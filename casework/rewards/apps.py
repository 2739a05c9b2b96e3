from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    """Rewards (有奖): policy, eligibility, the reward machine, claims, payments and the ledger."""

    name = "casework.rewards"
    label = "rewards"
    verbose_name = _("Rewards")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The layers below offer registries and never import rewards: the public side (the
        # receipt-page section and API field), the case core (hooks on its steps), the staff
        # pages (panels) and the audit page (names). tasks: registered in every process.
        from . import audit_words, case_hooks, citizen_status, pages, public, tasks  # noqa: F401

        public.register()
        citizen_status.register()  # the one status the reporter reads
        audit_words.register()  # how the audit page names rewards
        pages.register()  # its panels on the case, report and home pages
        # The case core announces, the rewards listen: the proposal at 查处/移送, what holds 奖励
        # and archiving, a falsified case's reward cancelled.
        case_hooks.register()
