"""OpenAPI 3 description of the public API, built from the report form so the two cannot drift."""

from django import forms

from .extensions import status_fields
from .models import Category, Report

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

_DESCRIPTIONS = {
    "township": "Township code, e.g. zhongshui.",
    "occurred_on": "ISO date (YYYY-MM-DD), not in the future.",
    "subject_phone": "Phone number of the reported person or business (mobile or landline).",
    "reporter_phone": "Optional. Mainland China mobile number; needed for a bank-transfer reward.",
    "reporter_id_number": "Optional. 18-character resident ID number with a valid check digit.",
    "reporter_name": "Optional. Stored encrypted; never shown to staff without approval.",
    "news_by_sms": "Optional. true: text reporter_phone (then required) when there is news; "
    "the message says only that there is news, never what.",
}


def _field_schema(name: str, field: forms.Field) -> dict:
    if name in BOOLEAN_FIELDS:
        return {"type": "boolean", "description": _DESCRIPTIONS[name]}
    out: dict = {"type": "string"}
    if name == "category":
        out["enum"] = list(Category.values)
    if name == "occurred_on":
        out["format"] = "date"
    if getattr(field, "max_length", None):
        out["maxLength"] = field.max_length
    if getattr(field, "min_length", None):
        out["minLength"] = field.min_length
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


def schema() -> dict:
    from .forms import ReportForm

    form = ReportForm(with_files=False)
    props = {name: _field_schema(name, form.fields[name]) for name in REPORT_FIELDS}
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
                    "properties": {"receipt": {"type": "string", "maxLength": 64}},
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
