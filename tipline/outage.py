"""When a part the request needs is down: the database (503, retry), the evidence disk (507) or
the object storage of the evidence (503, retry).

The answer never needs the database: the page is rendered without context processors (no user,
no session, no inbox count) from what the request itself holds, and it keeps the text the person
typed, in fields they can copy from or send again (with the form's one-time token, so a resend
that crosses a first post that did go through still files once). Files must be chosen again.
"""

import errno
import logging
import re

from django import forms
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template.loader import get_template
from django.utils.translation import gettext as _

from vault import storage

from . import extensions, submissions
from .forms import FollowUpForm, ReceiptForm, ReportForm

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30
DATABASE_ERRORS = (OperationalError, InterfaceError)
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
# Never written back into a page: passwords, authenticator codes, the CSRF token.
_SECRET = re.compile(r"password|otp|csrf", re.IGNORECASE)


def database_down(exc: BaseException | None) -> bool:
    """Whether the exception (or one it was raised from) says the database cannot be reached."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, DATABASE_ERRORS):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def disk_full(exc: BaseException | None) -> bool:
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in DISK_FULL:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def storage_unreachable(exc: BaseException | None) -> bool:
    """Whether the exception says the object storage of the encrypted files did not answer
    (TIPLINE_FILE_STORAGE=s3: no local disk fills up there, but the bucket can be away)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, storage.StorageUnavailable):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def cannot_store_files(exc: BaseException | None) -> bool:
    """The evidence storage cannot take files now (disk full, or object storage away): a report
    can still be sent without its files, and the files added later with the receipt."""
    return disk_full(exc) or storage_unreachable(exc)


def _field(name: str):
    for form_class in (ReportForm, FollowUpForm, ReceiptForm, *extensions.public_forms()):
        field = form_class.base_fields.get(name)
        if field is not None:
            return field
    return None


def typed_fields(request) -> tuple[list[dict], list[dict]]:
    """(visible, hidden): what the request posted, minus secrets and files. Free text is shown
    with its label; choices, receipts and tokens travel along hidden for a resend."""
    if request.method != "POST":
        return [], []
    visible, hidden = [], []
    for name, values in request.POST.lists():
        if _SECRET.search(name) or name == "homepage":
            continue
        field = _field(name)
        if field is not None:
            text_field = isinstance(field, forms.CharField) and not isinstance(
                field.widget, forms.HiddenInput
            )
        for value in values:
            if field is None:  # a form not registered: what looks like words is shown
                text_field = len(value) > 40 or not value.isascii() or " " in value
            if text_field and name != submissions.FIELD and value.strip():
                label = field.label if field is not None and field.label else name
                visible.append({"name": name, "label": label, "value": value})
            elif value:
                hidden.append({"name": name, "value": value})
    return visible, hidden


def _page(request, status, title, message, extra=""):
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"error": message}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    else:
        visible, hidden = typed_fields(request)
        context = {
            "request": request,
            "csrf_token": get_token(request),  # from the cookie: no session, no database
            "title": title,
            "message": message,
            "extra": extra,
            "visible": visible,
            "hidden": hidden,
            "had_files": bool(request.method == "POST" and request.FILES),
        }
        # No request passed: no context processors, so nothing here can query the database.
        html = get_template("unavailable.html").render(context)
        response = HttpResponse(html, status=status)
    response["Cache-Control"] = "no-store"
    return response


def database_unavailable(request):
    response = _page(
        request,
        503,
        _("Temporarily unavailable"),
        _(
            "The system cannot reach its database right now, so your request was not completed "
            "and nothing was saved. Please try again in a minute."
        ),
        _("What you typed is kept below: copy it, or send it again when the system is back."),
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def storage_full_message(exc: BaseException | None = None) -> str:
    if storage_unreachable(exc):
        return _(
            "The storage for evidence files cannot be reached right now, so nothing was saved. "
            "You can send it now without the files, and add them later with your receipt; or "
            "try again later."
        )
    return _(
        "The storage for evidence files is full right now, so nothing was saved. You can send "
        "it now without the files, and add them later with your receipt; or try again later."
    )


def storage_unavailable(request):
    response = _page(
        request,
        503,
        _("Temporarily unavailable"),
        _(
            "The storage for evidence files cannot be reached right now, so your request was "
            "not completed and nothing was saved. Please try again in a minute."
        ),
        _("What you typed is kept below."),
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def storage_full(request):
    return _page(
        request,
        507,
        _("No room for files"),
        storage_full_message(),
        _("What you typed is kept below."),
    )


class OutageMiddleware:
    """A view that fails because the database or the evidence disk is unavailable answers 503
    (or 507) in the visitor's language instead of a 500; tipline.errors.server_error does the
    same for failures outside views (e.g. a session read by a middleware)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return for_exception(request, exception)


def for_exception(request, exception):
    """The outage answer for this exception, or None when it is not an outage."""
    if database_down(exception):
        log.warning("database unavailable", extra={"error": type(exception).__name__})
        return database_unavailable(request)
    if disk_full(exception):
        log.warning("evidence storage full", extra={"error": "ENOSPC"})
        return storage_full(request)
    if storage_unreachable(exception):
        log.warning("evidence storage unreachable", extra={"error": type(exception).__name__})
        return storage_unavailable(request)
    return None
