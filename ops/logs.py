"""Logs as JSON lines, each carrying the id of the request it belongs to.

What a request line holds is chosen, not dumped: the method, the URL pattern (``cases/<int:pk>/``,
never the path with its ids), the status and the duration. Never a client address, user agent,
identity, receipt or report text: the public side must not record who reported what.
"""

import contextvars
import json
import logging
import time
import uuid

from django.utils import timezone

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="")

log = logging.getLogger("tipline.requests")

# LogRecord attributes that are plumbing, not content.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class RequestIdFilter(logging.Filter):
    """Stamp every record with the current request's id (empty outside a request)."""

    def filter(self, record):
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "at": timezone.now().isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", ""),
        }
        for key, value in vars(record).items():
            # Values passed with extra={...}; never the request object Django attaches.
            if key not in _STANDARD and key not in entry and key != "request":
                entry[key] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class RequestLogMiddleware:
    """One line per request, and an X-Request-ID header to quote when something went wrong."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        rid = uuid.uuid4().hex
        token = request_id.set(rid)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(token)
        match = getattr(request, "resolver_match", None)
        route = "/" + match.route if match and match.route else "(unmatched)"
        duration = round((time.perf_counter() - started) * 1000, 1)
        token = request_id.set(rid)
        try:
            log.info(
                "%s %s %s %sms",
                request.method,
                route,
                response.status_code,
                duration,
                extra={
                    "method": request.method,
                    "route": route,
                    "status": response.status_code,
                    "duration_ms": duration,
                },
            )
        finally:
            request_id.reset(token)
        response["X-Request-ID"] = rid
        return response
