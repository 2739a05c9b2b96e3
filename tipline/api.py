"""JSON API for hotline systems and mobile apps: the same form, the same service, JSON in and out.

No cookies or sessions are involved, so CSRF does not apply. Every failure is a 4xx JSON body
with a message per field; nothing is written unless the whole report is valid.
"""

import json
import re
from datetime import date

from django.conf import settings
from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from . import extensions, receipts, services, throttle
from .forms import ReceiptForm, ReportForm
from .models import Channel
from .openapi import BOOLEAN_FIELDS, REPORT_FIELDS, receipt_properties, report_properties, schema


class ApiError(Exception):
    def __init__(self, status: int, message: str, errors: dict | None = None, headers=None):
        super().__init__(message)
        self.status, self.message, self.errors, self.headers = status, message, errors, headers


def _error(exc: ApiError) -> JsonResponse:
    body = {"error": exc.message}
    if exc.errors:
        body["errors"] = exc.errors
    response = JsonResponse(body, status=exc.status, json_dumps_params={"ensure_ascii": False})
    for key, value in (exc.headers or {}).items():
        response[key] = value
    return response


def _is_text(value) -> bool:
    """False for a string that is not valid Unicode text (holds a lone surrogate)."""
    if not isinstance(value, str):
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _require_post(request) -> None:
    if request.method != "POST":
        raise ApiError(405, _("Use POST."), headers={"Allow": "POST"})


def _json_body(request, allowed: set[str], booleans=frozenset()) -> dict:
    _require_post(request)
    if request.content_type != "application/json":
        raise ApiError(415, _("Send the request as application/json."))
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > settings.TIPLINE_API_MAX_BODY_BYTES:
        raise ApiError(413, _("The request is too large."))
    body = request.body
    if len(body) > settings.TIPLINE_API_MAX_BODY_BYTES:
        raise ApiError(413, _("The request is too large."))
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: [[[[...
        raise ApiError(400, _("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise ApiError(400, _("The request body must be a JSON object."))
    # "\ud800" escapes decode to lone surrogates, which cannot be stored or echoed back as UTF-8.
    if not all(_is_text(k) and _is_text(v) for k, v in data.items()):
        raise ApiError(400, _("The request body is not valid JSON."))
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ApiError(
            400,
            _("The request has fields this API does not know."),
            {name: [_("Unknown field.")] for name in unknown},
        )
    bad = {
        k: [_("Must be true or false.") if k in booleans else _("Must be a string.")]
        for k, v in data.items()
        if v is not None and not isinstance(v, bool if k in booleans else str)
    }
    if bad:
        raise ApiError(400, _("Some fields are not valid."), bad)
    return {k: v for k, v in data.items() if v is not None}


def _schema_errors(data: dict, properties: dict) -> dict:
    """Fields the published schema refuses. The API holds requests to its schema exactly, so a
    client can rely on the document; the web form is more forgiving of what people type."""
    errors = {}
    for name, value in data.items():
        rules = properties.get(name)
        if rules is None or not isinstance(value, str):
            continue  # unknown fields and wrong types are refused before this
        if "enum" in rules and value not in rules["enum"]:
            problem = _("Use one of the values listed in the API document.")
        elif len(value) > rules.get("maxLength", len(value)):
            problem = _("At most %(n)d characters.") % {"n": rules["maxLength"]}
        elif len(value) < rules.get("minLength", 0):
            problem = _("At least %(n)d characters.") % {"n": rules["minLength"]}
        elif "pattern" in rules and not re.fullmatch(rules["pattern"][1:-1], value):
            problem = _("Not in the form the API document describes for this field.")
        elif rules.get("format") == "date" and not _is_date(value):
            problem = _("Enter a real date as YYYY-MM-DD.")
        else:
            continue
        errors[name] = [problem]
    return errors


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _all_errors(form, data: dict, properties: dict) -> dict:
    """The form's messages (the most helpful), then what only the schema refuses."""
    errors = _form_errors(form) if not form.is_valid() else {}
    for name, messages in _schema_errors(data, properties).items():
        errors.setdefault(name, messages)
    return errors


def _form_errors(form) -> dict:
    return {
        field: [str(e["message"]) for e in errs]
        for field, errs in form.errors.get_json_data().items()
    }


def _throttle_error(exc: throttle.Throttled) -> ApiError:
    if exc.retry_after < 60:
        message = ngettext(
            "Too many attempts. Please wait %(seconds)d second and try again.",
            "Too many attempts. Please wait %(seconds)d seconds and try again.",
            exc.retry_after,
        ) % {"seconds": exc.retry_after}
    else:
        message = ngettext(
            "Too many attempts. Please wait %(minutes)d minute and try again.",
            "Too many attempts. Please wait %(minutes)d minutes and try again.",
            exc.minutes,
        ) % {"minutes": exc.minutes}
    return ApiError(429, message, headers={"Retry-After": str(exc.retry_after)})


def api_view(func):
    def wrapper(request, *args, **kwargs):
        try:
            return func(request, *args, **kwargs)
        except ApiError as exc:
            return _error(exc)
        except throttle.Throttled as exc:
            return _error(_throttle_error(exc))

    wrapper.__name__ = func.__name__
    return never_cache(csrf_exempt(wrapper))


@api_view
def create_report(request):
    _require_post(request)
    # Counted before the body is read: malformed and invalid attempts use up the limit too.
    throttle.admit_report_attempt(request.client_bucket)
    data = _json_body(request, set(REPORT_FIELDS), BOOLEAN_FIELDS)
    form = ReportForm(data, with_files=False)
    errors = _all_errors(form, data, report_properties(form, townships=False))
    if errors:
        raise ApiError(400, _("Some fields are not valid."), errors)
    throttle.admit_filing(request.client_bucket)
    report, receipt = services.create_report(form.to_input(), channel=Channel.API)
    return JsonResponse(
        {
            "receipt": receipt,
            "receipt_display": receipts.grouped(receipt),
            "received_at": report.received_at.isoformat(),
            "status": report.status,
        },
        status=201,
    )


@api_view
def receipt_status(request):
    data = _json_body(request, {"receipt"})
    form = ReceiptForm(data)
    errors = _all_errors(form, data, receipt_properties())
    if errors:
        raise ApiError(400, _("Some fields are not valid."), errors)
    report = services.lookup_receipt(
        form.cleaned_data["receipt"], request.client_bucket, request.client_network
    )
    if report is None:
        raise ApiError(404, _("No report has this receipt number."))
    view = services.reporter_view(report)
    return JsonResponse(
        {
            "status": view["status"],
            "status_label": view["status_label"],
            "received_at": view["received_at"].isoformat(),
            "messages": [
                {"from": m["from"], "body": m["body"], "at": m["at"].isoformat()}
                for m in view["messages"]
            ],
            **{field.name: field.value(report) for field in extensions.status_fields()},
        },
        json_dumps_params={"ensure_ascii": False},
    )


@require_GET
def openapi(request):
    return JsonResponse(schema(), json_dumps_params={"ensure_ascii": False, "indent": 2})
