"""The rewards ledger: rewards by month, township and state, and totals per state, derived from
the reward rows every time (never kept as running totals). No identity or payee field ever
enters it: it is built from a fixed list of columns.

A reward belongs to the month it was proposed (local time); its state is its state now.

The same rows have two renderings: ``Ledger.as_json`` (the machine contract of the
``reward_ledger`` command: its keys are codes) and the files people read (``to_csv``,
``to_xlsx``: Chinese headers and sheet names, townships, states and outcomes by name, staff by
full name), whatever the language of the page that asked for them.
"""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import ExtractMonth
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook

from org.models import Township
from org.people import display_name

from .models import Reward
from .states import Outcome, RewardState

COLUMNS = ("month", "township", "township_name", "state", "count", "amount")
REWARD_COLUMNS = (
    "case",
    "township",
    "month",
    "state",
    "amount",
    "outcome",
    "proposed_on",
    "claim_due",
    "paid_on",
    "voucher_number",
)


@dataclass
class Ledger:
    year: int
    rows: list[dict]
    totals: dict[str, dict]
    rewards: list[dict]
    # For the files people read, never the JSON: {township code: name}, and the staff behind each
    # reward by full name ({case number: {"proposed_by", "approved_by", "paid_by"}}).
    township_names: dict[str, str] = field(default_factory=dict)
    people: dict[str, dict[str, str]] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {
            "year": self.year,
            "currency": "CNY",
            "rows": self.rows,
            "totals": self.totals,
            "rewards": self.rewards,
        }


def _year_bounds(year: int):
    tz = ZoneInfo(settings.TIME_ZONE)
    return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)


def rewards_of(year: int, townships):
    """The rewards proposed in the year in ``townships`` (a queryset or list of them or of their
    ids; None: every township), oldest first."""
    start, end = _year_bounds(year)
    rewards = Reward.objects.filter(proposed_at__gte=start, proposed_at__lt=end)
    if townships is not None:
        rewards = rewards.filter(township__in=townships)
    return rewards.order_by("proposed_at", "pk")


class Figures:
    """The year's rewards by month, township and state, grouped by the database in one GROUP
    BY whatever the number of rewards, and the totals per state. Each row's dict is built only
    when asked for: a page of them (a province has thousands of rows) or all of them (a file).

    A sequence of rows (``len``, index, slice), so that a paginator pages it."""

    def __init__(self, year: int, townships):
        tz = ZoneInfo(settings.TIME_ZONE)
        # Grouped by the township's id and the month as a number (the year is the one asked
        # for): no join and no text to group by, no date to convert per row. A township's code
        # is unique: its id groups the same rewards as its code and name.
        grouped = list(
            rewards_of(year, townships)
            .order_by()
            .annotate(month=ExtractMonth("proposed_at", tzinfo=tz))
            .values_list("month", "township_id", "state")
            .annotate(count=Count("pk"), amount=Sum("amount"))
        )
        named = Township.objects.filter(pk__in={g[1] for g in grouped}).order_by()
        places = {pk: (code, name) for pk, code, name in named.values_list("pk", "code", "name")}
        # By month, township (code, then name) and state.
        rank = {pk: i for i, pk in enumerate(sorted(places, key=places.__getitem__))}
        grouped.sort(key=lambda g: (g[0], rank[g[1]], g[2]))
        totals = {state: [0, Decimal("0.00")] for state in RewardState.values}
        groups = []
        for month, township, state, count, amount in grouped:
            code, name = places[township]
            groups.append((f"{year:04d}-{month:02d}", code, name, state, count, amount))
            total = totals[state]
            total[0] += count
            total[1] += amount
        self.groups = groups
        self.totals = {s: {"count": n, "amount": f"{a:.2f}"} for s, (n, a) in totals.items()}
        # Every reward of the year once: the number the list of rewards pages through.
        self.count = sum(n for n, _a in totals.values())

    def __len__(self):
        return len(self.groups)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [_row(g) for g in self.groups[index]]
        return _row(self.groups[index])

    @property
    def rows(self) -> list[dict]:
        return self[:]


def _row(group) -> dict:
    month, code, name, state, count, amount = group
    return {
        "month": month,
        "township": code,
        "township_name": name,
        "state": state,
        "count": count,
        "amount": f"{amount:.2f}",
    }


def summary(year: int, townships) -> tuple[list[dict], dict]:
    """(rows by month, township and state; totals per state): every row of ``Figures``."""
    figures = Figures(year, townships)
    return figures.rows, figures.totals


def detail(reward) -> dict:
    """One reward as the ledger lists it (select_related township, case and payment)."""
    tz = ZoneInfo(settings.TIME_ZONE)
    payment = getattr(reward, "payment", None)
    return {
        "case": reward.case.number,
        "township": reward.township.code,
        "month": reward.proposed_at.astimezone(tz).strftime("%Y-%m"),
        "state": reward.state,
        "amount": f"{reward.amount:.2f}",
        "outcome": reward.outcome,
        "proposed_on": reward.proposed_at.astimezone(tz).date().isoformat(),
        "claim_due": reward.claim_due.isoformat() if reward.claim_due else "",
        "paid_on": payment.paid_on.isoformat() if payment else "",
        "voucher_number": payment.voucher_number if payment else "",
    }


def build(year: int, townships) -> Ledger:
    """The whole ledger, every reward listed (the exports; the page lists a page of them)."""
    rows, totals = summary(year, townships)
    rewards = list(
        rewards_of(year, townships).select_related(
            "township", "case", "payment", "payment__paid_by", "proposed_by", "approved_by"
        )
    )
    names = {r["township"]: r["township_name"] for r in rows}
    names.update({r.township.code: r.township.name for r in rewards})
    return Ledger(
        year=year,
        rows=rows,
        totals=totals,
        rewards=[detail(r) for r in rewards],
        township_names=names,
        people={r.case.number: people_of(r) for r in rewards},
    )


def people_of(reward) -> dict[str, str]:
    payment = getattr(reward, "payment", None)

    def name(user):
        return display_name(user) if user else ""

    return {
        "proposed_by": name(reward.proposed_by),
        "approved_by": name(reward.approved_by),
        "paid_by": name(payment.paid_by) if payment else "",
    }


# --- what people read: the page and the files ---


def labelled(items):
    """The rows (or rewards) with their state's label beside the code, for the page."""
    labels = {}
    out = []
    for item in items:
        state = item["state"]
        label = labels.get(state)
        if label is None:
            label = labels[state] = state_label(state)
        out.append({**item, "state_label": label})
    return out


def labelled_totals(totals: dict) -> list[dict]:
    return [{"state": s, "state_label": state_label(s), **t} for s, t in totals.items()]


def state_label(code: str) -> str:
    return str(RewardState(code).label) if code in RewardState.values else code


def outcome_label(code: str) -> str:
    return str(Outcome(code).label) if code in Outcome.values else code


def _headers():
    count = _("Number of rewards")
    summary_headers = (_("Month"), _("Township"), _("State"), count, _("Amount (CNY)"))
    totals_headers = (_("State"), count, _("Amount (CNY)"))
    reward_headers = (
        _("Case number"),
        _("Township"),
        _("Month"),
        _("State"),
        _("Amount (CNY)"),
        _("Outcome"),
        _("Proposed on"),
        _("Claim by"),
        _("Paid on"),
        _("Voucher number"),
        _("Proposed by"),
        _("Approved by"),
        _("Paid by"),
    )
    return summary_headers, totals_headers, reward_headers


def _summary_cells(row: dict) -> list:
    return [row["month"], row["township_name"], state_label(row["state"]), row["count"]]


def _reward_cells(ledger: Ledger, item: dict) -> list:
    people = ledger.people.get(item["case"], {})
    return [
        item["case"],
        ledger.township_names.get(item["township"], item["township"]),
        item["month"],
        state_label(item["state"]),
        Decimal(item["amount"]),
        outcome_label(item["outcome"]),
        item["proposed_on"],
        item["claim_due"],
        item["paid_on"],
        item["voucher_number"],
        people.get("proposed_by", ""),
        people.get("approved_by", ""),
        people.get("paid_by", ""),
    ]


def to_csv(ledger: Ledger) -> str:
    """The figures by month, township and state, then one total per state (合计)."""
    with translation.override(settings.LANGUAGE_CODE):
        summary_headers, _totals, _rewards = _headers()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(summary_headers)
        for row in ledger.rows:
            writer.writerow([*_summary_cells(row), row["amount"]])
        for state, total in ledger.totals.items():
            writer.writerow([_("Total"), "", state_label(state), total["count"], total["amount"]])
    return out.getvalue()


def to_xlsx(ledger: Ledger) -> bytes:
    """Three sheets: the figures (台账), the totals per state (合计), every reward (奖励明细)."""
    with translation.override(settings.LANGUAGE_CODE):
        summary_headers, totals_headers, reward_headers = _headers()
        book = Workbook()
        sheet = book.active
        sheet.title = _("Ledger %(year)s") % {"year": ledger.year}
        sheet.append(summary_headers)
        for row in ledger.rows:
            sheet.append([*_summary_cells(row), Decimal(row["amount"])])
        totals = book.create_sheet(_("Totals"))
        totals.append(totals_headers)
        for state, total in ledger.totals.items():
            totals.append((state_label(state), total["count"], Decimal(total["amount"])))
        detail_sheet = book.create_sheet(_("Every reward"))
        detail_sheet.append(reward_headers)
        for item in ledger.rewards:
            detail_sheet.append(_reward_cells(ledger, item))
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
