"""The rewards ledger: rewards by month, township and state, and totals per state, derived from
the reward rows every time (never kept as running totals). No identity or payee field ever
enters it: it is built from a fixed list of columns.

A reward belongs to the month it was proposed (local time); its state is its state now.
"""

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings

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


def build(year: int, townships) -> Ledger:
    """``townships``: a queryset (or list) of the townships whose rewards count."""
    start, end = _year_bounds(year)
    tz = ZoneInfo(settings.TIME_ZONE)
    rewards = (
        Reward.objects.filter(township__in=townships, proposed_at__gte=start, proposed_at__lt=end)
        .select_related("township", "case", "payment")
        .order_by("proposed_at", "pk")
    )
    groups: dict[tuple, list] = defaultdict(lambda: [0, Decimal("0.00")])
    totals = {state: {"count": 0, "amount": Decimal("0.00")} for state in RewardState.values}
    detail = []
    for reward in rewards:
        month = reward.proposed_at.astimezone(tz).strftime("%Y-%m")
        key = (month, reward.township.code, reward.township.name, reward.state)
        groups[key][0] += 1
        groups[key][1] += reward.amount
        totals[reward.state]["count"] += 1
        totals[reward.state]["amount"] += reward.amount
        payment = getattr(reward, "payment", None)
        detail.append(
            {
                "case": reward.case.number,
                "township": reward.township.code,
                "month": month,
                "state": reward.state,
                "amount": f"{reward.amount:.2f}",
                "outcome": reward.outcome,
                "proposed_on": reward.proposed_at.astimezone(tz).date().isoformat(),
                "claim_due": reward.claim_due.isoformat() if reward.claim_due else "",
                "paid_on": payment.paid_on.isoformat() if payment else "",
                "voucher_number": payment.voucher_number if payment else "",
            }
        )
    rows = [
        {
            "month": month,
            "township": code,
            "township_name": name,
            "state": state,
            "count": count,
            "amount": f"{amount:.2f}",
        }
        for (month, code, name, state), (count, amount) in sorted(groups.items())
    ]
    return Ledger(
        year=year,
        rows=rows,
        totals={
            s: {"count": t["count"], "amount": f"{t['amount']:.2f}"} for s, t in totals.items()
        },
        rewards=detail,
    )


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
