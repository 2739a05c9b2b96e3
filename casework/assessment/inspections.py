"""Changes to the 1000-point sheet: the county's template, the inspectors' points per township
and round, the entered bonuses and deductions, with their evidence. One function per change:
permission, lock, scope, rules, save and audit entry in one transaction (as services.py).

Who may do what: the county's inspectors (``assessment.inspect_township``, county staff only)
enter points and adjustments; the county's administrator (who freezes the year) edits the
template; a township's own staff only read their sheet. Every change locks the county row, as
freezing does, so nothing is entered into a year while it is being frozen, and nothing after.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from org import scope
from org.models import County, Township
from vault import storage

from .. import audit
from ..audit_catalogue import Action
from ..errors import ServiceError
from . import sheet
from .models import AssessmentFreeze, InspectionEntry, SheetAdjustment, SheetEvidence, SheetItem
from .services import PERM_FREEZE, _check_year, _require, require_county

PERM_INSPECT = "assessment.inspect_township"
PERM_TEMPLATE = PERM_FREEZE  # the county's administrator, who signs the year off
CENT = Decimal("0.01")


class EntryRefused(ServiceError):
    """A value the sheet refuses, shown at its field (``field``: the form's field name)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field


@dataclass
class ItemInput:
    """What an inspector entered for one item in one round."""

    points: object
    note: str = ""
    files: list = field(default_factory=list)  # tipline.attachments.CleanFile


def _lock_county(county_id: int, year: int, user) -> County:
    """The county row locked (as freeze_year locks it), its staff only, the year not frozen."""
    try:
        county = County.objects.select_for_update().get(pk=county_id)
    except County.DoesNotExist:
        raise scope.OutOfScope from None
    require_county(user, county.pk)
    if AssessmentFreeze.objects.filter(county=county, year=year).exists():
        raise ServiceError(
            _("The assessment of %(year)d is frozen: it can no longer be changed.") % {"year": year}
        )
    return county


def _township(township_id) -> Township:
    try:
        return Township.objects.get(pk=township_id)
    except (Township.DoesNotExist, ValueError, TypeError):
        raise scope.OutOfScope from None


def _points(value, maximum: Decimal, field_name: str, title: str) -> Decimal:
    try:
        points = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise EntryRefused(_("Enter a number of points."), field_name) from None
    if not points.is_finite() or points != points.quantize(CENT):
        raise EntryRefused(_("Enter points with at most two decimals."), field_name)
    if points < 0 or points > maximum:
        raise EntryRefused(
            _("%(item)s: enter between 0 and %(max)s points.")
            % {"item": title, "max": _n(maximum)},
            field_name,
        )
    return points


def _n(value: Decimal) -> str:
    return str(int(value)) if value == value.to_integral_value() else f"{value.normalize():f}"


def _file_evidence(files, user, written: list, **owner) -> list[str]:
    """Each file stored encrypted through the vault, like a case document."""
    ids = []
    for clean in files:
        ev = SheetEvidence(
            mime=clean.mime,
            extension=clean.extension,
            size=len(clean.content),
            uploaded_by=user,
            **owner,
        )
        written.append(storage.write(ev, clean.content))
        ev.save()
        ids.append(str(ev.pk))
    return ids


def _unlink(written: list) -> None:
    for path in written:
        path.unlink(missing_ok=True)


# --- the template --------------------------------------------------------------------------


def seed_template(county: County, year: int, user) -> list[SheetItem]:
    """The county's items of the year, created from the rulebook the first time (call it with
    the county locked)."""
    rows = list(SheetItem.objects.filter(county=county, year=year).order_by("order", "code"))
    if rows:
        return rows
    rows = SheetItem.objects.bulk_create(
        SheetItem(
            county=county,
            year=year,
            code=spec.code,
            section=spec.section,
            title=spec.title,
            max_points=spec.max,
            scoring=spec.scoring,
            order=i,
        )
        for i, spec in enumerate(sheet.DEFAULT_TEMPLATE)
    )
    audit.record(
        user,
        Action.SHEET_SEEDED,
        county,
        county=county.code,
        year=year,
        total=_n(sheet.template_max(sheet.DEFAULT_TEMPLATE)),
    )
    return list(SheetItem.objects.filter(county=county, year=year).order_by("order", "code"))


def change_template(county_id, year: int, changes: dict, user) -> int:
    """Edit items of the county's sheet before the year is frozen: ``changes`` maps an item
    code to (rule text, maximum, scoring). A computed item keeps its maximum and scoring (the
    system fills it); an entered item cannot become a computed one, nor get a maximum below
    the points already entered. Returns how many items changed."""
    _require(user, PERM_TEMPLATE)
    _check_year(year)
    changed = 0
    with transaction.atomic():
        county = _lock_county(county_id, year, user)
        items = {i.code: i for i in seed_template(county, year, user)}
        for code, (title, maximum, scoring_) in changes.items():
            item = items.get(code)
            if item is None:
                raise ServiceError(_("There is no such item on the sheet."))
            title = (title or "").strip()
            if not title:
                raise EntryRefused(_("Give the item's rule."), f"title_{code}")
            maximum = _points(maximum, Decimal(1000), f"max_{code}", title)
            if item.scoring in sheet.AUTOMATIC:
                if maximum != item.max_points or scoring_ != item.scoring:
                    raise EntryRefused(
                        _("%(item)s is computed by the system: only its rule text can change.")
                        % {"item": item.title},
                        f"max_{code}",
                    )
            elif scoring_ not in (sheet.LATEST, sheet.ROUNDS):
                raise EntryRefused(_("Choose how the item is scored."), f"scoring_{code}")
            entered = list(item.entries.values_list("township_id", "points"))
            if entered and item.scoring not in sheet.AUTOMATIC:
                per_township: dict[int, list[Decimal]] = {}
                for township_id, points in entered:
                    per_township.setdefault(township_id, []).append(points)
                biggest = max(
                    sum(p) if scoring_ == sheet.ROUNDS else max(p) for p in per_township.values()
                )
                if biggest > maximum:
                    raise EntryRefused(
                        _(
                            "%(item)s: %(points)s points are already entered; the maximum "
                            "cannot be lower."
                        )
                        % {"item": title, "points": _n(biggest)},
                        f"max_{code}",
                    )
            before = (item.title, item.max_points, item.scoring)
            if before == (title, maximum, scoring_):
                continue
            item.title, item.max_points, item.scoring = title, maximum, scoring_
            item.save(update_fields=["title", "max_points", "scoring"])
            audit.record(
                user,
                Action.SHEET_ITEM_CHANGED,
                item,
                county=county.code,
                year=year,
                item=code,
                old=[before[0], _n(before[1]), before[2]],
                new=[title, _n(maximum), scoring_],
            )
            changed += 1
    return changed


# --- inspection entries ----------------------------------------------------------------------


def enter_round(township_id, year: int, round_: str, values: dict, user) -> list[InspectionEntry]:
    """An inspector's points for a township in one round: ``values`` maps an item code to an
    ItemInput. All or nothing: one refused value changes nothing. Entering a round again
    corrects that round's entry (the audit entry keeps the points before); other rounds stay."""
    _require(user, PERM_INSPECT)
    _check_year(year)
    if round_ not in sheet.ROUND_ORDER:
        raise ServiceError(_("Choose the inspection round."))
    township = _township(township_id)
    written: list = []
    saved = []
    try:
        with transaction.atomic():
            county = _lock_county(township.county_id, year, user)
            if not values:
                return []  # nothing filled in: the template is not seeded for nothing
            items = {i.code: i for i in seed_template(county, year, user)}
            for code, value in values.items():
                item = items.get(code)
                if item is None:
                    raise ServiceError(_("There is no such item on the sheet."))
                if item.scoring in sheet.AUTOMATIC:
                    raise EntryRefused(
                        _("%(item)s is computed by the system and cannot be entered.")
                        % {"item": item.title},
                        f"points_{code}",
                    )
                points = _points(value.points, item.max_points, f"points_{code}", item.title)
                rounds = {
                    e.round: e for e in InspectionEntry.objects.filter(item=item, township=township)
                }
                if item.scoring == sheet.ROUNDS:
                    others = sum((e.points for r, e in rounds.items() if r != round_), Decimal(0))
                    if others + points > item.max_points:
                        raise EntryRefused(
                            _(
                                "%(item)s: the rounds together may not exceed %(max)s points "
                                "(%(others)s already entered in other rounds)."
                            )
                            % {
                                "item": item.title,
                                "max": _n(item.max_points),
                                "others": _n(others),
                            },
                            f"points_{code}",
                        )
                note = (value.note or "").strip()[:500]
                row = rounds.get(round_)
                old = None if row is None else row.points
                if row is not None and (row.points, row.note) == (points, note) and not value.files:
                    continue
                if row is None:
                    row = InspectionEntry(item=item, township=township, round=round_)
                row.points, row.note = points, note
                row.entered_by, row.entered_at = user, timezone.now()
                row.save()
                evidence = _file_evidence(value.files, user, written, entry=row)
                audit.record(
                    user,
                    Action.INSPECTION_ENTERED,
                    row,
                    township=township.code,
                    year=year,
                    item=code,
                    round=round_,
                    old=None if old is None else _n(old),
                    new=_n(points),
                    note=note,
                    evidence=evidence,
                )
                saved.append(row)
    except BaseException:
        _unlink(written)
        raise
    return saved


# --- bonuses, deductions and bottom-band findings ----------------------------------------------


def add_adjustment(
    township_id, year: int, kind: str, on: date, note: str, files, user
) -> SheetAdjustment:
    """第二十四条 1–3 or 第二十五条 1–2, with the date it happened and its evidence (at least one
    file); the points are the kind's (sheet.KINDS)."""
    _require(user, PERM_INSPECT)
    _check_year(year)
    if kind not in sheet.KINDS:
        raise EntryRefused(_("Choose what happened."), "kind")
    if not isinstance(on, date) or on.year != year or on > timezone.localdate():
        raise EntryRefused(
            _("Give a date in %(year)d, not in the future.") % {"year": year}, "date"
        )
    if not files:
        raise EntryRefused(_("Attach the notice, commendation or record behind it."), "files")
    township = _township(township_id)
    written: list = []
    try:
        with transaction.atomic():
            _lock_county(township.county_id, year, user)
            row = SheetAdjustment.objects.create(
                township=township,
                year=year,
                kind=kind,
                date=on,
                note=(note or "").strip()[:500],
                entered_by=user,
                entered_at=timezone.now(),
            )
            evidence = _file_evidence(files, user, written, adjustment=row)
            audit.record(
                user,
                Action.ADJUSTMENT_ENTERED,
                row,
                township=township.code,
                year=year,
                kind=kind,
                points=_n(row.points),
                date=on.isoformat(),
                note=row.note,
                evidence=evidence,
            )
    except BaseException:
        _unlink(written)
        raise
    return row


def withdraw_adjustment(adjustment_id, reason: str, user) -> SheetAdjustment:
    """An adjustment entered by mistake stops counting; it stays on the sheet, shown as
    withdrawn with who, when and why (refused once the year is frozen)."""
    _require(user, PERM_INSPECT)
    reason = (reason or "").strip()[:500]
    if not reason:
        raise EntryRefused(_("Say why it is withdrawn."), "reason")
    row = SheetAdjustment.objects.filter(pk=adjustment_id).select_related("township").first()
    if row is None:
        raise scope.OutOfScope
    with transaction.atomic():
        _lock_county(row.township.county_id, row.year, user)
        row = SheetAdjustment.objects.select_for_update().get(pk=row.pk)
        if row.withdrawn_at is not None:
            raise ServiceError(_("This was already withdrawn."))
        row.withdrawn_by, row.withdrawn_at, row.withdrawn_reason = user, timezone.now(), reason
        row.save(update_fields=["withdrawn_by", "withdrawn_at", "withdrawn_reason"])
        audit.record(
            user,
            Action.ADJUSTMENT_WITHDRAWN,
            row,
            township=row.township.code,
            year=row.year,
            kind=row.kind,
            points=_n(row.points),
            reason=reason,
        )
    return row
