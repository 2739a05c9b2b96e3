from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VaultConfig(AppConfig):
    """Sealed rows, the key ring, envelope encryption, blind indexes and encrypted files."""

    name = "vault"
    verbose_name = _("Vault")

    def ready(self):
        from django.conf import settings

        if not settings.TIPLINE_KEYS_AUTOCREATE:
            # Fail at start-up, not on the first report, when the key ring is missing or broken.
            from .keyring import get_keyring

            get_keyring()
