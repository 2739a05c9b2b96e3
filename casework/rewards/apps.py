from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RewardsConfig(AppConfig):
    """Rewards (有奖): policy, eligibility, the reward machine, claims, payments and the ledger."""

    name = "casework.rewards"
    label = "rewards"
    verbose_name = _("Rewards")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The public side shows a reporter their reward without importing casework: it offers a
        # registry, and the rewards app registers its receipt-page section and API field here.
        from . import audit_words, case_hooks, public, tasks  # noqa: F401 — tasks: in every process

        public.register()
        audit_words.register()  # how the audit page names rewards
        # The case core announces, the rewards listen: the proposal at 查处/移送, what holds 奖励
        # and archiving, a falsified case's reward cancelled.
        case_hooks.register()
