from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .keyring import KeyRingError, check_at_start_up


class VaultConfig(AppConfig):
    """Sealed rows, the key ring, envelope encryption, blind indexes and encrypted files."""

    name = "vault"
    verbose_name = _("Vault")

    def ready(self):
        # Every management command that checks the project (runserver, migrate, check, ...)
        # refuses to run without a working key ring; generate_keys does not check, so it can
        # make the first one. config/wsgi.py, asgi.py and celery.py check at start-up too.
        checks.register(key_ring_check)


def key_ring_check(app_configs=None, **kwargs):
    try:
        check_at_start_up()
    except (KeyRingError, ImproperlyConfigured) as exc:
        return [checks.Error(str(exc), id="vault.E001")]
    return []
