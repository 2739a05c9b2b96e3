import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
try:
    application = get_wsgi_application()
    # Refuse to serve without a working key ring (production has no default one).
    from vault.keyring import check_at_start_up

    check_at_start_up()
except ImproperlyConfigured as exc:
    # One line naming the variable in the server's log, then stop: never serve half-configured.
    print(f"Configuration error: {exc}", file=sys.stderr)
    raise
