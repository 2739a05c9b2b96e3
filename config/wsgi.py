import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Refuse to serve without a working key ring (production has no default one).
from vault.keyring import check_at_start_up  # noqa: E402 — needs the apps loaded above

check_at_start_up()
