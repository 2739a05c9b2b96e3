from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TiplineConfig(AppConfig):
    name = "tipline"
    verbose_name = _("Public intake")

    def ready(self):
        from django.conf import settings

        if not settings.TIPLINE_KEYS_AUTOCREATE:
            # Fail at start-up, not on the first report, when the key ring is missing or broken.
            from .keyring import get_keyring

            get_keyring()
