"""OpenAPI 3 description of the public API, built from the report form so the two cannot drift."""

from django import forms
from django.conf import settings

from org.models import Township

from .extensions import status_fields
from .forms import ReportForm
from .models import Category, Report
from .text import INVISIBLE_BMP_CLASS

REPORT_FIELDS = (
    "category",
    "township",
    "description",
    "occurred_on",
    "subject_name",
    "subject_address",
    "subject_phone",
    "reporter_name",
    "reporter_phone",
    "reporter_id_number",
    "news_by_sms",
)
# JSON booleans; every other field is a string.
BOOLEAN_FIELDS = frozenset({"news_by_sms"})

# What the API accepts, field by field. The API checks every request against these patterns
# before the form does (tipline.api), so the document is exactly as strict as the server: the
# patterns describe plain forms the form always accepts (the web form is more forgiving of
# what people type: full-width digits, brackets, stray characters it removes).
_VISIBLE_SPACE = r"\t\n\r \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_NOT_TEXT = INVISIBLE_BMP_CLASS  # control, zero-width and direction characters
_LINE = rf"[^{_NOT_TEXT}\t\n\r]*"
PATTERNS = {
    # At least ten characters besides spaces and line breaks, nothing invisible.
    "description": f"(?:[{_VISIBLE_SPACE}]*[^{_VISIBLE_SPACE}{_NOT_TEXT}]){{10}}[^{_NOT_TEXT}]*",
    "subject_name": _LINE,
    "subject_address": _LINE,
    "reporter_name": _LINE,
    "occurred_on": "[0-9]{4}-[0-9]{2}-[0-9]{2}",
    # 5 to 16 digits, single spaces or dashes between them, an optional leading +; a number
    # that starts with 0086 then needs at least 7 digits (the 00 is dropped).
    "subject_phone": "(?!0[ -]?0[ -]?8[ -]?6(?:[ -]?[0-9]){0,2}$)\\+?[0-9](?:[ -]?[0-9]){4,15}",
    "reporter_phone": "(?:\\+86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]){8}",
    "reporter_id_number": "[1-9][0-9]{16}[0-9X]",
}
_FORMATS = {"occurred_on": "date", "reporter_id_number": "cn-resident-id"}

_DESCRIPTIONS = {
    "township": "Township code, e.g. zhongshui (the townships currently taking reports).",
    "description": "What happened: at least 10 characters besides spaces; no control, "
    "zero-width or text-direction characters.",
    "occurred_on": "ISO date (YYYY-MM-DD), from 1900-01-01 to today.",
    "subject_phone": "Phone number of the reported person or business (mobile or landline): "
    "5 to 16 digits, optionally a leading + and single spaces or dashes between digits.",
    "reporter_phone": "Optional. Mainland China mobile number (11 digits, optionally +86 and "
    "single spaces or dashes); needed for a bank-transfer reward.",
    "reporter_id_number": "Optional. 18-character resident ID number (GB 11643): a real date "
    "of birth and a valid check digit (upper-case X).",
    "reporter_name": "Optional. Stored encrypted; never shown to staff without approval.",
    "news_by_sms": "Optional. true: text reporter_phone (then required) when there is news; "
    "the message says only that there is news, never what.",
}


def receipt_pattern() -> str:
    """16 digits, optionally grouped in fours by single spaces or dashes."""
    groups = settings.TIPLINE_RECEIPT_DIGITS // 4
    return f"[0-9]{{4}}(?:[ -]?[0-9]{{4}}){{{groups - 1}}}"


def anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def _field_schema(name: str, field: forms.Field, *, townships: bool = True) -> dict:
    if name in BOOLEAN_FIELDS:
        # null means "not given", as for every optional field
        return {"type": "boolean", "nullable": True, "description": _DESCRIPTIONS[name]}
    out: dict = {"type": "string"}
    if name == "category":
        out["enum"] = list(Category.values)
    if name == "township" and townships:
        out["enum"] = list(
            Township.objects.filter(active=True).order_by("code").values_list("code", flat=True)
        )
    if name in _FORMATS:
        out["format"] = _FORMATS[name]
    if getattr(field, "max_length", None):
        out["maxLength"] = field.max_length
    if getattr(field, "min_length", None):
        out["minLength"] = field.min_length
    if name in PATTERNS:
        # Optional fields may also be empty (or null), meaning "not given"; a date only null.
        empty_allowed = not field.required and _FORMATS.get(name) != "date"
        pattern = f"(?:{PATTERNS[name]})?" if empty_allowed else PATTERNS[name]
        out["pattern"] = anchored(pattern)
    if not field.required:
        out["nullable"] = True
    if name in _DESCRIPTIONS:
        out["description"] = _DESCRIPTIONS[name]
    return out


def _error_schema() -> dict:
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    }


def _responses(ok_code: str, ok_schema: str, *codes: str) -> dict:
    texts = {
        "400": "Invalid request; `errors` names each bad field.",
        "404": "No report has this receipt.",
        "413": "Body too large.",
        "415": "Not application/json.",
        "429": "Too many attempts; see Retry-After.",
    }
    out = {
        ok_code: {
            "description": "OK",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{ok_schema}"}}
            },
        }
    }
    for code in codes:
        out[code] = {
            "description": texts[code],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return out


def report_properties(form: ReportForm | None = None, *, townships: bool = True) -> dict:
    """ReportIn's properties, from ``form``'s fields (a new form's if None). The API checks each
    request against them with ``townships=False``: no list of townships (a query per report),
    since the form's township field refuses exactly the codes that list leaves out."""
    form = form or ReportForm(with_files=False)
    return {
        name: _field_schema(name, form.fields[name], townships=townships) for name in REPORT_FIELDS
    }


def receipt_properties() -> dict:
    """ReceiptIn's properties."""
    return {
        "receipt": {
            "type": "string",
            "maxLength": 64,
            "pattern": anchored(receipt_pattern()),
            "description": "The receipt, as given when the report was filed.",
        }
    }


def schema() -> dict:
    form = ReportForm(with_files=False)
    props = report_properties(form)
    required = [name for name in REPORT_FIELDS if form.fields[name].required]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Tipline public API",
            "version": "1",
            "description": "File anonymous reports and follow them with the receipt. "
            "The receipt is returned once and cannot be recovered.",
        },
        "paths": {
            "/api/v1/reports": {
                "post": {
                    "summary": "File a report",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ReportIn"}
                            }
                        },
                    },
                    "responses": _responses("201", "ReportCreated", "400", "413", "415", "429"),
                }
            },
            "/api/v1/receipt/status": {
                "post": {
                    "summary": "Status of a report, by receipt",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/ReceiptIn"}
                            }
                        },
                    },
                    "responses": _responses(
                        "200", "ReportStatus", "400", "404", "413", "415", "429"
                    ),
                }
            },
        },
        "components": {
            "schemas": {
                "ReportIn": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": required,
                    "properties": props,
                    # A text when there is news needs the number to send it to.
                    "anyOf": [
                        {
                            "properties": {
                                "news_by_sms": {
                                    "type": "boolean",
                                    "nullable": True,
                                    "enum": [False, None],
                                }
                            }
                        },
                        {
                            "required": ["reporter_phone"],
                            "properties": {"reporter_phone": {"type": "string", "minLength": 1}},
                        },
                    ],
                },
                "ReportCreated": {
                    "type": "object",
                    "required": ["receipt"],
                    "properties": {
                        "receipt": {"type": "string", "pattern": "^[0-9]{16}$"},
                        "receipt_display": {"type": "string"},
                        "received_at": {"type": "string", "format": "date-time"},
                        "status": {"type": "string", "enum": list(Report.Status.values)},
                    },
                },
                "ReceiptIn": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["receipt"],
                    "properties": receipt_properties(),
                },
                "ReportStatus": {
                    "type": "object",
                    "required": ["status", "messages", *(f.name for f in status_fields())],
                    "properties": {
                        "status": {"type": "string", "enum": list(Report.Status.values)},
                        "status_label": {"type": "string"},
                        "received_at": {"type": "string", "format": "date-time"},
                        "messages": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {
                                    "from": {"type": "string", "enum": ["reporter", "staff"]},
                                    "body": {"type": "string"},
                                    "at": {"type": "string", "format": "date-time"},
                                },
                            },
                        },
                        # Fields the layers above add (tipline.extensions), e.g. the reward.
                        **{f.name: f.schema for f in status_fields()},
                    },
                },
                "Error": _error_schema(),
            }
        },
    }
