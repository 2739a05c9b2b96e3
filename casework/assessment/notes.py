"""计分说明: the readings of the rulebook this system applies, each with its figures taken from
the rules and settings in force (scoring.py, TIPLINE_REPEAT_WINDOW_DAYS), so the text shown to a
county cannot drift from what is computed. Where a worked example is given, it is computed by
the same functions that score the townships."""

from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from . import scoring


def _n(value) -> str:
    """A figure as a person writes it: 20, 2.5, 40 (never 20.00 or 40.0000)."""
    value = Decimal(value)
    return str(int(value)) if value == value.to_integral_value() else f"{value.normalize():f}"


def interpretations() -> list[dict]:
    """(code, sentence) of each reading, in the order the rules appear on the page."""
    days = settings.TIPLINE_REPEAT_WINDOW_DAYS
    half = scoring.REPORTING_SYSTEM / 2
    return [
        {
            "code": "repeat",
            "text": _(
                "Repeat reports: the reports linked to one case are counted for that case. A case "
                "reported twice within %(days)d days (%(days)d × 24 hours from the first report "
                "of the window to the last) costs %(twice)s points, three times or more "
                "%(thrice)s. Each case counts once per year, with its largest window; reports of "
                "two years are never combined."
            )
            % {
                "days": days,
                "twice": _n(scoring.REPEAT_TWICE),
                "thrice": _n(scoring.REPEAT_THREE_TIMES),
            },
        },
        {
            "code": "shortfall",
            "text": _(
                "Quota shortfall: %(per)s points per whole percentage point below the quota, "
                "the fraction of a point dropped, with no cap (it may exceed the case-handling "
                "section). Example: 2 cases handled of a quota of 3 is %(below)d whole points "
                "below: −%(example)s."
            )
            % {
                "per": _n(scoring.SHORTFALL_PER_POINT),
                "below": 100 * (3 - 2) // 3,
                "example": _n(scoring.shortfall_points(3, 2)),
            },
        },
        {
            "code": "quota",
            "text": _(
                "Quota completion: partial points, %(max)s × cases handled ÷ quota, at most "
                "%(max)s (2 of 3: %(example)s). A quota of 0 set by the county gives %(max)s; a "
                "township whose quota is not set for the year is not ranked (未下达任务)."
            )
            % {
                "max": _n(scoring.QUOTA_POINTS),
                "example": _n(scoring.quota_points(3, 2)),
            },
        },
        {
            "code": "reporting_system",
            "text": _(
                "Reporting system: %(half)s points for each reporting channel in place (a "
                "reporting phone, a reporting box), %(max)s with both."
            )
            % {"half": _n(half), "max": _n(scoring.REPORTING_SYSTEM)},
        },
        {
            "code": "bottom_band",
            "text": _(
                "Bottom band (后三类): fewer cases handled than half of a quota above 0, or a "
                "notice, exposure or unrectified criticism entered by the county's inspectors. "
                "A township in the band ranks below every township outside it, whatever its "
                "total."
            ),
        },
        {
            "code": "rounds",
            "text": _(
                "Inspection rounds: an item counts the points of its latest round (the "
                "year-end assessment after the fourth quarter after the second); an item "
                "scored per quarter adds up its rounds, together at most its maximum. An item "
                "not yet entered counts 0. Total = every item + bonuses − deductions; the "
                "ranking is by total."
            ),
        },
    ]
