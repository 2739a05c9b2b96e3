"""Settings for bench/load.py's gunicorn only: the project's settings with the report limits
lifted (every request of the load generator comes from one machine), no mail leaving the
process, and bench/urls.py, which adds the bare insert view beside the project's URLs.

Never used by the project itself: neither config/urls.py nor any migration knows bench/.
"""

from config.settings import *  # noqa: F403
from config.settings import TIPLINE_RATE_LIMITS

ROOT_URLCONF = "bench.urls"

# 32 clients on one machine file thousands of reports an hour: lift the limits on filing (the
# counting still runs, as in production, so its cost stays in the measure).
TIPLINE_RATE_LIMITS = {
    **TIPLINE_RATE_LIMITS,
    "report_per_client": (10**9, 3600),
    "report_global": (10**9, 3600),
    "report_filed_per_client": (10**9, 3600),
}

# The clerks' notices go to a broker nobody consumes (bench/load.py); when they run eagerly,
# to no mail server: the dummy backend keeps nothing, so it cannot grow the worker's memory.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
