"""The rewards ledger: rewards by month, township and state, and totals per state, derived from
the reward rows every time (never kept as running totals). No identity or payee field ever
enters it: it is built from a fixed list of columns.

A reward belongs to the month it was proposed (local time); its state is its state now.
"""

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from .models import Reward
from .states import RewardState

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
    """The rewards proposed in the year in ``townships`` (a queryset or list), oldest first."""
    start, end = _year_bounds(year)
    return Reward.objects.filter(
        township__in=townships, proposed_at__gte=start, proposed_at__lt=end
    ).order_by("proposed_at", "pk")


def summary(year: int, townships) -> tuple[list[dict], dict]:
    """(rows by month, township and state; totals per state), counted by the database in one
    GROUP BY, whatever the number of rewards."""
    tz = ZoneInfo(settings.TIME_ZONE)
    grouped = (
        rewards_of(year, townships)
        .order_by()
        .annotate(month=TruncMonth("proposed_at", tzinfo=tz))
        .values("month", "township__code", "township__name", "state")
        .annotate(count=Count("pk"), amount=Sum("amount"))
    )
    totals = {state: {"count": 0, "amount": Decimal("0.00")} for state in RewardState.values}
    rows = []
    for g in grouped:
        month = timezone.localtime(g["month"], tz) if timezone.is_aware(g["month"]) else g["month"]
        rows.append(
            {
                "month": month.strftime("%Y-%m"),
                "township": g["township__code"],
                "township_name": g["township__name"],
                "state": g["state"],
                "count": g["count"],
                "amount": f"{g['amount']:.2f}",
            }
        )
        totals[g["state"]]["count"] += g["count"]
        totals[g["state"]]["amount"] += g["amount"]
    rows.sort(key=lambda r: (r["month"], r["township"], r["township_name"], r["state"]))
    return rows, {
        s: {"count": t["count"], "amount": f"{t['amount']:.2f}"} for s, t in totals.items()
    }


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
    rewards = rewards_of(year, townships).select_related("township", "case", "payment")
    return Ledger(year=year, rows=rows, totals=totals, rewards=[detail(r) for r in rewards])


def to_csv(ledger: Ledger) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in ledger.rows:
        writer.writerow([row[c] for c in COLUMNS])
    for state, total in ledger.totals.items():
        writer.writerow(["total", "", "", state, total["count"], total["amount"]])
    return out.getvalue()


def to_xlsx(ledger: Ledger) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = f"ledger {ledger.year}"
    sheet.append(COLUMNS)
    for row in ledger.rows:
        sheet.append([*(row[c] for c in COLUMNS[:-1]), Decimal(row["amount"])])
    totals = book.create_sheet("totals")
    totals.append(("state", "count", "amount"))
    for state, total in ledger.totals.items():
        totals.append((state, total["count"], Decimal(total["amount"])))
    detail = book.create_sheet("rewards")
    detail.append(REWARD_COLUMNS)
    for item in ledger.rewards:
        detail.append([Decimal(item[c]) if c == "amount" else item[c] for c in REWARD_COLUMNS])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
