"""The audit log in words, for the audit page and its CSV export: each entry as a sentence with
the person's name ("张三 受理举报并立案（受理）"), its object by name (a case number, a report's
township and time of receipt, a person's full name) and its data as labelled fields.

Names are looked up in one query per kind of object for a whole page (or export chunk) of
entries, never one per entry. Entries hold ids and codes only, never a reporter's identity, and
nothing here adds any.

The apps above the case core (rewards, notifications) name their own objects and values: they
register them here from their AppConfig.ready() (``register_object``, ``register_choices``), so
this module reads none of their models.
"""

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from org.models import County, Township, Unit
from org.people import display_name
from tipline.models import Channel, RejectionReason, Report

from .audit_catalogue import describe as describe_filter
from .audit_catalogue import sentence
from .models import AuditEntry, Case, CaseDocument, DocumentType, IdentityRequest, State
from .repeat_reasons import NotRepeatReason
from .steps import STEPS

# Labels of the keys actions store in their data. A key without a label is shown as it is.
LABELS = {
    "transition": gettext_lazy("step"),
    "source": gettext_lazy("state before"),
    "target": gettext_lazy("state after"),
    "receiving_unit": gettext_lazy("receiving unit"),
    "transferred_on": gettext_lazy("date of transfer"),
    "report": gettext_lazy("report"),
    "case": gettext_lazy("case"),
    "number": gettext_lazy("case number"),
    "reason": gettext_lazy("reason"),
    "channel": gettext_lazy("channel"),
    "received_at": gettext_lazy("received"),
    "reference": gettext_lazy("reference"),
    "unit": gettext_lazy("unit"),
    "investigator": gettext_lazy("investigator"),
    "previous": gettext_lazy("before"),
    "old_due": gettext_lazy("old deadline"),
    "new_due": gettext_lazy("new deadline"),
    "document": gettext_lazy("document"),
    "type": gettext_lazy("document type"),
    "version": gettext_lazy("version"),
    "replaces": gettext_lazy("replaces"),
    "attachment": gettext_lazy("evidence file"),
    "filter": gettext_lazy("filter"),
    "username": gettext_lazy("user name"),
    "username_hash": gettext_lazy("name typed (hashed)"),
    "device": gettext_lazy("second factor"),
    "other_sessions_ended": gettext_lazy("other sessions ended"),
    "township": gettext_lazy("township"),
    "townships": gettext_lazy("townships"),
    "county": gettext_lazy("county"),
    "year": gettext_lazy("year"),
    "old": gettext_lazy("before"),
    "new": gettext_lazy("after"),
    "net": gettext_lazy("net scores"),
    "total": gettext_lazy("totals on the 1000-point sheet"),
    "item": gettext_lazy("sheet item"),
    "round": gettext_lazy("inspection round"),
    "points": gettext_lazy("points"),
    "date": gettext_lazy("date"),
    "evidence": gettext_lazy("inspection records"),
    "format": gettext_lazy("format"),
    "frozen": gettext_lazy("frozen figures"),
    "amount": gettext_lazy("amount"),
    "outcome": gettext_lazy("outcome"),
    "policy": gettext_lazy("reward policy"),
    "claim_due": gettext_lazy("claim by"),
    "method": gettext_lazy("how"),
    "name_checked": gettext_lazy("name checked"),
    "check_digit_overridden": gettext_lazy("check digit overridden"),
    "failures": gettext_lazy("failed attempts"),
    "voucher_number": gettext_lazy("voucher number"),
    "paid_on": gettext_lazy("paid on"),
    "selection": gettext_lazy("reports considered"),
    "rows": gettext_lazy("rows"),
    "delivery": gettext_lazy("notice"),
    "kind": gettext_lazy("kind"),
    "created": gettext_lazy("new"),
    "effective_from": gettext_lazy("in force from"),
    "default_amount": gettext_lazy("default amount"),
    "cap": gettext_lazy("cap"),
    "claim_window_days": gettext_lazy("working days to claim"),
    "tiers": gettext_lazy("amounts"),
    "note": gettext_lazy("note"),
    "falsified": gettext_lazy("falsified"),
    "reporter_is_staff": gettext_lazy("reporter is staff"),
    "reporter_is_involved": gettext_lazy("reporter is involved"),
    "receipt_issued": gettext_lazy("receipt handed over"),
    "suggested": gettext_lazy("suggested repeats of"),
}

LOGIN_FAILURES = {
    "invalid_username": gettext_lazy("no such user"),
    "wrong_credentials": gettext_lazy("wrong name or password"),
}
DEVICES = {
    "TOTPDevice": gettext_lazy("authenticator app"),
    "BackupCodeDevice": gettext_lazy("backup code"),
}


@dataclass(frozen=True)
class ObjectKind:
    """How the audit page names the objects of one kind another app owns."""

    name: Callable  # (pk: str, obj or None) -> str
    load: Callable | None = None  # (ids) -> {str(pk): obj}, one query for a whole page


_objects: dict[str, ObjectKind] = {}
_choices: dict[str, dict[str, type]] = {}


def register_object(kind: str, name: Callable, load: Callable | None = None) -> None:
    """Name the objects of ``kind`` (an entry's object_type, e.g. "rewards.reward")."""
    _objects[kind] = ObjectKind(name=name, load=load)


def register_choices(keys: Iterable[str], choices: type) -> None:
    """Labels for values stored under these data keys, tried after the core's own (a second
    registration of the same choices replaces the first)."""
    for key in keys:
        _choices.setdefault(key, {})[choices.__qualname__] = choices


def _registered_label(key: str, value) -> str | None:
    for choices in _choices.get(key, {}).values():
        label = _choice_label(choices, value)
        if label:
            return label
    return None


def as_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _choice_label(choices, value) -> str | None:
    try:
        return str(choices(value).label)
    except ValueError:
        return None


def _state_label(key: str, value) -> str:
    return _choice_label(State, value) or _registered_label(key, value) or str(value)


def _yes_no(value) -> str:
    return _("yes") if value else _("no")


class Names:
    """Every name a batch of entries refers to, fetched with one query per kind of object."""

    def __init__(self, entries: list[AuditEntry]):
        wanted = defaultdict(set)
        for e in entries:
            wanted[e.object_type].add(e.object_id)
            data = e.data if isinstance(e.data, dict) else {}
            if data.get("report"):
                wanted["tipline.report"].add(str(data["report"]))
            if data.get("document"):
                wanted["casework.casedocument"].add(str(data["document"]))
            for key in ("investigator",):
                if data.get(key):
                    wanted["auth.user"].add(str(data[key]))
            previous = data.get("previous") if isinstance(data.get("previous"), dict) else {}
            if previous.get("investigator"):
                wanted["auth.user"].add(str(previous["investigator"]))
            for unit in (data.get("unit"), previous.get("unit")):
                if unit:
                    wanted["org.unit"].add(str(unit))
            if data.get("type"):
                wanted["casework.documenttype"].add(str(data["type"]))
            if isinstance(data.get("township"), str):
                wanted["org.township"].add(data["township"])
            # lists and figures by township (an export's townships, a freeze's net scores)
            for codes in (data.get("townships"), data.get("net")):
                if isinstance(codes, list | dict):
                    wanted["org.township"].update(c for c in codes if isinstance(c, str))
            if isinstance(data.get("county"), str):
                wanted["org.county"].add(data["county"])
        self.users = by_pk(get_user_model().objects.all(), wanted["auth.user"], as_int)
        # state too: the case machine reads it whenever a case is loaded
        self.cases = by_pk(
            Case.objects.only("id", "number", "state"), wanted["casework.case"], as_int
        )
        self.reports = by_pk(
            Report.objects.select_related("township").only("id", "received_at", "township__name"),
            wanted["tipline.report"],
            as_uuid,
        )
        self.documents = by_pk(
            CaseDocument.objects.select_related("doc_type").only("id", "title", "doc_type__name"),
            wanted["casework.casedocument"],
            as_uuid,
        )
        self.units = by_pk(Unit.objects.only("id", "name"), wanted["org.unit"], as_int)
        self.identity_requests = by_pk(
            IdentityRequest.objects.select_related("report__township", "report__case").only(
                "id",
                "report__received_at",
                "report__township__name",
                "report__case__number",
                "report__case__state",
            ),
            wanted["casework.identityrequest"],
            as_int,
        )
        self.doc_types = {
            t.code: t.name
            for t in DocumentType.objects.filter(code__in=wanted["casework.documenttype"])
        }
        self.townships = {
            t.code: t.name for t in Township.objects.filter(code__in=wanted["org.township"])
        }
        self.counties = {
            c.code: c.name for c in County.objects.filter(code__in=wanted["org.county"])
        }
        self.county_names = by_pk(County.objects.all(), wanted["org.county"], as_int)
        # The objects of the apps above, each kind loaded by its own app in one query.
        self.registered = {
            kind: spec.load(wanted[kind]) if spec.load and wanted[kind] else {}
            for kind, spec in _objects.items()
        }

    # --- names of things ---

    def user(self, pk) -> str:
        user = self.users.get(str(pk))
        return display_name(user) if user else f"#{pk}"

    def report(self, pk) -> str:
        report = self.reports.get(str(pk))
        return report.reference if report else _("a report no longer held")

    def case(self, pk) -> str:
        case = self.cases.get(str(pk))
        return _("case %(number)s") % {"number": case.number} if case else f"#{pk}"

    def object(self, entry: AuditEntry) -> str:
        kind, pk = entry.object_type, entry.object_id
        if not pk:
            return "—"
        if kind == "casework.case":
            return self.case(pk)
        if kind == "tipline.report":
            return self.report(pk)
        if kind == "auth.user":
            return self.user(pk)
        if kind == "casework.identityrequest":
            req = self.identity_requests.get(str(pk))
            if req is None:
                return _("identity request #%(id)s") % {"id": pk}
            if req.report.case_id:
                return _("identity request #%(id)s (case %(number)s)") % {
                    "id": pk,
                    "number": req.report.case.number,
                }
            return _("identity request #%(id)s (%(report)s)") % {
                "id": pk,
                "report": req.report.reference,
            }
        if kind == "org.county":
            county = self.county_names.get(str(pk))
            return county.name if county else f"#{pk}"
        if kind in _objects:
            return _objects[kind].name(pk, self.registered.get(kind, {}).get(str(pk)))
        try:
            return f"{apps.get_model(kind)._meta.verbose_name} #{pk}"
        except (LookupError, ValueError):
            return f"{kind} #{pk}"

    # --- data fields ---

    def value(self, entry: AuditEntry, key: str, value) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return _yes_no(value)
        if key == "transition":
            step = STEPS.get(value)
            return str(step.label) if step else str(value)
        if key in ("source", "target", "outcome"):
            return _state_label(key, value)
        if key == "report":
            return self.report(value)
        if key == "document":
            doc = self.documents.get(str(value))
            return (doc.title or doc.doc_type.name) if doc else str(value)[:8]
        if key == "type":
            return self.doc_types.get(value, str(value))
        if key == "investigator":
            return self.user(value)
        if key == "unit":
            unit = self.units.get(str(value))
            return unit.name if unit else f"#{value}"
        if key == "previous" and isinstance(value, dict):
            parts = []
            if value.get("unit"):
                parts.append(pair(LABELS["unit"], self.value(entry, "unit", value["unit"])))
            if value.get("investigator"):
                parts.append(pair(LABELS["investigator"], self.user(value["investigator"])))
            return join(parts) or _("nobody assigned")
        if key == "reason" and entry.action == "report.rejected":
            return _choice_label(RejectionReason, value) or str(value)
        if key == "reason" and entry.action == "repeat.overridden":
            return _choice_label(NotRepeatReason, value) or str(value)
        if key == "reason" and value in LOGIN_FAILURES:
            return str(LOGIN_FAILURES[value])
        if key == "channel":
            return _choice_label(Channel, value) or _registered_label(key, value) or str(value)
        if key == "method":
            return _registered_label(key, value) or str(value)
        if key == "device":
            return str(DEVICES.get(value, value))
        if key == "township" and isinstance(value, str):
            return self.townships.get(value, value)
        if key == "county" and isinstance(value, str):
            return self.counties.get(value, value)
        if key in ("policy", "delivery"):
            return f"#{value}"
        if key == "format" and isinstance(value, str):
            return value.upper()  # CSV, XLSX: the names people know the files by
        if key == "filter":
            return describe_filter(value) if value else _("all actions")
        if key in ("amount", "default_amount", "cap"):
            try:
                return _("%(amount)s yuan") % {"amount": f"{Decimal(str(value)):.2f}"}
            except InvalidOperation:
                return str(value)
        if key == "received_at":
            moment = parse_datetime(str(value))
            if moment is not None:
                return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
        if key == "selection" and isinstance(value, list):
            reports = [self.report(item.get("report")) for item in value if isinstance(item, dict)]
            return join(reports) or "—"
        if key == "net" and isinstance(value, dict):
            return join(pair(self.townships.get(k, k), v) for k, v in value.items())
        if key == "townships" and isinstance(value, list):
            return join(self.townships.get(v, str(v)) for v in value)
        if key == "tiers" and isinstance(value, list):
            return join(" ".join(str(part) for part in tier) for tier in value)
        if isinstance(value, list):
            return join(str(v) for v in value)
        if isinstance(value, dict):
            return join(pair(LABELS.get(k, k), v) for k, v in value.items())
        return str(value)

    def fields(self, entry: AuditEntry) -> list[tuple[str, str]]:
        data = entry.data if isinstance(entry.data, dict) else {}
        if entry.action == "case.opened" and "number" in data:
            data = {k: v for k, v in data.items() if k != "number"}  # the object says it
        return [(str(LABELS.get(k, k)), self.value(entry, k, v)) for k, v in data.items()]


def describe(entries) -> list[dict]:
    """Each entry with its actor's name, its sentence, its object's name and its fields."""
    entries = list(entries)
    names = Names(entries)
    rows = []
    for entry in entries:
        actor = display_name(entry.actor) if entry.actor_id else ""
        rows.append(
            {
                "entry": entry,
                "actor": actor or _("the system"),
                "sentence": sentence(entry, actor=actor),
                "object": names.object(entry),
                "fields": names.fields(entry),
            }
        )
    return rows


def by_pk(queryset, ids: Iterable[str], parse) -> dict:
    """{str(pk): object} for the ids that parse, in one query (none when there are none)."""
    keys = {key for key in (parse(i) for i in ids) if key is not None}
    return {str(obj.pk): obj for obj in queryset.filter(pk__in=keys)} if keys else {}


def pair(label, value) -> str:
    return _("%(label)s: %(value)s") % {"label": label, "value": value}


def join(items: Iterable[str]) -> str:
    return _("; ").join(items)


def fields_text(fields: list[tuple[str, str]]) -> str:
    return join(pair(label, value) for label, value in fields)
