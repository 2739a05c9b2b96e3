"""Privacy and language middleware for the public site."""

from django.conf import settings
from django.utils import translation
from django.utils.functional import SimpleLazyObject

from .throttle import client_bucket, network_bucket

# Headers that identify a client or its device. Removed from every public request.
_IDENTIFYING = (
    "REMOTE_ADDR",
    "REMOTE_HOST",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_REAL_IP",
    "HTTP_FORWARDED",
    "HTTP_USER_AGENT",
    "HTTP_SEC_CH_UA",
    "HTTP_SEC_CH_UA_PLATFORM",
    "HTTP_SEC_CH_UA_MOBILE",
)
STAFF_PREFIXES = ("/staff/", "/admin/")


class PublicPrivacyMiddleware:
    """Replace the client address by daily-rotating keyed buckets, then forget it.

    Runs first, so no later middleware, view, log record or error page of a public request can
    see the address or user agent. Staff pages keep them (logins are audited).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        address = request.META.get(settings.TIPLINE_CLIENT_ADDRESS_HEADER) or ""
        # With a proxy header like X-Forwarded-For, the last hop is the one our proxy saw.
        address = address.split(",")[-1].strip() or "unknown"
        # Computed on first use only (rate-limited views): a request that never throttles, like
        # /healthz, does not need the key ring.
        request.client_bucket = SimpleLazyObject(lambda: client_bucket(address))
        request.client_network = SimpleLazyObject(lambda: network_bucket(address))
        if not request.path.startswith(STAFF_PREFIXES):
            for name in _IDENTIFYING:
                request.META.pop(name, None)
            request.META["REMOTE_ADDR"] = "0.0.0.0"  # noqa: S104 — placeholder, never a real address
        return self.get_response(request)


class DefaultLanguageMiddleware:
    """Simplified Chinese unless the visitor chose another language (cookie from set_language).

    Unlike LocaleMiddleware, the browser's Accept-Language does not switch the site to English:
    the audience reads Chinese first, whatever language their browser was installed in.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        supported = {code for code, _ in settings.LANGUAGES}
        language = chosen if chosen in supported else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response
